// SPDX-License-Identifier: BSD-2-Clause
/*
 * t-digest of common/quantile/tdigest.h: argument checks, exact count/sum/min/max,
 * quantile and cdf shapes (monotone, inverse of each other, exact at 0 and
 * 1), merges that agree with a single digest of everything, and
 * tdigest_from_hist keeping tail centroids small and recorded extremes
 * exact (so that many sparse periods merged are not biased low).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "buckets.h"
#include "check.h"
#include "hist.h"
#include "rng.h"
#include "tdigest.h"

/* TD_SCALE_NORMALIZER of tdigest.c: the k-size bound the digest promises. */
#define SCALE_Z 16.0

/*
 * Lognormal RTT in microseconds: median 5 ms, sigma 0.8 (Box-Muller).  Not
 * rng_lognormal(): this groups the product differently, which rounds
 * differently, and this test keeps the sequence it always had.
 */
static double lognormal_us(uint64_t *state)
{
	double u = rng_unit(state), v = rng_unit(state);
	double z = sqrt(-2 * log(u)) * cos(2 * M_PI * v);

	return 5000 * exp(0.8 * z);
}

/* Equal up to the few ulps lost by e^(ln(1 + v)) - 1. */
static int near(double a, double b)
{
	return fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Fraction of @sorted (ascending) that is <= @x. */
static double rank_of(const double *sorted, size_t n, double x)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sorted[mid] <= x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (double)lo / (double)n;
}

static struct tdigest *new_digest(double compression)
{
	struct tdigest *td = NULL;

	if (!CHECK(tdigest_new(compression, &td) == 0 && td,
		   "tdigest_new(%g)", compression))
		return NULL;
	return td;
}

static void test_new_and_free(void)
{
	static const double bad[] = { 0, -100, 19.999, 1000.001, 5000, NAN,
				      INFINITY, -INFINITY };
	static const double good[] = { TDIGEST_COMPRESSION_MIN, 100,
				       TDIGEST_COMPRESSION_MAX };
	struct tdigest *td, *sentinel = (struct tdigest *)&td;
	size_t i;

	check_section("tdigest_new refuses compression outside 20..1000");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		td = sentinel;
		CHECK(tdigest_new(bad[i], &td) == -EINVAL, "%g accepted",
		      bad[i]);
		CHECK(td == sentinel, "%g: out changed", bad[i]);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		td = new_digest(good[i]);
		CHECK(td && tdigest_compression(td) == good[i],
		      "compression %g", good[i]);
		tdigest_free(td);
	}

	check_section("tdigest_free(NULL) does nothing");
	CHECK_SURVIVES(tdigest_free(NULL));
}

static void test_empty_and_bad_adds(void)
{
	const struct tdigest_centroid *c;
	struct tdigest *td = new_digest(100);

	if (!td)
		return;
	check_section("an empty digest answers NAN");
	CHECK(isnan(tdigest_quantile(td, 0.5)), "p50 %g",
	      tdigest_quantile(td, 0.5));
	CHECK(isnan(tdigest_quantile(td, 0)) && isnan(tdigest_quantile(td, 1)),
	      "p0/p100 not NAN");
	CHECK(isnan(tdigest_cdf(td, 1)), "cdf %g", tdigest_cdf(td, 1));
	CHECK(tdigest_count(td) == 0 && tdigest_sum(td) == 0, "count/sum");
	CHECK(isnan(tdigest_min(td)) && isnan(tdigest_max(td)), "min/max");
	CHECK(tdigest_centroids(td, &c) == 0, "centroids of empty");

	check_section("tdigest_add refuses NaN, inf, negative, zero weight");
	CHECK(tdigest_add(td, NAN, 1) == -EINVAL, "NaN");
	CHECK(tdigest_add(td, INFINITY, 1) == -EINVAL, "inf");
	CHECK(tdigest_add(td, -1, 1) == -EINVAL, "-1");
	CHECK(tdigest_add(td, -1e-300, 1) == -EINVAL, "-1e-300");
	CHECK(tdigest_add(td, 5, 0) == -EINVAL, "weight 0");
	CHECK(tdigest_count(td) == 0 && isnan(tdigest_quantile(td, 0.5)),
	      "a refused add changed the digest");

	check_section("out-of-range q and NaN x are NAN");
	CHECK(tdigest_add(td, 10, 1) == 0, "add");
	CHECK(isnan(tdigest_quantile(td, -0.001)), "q<0");
	CHECK(isnan(tdigest_quantile(td, 1.001)), "q>1");
	CHECK(isnan(tdigest_quantile(td, NAN)), "q NaN");
	CHECK(isnan(tdigest_cdf(td, NAN)), "cdf(NaN)");
	tdigest_free(td);
}

