/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Log-linear (HDR-style) buckets for u32 values, shared verbatim by the BPF
 * program and userspace so both agree on every bucket edge.
 *
 * With g sub-bucket bits, values below 2^(g+1) get a bucket each; every
 * larger power-of-two range [2^e, 2^(e+1)) is split into 2^g equal
 * sub-buckets of width 2^(e-g), so a bucket is never wider than 1/2^g of its
 * lower edge (3.1 % at the default g = 5).  Closed form, with
 * e = max(floor(log2 v), g) and s = e - g:
 *
 *     index(v) = s * 2^g + (v >> s)
 *
 * (v >> s) lies in [2^g, 2^(g+1)) once e >= g, so each s owns 2^g indexes
 * and consecutive ranges abut: indexes are dense and monotone in v.
 * The inverse takes s = max(index >> g, 1) - 1 and m = index - s * 2^g:
 *
 *     lo(index) = m << s,  hi(index) = (m + 1) << s   (hi is exclusive)
 *
 * Every u32 fits in (33 - g) * 2^g indexes: 896 at g = 5.
 */
#ifndef RTTQ_BUCKETS_H
#define RTTQ_BUCKETS_H

#include <linux/types.h>

#define BUCKET_SUB_BITS_MIN 3
#define BUCKET_SUB_BITS_MAX 7
#define BUCKET_SUB_BITS_DEFAULT 5

/* Number of buckets that cover every u32 value with g sub-bucket bits. */
#define BUCKET_SLOTS(g) ((33u - (g)) << (g))
/* The largest slot count over the allowed g (g = 7: 3,328 slots). */
#define BUCKET_SLOTS_MAX BUCKET_SLOTS(BUCKET_SUB_BITS_MAX)

/*
 * 1 when @v > @k, else 0, as the sign of @k - @v in 64 bits.  BPF has no
 * set-on-compare, so clang turns a comparison into a conditional jump,
 * and a jump per step below is taken or not by the value's size: on a
 * host whose connections have different RTTs (and with jitter, a second
 * value per event) they mispredict.  The empty asm hides the
 * subtraction's meaning from clang, which would fold it back into that
 * comparison.
 */
static inline __u32 bucket_above(__u64 v, __u64 k)
{
	__u64 d = k - v;

#ifdef __bpf__
	asm volatile("" : "+r"(d));
#endif
	return d >> 63;
}

/* floor(log2 v) for v > 0 in five steps without a branch (0 for v == 0). */
static inline __u32 bucket_log2(__u32 v)
{
	__u32 r, shift;

	r = bucket_above(v, 0xffff) << 4;
	v >>= r;
	shift = bucket_above(v, 0xff) << 3;
	v >>= shift;
	r |= shift;
	shift = bucket_above(v, 0xf) << 2;
	v >>= shift;
	r |= shift;
	shift = bucket_above(v, 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

/* Bucket index of @v with @g sub-bucket bits: s * 2^g + (v >> s), where
 * s = max(e - g, 0) is taken without a branch, as bucket_log2() is. */
static inline __u32 bucket_index(__u32 v, __u32 g)
{
	__u32 e = bucket_log2(v);
	__u32 s = (e - g) & (0u - bucket_above(e, g));

	return (s << g) + (v >> s);
}

/* Shift s of bucket @index: the log2 of its width. */
static inline __u32 bucket_shift(__u32 index, __u32 g)
{
	__u32 top = index >> g;

	return top > 1 ? top - 1 : 0;
}

/* Inclusive lower edge of bucket @index. */
static inline __u64 bucket_lo(__u32 index, __u32 g)
{
	__u32 s = bucket_shift(index, g);

	return (__u64)(index - (s << g)) << s;
}

/* Exclusive upper edge of bucket @index (2^32 for the last u32 bucket). */
static inline __u64 bucket_hi(__u32 index, __u32 g)
{
	__u32 s = bucket_shift(index, g);

	return (__u64)(index - (s << g) + 1) << s;
}

#endif /* RTTQ_BUCKETS_H */
