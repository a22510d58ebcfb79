// SPDX-License-Identifier: BSD-2-Clause
/*
 * Exact histogram of common/quantile/hist.h: record, add_slot, merge and reset keep
 * count, sum, min and max exact; quantiles land inside the bucket that holds
 * the true nearest-rank value; bad arguments are refused.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "buckets.h"
#include "check.h"
#include "hist.h"
#include "rng.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static void check_empty(const struct hist *h, const char *what)
{
	uint32_t index = 0;
	uint64_t count;

	CHECK(hist_count(h) == 0, "%s: count %llu", what,
	      (unsigned long long)hist_count(h));
	CHECK(hist_sum_us(h) == 0, "%s: sum %g", what, hist_sum_us(h));
	CHECK(isnan(hist_min_us(h)) && isnan(hist_max_us(h)),
	      "%s: min %g max %g", what, hist_min_us(h), hist_max_us(h));
	CHECK(isnan(hist_quantile(h, 0.5)), "%s: p50 %g", what,
	      hist_quantile(h, 0.5));
	CHECK(!hist_next_slot(h, &index, &count), "%s: slot %u non-empty",
	      what, index);
}

static void test_new_and_free(void)
{
	static const unsigned int bad[] = { 0, 1, 2, 8, 9, 32, 1000, ~0u };
	struct hist *h = NULL, *sentinel = (struct hist *)&h;
	unsigned int g;
	size_t i;

	check_section("hist_new refuses g outside 3..7 and leaves out alone");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h = sentinel;
		CHECK(hist_new(bad[i], &h) == -EINVAL, "g=%u accepted", bad[i]);
		CHECK(h == sentinel, "g=%u: out changed", bad[i]);
	}

	check_section("hist_new gives an empty histogram of BUCKET_SLOTS(g)");
	for (g = BUCKET_SUB_BITS_MIN; g <= BUCKET_SUB_BITS_MAX; g++) {
		h = NULL;
		if (!CHECK(hist_new(g, &h) == 0 && h, "g=%u", g))
			continue;
		CHECK(hist_sub_bits(h) == g, "sub_bits %u", hist_sub_bits(h));
		CHECK(hist_slots(h) == BUCKET_SLOTS(g), "g=%u slots %u", g,
		      hist_slots(h));
		check_empty(h, "new");
		CHECK(hist_slot_count(h, hist_slots(h)) == 0 &&
		      hist_slot_count(h, UINT32_MAX) == 0,
		      "out-of-range slot count not 0");
		hist_free(h);
	}

	check_section("hist_free(NULL) does nothing");
	CHECK_SURVIVES(hist_free(NULL));
}

static void test_record(void)
{
	struct hist *h = NULL;
	uint32_t index = 0;
	uint64_t count;

	check_section("hist_record keeps count, sum, min, max exact");
	if (!CHECK(hist_new(5, &h) == 0, "hist_new"))
		return;
	hist_record(h, 1000, 3);
	hist_record(h, 7, 1);
	hist_record(h, UINT32_MAX, 2);
	hist_record(h, 0, 5);
	hist_record(h, 123456, 0); /* no-op: must not touch min/max */
	CHECK(hist_count(h) == 11, "count %llu",
	      (unsigned long long)hist_count(h));
	CHECK(hist_sum_us(h) == 3000.0 + 7 + 2.0 * UINT32_MAX,
	      "sum %.17g", hist_sum_us(h));
	CHECK(hist_min_us(h) == 0, "min %g", hist_min_us(h));
	CHECK(hist_max_us(h) == (double)UINT32_MAX, "max %.17g",
	      hist_max_us(h));
	CHECK(hist_slot_count(h, bucket_index(1000, 5)) == 3, "slot of 1000");
	CHECK(hist_slot_count(h, bucket_index(123456, 5)) == 0,
	      "count 0 recorded something");
	CHECK(hist_slot_count(h, hist_slots(h) - 1) == 2, "last slot %llu",
	      (unsigned long long)hist_slot_count(h, hist_slots(h) - 1));

	check_section("hist_next_slot visits the non-empty buckets in order");
	CHECK(hist_next_slot(h, &index, &count) && index == 0 && count == 5,
	      "first %u x %llu", index, (unsigned long long)count);
	index++;
	CHECK(hist_next_slot(h, &index, &count) && index == 7 && count == 1,
	      "second %u x %llu", index, (unsigned long long)count);
	index++;
	CHECK(hist_next_slot(h, &index, &count) &&
	      index == bucket_index(1000, 5) && count == 3,
	      "third %u x %llu", index, (unsigned long long)count);
	index++;
	CHECK(hist_next_slot(h, &index, &count) &&
	      index == hist_slots(h) - 1 && count == 2,
	      "fourth %u x %llu", index, (unsigned long long)count);
	index++;
	CHECK(!hist_next_slot(h, &index, &count), "a fifth bucket %u", index);

	check_section("hist_reset empties and keeps g");
	hist_reset(h);
	check_empty(h, "reset");
	CHECK(hist_sub_bits(h) == 5 && hist_slots(h) == BUCKET_SLOTS(5),
	      "config lost");
	hist_record(h, 42, 1);
	CHECK(hist_count(h) == 1 && hist_min_us(h) == 42 &&
	      hist_max_us(h) == 42 && hist_sum_us(h) == 42,
	      "reuse after reset");
	hist_free(h);
}