static void test_single_value(void)
{
	static const double values[] = { 0, 1, 1234.5, 4294967295.0 };
	size_t i;
	int k;

	check_section("a single value is every quantile");
	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		struct tdigest *td = new_digest(100);
		double v = values[i];

		if (!td)
			continue;
		CHECK(tdigest_add(td, v, 1) == 0, "add %g", v);
		CHECK(tdigest_count(td) == 1 && tdigest_sum(td) == v &&
		      tdigest_min(td) == v && tdigest_max(td) == v,
		      "summary of %g", v);
		for (k = 0; k <= 100; k++)
			CHECK(tdigest_quantile(td, k / 100.0) == v,
			      "v=%.17g q=%g: %.17g", v, k / 100.0,
			      tdigest_quantile(td, k / 100.0));
		CHECK(tdigest_cdf(td, v) == 1, "cdf(v) %g", tdigest_cdf(td, v));
		if (v > 0)
			CHECK(tdigest_cdf(td, v * (1 - 1e-9)) == 0,
			      "cdf(below) %g", tdigest_cdf(td, v * (1 - 1e-9)));
		tdigest_free(td);
	}
}

static void test_weighted_adds(void)
{
	struct tdigest *a = new_digest(100), *b = new_digest(100);
	uint64_t state = 11;
	uint64_t w, j;
	int i;

	check_section("weighted adds equal repeated adds");
	if (!a || !b)
		goto cleanup;
	for (i = 0; i < 2000; i++) {
		double v = floor(lognormal_us(&state));

		w = 1 + rng_xorshift64star(&state) % 50;
		CHECK(tdigest_add(a, v, w) == 0, "weighted add");
		for (j = 0; j < w; j++)
			CHECK(tdigest_add(b, v, 1) == 0, "add");
	}
	CHECK(tdigest_count(a) == tdigest_count(b), "count %llu vs %llu",
	      (unsigned long long)tdigest_count(a),
	      (unsigned long long)tdigest_count(b));
	/* Integer values, sums below 2^53: exact in any order. */
	CHECK(tdigest_sum(a) == tdigest_sum(b), "sum %.17g vs %.17g",
	      tdigest_sum(a), tdigest_sum(b));
	CHECK(tdigest_min(a) == tdigest_min(b) &&
	      tdigest_max(a) == tdigest_max(b), "min/max");
	for (i = 1; i < 100; i++) {
		double qa = tdigest_quantile(a, i / 100.0);
		double qb = tdigest_quantile(b, i / 100.0);

		CHECK(fabs(qa - qb) <= 0.02 * qb, "q=%g: %g vs %g", i / 100.0,
		      qa, qb);
	}
cleanup:
	tdigest_free(a);
	tdigest_free(b);
}

