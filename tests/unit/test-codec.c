// SPDX-License-Identifier: BSD-2-Clause
/*
 * Codec of common/quantile/codec.h: round trips keep the summary exact and means
 * within 2^-10, a 10-million-value digest fits in 1 KiB, every error code is
 * reachable and named, and the decoder refuses every truncation, bit flip
 * and hand-built encoding with a valid CRC but impossible content.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "codec.h"
#include "hist.h"
#include "rng.h"
#include "tdigest.h"

/* Lognormal RTT in microseconds: median 5 ms, sigma 0.8 (Box-Muller). */
static double lognormal_us(uint64_t *state)
{
	return rng_lognormal(state, 5000, 0.8);
}

static struct tdigest *lognormal_digest(size_t n, uint64_t seed)
{
	struct tdigest *td = NULL;
	size_t i;

	if (!CHECK(tdigest_new(100, &td) == 0, "tdigest_new"))
		return NULL;
	for (i = 0; i < n; i++)
		tdigest_add(td, floor(lognormal_us(&seed)), 1);
	return td;
}

/* The message of the last decode_code() that failed. */
static char last_msg[RTTQ_ERROR_MSG_MAX];

static int decode_code(const uint8_t *buf, size_t len)
{
	struct tdigest *td = NULL;
	struct rttq_error err = { 0 };
	int rc = codec_decode(buf, len, &td, &err);

	if (rc) {
		CHECK(err.code == rc && err.msg[0],
		      "code %d but error says %d '%s'", rc, err.code, err.msg);
		memcpy(last_msg, err.msg, sizeof(last_msg));
	}
	tdigest_free(td);
	return rc;
}

/* @buf refused with @code and a message naming the problem (@word). */
static int refused_as(const uint8_t *buf, size_t len, int code,
		      const char *word)
{
	int rc = decode_code(buf, len);

	return rc == code && strstr(last_msg, word) != NULL;
}

/* ------------------------------------------------------------------------
 * Round trips
 * --------------------------------------------------------------------- */

static void check_round_trip(struct tdigest *td, const char *what)
{
	const struct tdigest_centroid *a, *b;
	struct tdigest *back = NULL;
	uint8_t *buf = NULL;
	size_t len = 0, na, nb, i;
	int rc;

	if (!CHECK(codec_encode(td, &buf, &len) == 0, "%s: encode", what))
		return;
	rc = codec_decode(buf, len, &back, NULL);
	if (!CHECK(rc == 0, "%s: decode: %s", what, strerror(-rc)))
		goto cleanup;
	CHECK(tdigest_count(back) == tdigest_count(td), "%s: count", what);
	CHECK(tdigest_sum(back) == tdigest_sum(td) ||
	      (tdigest_count(td) == 0 && tdigest_sum(back) == 0),
	      "%s: sum %.17g vs %.17g", what, tdigest_sum(back),
	      tdigest_sum(td));
	CHECK((isnan(tdigest_min(td)) && isnan(tdigest_min(back))) ||
	      tdigest_min(back) == tdigest_min(td), "%s: min", what);
	CHECK((isnan(tdigest_max(td)) && isnan(tdigest_max(back))) ||
	      tdigest_max(back) == tdigest_max(td), "%s: max", what);
	CHECK(tdigest_compression(back) == round(tdigest_compression(td)),
	      "%s: compression %g", what, tdigest_compression(back));
	na = tdigest_centroids(td, &a);
	nb = tdigest_centroids(back, &b);
	if (!CHECK(na == nb, "%s: %zu centroids became %zu", what, na, nb))
		goto cleanup;
	for (i = 0; i < na; i++) {
		double ma = tdigest_unscaled(a[i].mean);
		double mb = tdigest_unscaled(b[i].mean);

		CHECK(a[i].weight == b[i].weight, "%s: centroid %zu weight",
		      what, i);
		CHECK(fabs(ma - mb) <= ldexp(ma, -10), "%s: centroid %zu mean "
		      "%.17g became %.17g", what, i, ma, mb);
	}
cleanup:
	tdigest_free(back);
	free(buf);
}