static void test_add_slot(void)
{
	struct hist *h = NULL;
	uint32_t i = bucket_index(1000000, 5);
	double lo = (double)bucket_lo(i, 5), last = (double)bucket_hi(i, 5) - 1;

	check_section("hist_add_slot: min/max are the edges, sum the midpoint");
	if (!CHECK(hist_new(5, &h) == 0, "hist_new"))
		return;
	hist_add_slot(h, i, 4);
	hist_add_slot(h, i, 0);
	hist_add_slot(h, hist_slots(h), 9);
	hist_add_slot(h, UINT32_MAX, 9);
	CHECK(hist_count(h) == 4, "count %llu",
	      (unsigned long long)hist_count(h));
	CHECK(hist_slot_count(h, i) == 4, "slot count %llu",
	      (unsigned long long)hist_slot_count(h, i));
	CHECK(hist_min_us(h) == lo, "min %g, lo %g", hist_min_us(h), lo);
	CHECK(hist_max_us(h) == last, "max %g, hi - 1 %g", hist_max_us(h),
	      last);
	CHECK(hist_sum_us(h) == 4 * (lo + last) / 2, "sum %g",
	      hist_sum_us(h));

	check_section("hist_add_slot on the last slot reaches UINT32_MAX");
	hist_reset(h);
	hist_add_slot(h, hist_slots(h) - 1, 1);
	CHECK(hist_max_us(h) == (double)UINT32_MAX, "max %.17g",
	      hist_max_us(h));
	CHECK(hist_min_us(h) == (double)bucket_lo(hist_slots(h) - 1, 5),
	      "min %.17g", hist_min_us(h));
	hist_free(h);
}

static void test_merge(void)
{
	struct hist *a = NULL, *b = NULL, *all = NULL, *other = NULL;
	uint64_t state = 7;
	uint32_t i;
	int n;

	check_section("hist_merge equals recording everything into one");
	if (!CHECK(hist_new(5, &a) == 0 && hist_new(5, &b) == 0 &&
		   hist_new(5, &all) == 0 && hist_new(6, &other) == 0,
		   "hist_new"))
		goto cleanup;
	for (n = 0; n < 10000; n++) {
		uint32_t v = (uint32_t)(rng_xorshift64star(&state) % 5000000);

		hist_record(n % 3 ? a : b, v, 1 + n % 4);
		hist_record(all, v, 1 + n % 4);
	}
	CHECK(hist_merge(a, b) == 0, "merge failed");
	CHECK(hist_count(a) == hist_count(all), "count %llu vs %llu",
	      (unsigned long long)hist_count(a),
	      (unsigned long long)hist_count(all));
	/* Integers below 2^53 sum exactly whatever the order. */
	CHECK(hist_sum_us(a) == hist_sum_us(all), "sum %.17g vs %.17g",
	      hist_sum_us(a), hist_sum_us(all));
	CHECK(hist_min_us(a) == hist_min_us(all) &&
	      hist_max_us(a) == hist_max_us(all), "min/max differ");
	for (i = 0; i < hist_slots(a); i++)
		CHECK(hist_slot_count(a, i) == hist_slot_count(all, i),
		      "slot %u: %llu vs %llu", i,
		      (unsigned long long)hist_slot_count(a, i),
		      (unsigned long long)hist_slot_count(all, i));

	check_section("hist_merge of an empty source changes nothing");
	hist_reset(b);
	CHECK(hist_merge(a, b) == 0, "merge of empty failed");
	CHECK(hist_count(a) == hist_count(all) &&
	      hist_min_us(a) == hist_min_us(all) &&
	      hist_max_us(a) == hist_max_us(all) &&
	      hist_sum_us(a) == hist_sum_us(all), "summary changed");

	check_section("hist_merge into an empty destination copies it");
	CHECK(hist_merge(b, all) == 0, "merge into empty failed");
	CHECK(hist_count(b) == hist_count(all) &&
	      hist_min_us(b) == hist_min_us(all) &&
	      hist_max_us(b) == hist_max_us(all) &&
	      hist_sum_us(b) == hist_sum_us(all), "summary differs");

	check_section("hist_merge of different g is -EINVAL and changes nothing");
	hist_record(other, 5, 1);
	CHECK(hist_merge(a, other) == -EINVAL, "g 5 <- 6 accepted");
	CHECK(hist_merge(other, a) == -EINVAL, "g 6 <- 5 accepted");
	CHECK(hist_count(a) == hist_count(all) && hist_count(other) == 1,
	      "counts changed by a refused merge");
cleanup:
	hist_free(a);
	hist_free(b);
	hist_free(all);
	hist_free(other);
}