/* The properties every non-empty digest of @sorted must have. */
static void check_shape(struct tdigest *td, const double *sorted, size_t n,
			double rank_tolerance, const char *what)
{
	const struct tdigest_centroid *c;
	double prev = -INFINITY, q;
	uint64_t total = 0;
	size_t nc, i;

	CHECK(tdigest_count(td) == n, "%s: count %llu, %zu added", what,
	      (unsigned long long)tdigest_count(td), n);
	CHECK(tdigest_min(td) == sorted[0] && tdigest_max(td) == sorted[n - 1],
	      "%s: min %.17g max %.17g, expected %.17g %.17g", what,
	      tdigest_min(td), tdigest_max(td), sorted[0], sorted[n - 1]);
	/* Exact equality is what users expect; see test-regressions.c. */
	CHECK(near(tdigest_quantile(td, 0), sorted[0]),
	      "%s: p0 %.17g, min %.17g", what, tdigest_quantile(td, 0),
	      sorted[0]);
	CHECK(near(tdigest_quantile(td, 1), sorted[n - 1]),
	      "%s: p100 %.17g, max %.17g", what, tdigest_quantile(td, 1),
	      sorted[n - 1]);

	nc = tdigest_centroids(td, &c);
	for (i = 0; i < nc; i++) {
		CHECK(c[i].weight >= 1, "%s: centroid %zu weight 0", what, i);
		/* Strictly sorted is the contract; compress_sorted() loses
		 * ulps (test-regressions.c), so only real disorder fails here. */
		CHECK(!i || c[i].mean >= c[i - 1].mean ||
		      near(c[i].mean, c[i - 1].mean),
		      "%s: centroid %zu out of order", what, i);
		total += c[i].weight;
	}
	CHECK(total == n, "%s: centroid weights add to %llu, not %zu", what,
	      (unsigned long long)total, n);

	for (q = 0; q <= 1; q += 1.0 / 8192) {
		double v = tdigest_quantile(td, q);

		CHECK(v >= prev, "%s: q=%.6f gives %.17g < %.17g", what, q, v,
		      prev);
		CHECK(v >= sorted[0] && v <= sorted[n - 1],
		      "%s: q=%g: %g outside [min, max]", what, q, v);
		prev = v;
	}
	if (rank_tolerance <= 0)
		return;
	for (i = 1; i < 1000; i++) {
		double qq = i / 1000.0, v = tdigest_quantile(td, qq);
		double cdf = tdigest_cdf(td, v), r = rank_of(sorted, n, v);

		CHECK(fabs(cdf - qq) <= rank_tolerance,
		      "%s: cdf(quantile(%g)) = %g", what, qq, cdf);
		CHECK(fabs(r - qq) <= rank_tolerance,
		      "%s: quantile(%g) = %g has true rank %g", what, qq, v, r);
	}
}

static void test_shapes(void)
{
	static const size_t sizes[] = { 2, 3, 5, 10, 100, 1000, 100000 };
	uint64_t state = 3;
	double *v = malloc(100000 * sizeof(*v));
	size_t s, i;

	if (!CHECK(v, "malloc"))
		return;
	check_section("lognormal: p0 = min, p1 = max, monotone, cdf inverts");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct tdigest *td = new_digest(100);

		if (!td)
			continue;
		for (i = 0; i < sizes[s]; i++) {
			v[i] = lognormal_us(&state);
			CHECK(tdigest_add(td, v[i], 1) == 0, "add");
		}
		qsort(v, sizes[s], sizeof(*v), cmp_double);
		check_shape(td, v, sizes[s], sizes[s] >= 100000 ? 0.01 : 0,
			    "lognormal");
		tdigest_free(td);
	}

	check_section("whole microseconds: p0 = min, p1 = max, monotone");
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct tdigest *td = new_digest(100);

		if (!td)
			continue;
		for (i = 0; i < sizes[s]; i++) {
			v[i] = floor(lognormal_us(&state));
			CHECK(tdigest_add(td, v[i], 1) == 0, "add");
		}
		qsort(v, sizes[s], sizeof(*v), cmp_double);
		check_shape(td, v, sizes[s], 0, "integers");
		tdigest_free(td);
	}

	check_section("constant data: every quantile is the constant");
	{
		struct tdigest *td = new_digest(100);

		for (i = 0; td && i < 100000; i++) {
			v[i] = 20000;
			CHECK(tdigest_add(td, 20000, 1) == 0, "add");
		}
		if (td) {
			check_shape(td, v, 100000, 0, "constant");
			CHECK(tdigest_quantile(td, 0.5) == 20000, "p50 %.17g",
			      tdigest_quantile(td, 0.5));
		}
		tdigest_free(td);
	}
	free(v);
}

