// SPDX-License-Identifier: BSD-2-Clause
/*
 * Regression tests for defects found in the quantile core by review and by
 * the codec fuzzer: exact extremes, sorted centroids at float rounding
 * edges, cdf between nearly equal values, and the codec's value range.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec.h"
#include "hist.h"
#include "tdigest.h"

/* hist_quantile(0) and (1) should be the exact min and max it keeps. */
static void test_hist_extremes(void)
{
	struct hist *h = NULL;

	check_section("hist_quantile(0) = min and (1) = max exactly");
	if (!CHECK(hist_new(5, &h) == 0, "hist_new"))
		return;
	/* 912 opens bucket [912, 928), 1081343 closes [2^20, 2^20 + 2^15). */
	hist_record(h, 912, 1);
	hist_record(h, 5000, 1);
	hist_record(h, 1081343, 1);
	CHECK(hist_quantile(h, 0) == 912, "p0 %.17g, min 912",
	      hist_quantile(h, 0));
	CHECK(hist_quantile(h, 1) == 1081343, "p100 %.17g, max 1081343",
	      hist_quantile(h, 1));
	hist_reset(h);
	hist_add_slot(h, hist_slots(h) - 1, 1);
	CHECK(hist_quantile(h, 1) == hist_max_us(h), "p100 %.17g, max %.17g",
	      hist_quantile(h, 1), hist_max_us(h));
	hist_free(h);
}

/* tdigest_quantile(0) and (1) go through e^(ln(1 + v)) - 1 and lose ulps. */
static void test_tdigest_extremes(void)
{
	struct tdigest *td = NULL;

	check_section("tdigest_quantile(0) = min and (1) = max exactly");
	if (!CHECK(tdigest_new(100, &td) == 0, "tdigest_new"))
		return;
	tdigest_add(td, 668, 1);
	tdigest_add(td, 5000, 10);
	tdigest_add(td, 120542, 1);
	CHECK(tdigest_quantile(td, 0) == 668, "p0 %.17g, min 668",
	      tdigest_quantile(td, 0));
	CHECK(tdigest_quantile(td, 1) == 120542, "p100 %.17g, max 120542",
	      tdigest_quantile(td, 1));
	tdigest_free(td);
}

/* codec_encode() must not produce bytes codec_decode() refuses. */
static void check_encodable(double v)
{
	struct tdigest *td = NULL, *back = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	if (!CHECK(tdigest_new(100, &td) == 0, "tdigest_new"))
		return;
	/* Either the digest refuses the value up front ... */
	if (tdigest_add(td, v, 1)) {
		CHECK(!(v >= 0 && v <= TDIGEST_VALUE_MAX) ||
		      (v > 0 && v < TDIGEST_VALUE_MIN), "add %g refused", v);
		tdigest_free(td);
		return;
	}
	/* ... or the value survives a round trip: it encodes ... */
	rc = codec_encode(td, &buf, &len);
	if (CHECK(rc == 0, "%g accepted by tdigest_add but not encoded: %s", v,
		  strerror(-rc))) {
		/* ... and decodes. */
		rc = codec_decode(buf, len, &back, NULL);
		CHECK(rc == 0, "%g encodes but does not decode: %s", v,
		      strerror(-rc));
	}
	free(buf);
	tdigest_free(back);
	tdigest_free(td);
}

static void test_codec_value_range(void)
{
	check_section("every value tdigest_add accepts survives the codec");
	check_encodable(1e39);   /* above FLT_MAX: the mean key is +inf */
	check_encodable(3.4028234e38);
	check_encodable(1e-42);  /* subnormal float: key rounds to 0 */
	check_encodable(1e-300); /* a normal double, far below FLT_MIN */
	check_encodable(TDIGEST_VALUE_MIN);
}

/*
 * Found by the codec fuzzer: a digest whose min and max lie below FLT_MIN
 * decoded, but its centroid means (float keys) all collapsed to 0 and came
 * back as min after another encode.  No digest can hold such values now,
 * and the decoder says so.
 */
static void test_codec_tiny_extremes(void)
{
	static const uint8_t input[] = {
		0x54, 0x44, 0x01, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x5a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x2c,
		0xff, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x61, 0x00,
		0x01, 0x01, 0x08, 0x01, 0x23, 0x42, 0x8b, 0x3e,
	};
	struct rttq_error err = { 0 };
	struct tdigest *td = NULL;
	int rc;

	check_section("a digest with extremes below FLT_MIN is refused");
	rc = codec_decode(input, sizeof(input), &td, &err);
	CHECK(rc == -EBADMSG, "decode gave %d (%s)", rc, err.msg);
	CHECK(td == NULL, "a refused digest was returned");
	tdigest_free(td);
}

/* Centroids of identical values come back unsorted by an ulp or two. */
static void test_sorted_centroids(void)
{
	const struct tdigest_centroid *c;
	struct tdigest *td = NULL;
	size_t n, i, bad = 0;

	check_section("tdigest_centroids() of constant data are sorted");
	if (!CHECK(tdigest_new(100, &td) == 0, "tdigest_new"))
		return;
	for (i = 0; i < 100000; i++)
		tdigest_add(td, 20000, 1);
	n = tdigest_centroids(td, &c);
	for (i = 1; i < n; i++)
		bad += c[i].mean < c[i - 1].mean;
	CHECK(bad == 0, "%zu of %zu centroids below their predecessor", bad,
	      n);
	tdigest_free(td);
}

/*
 * ...and when such a pair straddles a mean-key rounding edge, the encoder's
 * u32 key delta wraps and the decoder refuses the record.  512.2499694...
 * is the midpoint of the floats 0x44000fff and 0x44001000.
 */
static void test_constant_round_trip(void)
{
	struct tdigest *td = NULL, *back = NULL;
	uint8_t *buf = NULL;
	size_t len = 0, i;
	int rc;

	check_section("constant data at a key edge survives the codec");
	if (!CHECK(tdigest_new(100, &td) == 0, "tdigest_new"))
		return;
	for (i = 0; i < 20000; i++)
		tdigest_add(td, 512.24996948242188, 1);
	if (CHECK(codec_encode(td, &buf, &len) == 0, "encode")) {
		rc = codec_decode(buf, len, &back, NULL);
		CHECK(rc == 0, "decode: %s", strerror(-rc));
	}
	free(buf);
	tdigest_free(back);
	tdigest_free(td);
}

/*
 * tdigest_cdf() divides by ln(1 + max) - last mean, which is 0 when the two
 * largest values differ by less than the log scale resolves.
 */
static void test_cdf_close_values(void)
{
	struct tdigest *td = NULL;
	double cdf;

	check_section("tdigest_cdf() between two nearly equal values");
	if (!CHECK(tdigest_new(100, &td) == 0, "tdigest_new"))
		return;
	tdigest_add(td, 20000, 1);
	tdigest_add(td, nextafter(20000, INFINITY), 1);
	cdf = tdigest_cdf(td, 20000);
	CHECK(cdf >= 0 && cdf <= 1, "cdf(20000) = %g", cdf);
	tdigest_free(td);
}

int main(void)
{
	test_cdf_close_values();
	test_sorted_centroids();
	test_constant_round_trip();
	test_hist_extremes();
	test_tdigest_extremes();
	test_codec_value_range();
	test_codec_tiny_extremes();
	return check_report();
}
