// SPDX-License-Identifier: BSD-2-Clause
/*
 * The in-memory quantile pipeline behind `rttq sketch` (see sketch.h).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "codec.h"
#include "hist.h"
#include "sketch.h"
#include "tdigest.h"

int sketch_value_us(double value_us, uint32_t *out)
{
	double r = nearbyint(value_us);

	if (!isfinite(value_us) || value_us < 0 || r > UINT32_MAX)
		return -ERANGE;
	*out = (uint32_t)r;
	return 0;
}

/* One batch through hist -> digest -> bytes -> digest. */
static int run_batch(struct hist *h, const uint32_t *v, size_t n,
		     double compression, struct tdigest **out,
		     size_t *bytes, struct rttq_error *err)
{
	struct tdigest *td = NULL;
	uint8_t *buf = NULL;
	size_t i;
	int rc;

	hist_reset(h);
	for (i = 0; i < n; i++)
		hist_record(h, v[i], 1);
	rc = tdigest_from_hist(h, compression, &td);
	if (!rc)
		rc = codec_encode(td, &buf, bytes);
	if (!rc)
		rc = codec_decode(buf, *bytes, out, err);
	tdigest_free(td);
	free(buf);
	return rc;
}

int sketch_run(const uint32_t *values_us, size_t n,
	       const struct sketch_opts *opts, struct sketch_result *res,
	       struct rttq_error *err)
{
	struct tdigest **digests = NULL, *merged = NULL;
	struct hist *h = NULL;
	size_t b, nonempty = 0, bytes, bytes_total = 0;
	int rc;

	*res = (struct sketch_result){ 0 };
	if (!opts->batches)
		return rttq_fail(err, -EINVAL, "batches must be at least 1");
	rc = hist_new(opts->sub_bits, &h);
	if (rc)
		return rttq_fail(err, rc, "sub-bits %u out of range (3..7)",
				 opts->sub_bits);
	rc = tdigest_new(opts->compression, &merged);
	if (rc) {
		rttq_fail(err, rc, "compression %g out of range (%g..%g)",
			  opts->compression, TDIGEST_COMPRESSION_MIN,
			  TDIGEST_COMPRESSION_MAX);
		goto cleanup;
	}
	digests = calloc(opts->batches, sizeof(*digests));
	if (!digests) {
		rc = rttq_fail(err, -ENOMEM, "out of memory");
		goto cleanup;
	}
	for (b = 0; b < opts->batches; b++) {
		/* Batch b holds values [n*b/B, n*(b+1)/B): sizes differ by at
		 * most one and every value lands in exactly one batch. */
		size_t lo = n * b / opts->batches;
		size_t hi = n * (b + 1) / opts->batches;

		rc = run_batch(h, values_us + lo, hi - lo, opts->compression,
			       &digests[b], &bytes, err);
		if (rc) {
			rttq_error_prefix(err, "batch %zu", b + 1);
			goto cleanup;
		}
		if (hi > lo) {
			nonempty++;
			bytes_total += bytes;
			if (bytes > res->bytes_max)
				res->bytes_max = bytes;
		}
	}
	rc = tdigest_merge(merged, digests, opts->batches);
	if (rc) {
		rttq_fail(err, rc, "out of memory merging digests");
		goto cleanup;
	}
	res->merged = merged;
	merged = NULL;
	res->batches = opts->batches;
	res->bytes_mean = nonempty ? (double)bytes_total / (double)nonempty : 0;
cleanup:
	for (b = 0; digests && b < opts->batches; b++)
		tdigest_free(digests[b]);
	free(digests);
	tdigest_free(merged);
	hist_free(h);
	return rc;
}
