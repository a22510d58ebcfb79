// SPDX-License-Identifier: BSD-2-Clause
/*
 * Bucket maths of common/quantile/buckets.h: every value falls in [lo, hi) of its
 * index, indexes are dense and monotone, the last u32 lands in the last slot,
 * and buckets are never wider than 1/2^g of their lower edge.  Probes sit
 * exactly on the power-of-two boundaries, where off-by-ones live.
 */
#include <inttypes.h>
#include <stdint.h>

#include "buckets.h"
#include "check.h"
#include "rng.h"

/* The value lies in its bucket, and the index is in range. */
static int check_value_in_bucket(uint32_t v, uint32_t g)
{
	uint32_t i = bucket_index(v, g);

	return CHECK(i < BUCKET_SLOTS(g), "g=%u v=%" PRIu32 " index %" PRIu32
		     " >= slots %u", g, v, i, BUCKET_SLOTS(g)) &&
	       CHECK(bucket_lo(i, g) <= v && v < bucket_hi(i, g),
		     "g=%u v=%" PRIu32 " index %" PRIu32 " [%llu, %llu)", g, v,
		     i, (unsigned long long)bucket_lo(i, g),
		     (unsigned long long)bucket_hi(i, g));
}

static void test_log2(void)
{
	uint32_t k;

	check_section("bucket_log2 at 2^k - 1, 2^k, 2^k + 1");
	CHECK(bucket_log2(0) == 0, "log2(0) = %u", bucket_log2(0));
	CHECK(bucket_log2(1) == 0, "log2(1) = %u", bucket_log2(1));
	CHECK(bucket_log2(UINT32_MAX) == 31, "log2(max) = %u",
	      bucket_log2(UINT32_MAX));
	for (k = 1; k < 32; k++) {
		uint32_t p = (uint32_t)1 << k;

		CHECK(bucket_log2(p) == k, "log2(2^%u) = %u", k,
		      bucket_log2(p));
		CHECK(bucket_log2(p - 1) == k - 1, "log2(2^%u - 1) = %u", k,
		      bucket_log2(p - 1));
		CHECK(bucket_log2(p + 1) == k, "log2(2^%u + 1) = %u", k,
		      bucket_log2(p + 1));
	}
}

static void test_slot_counts(void)
{
	check_section("BUCKET_SLOTS matches the documented sizes");
	CHECK(BUCKET_SLOTS(5) == 896, "slots(5) = %u", BUCKET_SLOTS(5));
	CHECK(BUCKET_SLOTS_MAX == 3328, "slots max = %u", BUCKET_SLOTS_MAX);
	CHECK(BUCKET_SUB_BITS_DEFAULT >= BUCKET_SUB_BITS_MIN &&
	      BUCKET_SUB_BITS_DEFAULT <= BUCKET_SUB_BITS_MAX,
	      "default g %d", BUCKET_SUB_BITS_DEFAULT);
}

static void test_power_of_two_edges(void)
{
	uint32_t g, k;
	int d;

	check_section("2^k - 1, 2^k, 2^k + 1 and u32 extremes lie in their bucket");
	for (g = BUCKET_SUB_BITS_MIN; g <= BUCKET_SUB_BITS_MAX; g++) {
		check_value_in_bucket(0, g);
		check_value_in_bucket(1, g);
		check_value_in_bucket(UINT32_MAX, g);
		for (k = 0; k <= 32; k++) {
			for (d = -1; d <= 1; d++) {
				int64_t v = ((int64_t)1 << k) + d;

				if (v < 0 || v > UINT32_MAX)
					continue;
				check_value_in_bucket((uint32_t)v, g);
			}
		}
	}

	check_section("a new power of two starts a new bucket");
	for (g = BUCKET_SUB_BITS_MIN; g <= BUCKET_SUB_BITS_MAX; g++) {
		for (k = 1; k < 32; k++) {
			uint32_t p = (uint32_t)1 << k;
			uint32_t i = bucket_index(p, g);

			CHECK(bucket_lo(i, g) == p,
			      "g=%u: bucket of 2^%u starts at %llu", g, k,
			      (unsigned long long)bucket_lo(i, g));
			CHECK(bucket_index(p - 1, g) == i - 1,
			      "g=%u: 2^%u - 1 is in %u, 2^%u in %u", g, k,
			      bucket_index(p - 1, g), k, i);
		}
	}

	check_section("values below 2^(g+1) have a bucket each");
	for (g = BUCKET_SUB_BITS_MIN; g <= BUCKET_SUB_BITS_MAX; g++) {
		uint32_t v;

		for (v = 0; v < (2u << g); v++) {
			uint32_t i = bucket_index(v, g);

			CHECK(i == v && bucket_lo(i, g) == v &&
			      bucket_hi(i, g) == v + 1ull,
			      "g=%u v=%u: index %u [%llu, %llu)", g, v, i,
			      (unsigned long long)bucket_lo(i, g),
			      (unsigned long long)bucket_hi(i, g));
		}
	}

	check_section("UINT32_MAX is in the last slot, whose hi is 2^32");
	for (g = BUCKET_SUB_BITS_MIN; g <= BUCKET_SUB_BITS_MAX; g++) {
		CHECK(bucket_index(UINT32_MAX, g) == BUCKET_SLOTS(g) - 1,
		      "g=%u: index(max) = %u, slots %u", g,
		      bucket_index(UINT32_MAX, g), BUCKET_SLOTS(g));
		CHECK(bucket_hi(BUCKET_SLOTS(g) - 1, g) == 1ull << 32,
		      "g=%u: hi(last) = %llu", g,
		      (unsigned long long)bucket_hi(BUCKET_SLOTS(g) - 1, g));
		CHECK(bucket_index(0, g) == 0 && bucket_lo(0, g) == 0,
		      "g=%u: index(0) = %u", g, bucket_index(0, g));
	}
}