static void test_merge(void)
{
	enum { PARTS = 100, PER_PART = 1000, N = PARTS * PER_PART };
	struct tdigest *parts[PARTS + 3] = { 0 }, *one = new_digest(100);
	struct tdigest *merged = new_digest(100), *empty = new_digest(100);
	double *v = malloc(N * sizeof(*v)), sum = 0;
	uint64_t state = 5;
	size_t i;
	int p;

	check_section("merging 100 digests agrees with one digest of it all");
	if (!v || !one || !merged || !empty)
		goto cleanup;
	for (p = 0; p < PARTS; p++) {
		parts[p] = new_digest(100);
		if (!parts[p])
			goto cleanup;
	}
	/* Empty digests among the inputs must not disturb anything. */
	parts[PARTS] = new_digest(100);
	parts[PARTS + 1] = new_digest(100);
	parts[PARTS + 2] = new_digest(100);
	for (i = 0; i < N; i++) {
		v[i] = floor(lognormal_us(&state));
		sum += v[i];
		CHECK(tdigest_add(parts[i % PARTS], v[i], 1) == 0, "add");
		CHECK(tdigest_add(one, v[i], 1) == 0, "add");
	}
	CHECK(tdigest_merge(merged, parts, PARTS + 3) == 0, "merge");
	qsort(v, N, sizeof(*v), cmp_double);
	CHECK(tdigest_count(merged) == N, "count %llu",
	      (unsigned long long)tdigest_count(merged));
	CHECK(tdigest_sum(merged) == sum, "sum %.17g vs %.17g",
	      tdigest_sum(merged), sum);
	check_shape(merged, v, N, 0.01, "merged");
	for (i = 1; i < 100; i++) {
		double a = tdigest_quantile(merged, i / 100.0);
		double b = tdigest_quantile(one, i / 100.0);

		CHECK(fabs(rank_of(v, N, a) - rank_of(v, N, b)) <= 0.01,
		      "q=%g: merged %g, single %g", i / 100.0, a, b);
	}

	check_section("merging only empty digests changes nothing");
	{
		struct tdigest *empties[2] = { parts[PARTS], parts[PARTS + 1] };
		double p50 = tdigest_quantile(merged, 0.5);

		CHECK(tdigest_merge(merged, empties, 2) == 0, "merge empties");
		CHECK(tdigest_count(merged) == N &&
		      tdigest_quantile(merged, 0.5) == p50 &&
		      tdigest_min(merged) == v[0] &&
		      tdigest_max(merged) == v[N - 1], "summary changed");
		CHECK(tdigest_merge(empty, empties, 2) == 0, "empty <- empties");
		CHECK(tdigest_count(empty) == 0 &&
		      isnan(tdigest_quantile(empty, 0.5)) &&
		      isnan(tdigest_min(empty)), "empty became non-empty");
		CHECK(tdigest_merge(empty, NULL, 0) == 0, "merge of nothing");
	}

	check_section("merging into an empty digest copies the source");
	CHECK(tdigest_merge(empty, &one, 1) == 0, "merge");
	CHECK(tdigest_count(empty) == N && tdigest_sum(empty) == sum &&
	      tdigest_min(empty) == v[0] && tdigest_max(empty) == v[N - 1],
	      "summary differs");
	CHECK(tdigest_quantile(empty, 0.99) == tdigest_quantile(one, 0.99),
	      "p99 %.17g vs %.17g", tdigest_quantile(empty, 0.99),
	      tdigest_quantile(one, 0.99));
cleanup:
	for (p = 0; p < PARTS + 3; p++)
		tdigest_free(parts[p]);
	tdigest_free(one);
	tdigest_free(merged);
	tdigest_free(empty);
	free(v);
}