static void test_round_trips(void)
{
	static const double odd[] = { 0, 1, 0.5, 1e-3, 4294967295.0, 3e9 };
	struct tdigest *td = NULL;
	size_t i;

	check_section("round trip: empty, single, constant, odd values");
	if (CHECK(tdigest_new(100, &td) == 0, "new")) {
		check_round_trip(td, "empty");
		tdigest_add(td, 1234, 1);
		check_round_trip(td, "single");
		tdigest_add(td, 1234, 99999);
		check_round_trip(td, "constant");
	}
	tdigest_free(td);
	for (i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		if (!CHECK(tdigest_new(20, &td) == 0, "new"))
			continue;
		tdigest_add(td, odd[i], 3);
		check_round_trip(td, "odd value");
		tdigest_add(td, odd[i] * 2 + 1, 1);
		check_round_trip(td, "odd pair");
		tdigest_free(td);
	}

	check_section("round trip: lognormal at compression 20, 100, 1000");
	for (i = 0; i < 3; i++) {
		static const double deltas[] = { 20, 100, 1000 };
		uint64_t state = 77;
		size_t j;

		if (!CHECK(tdigest_new(deltas[i], &td) == 0, "new"))
			continue;
		for (j = 0; j < 200000; j++)
			tdigest_add(td, lognormal_us(&state), 1);
		check_round_trip(td, "lognormal");
		tdigest_free(td);
	}
}

static void test_size(void)
{
	static const size_t sizes[] = { 1000000, 10000000 };
	size_t s, i;

	check_section("1e6 and 1e7 lognormal values encode in <= 1024 bytes");
	for (s = 0; s < 2; s++) {
		struct tdigest *td = lognormal_digest(sizes[s], 1 + s);
		struct tdigest *from = NULL;
		struct hist *h = NULL;
		uint64_t state = 1 + s;
		uint8_t *buf = NULL;
		size_t len = 0;

		if (td && CHECK(codec_encode(td, &buf, &len) == 0, "encode")) {
			printf("  %zu values, added: %zu bytes\n", sizes[s], len);
			CHECK(len <= 1024, "%zu values: %zu bytes", sizes[s],
			      len);
		}
		free(buf);
		buf = NULL;
		/* The agent's path: histogram, then digest. */
		if (CHECK(hist_new(5, &h) == 0, "hist_new")) {
			for (i = 0; i < sizes[s]; i++)
				hist_record(h, (uint32_t)lognormal_us(&state), 1);
			if (CHECK(tdigest_from_hist(h, 100, &from) == 0,
				  "from_hist") &&
			    CHECK(codec_encode(from, &buf, &len) == 0,
				  "encode")) {
				printf("  %zu values, from histogram: %zu "
				       "bytes\n", sizes[s], len);
				CHECK(len <= 1024, "from hist %zu: %zu bytes",
				      sizes[s], len);
				check_round_trip(from, "from hist");
			}
		}
		free(buf);
		hist_free(h);
		tdigest_free(from);
		tdigest_free(td);
	}
}

/* ------------------------------------------------------------------------
 * Error codes on real encodings
 * --------------------------------------------------------------------- */

static void put_crc(uint8_t *buf, size_t len)
{
	uint32_t crc = (uint32_t)crc32(0, buf, (uInt)(len - 4));

	buf[len - 4] = (uint8_t)crc;
	buf[len - 3] = (uint8_t)(crc >> 8);
	buf[len - 2] = (uint8_t)(crc >> 16);
	buf[len - 1] = (uint8_t)(crc >> 24);
}

