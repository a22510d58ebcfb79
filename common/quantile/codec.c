// SPDX-License-Identifier: BSD-2-Clause
/*
 * Binary encoding of a t-digest and its summary: what every store record
 * carries.  Compact (about 3 bytes per centroid; under 1 KiB, one DynamoDB
 * write unit, at compression 100) and validated field by field on decode.
 *
 * Layout, version 1 (integers little-endian, varint = LEB128, at most 10
 * bytes, no overlong encodings beyond that):
 *
 *   offset  bytes  field
 *   0       2      magic "TD"
 *   2       1      version = 1
 *   3       1      flags, 0 (reserved)
 *   4       2      compression (delta), rounded to an integer, u16
 *   6       8      min, IEEE-754 double
 *   14      8      max, double
 *   22      8      sum, double
 *   30      var    count: total weight, varint
 *   ..      var    n: number of centroids, varint
 *   ..      var    n times: mean key delta, varint; weight, varint (>= 1)
 *   len-4   4      CRC-32 (zlib) of every byte before it
 *
 * Mean keys.  A mean m >= 0 is stored as the bit pattern of (float)m with
 * its low MEAN_DROP_BITS mantissa bits rounded away: positive floats order
 * like their bit patterns, so keys of sorted means are non-decreasing and
 * stored as deltas from the previous key (the first from 0).  Ten mantissa
 * bits remain: a mean is off by at most 2^-11 of itself (0.05 %), far
 * inside a bucket's width, and most deltas fit one byte.  Unsorted means
 * cannot be expressed at all.  Means are decoded onto the digest's
 * ln(1 + v) scale (tdigest.h).
 *
 * The decoder checks, in order: length bounds, magic, version, CRC, each
 * field in range (finite min <= max, positive weights that add up to count,
 * means within [min, max] up to one key step, sum within [min, max] times
 * count), and that no byte is left over.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "codec.h"
#include "strbuf.h"
#include "tdigest.h"
#include "varint.h"

#define MAGIC0 'T'
#define MAGIC1 'D'
#define HEADER_BYTES 30
#define CRC_BYTES 4
#define MEAN_DROP_BITS 13

/* ------------------------------------------------------------------------
 * Byte helpers
 * --------------------------------------------------------------------- */

static void put_u64le(struct strbuf *w, uint64_t v, size_t n)
{
	uint8_t b[8];
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	strbuf_add(w, b, n);
}

static void put_double(struct strbuf *w, double d)
{
	uint64_t v;

	memcpy(&v, &d, sizeof(v));
	put_u64le(w, v, 8);
}

struct reader {
	const uint8_t *p;
	size_t len, off;
};

static uint64_t get_u64le(struct reader *r, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)r->p[r->off + i] << (8 * i);
	r->off += n;
	return v;
}

static double get_double(struct reader *r)
{
	uint64_t v = get_u64le(r, 8);
	double d;

	memcpy(&d, &v, sizeof(d));
	return d;
}

/* ------------------------------------------------------------------------
 * Mean keys
 * --------------------------------------------------------------------- */

static uint32_t mean_key(double mean)
{
	float f = (float)mean;
	uint32_t bits;

	memcpy(&bits, &f, sizeof(bits));
	/* Round to nearest; a carry into the exponent stays monotone. */
	return (bits + (1u << (MEAN_DROP_BITS - 1))) >> MEAN_DROP_BITS;
}