static double scale_k(double delta, double q)
{
	return delta / SCALE_Z * log(q / (1 - q));
}

static void test_from_hist(void)
{
	const size_t n = 1000000;
	const struct tdigest_centroid *c;
	struct tdigest *td = NULL, *sentinel = (struct tdigest *)&td;
	struct hist *h = NULL;
	uint64_t state = 9, before = 0;
	size_t nc, i;

	check_section("tdigest_from_hist of an empty histogram is empty");
	if (!CHECK(hist_new(5, &h) == 0, "hist_new"))
		return;
	CHECK(tdigest_from_hist(h, 100, &td) == 0 && td &&
	      tdigest_count(td) == 0, "empty");
	tdigest_free(td);
	td = sentinel;
	CHECK(tdigest_from_hist(h, 10, &td) == -EINVAL && td == sentinel,
	      "compression 10 accepted for an empty histogram");
	hist_record(h, 5, 1);
	CHECK(tdigest_from_hist(h, 2000, &td) == -EINVAL && td == sentinel,
	      "compression 2000 accepted");
	hist_reset(h);

	check_section("tdigest_from_hist of 1e6 values: exact summary");
	for (i = 0; i < n; i++)
		hist_record(h, (uint32_t)lognormal_us(&state), 1);
	td = NULL;
	if (!CHECK(tdigest_from_hist(h, 100, &td) == 0 && td, "from_hist"))
		goto cleanup;
	CHECK(tdigest_count(td) == n, "count %llu",
	      (unsigned long long)tdigest_count(td));
	CHECK(tdigest_sum(td) == hist_sum_us(h) &&
	      tdigest_min(td) == hist_min_us(h) &&
	      tdigest_max(td) == hist_max_us(h), "sum/min/max differ");
	CHECK(near(tdigest_quantile(td, 0), hist_min_us(h)) &&
	      near(tdigest_quantile(td, 1), hist_max_us(h)),
	      "p0 %.17g p100 %.17g", tdigest_quantile(td, 0),
	      tdigest_quantile(td, 1));

	check_section("tdigest_from_hist: tail centroids small, k-size bound");
	nc = tdigest_centroids(td, &c);
	CHECK(nc >= 2 && nc <= 250, "%zu centroids", nc);
	CHECK(c[0].weight <= 1 + n * 0.01 && c[nc - 1].weight <= 1 + n * 0.01,
	      "first %llu last %llu", (unsigned long long)c[0].weight,
	      (unsigned long long)c[nc - 1].weight);
	for (i = 0; i < nc; i++) {
		double q0 = (double)before / (double)n;
		double q1 = (double)(before + c[i].weight) / (double)n;

		/* A single piece is allowed whatever the bound says. */
		if (c[i].weight > 1 && q0 > 0 && q1 < 1)
			CHECK(scale_k(100, q1) - scale_k(100, q0) <= 1 + 1e-9,
			      "centroid %zu weight %llu at q %g spans k %g", i,
			      (unsigned long long)c[i].weight, q0,
			      scale_k(100, q1) - scale_k(100, q0));
		else if (c[i].weight > 1)
			CHECK(c[i].weight <= 2, "edge centroid %zu weight %llu",
			      i, (unsigned long long)c[i].weight);
		before += c[i].weight;
	}

	check_section("tdigest_from_hist quantiles stay in the exact bucket");
	for (i = 1; i < 1000; i++) {
		double q = i / 1000.0, exact = hist_quantile(h, q);
		uint32_t b = bucket_index((uint32_t)exact, 5);
		double lo = (double)bucket_lo(b, 5), hi = (double)bucket_hi(b, 5);
		double v = tdigest_quantile(td, q);

		/* One bucket of slack either side for the digest's rank error. */
		CHECK(v >= lo - (hi - lo) && v <= hi + (hi - lo),
		      "q=%g: digest %g, histogram %g in [%g, %g)", q, v, exact,
		      lo, hi);
	}
cleanup:
	tdigest_free(td);
	hist_free(h);
}

