/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Merging t-digest (Dunning & Ertl) of non-negative values (RTTs in
 * microseconds) with integer weights and exact min, max and sum.  See
 * tdigest.c for the scale function and how compression bounds the number
 * of centroids.
 *
 * Centroids live on the scale s = ln(1 + v): a centroid's mean is the
 * weighted mean of s over its values, and quantiles interpolate linearly in
 * s.  RTT tails are close to power laws, where a wide tail centroid's plain
 * mean sits far above its middle value and linear interpolation overshoots;
 * on the log scale both are nearly exact, and for narrow centroids in the
 * body the two scales agree.
 */
#ifndef RTTQ_TDIGEST_H
#define RTTQ_TDIGEST_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TDIGEST_COMPRESSION_DEFAULT 100.0
#define TDIGEST_COMPRESSION_MIN 20.0
#define TDIGEST_COMPRESSION_MAX 1000.0
/* Largest value a digest takes (the codec stores means as floats). */
#define TDIGEST_VALUE_MAX 1e30
/* Smallest non-zero value a digest takes: a float's smallest normal
 * (FLT_MIN), as below it the codec's mean keys lose every bit and a
 * stored digest would not decode to what was encoded. */
#define TDIGEST_VALUE_MIN 1.17549435e-38

struct hist;
struct tdigest;

struct tdigest_centroid {
	double mean;     /* mean of ln(1 + v) over its values v */
	uint64_t weight; /* how many values, >= 1 */
};

/** tdigest_scaled() - a value on the centroid scale: ln(1 + @v). */
static inline double tdigest_scaled(double v)
{
	return log1p(v);
}

/** tdigest_unscaled() - back from the centroid scale: e^@s - 1. */
static inline double tdigest_unscaled(double s)
{
	return expm1(s);
}

/**
 * tdigest_new() - allocate an empty digest.
 * @compression: delta, TDIGEST_COMPRESSION_MIN..TDIGEST_COMPRESSION_MAX.
 * @out: receives the digest.
 *
 * @return 0, -EINVAL for a compression out of range, -ENOMEM.
 */
RTTQ_API int tdigest_new(double compression, struct tdigest **out);

/** tdigest_free() - release @td; NULL does nothing. */
RTTQ_API void tdigest_free(struct tdigest *td);

/**
 * tdigest_add() - add @weight occurrences of @value.
 *
 * @return 0, -EINVAL for a value outside [0, TDIGEST_VALUE_MAX], one
 *         between 0 and TDIGEST_VALUE_MIN, or a zero weight, -ENOMEM.
 */
RTTQ_API int tdigest_add(struct tdigest *td, double value, uint64_t weight);

/**
 * tdigest_merge() - merge @n digests into @dst: the union of their sorted
 * centroid lists is sorted at once and compressed in one pass (above 256
 * inputs, as a two-level tree of such merges).
 * @dst: receives the union; its own content is kept.
 * @srcs: digests to merge (compressed as a side effect).
 * @n: how many.
 *
 * @return 0, -ENOMEM.
 */
RTTQ_API int tdigest_merge(struct tdigest *dst, struct tdigest *const *srcs,
			   size_t n);

/**
 * tdigest_quantile() - value at quantile @q in [0, 1].
 *
 * @return the value, NAN when the digest is empty or @q is out of range.
 */
RTTQ_API double tdigest_quantile(struct tdigest *td, double q);

/**
 * tdigest_cdf() - fraction of values <= @x.
 *
 * @return 0..1, NAN when the digest is empty.
 */
RTTQ_API double tdigest_cdf(struct tdigest *td, double x);

/** tdigest_count() - total weight. */
RTTQ_API uint64_t tdigest_count(const struct tdigest *td);
/** tdigest_sum() - sum of the values added. */
RTTQ_API double tdigest_sum(const struct tdigest *td);
/** tdigest_min() - smallest value added (NAN when empty). */
RTTQ_API double tdigest_min(const struct tdigest *td);
/** tdigest_max() - largest value added (NAN when empty). */
RTTQ_API double tdigest_max(const struct tdigest *td);
/** tdigest_compression() - the delta it was created with. */
RTTQ_API double tdigest_compression(const struct tdigest *td);

/**
 * tdigest_centroids() - compress, then expose the sorted centroids.
 * @td: digest.
 * @out: receives a pointer valid until the next change to @td.
 *
 * @return number of centroids.
 */
RTTQ_API size_t tdigest_centroids(struct tdigest *td,
				  const struct tdigest_centroid **out);

/**
 * tdigest_from_centroids() - rebuild a digest from its parts (the codec's
 * decoder uses this after validating them).
 * @compression: delta.
 * @c: centroids sorted by mean (on the centroid scale, so >= 0), each
 *     weight >= 1.
 * @n: number of centroids.
 * @min: smallest value.
 * @max: largest value.
 * @sum: sum of the values.
 * @out: receives the digest.
 *
 * @return 0, -EINVAL (bad compression, unsorted means, zero weight), -ENOMEM.
 */
RTTQ_API int tdigest_from_centroids(double compression,
				    const struct tdigest_centroid *c, size_t n,
				    double min, double max, double sum,
				    struct tdigest **out);

/**
 * tdigest_from_hist() - convert an exact histogram to a digest, spreading
 * each bucket's count evenly over the bucket's [lo, hi) in centroids no
 * larger than the scale function allows at their quantile.  A min or max
 * that hist_record() left strictly inside its bucket is a known value and
 * becomes a centroid of its own at that value (bucket edges set by
 * hist_add_slot() are not values and are spread like the rest).
 * @h: histogram (not changed).
 * @compression: delta.
 * @out: receives the digest (empty when @h is).
 *
 * @return 0, -EINVAL for a bad compression, -ENOMEM.
 */
RTTQ_API int tdigest_from_hist(const struct hist *h, double compression,
			       struct tdigest **out);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_TDIGEST_H */
