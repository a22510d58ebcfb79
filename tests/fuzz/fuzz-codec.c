// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target for codec_decode(): whatever the bytes, decoding must not
 * crash or leak, and anything it accepts must survive encode + decode with
 * the same summary.  Each input is tried twice, as is and with its last four
 * bytes replaced by the right CRC-32, so mutations reach the field checks
 * behind the checksum instead of dying at it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "codec.h"
#include "fuzz.h"
#include "tdigest.h"

/*
 * The input that broke an invariant, in hex for the failure message (32
 * bytes a line; the buffer is not freed, REQUIRE() ends the run, and
 * libFuzzer keeps the input of a run that ends).
 */
static const char *hex(const uint8_t *data, size_t size)
{
	char *out = malloc(size * 2 + size / 32 * 3 + 64), *p = out;
	size_t i;

	if (!out)
		return "(no memory to show it)";
	p += sprintf(p, "(%zu bytes)", size);
	for (i = 0; i < size; i++)
		p += sprintf(p, "%s%02x", i % 32 ? "" : "\n  ", data[i]);
	return out;
}

static int same(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

/* Queries on a decoded digest must stay inside [min, max] or be NAN. */
static void exercise(struct tdigest *td, const uint8_t *data, size_t size)
{
	static const double qs[] = { 0, 1e-4, 0.01, 0.5, 0.9, 0.99, 0.9999, 1 };
	double min = tdigest_min(td), max = tdigest_max(td);
	size_t i;

	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double v = tdigest_quantile(td, qs[i]);

		REQUIRE(!tdigest_count(td) || (v >= min && v <= max),
			"quantile(%g) %g outside [%g, %g]; input %s", qs[i], v,
			min, max, hex(data, size));
		REQUIRE(tdigest_count(td) || isnan(v),
			"quantile(%g) of an empty digest is %g; input %s",
			qs[i], v, hex(data, size));
	}
	if (tdigest_count(td)) {
		double c = tdigest_cdf(td, (min + max) / 2);

		REQUIRE(c >= 0 && c <= 1, "cdf %g outside [0, 1]; input %s", c,
			hex(data, size));
	}
}

static void round_trip(struct tdigest *td, const uint8_t *data, size_t size)
{
	const struct tdigest_centroid *a, *b;
	struct tdigest *back = NULL;
	uint8_t *buf = NULL;
	size_t len = 0, na, nb, i;

	if (codec_encode(td, &buf, &len))
		return; /* -ENOMEM only */
	REQUIRE(codec_decode(buf, len, &back, NULL) == 0,
		"re-encoding of an accepted digest is refused; input %s",
		hex(data, size));
	REQUIRE(tdigest_count(back) == tdigest_count(td) &&
			same(tdigest_min(back), tdigest_min(td)) &&
			same(tdigest_max(back), tdigest_max(td)) &&
			(tdigest_sum(back) == tdigest_sum(td) ||
			 !tdigest_count(td)) &&
			tdigest_compression(back) == tdigest_compression(td),
		"summary changed by encode + decode; input %s",
		hex(data, size));
	na = tdigest_centroids(td, &a);
	nb = tdigest_centroids(back, &b);
	REQUIRE(na == nb, "%zu centroids became %zu by encode + decode; "
		"input %s", na, nb, hex(data, size));
	for (i = 0; i < na; i++) {
		double ma = tdigest_unscaled(a[i].mean);
		double mb = tdigest_unscaled(b[i].mean);

		REQUIRE(a[i].weight == b[i].weight &&
				fabs(ma - mb) <= ldexp(fmax(ma, mb), -10),
			"centroid %zu changed by encode + decode; input %s", i,
			hex(data, size));
	}
	tdigest_free(back);
	free(buf);
}

static void try_decode(const uint8_t *data, size_t size)
{
	struct tdigest *td = NULL;

	if (codec_decode(data, size, &td, NULL)) {
		REQUIRE(!td, "refused but returned a digest; input %s",
			hex(data, size));
		return;
	}
	exercise(td, data, size);
	round_trip(td, data, size);
	tdigest_free(td);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed;
	uint32_t crc;
	size_t i;

	try_decode(data, size);
	if (size < 4 || size > CODEC_MAX_BYTES)
		return 0;
	fixed = malloc(size);
	if (!fixed)
		return 0;
	memcpy(fixed, data, size);
	crc = (uint32_t)crc32(0, fixed, (uInt)(size - 4));
	for (i = 0; i < 4; i++)
		fixed[size - 4 + i] = (uint8_t)(crc >> (8 * i));
	try_decode(fixed, size);
	free(fixed);
	return 0;
}
