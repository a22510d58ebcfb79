// SPDX-License-Identifier: BSD-2-Clause
/*
 * Accuracy of the whole pipeline against exact quantiles: five RTT-like
 * data sets, each split into 43,200 one-minute batches (a month), every
 * batch through buckets -> digest -> bytes -> digest, then one merge; also
 * as 10 large batches, and as a month of three-value batches.
 * Goals: relative value error <= 1 % at p50, p90, p99 and <= 2 % at p99.9;
 * every batch's encoding <= 1,024 bytes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "datasets.h"
#include "sketch.h"
#include "tdigest.h"

#define VALUES 2000000
#define MONTH_OF_MINUTES 43200
#define SPARSE_PER_MINUTE 3

struct goal {
	double q;
	double max_error; /* relative */
};

static const struct goal goals[] = {
	{ 0.50, 0.01 }, { 0.90, 0.01 }, { 0.99, 0.01 }, { 0.999, 0.02 },
};

static void check_dataset(enum dataset d, uint32_t *v, size_t n,
			  size_t batches)
{
	struct sketch_opts opts = { batches, 5, 100 };
	struct sketch_result res;
	struct rttq_error err = { 0 };
	size_t i;

	dataset_fill(d, 42 + d, v, n);
	if (!CHECK(sketch_run(v, n, &opts, &res, &err) == 0, "%s: %s",
		   dataset_name(d), err.msg))
		return;
	sort_values(v, n);
	printf("%-9s batches %5zu of %6zu values, bytes/digest mean %4.0f "
	       "max %4zu:", dataset_name(d), batches, n / batches,
	       res.bytes_mean, res.bytes_max);
	CHECK(res.bytes_max <= 1024, "%s: a digest of %zu bytes, over 1 KiB",
	      dataset_name(d), res.bytes_max);
	CHECK_CMP(tdigest_count(res.merged), ==, n);
	for (i = 0; i < sizeof(goals) / sizeof(goals[0]); i++) {
		double exact = exact_quantile(v, n, goals[i].q);
		double est = tdigest_quantile(res.merged, goals[i].q);
		double rel = (est - exact) / exact;

		printf(" p%g %+.2f%%", goals[i].q * 100, rel * 100);
		CHECK(fabs(rel) <= goals[i].max_error,
		      "%s, %zu batches: p%g exact %.0f, got %.1f: over %.0f%%",
		      dataset_name(d), batches, goals[i].q * 100, exact, est,
		      goals[i].max_error * 100);
	}
	printf("\n");
	tdigest_free(res.merged);
}

int main(void)
{
	uint32_t *v = malloc(VALUES * sizeof(*v));
	int d;

	REQUIRE(v, "out of memory for %d values", VALUES);
	for (d = 0; d < DATASET_COUNT; d++) {
		check_dataset(d, v, VALUES, MONTH_OF_MINUTES);
		/* Few large batches: each digest carries ~200k values. */
		check_dataset(d, v, VALUES, 10);
		/* A quiet group: three values a minute, so most tail values
		 * are their batch's maximum. */
		check_dataset(d, v, SPARSE_PER_MINUTE * MONTH_OF_MINUTES,
			      MONTH_OF_MINUTES);
	}
	free(v);
	return check_report();
}