/* Each quantile lies in the bucket of the exact nearest-rank value. */
static void check_quantiles(const struct hist *h, const uint32_t *sorted,
			    size_t n, unsigned int g)
{
	static const double qs[] = { 0, 1e-6, 0.001, 0.01, 0.1, 0.25, 0.5,
				     0.75, 0.9, 0.95, 0.99, 0.999, 0.9999,
				     1 };
	double prev = -INFINITY, q;
	size_t i;

	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		size_t rank = (size_t)ceil(qs[i] * (double)n);
		uint32_t exact = sorted[rank ? rank - 1 : 0];
		uint32_t b = bucket_index(exact, g);
		double v = hist_quantile(h, qs[i]);

		CHECK(v >= (double)bucket_lo(b, g) &&
		      v <= (double)bucket_hi(b, g) - 1,
		      "g=%u q=%g: %.17g outside bucket [%llu, %llu) of %u", g,
		      qs[i], v, (unsigned long long)bucket_lo(b, g),
		      (unsigned long long)bucket_hi(b, g), exact);
		CHECK(v >= hist_min_us(h) && v <= hist_max_us(h),
		      "g=%u q=%g: %g outside [min, max]", g, qs[i], v);
	}
	for (q = 0; q <= 1; q += 1.0 / 4096) {
		double v = hist_quantile(h, q);

		CHECK(v >= prev, "g=%u: q=%g gives %g < %g", g, q, v, prev);
		prev = v;
	}
}

static void test_quantile(void)
{
	static const size_t sizes[] = { 1, 2, 3, 10, 1000, 100000 };
	uint64_t state = 42;
	uint32_t *v;
	unsigned int g;
	size_t s, i;

	check_section("hist_quantile of q outside [0, 1] or NaN is NAN");
	{
		struct hist *h = NULL;

		if (CHECK(hist_new(5, &h) == 0, "hist_new")) {
			hist_record(h, 10, 1);
			CHECK(isnan(hist_quantile(h, -0.01)), "q<0");
			CHECK(isnan(hist_quantile(h, 1.01)), "q>1");
			CHECK(isnan(hist_quantile(h, NAN)), "q NaN");
			CHECK(hist_quantile(h, 0.5) == 10, "single value %g",
			      hist_quantile(h, 0.5));
		}
		hist_free(h);
	}

	check_section("hist_quantile lies in the bucket of the exact value");
	v = malloc(100000 * sizeof(*v));
	if (!CHECK(v, "malloc"))
		return;
	for (g = BUCKET_SUB_BITS_MIN; g <= BUCKET_SUB_BITS_MAX; g++) {
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			struct hist *h = NULL;

			if (!CHECK(hist_new(g, &h) == 0, "hist_new"))
				continue;
			for (i = 0; i < sizes[s]; i++) {
				/* Log-uniform over 1 us .. 2^30 us. */
				uint32_t e = (uint32_t)
					(rng_xorshift64star(&state) % 31);

				v[i] = (uint32_t)
				       (rng_xorshift64star(&state) >> 33) &
				       ((1u << e) | ((1u << e) - 1));
				hist_record(h, v[i], 1);
			}
			qsort(v, sizes[s], sizeof(*v), cmp_u32);
			check_quantiles(h, v, sizes[s], g);
			hist_free(h);
		}
	}
	free(v);
}

int main(void)
{
	test_new_and_free();
	test_record();
	test_add_slot();
	test_merge();
	test_quantile();
	return check_report();
}