static void test_dense_and_inverse(void)
{
	uint32_t g, i;

	check_section("indexes are dense: lo < hi, lo(i + 1) == hi(i)");
	for (g = BUCKET_SUB_BITS_MIN; g <= BUCKET_SUB_BITS_MAX; g++) {
		for (i = 0; i < BUCKET_SLOTS(g); i++) {
			__u64 lo = bucket_lo(i, g), hi = bucket_hi(i, g);

			CHECK(lo < hi, "g=%u i=%u: [%llu, %llu)", g, i,
			      (unsigned long long)lo, (unsigned long long)hi);
			if (i + 1 < BUCKET_SLOTS(g))
				CHECK(bucket_lo(i + 1, g) == hi,
				      "g=%u: lo(%u) = %llu, hi(%u) = %llu", g,
				      i + 1,
				      (unsigned long long)bucket_lo(i + 1, g),
				      i, (unsigned long long)hi);
		}
	}

	check_section("bucket_index is the exact inverse of lo and hi - 1");
	for (g = BUCKET_SUB_BITS_MIN; g <= BUCKET_SUB_BITS_MAX; g++) {
		for (i = 0; i < BUCKET_SLOTS(g); i++) {
			uint32_t lo = (uint32_t)bucket_lo(i, g);
			uint32_t last = (uint32_t)(bucket_hi(i, g) - 1);

			CHECK(bucket_index(lo, g) == i && bucket_index(last, g) == i,
			      "g=%u i=%u: index(lo %u) = %u, index(hi-1 %u) = %u",
			      g, i, lo, bucket_index(lo, g), last,
			      bucket_index(last, g));
		}
	}

	check_section("width <= lo / 2^g once lo >= 2^(g+1)");
	for (g = BUCKET_SUB_BITS_MIN; g <= BUCKET_SUB_BITS_MAX; g++) {
		for (i = 0; i < BUCKET_SLOTS(g); i++) {
			__u64 lo = bucket_lo(i, g), hi = bucket_hi(i, g);

			if (lo < (2ull << g))
				continue;
			CHECK((hi - lo) << g <= lo,
			      "g=%u i=%u: width %llu, lo %llu", g, i,
			      (unsigned long long)(hi - lo),
			      (unsigned long long)lo);
			CHECK(hi - lo == 1ull << bucket_shift(i, g),
			      "g=%u i=%u: width %llu, shift %u", g, i,
			      (unsigned long long)(hi - lo), bucket_shift(i, g));
		}
	}
}

static void test_monotone(void)
{
	uint64_t state = 0x9e3779b97f4a7c15ull;
	uint32_t g, v;
	int n;

	check_section("index steps by 0 or 1 for every v in 0 .. 2^20, g = 5");
	for (v = 0; v < (1u << 20); v++) {
		uint32_t a = bucket_index(v, 5), b = bucket_index(v + 1, 5);

		CHECK(b == a || b == a + 1, "v=%u: index %u, v+1: %u", v, a, b);
		check_value_in_bucket(v, 5);
	}

	check_section("index monotone over random pairs up to UINT32_MAX");
	for (n = 0; n < 1000000; n++) {
		uint32_t x = (uint32_t)(rng_xorshift64star(&state) >> 32);
		uint32_t y = (uint32_t)(rng_xorshift64star(&state) >> 32);
		uint32_t lo = x < y ? x : y, hi = x < y ? y : x;

		g = BUCKET_SUB_BITS_MIN +
		    (uint32_t)(n % (BUCKET_SUB_BITS_MAX - BUCKET_SUB_BITS_MIN + 1));
		CHECK(bucket_index(lo, g) <= bucket_index(hi, g),
		      "g=%u: index(%u) = %u > index(%u) = %u", g, lo,
		      bucket_index(lo, g), hi, bucket_index(hi, g));
		check_value_in_bucket(x, g);
	}
}

int main(void)
{
	test_log2();
	test_slot_counts();
	test_power_of_two_edges();
	test_dense_and_inverse();
	test_monotone();
	return check_report();
}