/* The one centroid of a single-value digest sits on ln(1 + @v). */
static int centroid_at(const struct tdigest_centroid *c, double v)
{
	return c->weight == 1 && c->mean == tdigest_scaled(v);
}

/* Centre of bucket @index: where a value known only by its bucket goes. */
static double bucket_centre(uint32_t index)
{
	return ((double)bucket_lo(index, 5) + (double)bucket_hi(index, 5) - 1) /
	       2;
}

static void test_from_hist_extremes(void)
{
	const struct tdigest_centroid *c = NULL;
	struct tdigest *td = NULL;
	struct hist *h = NULL;
	uint32_t mid = bucket_index(3001, 5);
	size_t nc;

	check_section("tdigest_from_hist keeps recorded extremes exact");
	if (!CHECK(hist_new(5, &h) == 0, "hist_new"))
		return;
	/* Three periods' worth of values in three buckets: min and max are
	 * known exactly, the middle one only by its bucket. */
	hist_record(h, 2050, 1);
	hist_record(h, 3001, 1);
	hist_record(h, 15013, 1);
	if (CHECK(tdigest_from_hist(h, 100, &td) == 0, "from_hist")) {
		nc = tdigest_centroids(td, &c);
		CHECK(nc == 3 && centroid_at(&c[0], 2050) &&
		      centroid_at(&c[1], bucket_centre(mid)) &&
		      centroid_at(&c[2], 15013),
		      "%zu centroids, first %.17g last %.17g", nc,
		      tdigest_unscaled(c[0].mean),
		      tdigest_unscaled(c[nc - 1].mean));
	}
	tdigest_free(td);
	td = NULL;

	/* All in one bucket: the rest spread between the extremes. */
	hist_reset(h);
	hist_record(h, 3001, 1);
	hist_record(h, 3002, 1);
	hist_record(h, 3005, 1);
	if (CHECK(tdigest_from_hist(h, 100, &td) == 0, "from_hist")) {
		nc = tdigest_centroids(td, &c);
		CHECK(nc == 3 && centroid_at(&c[0], 3001) &&
		      centroid_at(&c[1], 3003) && centroid_at(&c[2], 3005),
		      "one bucket: %zu centroids", nc);
	}
	tdigest_free(td);
	td = NULL;

	check_section("tdigest_from_hist: bucket edges from hist_add_slot are "
		      "not values");
	hist_reset(h);
	hist_add_slot(h, bucket_index(2050, 5), 1);
	hist_add_slot(h, bucket_index(15013, 5), 1);
	if (CHECK(tdigest_from_hist(h, 100, &td) == 0, "from_hist")) {
		nc = tdigest_centroids(td, &c);
		CHECK(nc == 2 &&
		      centroid_at(&c[0], bucket_centre(bucket_index(2050, 5))) &&
		      centroid_at(&c[1], bucket_centre(bucket_index(15013, 5))),
		      "%zu centroids, first %.17g last %.17g", nc,
		      tdigest_unscaled(c[0].mean),
		      tdigest_unscaled(c[nc - 1].mean));
	}
	tdigest_free(td);
	hist_free(h);
}

/*
 * A month of periods with three values each, every period through
 * tdigest_from_hist, then one merge: most tail values are their period's
 * maximum, so placing maxima anywhere but at their value shifts p90..p99.9
 * by a fraction of a bucket (0.3 to 0.8 % at g = 5).  Uniform values keep
 * the digest's own interpolation error in the tail far below that (0.03 %
 * at most here; the middle, where centroids are widest, is left out).
 */
