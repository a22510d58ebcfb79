/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Exact log-linear histogram of RTT values in microseconds (bucket edges from
 * buckets.h).  This is what the agent accumulates per group and period, and
 * what hour/day rollups are built from: histograms merge exactly, digests
 * do not.  Counts are u64 per bucket, dense (896 slots = 7 KiB at g = 5).
 */
#ifndef RTTQ_HIST_H
#define RTTQ_HIST_H

#include <stddef.h>
#include <stdint.h>

#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct hist;

/**
 * hist_new() - allocate an empty histogram.
 * @sub_bits: sub-bucket bits g, BUCKET_SUB_BITS_MIN..BUCKET_SUB_BITS_MAX.
 * @out: receives the histogram.
 *
 * @return 0, -EINVAL for @sub_bits out of range, -ENOMEM.
 */
RTTQ_API int hist_new(unsigned int sub_bits, struct hist **out);

/** hist_free() - release @h; NULL does nothing. */
RTTQ_API void hist_free(struct hist *h);

/** hist_reset() - forget every count, keep the configuration. */
RTTQ_API void hist_reset(struct hist *h);

/** hist_sub_bits() - the g this histogram was created with. */
RTTQ_API unsigned int hist_sub_bits(const struct hist *h);

/** hist_slots() - number of buckets (indexes 0 .. slots - 1). */
RTTQ_API uint32_t hist_slots(const struct hist *h);

/**
 * hist_record() - count @count occurrences of an exactly known value.
 * @h: histogram.
 * @value_us: the value; min, max and sum stay exact.
 * @count: occurrences (0 does nothing).
 */
RTTQ_API void hist_record(struct hist *h, uint32_t value_us, uint64_t count);

/**
 * hist_add_slot() - add @count to bucket @index, when only the bucket is
 * known (counts drained from the kernel).  min and max become the bucket's
 * edges, the sum grows by @count times the bucket's midpoint.
 * @h: histogram.
 * @index: bucket index; indexes >= hist_slots() are ignored.
 * @count: occurrences.
 */
RTTQ_API void hist_add_slot(struct hist *h, uint32_t index, uint64_t count);

/**
 * hist_merge() - add every count of @src into @dst.
 *
 * @return 0, or -EINVAL when the two differ in sub-bucket bits.
 */
RTTQ_API int hist_merge(struct hist *dst, const struct hist *src);

/** hist_count() - total number of values recorded. */
RTTQ_API uint64_t hist_count(const struct hist *h);
/** hist_sum_us() - sum of the values (exact when fed by hist_record). */
RTTQ_API double hist_sum_us(const struct hist *h);
/** hist_min_us() - smallest value (NAN when empty). */
RTTQ_API double hist_min_us(const struct hist *h);
/** hist_max_us() - largest value (NAN when empty). */
RTTQ_API double hist_max_us(const struct hist *h);

/** hist_slot_count() - count in bucket @index (0 when out of range). */
RTTQ_API uint64_t hist_slot_count(const struct hist *h, uint32_t index);

/**
 * hist_next_slot() - iterate over non-empty buckets in increasing order.
 * @h: histogram.
 * @index: in: first index to look at; out: the non-empty bucket found.
 * @count: out: its count.
 *
 * @return 1 when a bucket was found, 0 at the end.
 */
RTTQ_API int hist_next_slot(const struct hist *h, uint32_t *index,
			    uint64_t *count);

/**
 * hist_quantile() - value at quantile @q (0..1), interpolated linearly in
 * the bucket that holds it and clamped to [min, max].
 *
 * @return the value in microseconds, NAN when empty or @q out of range.
 */
RTTQ_API double hist_quantile(const struct hist *h, double q);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_HIST_H */