static double key_mean(uint64_t key)
{
	uint32_t bits = (uint32_t)(key << MEAN_DROP_BITS);
	float f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

/* Largest key whose mean is finite: the bits of FLT_MAX, rounded. */
#define MEAN_KEY_MAX (0x7f7fffffu >> MEAN_DROP_BITS)

/* ------------------------------------------------------------------------
 * Encode
 * --------------------------------------------------------------------- */

int codec_encode(struct tdigest *td, uint8_t **out, size_t *len)
{
	const struct tdigest_centroid *c;
	struct strbuf w = STRBUF_INIT;
	size_t n = tdigest_centroids(td, &c), i;
	uint64_t count = tdigest_count(td);
	uint32_t prev = 0;
	uint8_t head[4] = { MAGIC0, MAGIC1, CODEC_VERSION, 0 };
	double min = count ? tdigest_min(td) : 0;
	double max = count ? tdigest_max(td) : 0;

	strbuf_reserve(&w, 512); /* one allocation for most digests */
	strbuf_add(&w, head, sizeof(head));
	put_u64le(&w, (uint64_t)lround(tdigest_compression(td)), 2);
	put_double(&w, min);
	put_double(&w, max);
	put_double(&w, count ? tdigest_sum(td) : 0);
	varint_put(&w, count);
	varint_put(&w, n);
	for (i = 0; i < n; i++) {
		uint32_t key = mean_key(tdigest_unscaled(c[i].mean));

		/* Sorted means give sorted keys; never let a delta wrap. */
		if (key < prev)
			key = prev;

		varint_put(&w, key - prev);
		varint_put(&w, c[i].weight);
		prev = key;
	}
	if (!w.oom)
		put_u64le(&w, crc32(0, (const Bytef *)w.buf, (uInt)w.len),
			  CRC_BYTES);
	*out = (uint8_t *)strbuf_detach(&w, len);
	return *out ? 0 : -ENOMEM;
}

/* ------------------------------------------------------------------------
 * Decode
 * --------------------------------------------------------------------- */

static int check_summary(double compression, double min, double max,
			 double sum, uint64_t count, uint64_t n,
			 size_t body_bytes, struct rttq_error *err)
{
	if (!(compression >= TDIGEST_COMPRESSION_MIN &&
	      compression <= TDIGEST_COMPRESSION_MAX))
		return rttq_fail(err, -EBADMSG,
				 "digest: compression %.0f out of range",
				 compression);
	if (!isfinite(min) || !isfinite(max) || !isfinite(sum))
		return rttq_fail(err, -EBADMSG,
				 "digest: min, max or sum is not finite");
	if (count && (min < 0 || min > max))
		return rttq_fail(err, -EBADMSG,
				 "digest: min %g and max %g are inconsistent",
				 min, max);
	/* No digest takes such values (tdigest_add()); their mean keys
	 * would not survive another encode. */
	if ((min > 0 && min < TDIGEST_VALUE_MIN) ||
	    (max > 0 && max < TDIGEST_VALUE_MIN))
		return rttq_fail(err, -EBADMSG,
				 "digest: min %g or max %g is below the "
				 "smallest value a digest holds", min, max);
	if (count && (sum < min * (double)count * (1 - 1e-9) ||
		      sum > max * (double)count * (1 + 1e-9)))
		return rttq_fail(err, -EBADMSG,
				 "digest: sum %g is impossible for %llu values "
				 "in [%g, %g]", sum, (unsigned long long)count,
				 min, max);
	if ((count == 0) != (n == 0) || n > count)
		return rttq_fail(err, -EBADMSG,
				 "digest: %llu centroids for %llu values",
				 (unsigned long long)n,
				 (unsigned long long)count);
	/* Every centroid takes at least two bytes. */
	if (n > body_bytes / 2)
		return rttq_fail(err, -EBADMSG,
				 "digest: %llu centroids cannot fit in %zu bytes",
				 (unsigned long long)n, body_bytes);
	return 0;
}

static int read_centroids(struct reader *r, struct tdigest_centroid *c,
			  size_t n, uint64_t count, double min, double max,
			  struct rttq_error *err)
{
	uint64_t key = 0, delta, weight, total = 0;
	double slack = ldexp(1, -(23 - MEAN_DROP_BITS));
	size_t i;
	const char *why = NULL;
	int rc;

	for (i = 0; i < n; i++) {
		rc = varint_get(r->p, r->len, &r->off, &delta, &why);
		if (!rc)
			rc = varint_get(r->p, r->len, &r->off, &weight, &why);
		if (rc)
			return rttq_fail(err, rc, "digest: centroid %zu of %zu: "
					 "%s", i, n, why);
		if (delta > MEAN_KEY_MAX || key + delta > MEAN_KEY_MAX)
			return rttq_fail(err, -EBADMSG,
					 "digest: centroid %zu mean out of range",
					 i);
		key += delta;
		if (!weight || weight > count - total)
			return rttq_fail(err, -EBADMSG,
					 "digest: centroid %zu weight %llu does "
					 "not fit the count %llu", i,
					 (unsigned long long)weight,
					 (unsigned long long)count);
		total += weight;
		c[i].mean = key_mean(key);
		c[i].weight = weight;
		/* FLT_MIN: tiny means become subnormal or zero keys. */
		if (c[i].mean < min * (1 - slack) - FLT_MIN ||
		    c[i].mean > max * (1 + slack) + FLT_MIN)
			return rttq_fail(err, -EBADMSG,
					 "digest: centroid %zu mean %g outside "
					 "[%g, %g]", i, c[i].mean, min, max);
		/* Undo the key's rounding where it crossed an extreme. */
		c[i].mean = tdigest_scaled(fmin(fmax(c[i].mean, min), max));
	}
	if (total != count)
		return rttq_fail(err, -EBADMSG,
				 "digest: weights add up to %llu, count says %llu",
				 (unsigned long long)total,
				 (unsigned long long)count);
	return 0;
}

int codec_decode(const uint8_t *buf, size_t len, struct tdigest **out,
		 struct rttq_error *err)
{
	struct reader r = { buf, len, 0 };
	struct tdigest_centroid *c = NULL;
	double compression, min, max, sum;
	uint64_t count, n;
	uint32_t crc;
	const char *why = NULL;
	int rc;

	if (len > CODEC_MAX_BYTES)
		return rttq_fail(err, -EBADMSG,
				 "digest: %zu bytes, more than the %d allowed",
				 len, CODEC_MAX_BYTES);
	if (len < 2 || buf[0] != MAGIC0 || buf[1] != MAGIC1)
		return rttq_fail(err, -EBADMSG,
				 "digest: not a t-digest encoding (bad magic)");
	if (len < HEADER_BYTES + 2 + CRC_BYTES)
		return rttq_fail(err, -EBADMSG,
				 "digest: %zu bytes, shorter than any digest",
				 len);
	/* A version never written is damage; a later one is not. */
	if (buf[2] != CODEC_VERSION)
		return rttq_fail(err, buf[2] > CODEC_VERSION ? -ENOTSUP :
					      -EBADMSG,
				 "digest: format version %u, this build reads %d",
				 buf[2], CODEC_VERSION);
	r.len = len - CRC_BYTES;
	r.off = r.len;
	crc = (uint32_t)get_u64le(&r, CRC_BYTES);
	if (crc != (uint32_t)crc32(0, buf, (uInt)r.len))
		return rttq_fail(err, -EBADMSG,
				 "digest: checksum mismatch (corrupted bytes)");
	if (buf[3] != 0)
		return rttq_fail(err, -EBADMSG,
				 "digest: unknown flags 0x%02x", buf[3]);
	r.off = 4;
	compression = (double)get_u64le(&r, 2);
	min = get_double(&r);
	max = get_double(&r);
	sum = get_double(&r);
	rc = varint_get(r.p, r.len, &r.off, &count, &why);
	if (!rc)
		rc = varint_get(r.p, r.len, &r.off, &n, &why);
	if (rc)
		return rttq_fail(err, rc, "digest: header: %s", why);
	rc = check_summary(compression, min, max, sum, count, n,
			   r.len - r.off, err);
	if (rc)
		return rc;
	if (n) {
		c = malloc(n * sizeof(*c));
		if (!c)
			return -ENOMEM;
	}
	rc = read_centroids(&r, c, n, count, min, max, err);
	if (!rc && r.off != r.len)
		rc = rttq_fail(err, -EBADMSG,
			       "digest: %zu unexpected bytes after the centroids",
			       r.len - r.off);
	if (!rc) {
		rc = tdigest_from_centroids(compression, c, n, min, max, sum,
					    out);
		if (rc == -EINVAL)
			rc = rttq_fail(err, -EBADMSG,
				       "digest: centroids are not valid");
	}
	free(c);
	return rc;
}