static void test_error_codes(void)
{
	struct tdigest *td = lognormal_digest(10000, 3);
	uint8_t *buf = NULL, *copy = NULL, *big = NULL;
	size_t len = 0, i, j;
	int rc;

	if (!td || !CHECK(codec_encode(td, &buf, &len) == 0, "encode"))
		goto cleanup;
	copy = malloc(len + 1);
	big = calloc(1, CODEC_MAX_BYTES + 1);
	if (!CHECK(copy && big, "malloc"))
		goto cleanup;

	check_section("damage is -EBADMSG, a newer version -ENOTSUP, each "
		      "with a message naming the problem");
	CHECK(refused_as(buf, 1, -EBADMSG, "bad magic"), "1 byte: %s",
	      last_msg);
	memcpy(copy, buf, len);
	copy[0] = 'X';
	CHECK(refused_as(copy, len, -EBADMSG, "bad magic"), "magic: %s",
	      last_msg);
	memcpy(copy, buf, len);
	copy[2] = 2;
	CHECK(refused_as(copy, len, -ENOTSUP, "version 2"), "version 2: %s",
	      last_msg);
	put_crc(copy, len);
	CHECK(refused_as(copy, len, -ENOTSUP, "version 2"),
	      "version 2 with a valid CRC: %s", last_msg);
	copy[2] = 0;
	put_crc(copy, len);
	CHECK(refused_as(copy, len, -EBADMSG, "version 0"),
	      "version 0 (never written: damage): %s", last_msg);
	memcpy(copy, buf, len);
	copy[len / 2] ^= 0x10;
	CHECK(refused_as(copy, len, -EBADMSG, "checksum"), "checksum: %s",
	      last_msg);
	memcpy(big, buf, len);
	CHECK(refused_as(big, CODEC_MAX_BYTES + 1, -EBADMSG, "more than"),
	      "> CODEC_MAX_BYTES: %s", last_msg);
	/* A stray byte after the centroids, CRC recomputed to cover it. */
	memcpy(copy, buf, len - 4);
	copy[len - 4] = 0;
	put_crc(copy, len + 1);
	CHECK(refused_as(copy, len + 1, -EBADMSG, "unexpected bytes"),
	      "trailing byte with a valid CRC: %s", last_msg);
	/* A stray byte after the CRC: the CRC no longer sits at the end. */
	memcpy(copy, buf, len);
	copy[len] = 0;
	CHECK(decode_code(copy, len + 1) == -EBADMSG,
	      "byte after the CRC: %s", last_msg);
	memcpy(copy, buf, len);
	copy[3] = 1;
	put_crc(copy, len);
	CHECK(refused_as(copy, len, -EBADMSG, "flags"), "flags 1: %s",
	      last_msg);
	CHECK(decode_code(buf, len) == 0, "the original still decodes");

	check_section("truncation at every length 0 .. len - 1 is refused");
	for (i = 0; i < len; i++) {
		rc = decode_code(buf, i);
		CHECK(rc == -EBADMSG, "length %zu of %zu: %d %s", i, len, rc,
		      last_msg);
	}
	CHECK(decode_code(NULL, 0) == -EBADMSG, "NULL, 0");

	check_section("every single-bit flip is refused");
	for (i = 0; i < len; i++) {
		for (j = 0; j < 8; j++) {
			/* Bit flips of the version byte give versions
			 * above 1 (not damage, as far as we can tell) or
			 * version 0 (damage). */
			const char *word = i < 2 ? "bad magic" :
					   i == 2 ? "version" : "checksum";
			int expect = i == 2 && (1u ^ (1u << j)) > CODEC_VERSION ?
					     -ENOTSUP : -EBADMSG;

			memcpy(copy, buf, len);
			copy[i] ^= (uint8_t)(1u << j);
			CHECK(refused_as(copy, len, expect, word),
			      "byte %zu bit %zu: %s", i, j, last_msg);
		}
	}
cleanup:
	free(big);
	free(copy);
	free(buf);
	tdigest_free(td);
}

/* ------------------------------------------------------------------------
 * Hand-built encodings: valid CRC, impossible content
 * --------------------------------------------------------------------- */

struct builder {
	uint8_t b[1024];
	size_t len;
};