static void test_sparse_periods(void)
{
	enum { PERIODS = 43200, PER_PERIOD = 3, N = PERIODS * PER_PERIOD };
	static const double qs[] = { 0.9, 0.99, 0.999 };
	struct tdigest **parts = calloc(PERIODS, sizeof(*parts));
	double *v = malloc(N * sizeof(*v));
	struct tdigest *merged = new_digest(100);
	struct hist *h = NULL;
	uint64_t state = 11;
	size_t p, i;

	check_section("sparse periods merged: p90..p99.9 within 0.1 % of "
		      "exact");
	if (!parts || !v || !merged || !CHECK(hist_new(5, &h) == 0, "hist"))
		goto cleanup;
	for (p = 0; p < PERIODS; p++) {
		hist_reset(h);
		for (i = 0; i < PER_PERIOD; i++) {
			double x = floor(1000 + 49000 * rng_unit(&state));

			v[p * PER_PERIOD + i] = x;
			hist_record(h, (uint32_t)x, 1);
		}
		if (!CHECK(tdigest_from_hist(h, 100, &parts[p]) == 0,
			   "from_hist"))
			goto cleanup;
	}
	if (!CHECK(tdigest_merge(merged, parts, PERIODS) == 0, "merge"))
		goto cleanup;
	qsort(v, N, sizeof(*v), cmp_double);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double exact = v[(size_t)(qs[i] * (N - 1))];
		double got = tdigest_quantile(merged, qs[i]);

		CHECK(fabs(got - exact) <= 0.001 * exact,
		      "p%g: %.1f, exact %.1f (%+.3f %%)", qs[i] * 100, got,
		      exact, (got - exact) / exact * 100);
	}
cleanup:
	for (p = 0; parts && p < PERIODS; p++)
		tdigest_free(parts[p]);
	free(parts);
	free(v);
	tdigest_free(merged);
	hist_free(h);
}

static void test_from_centroids(void)
{
	struct tdigest_centroid good[] = { { 1, 2 }, { 2, 3 }, { 2, 1 } };
	struct tdigest_centroid unsorted[] = { { 2, 1 }, { 1, 1 } };
	struct tdigest_centroid zero[] = { { 1, 1 }, { 2, 0 } };
	struct tdigest_centroid nan[] = { { NAN, 1 } };
	struct tdigest_centroid negative[] = { { -0.5, 1 } };
	struct tdigest *td = NULL, *sentinel = (struct tdigest *)&td;
	double lo = tdigest_unscaled(1), hi = tdigest_unscaled(2);

	check_section("tdigest_from_centroids validates and rebuilds");
	CHECK(tdigest_from_centroids(100, good, 3, lo, hi, 6 * hi, &td) == 0 &&
	      td, "good list refused");
	if (td) {
		CHECK(tdigest_count(td) == 6 && tdigest_min(td) == lo &&
		      tdigest_max(td) == hi && tdigest_sum(td) == 6 * hi,
		      "summary");
		CHECK(near(tdigest_quantile(td, 0), lo) &&
		      near(tdigest_quantile(td, 1), hi), "extremes");
	}
	tdigest_free(td);
	td = sentinel;
	CHECK(tdigest_from_centroids(100, unsorted, 2, 0, 10, 5, &td) ==
	      -EINVAL, "unsorted");
	CHECK(tdigest_from_centroids(100, zero, 2, 0, 10, 5, &td) == -EINVAL,
	      "zero weight");
	CHECK(tdigest_from_centroids(100, nan, 1, 0, 10, 5, &td) == -EINVAL,
	      "NaN mean");
	CHECK(tdigest_from_centroids(100, negative, 1, 0, 10, 5, &td) ==
	      -EINVAL, "negative mean");
	CHECK(tdigest_from_centroids(5, good, 3, lo, hi, 6, &td) == -EINVAL,
	      "compression 5");
	CHECK(td == sentinel, "out changed on failure");
}

int main(void)
{
	test_new_and_free();
	test_empty_and_bad_adds();
	test_single_value();
	test_weighted_adds();
	test_shapes();
	test_merge();
	test_from_hist();
	test_from_hist_extremes();
	test_sparse_periods();
	test_from_centroids();
	return check_report();
}