static void put_raw(struct builder *w, const void *p, size_t n)
{
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

static void put_le(struct builder *w, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		w->b[w->len++] = (uint8_t)(v >> (8 * i));
}

static void put_double(struct builder *w, double d)
{
	uint64_t v;

	memcpy(&v, &d, sizeof(v));
	put_le(w, v, 8);
}

static void put_varint(struct builder *w, uint64_t v)
{
	do {
		w->b[w->len++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
}

/* The format's mean key (codec.c): float bits, 13 low bits rounded off. */
static uint64_t key_of(double mean)
{
	float f = (float)mean;
	uint32_t bits;

	memcpy(&bits, &f, sizeof(bits));
	return (bits + (1u << 12)) >> 13;
}

static void put_header(struct builder *w, unsigned int compression,
		       double min, double max, double sum)
{
	static const uint8_t head[4] = { 'T', 'D', 1, 0 };

	w->len = 0;
	put_raw(w, head, sizeof(head));
	put_le(w, compression, 2);
	put_double(w, min);
	put_double(w, max);
	put_double(w, sum);
}

static void put_centroids(struct builder *w, const double *means,
			  const uint64_t *weights, size_t n)
{
	uint64_t prev = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t key = key_of(means[i]);

		put_varint(w, key - prev);
		put_varint(w, weights[i]);
		prev = key;
	}
}

static void seal(struct builder *w)
{
	w->len += 4;
	put_crc(w->b, w->len);
}

/* A whole encoding from its parts, with a CRC that matches. */
static void build(struct builder *w, unsigned int compression, double min,
		  double max, double sum, uint64_t count, const double *means,
		  const uint64_t *weights, size_t n)
{
	put_header(w, compression, min, max, sum);
	put_varint(w, count);
	put_varint(w, n);
	put_centroids(w, means, weights, n);
	seal(w);
}

static void test_hand_built(void)
{
	static const double means[] = { 100, 500, 1000 };
	static const uint64_t weights[] = { 1, 4, 1 };
	static const uint64_t zero_weight[] = { 1, 0, 1 };
	static const double outside_hi[] = { 100, 500, 2000 };
	static const double outside_lo[] = { 50, 500, 1000 };
	const double sum = 3100;
	struct builder w;
	struct tdigest *td = NULL;
	int i, rc;

	check_section("hand-built: the baseline encoding decodes");
	build(&w, 100, 100, 1000, sum, 6, means, weights, 3);
	rc = codec_decode(w.b, w.len, &td, NULL);
	if (CHECK(rc == 0, "baseline: %s", strerror(-rc))) {
		CHECK(tdigest_count(td) == 6 && tdigest_sum(td) == sum &&
		      tdigest_min(td) == 100 && tdigest_max(td) == 1000,
		      "baseline summary");
		CHECK(fabs(tdigest_quantile(td, 0.5) - 500) <= 1,
		      "baseline p50 %g", tdigest_quantile(td, 0.5));
	}
	tdigest_free(td);
	td = NULL;
	build(&w, 100, 0, 0, 0, 0, NULL, NULL, 0);
	CHECK(decode_code(w.b, w.len) == 0, "empty baseline");

	check_section("hand-built: impossible weights and counts are INVALID");
	build(&w, 100, 100, 1000, sum, 2, means, zero_weight, 3);
	CHECK(decode_code(w.b, w.len) == -EBADMSG, "zero weight");
	build(&w, 100, 100, 1000, sum, 7, means, weights, 3);
	CHECK(decode_code(w.b, w.len) == -EBADMSG, "weights < count");
	build(&w, 100, 100, 1000, sum, 5, means, weights, 3);
	CHECK(decode_code(w.b, w.len) == -EBADMSG, "weights > count");
	build(&w, 100, 100, 1000, sum, 0, means, weights, 3);
	CHECK(decode_code(w.b, w.len) == -EBADMSG,
	      "count 0 with centroids");
	build(&w, 100, 100, 1000, sum, 6, NULL, NULL, 0);
	CHECK(decode_code(w.b, w.len) == -EBADMSG,
	      "count 6 without centroids");
	build(&w, 100, 100, 1000, sum, 2, means, weights, 3);
	CHECK(decode_code(w.b, w.len) == -EBADMSG, "n > count");

	check_section("hand-built: NaN/inf extremes and sums are INVALID");
	{
		static const double bad[] = { NAN, INFINITY, -INFINITY };

		for (i = 0; i < 3; i++) {
			build(&w, 100, bad[i], 1000, sum, 6, means, weights, 3);
			CHECK(decode_code(w.b, w.len) == -EBADMSG,
			      "min %g", bad[i]);
			build(&w, 100, 100, bad[i], sum, 6, means, weights, 3);
			CHECK(decode_code(w.b, w.len) == -EBADMSG,
			      "max %g", bad[i]);
			build(&w, 100, 100, 1000, bad[i], 6, means, weights, 3);
			CHECK(decode_code(w.b, w.len) == -EBADMSG,
			      "sum %g", bad[i]);
			build(&w, 100, bad[i], bad[i], 0, 0, NULL, NULL, 0);
			CHECK(decode_code(w.b, w.len) == -EBADMSG,
			      "empty digest with min/max %g", bad[i]);
		}
	}

	check_section("hand-built: min > max, negatives, impossible sums");
	build(&w, 100, 1000, 100, sum, 6, means, weights, 3);
	CHECK(decode_code(w.b, w.len) == -EBADMSG, "min > max");
	build(&w, 100, -1, 1000, sum, 6, means, weights, 3);
	CHECK(decode_code(w.b, w.len) == -EBADMSG, "min < 0");
	build(&w, 100, 100, 1000, 6001, 6, means, weights, 3);
	CHECK(decode_code(w.b, w.len) == -EBADMSG, "sum > max * count");
	build(&w, 100, 100, 1000, 599, 6, means, weights, 3);
	CHECK(decode_code(w.b, w.len) == -EBADMSG, "sum < min * count");

	check_section("hand-built: means outside [min, max] are INVALID");
	build(&w, 100, 100, 1000, sum, 6, outside_hi, weights, 3);
	CHECK(decode_code(w.b, w.len) == -EBADMSG, "mean above max");
	build(&w, 100, 100, 1000, sum, 6, outside_lo, weights, 3);
	CHECK(decode_code(w.b, w.len) == -EBADMSG, "mean below min");
	/* The key of +inf, and a delta far beyond any float. */
	put_header(&w, 100, 100, 1000, 600);
	put_varint(&w, 6);
	put_varint(&w, 1);
	put_varint(&w, 0x7f800000u >> 13);
	put_varint(&w, 6);
	seal(&w);
	CHECK(decode_code(w.b, w.len) == -EBADMSG, "mean key of inf");
	put_header(&w, 100, 100, 1000, 600);
	put_varint(&w, 6);
	put_varint(&w, 1);
	put_varint(&w, 1ull << 40);
	put_varint(&w, 6);
	seal(&w);
	CHECK(decode_code(w.b, w.len) == -EBADMSG, "key delta 2^40");

	check_section("hand-built: compression 0, 19, 1001, 5000 are INVALID");
	{
		static const unsigned int bad[] = { 0, 19, 1001, 5000, 65535 };

		for (i = 0; i < 5; i++) {
			build(&w, bad[i], 100, 1000, sum, 6, means, weights, 3);
			CHECK(decode_code(w.b, w.len) == -EBADMSG,
			      "compression %u", bad[i]);
		}
	}

	check_section("hand-built: overlong or unterminated varints");
	/* count as 11 bytes: more than any u64 needs. */
	put_header(&w, 100, 100, 1000, sum);
	for (i = 0; i < 10; i++)
		put_le(&w, 0x80, 1);
	put_le(&w, 0x00, 1);
	put_varint(&w, 0);
	seal(&w);
	rc = decode_code(w.b, w.len);
	CHECK(rc == -EBADMSG, "11-byte varint: %d", rc);
	/* 10 bytes whose last carries bits beyond 2^64. */
	put_header(&w, 100, 100, 1000, sum);
	for (i = 0; i < 9; i++)
		put_le(&w, 0xff, 1);
	put_le(&w, 0x02, 1);
	put_varint(&w, 0);
	seal(&w);
	rc = decode_code(w.b, w.len);
	CHECK(rc == -EBADMSG, "varint over 2^64: %d", rc);
	/* The count's continuation bit runs into the CRC. */
	put_header(&w, 100, 100, 1000, sum);
	put_le(&w, 0x86, 1);
	put_le(&w, 0x80, 1);
	seal(&w);
	rc = decode_code(w.b, w.len);
	CHECK(rc == -EBADMSG, "unterminated varint: %d", rc);
	/* A weight varint cut short by the end of the body. */
	build(&w, 100, 100, 1000, sum, 6, means, weights, 3);
	w.len -= 4;
	w.b[w.len - 1] |= 0x80;
	seal(&w);
	rc = decode_code(w.b, w.len);
	CHECK(rc == -EBADMSG,
	      "last weight unterminated: %d", rc);

	check_section("hand-built: huge n never allocates, it is TRUNCATED");
	put_header(&w, 100, 100, 1000, 100.0 * (1ull << 60));
	put_varint(&w, 1ull << 60);
	put_varint(&w, 1ull << 60);
	seal(&w);
	rc = decode_code(w.b, w.len);
	CHECK(rc == -EBADMSG, "n = 2^60: %d", rc);
	build(&w, 100, 100, 1000, sum, 6, means, weights, 2);
	rc = decode_code(w.b, w.len);
	CHECK(rc == -EBADMSG,
	      "n says 2 with 3 written: %d", rc);
	put_header(&w, 100, 100, 1000, sum);
	put_varint(&w, 6);
	put_varint(&w, 4);
	put_centroids(&w, means, weights, 3);
	seal(&w);
	rc = decode_code(w.b, w.len);
	CHECK(rc == -EBADMSG,
	      "n says 4 with 3 written: %d", rc);
}

int main(void)
{
	test_round_trips();
	test_size();
	test_error_codes();
	test_hand_built();
	return check_report();
}
