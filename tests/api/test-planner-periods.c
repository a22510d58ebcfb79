// SPDX-License-Identifier: BSD-2-Clause
/*
 * Base periods come from the store: a fleet whose hosts use 60 s and 10 s
 * periods, and a host that moved from one to the other, answered without
 * being told any period (counts exact against the samples fed, quantiles
 * within 1 % of the exact ones); --period as a filter; a series' step
 * checked against every host's period; and the reason an empty answer
 * gives (no such host, group, period, or a range outside the data).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer_json.h"
#include "check.h"
#include "fill.h"
#include "planner.h"
#include "store.h"
#include "tdigest.h"

#define HOUR_S 3600
/* 2023-11-15T00:00:00Z */
#define D1 INT64_C(1700006400)
#define SAMPLES 40 /* per period, as the agent sees a busy host */
/* Against the exact samples: what matters here is which records are
 * read (counts are exact); the digests' own accuracy through rollups
 * (0.5 %) is test-planner's.  A 60 s host over 6 h has 14,400 samples,
 * and its p99 lands 0.5 % from the exact one. */
#define TOLERANCE 0.01

static char url[128];       /* m60 and m10 */
static char moved_url[128]; /* one host: 60 s, then 10 s */

/* Samples of the query range, per host and era. */
static struct fill_truth t60, t10, t_moved60, t_moved10;

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The exact quantile (nearest rank) of @n sorted values. */
static double exact(const uint32_t *v, size_t n, double q)
{
	size_t k = (size_t)ceil(q * (double)n);

	return v[k ? k - 1 : 0];
}

/* Every truth of @trs in one sorted array. */
static uint32_t *pool(struct fill_truth *const *trs, size_t ntr, size_t *n)
{
	uint32_t *v;
	size_t i, k = 0;

	*n = 0;
	for (i = 0; i < ntr; i++)
		*n += trs[i]->n;
	v = malloc(*n * sizeof(*v));
	REQUIRE(v, "out of memory");
	for (i = 0; i < ntr; i++) {
		memcpy(v + k, trs[i]->values, trs[i]->n * sizeof(*v));
		k += trs[i]->n;
	}
	qsort(v, *n, sizeof(*v), cmp_u32);
	return v;
}

static void fill(const char *u, const char *host, uint32_t period_s,
		 int64_t start_s, int64_t end_s, uint64_t seed,
		 struct fill_truth *truth)
{
	struct fill_spec f = {
		.url = u,
		.host = host,
		.period_s = period_s,
		.start_s = start_s,
		.end_s = end_s,
		.samples = SAMPLES,
		.seed = seed,
		.truth = truth,
	};
	uint64_t fed = 0;

	truth->from_s = D1;
	truth->to_s = D1 + 6 * HOUR_S - 1;
	REQUIRE(fill_store(&f, &fed) == 0, "fill %s", host);
}

static void run(struct store *st, const char *host, const char *group,
		uint32_t period_s, int64_t from_s, int64_t to_s,
		struct planner_answer *a)
{
	struct planner_request req = {
		.host = host,
		.group = group,
		.period_s = period_s,
		.from_s = from_s,
		.to_s = to_s,
	};
	struct rttq_error err = { 0 };
	int rc = planner_run(st, &req, a, &err);

	REQUIRE(rc == 0, "planner_run host %s period %u: %d %s",
		host ? host : "(fleet)", period_s, rc, err.msg);
}

/* Count exact and p50/p99 within TOLERANCE of the pooled samples. */
static void check_against(const char *what, const struct planner_answer *a,
			  struct fill_truth *const *trs, size_t ntr)
{
	static const double qs[] = { 0.5, 0.9, 0.99 };
	size_t n, i;
	uint32_t *v = pool(trs, ntr, &n);

	CHECK(a->count == n, "%s: count %llu, fed %zu", what,
	      (unsigned long long)a->count, n);
	for (i = 0; a->digest && i < sizeof(qs) / sizeof(qs[0]); i++) {
		double want = exact(v, n, qs[i]);
		double got = tdigest_quantile(a->digest, qs[i]);

		CHECK(fabs(got - want) <= TOLERANCE * want,
		      "%s: p%g %.1f us, exact %.1f us", what, qs[i] * 100, got,
		      want);
	}
	free(v);
}

static void test_mixed_fleet(struct store *st)
{
	struct fill_truth *both[] = { &t60, &t10 };
	struct planner_answer a;
	int64_t from = D1, to = D1 + 6 * HOUR_S - 1;

	check_section("60 s and 10 s hosts, no period given");
	run(st, "m60", NULL, 0, from, to, &a);
	check_against("m60", &a, (struct fill_truth *[]){ &t60 }, 1);
	CHECK_CMP(a.base_period_s, ==, 60);
	planner_answer_clear(&a);

	run(st, "m10", NULL, 0, from, to, &a);
	check_against("m10", &a, (struct fill_truth *[]){ &t10 }, 1);
	CHECK_CMP(a.base_period_s, ==, 10);
	planner_answer_clear(&a);

	run(st, NULL, NULL, 0, from, to, &a);
	check_against("fleet", &a, both, 2);
	CHECK_CMP(a.hosts, ==, 2);
	CHECK_CMP(a.base_period_s, ==, 10);
	/* Whole hours came from rollups of either period. */
	CHECK_CMP(a.records[PLANNER_LEVEL_HOUR], ==, 12);
	CHECK_CMP(a.records[PLANNER_LEVEL_BASE], ==, 0);
	planner_answer_clear(&a);

	/* Unaligned edges: base records of both periods at each end. */
	run(st, NULL, NULL, 0, from + 125, to - 3000, &a);
	CHECK(a.records[PLANNER_LEVEL_BASE] > 0, "no base records read");
	CHECK_CMP(a.hosts, ==, 2);
	planner_answer_clear(&a);

	check_section("--period as a filter");
	run(st, NULL, NULL, 60, from, to, &a);
	check_against("fleet, period 60", &a, (struct fill_truth *[]){ &t60 },
		      1);
	CHECK_CMP(a.hosts, ==, 1);
	planner_answer_clear(&a);
	run(st, NULL, NULL, 10, from, to, &a);
	check_against("fleet, period 10", &a, (struct fill_truth *[]){ &t10 },
		      1);
	planner_answer_clear(&a);
}

static void test_moved_host(void)
{
	struct fill_truth *eras[] = { &t_moved60, &t_moved10 };
	struct planner_answer a, base;
	struct planner_request req = {
		.host = "moved",
		.from_s = D1,
		.to_s = D1 + 6 * HOUR_S - 1,
		.flags = PLANNER_BASE_ONLY,
	};
	struct store *st = NULL;

	check_section("a host that moved from 60 s to 10 s");
	REQUIRE(store_open(moved_url, &st, NULL) == 0, "open %s", moved_url);
	run(st, "moved", NULL, 0, req.from_s, req.to_s, &a);
	check_against("moved", &a, eras, 2);
	CHECK_CMP(a.base_period_s, ==, 10);
	REQUIRE(planner_run(st, &req, &base, NULL) == 0, "base-only run");
	CHECK_CMP(base.count, ==, a.count);
	/* Both eras' base records: 3 h of 60 s and 3 h of 10 s periods. */
	CHECK_CMP(base.records[PLANNER_LEVEL_BASE], ==, 180 + 1080);
	planner_answer_clear(&a);
	planner_answer_clear(&base);
	store_close(st);
}

static void test_series_steps(struct store *st)
{
	struct planner_request req = {
		.from_s = D1,
		.to_s = D1 + 6 * HOUR_S - 1,
	};
	struct planner_series ps = { 0 };
	struct planner_answer whole;
	struct rttq_error err = { 0 };
	uint64_t sum = 0;
	size_t i;
	int rc;

	check_section("a series over both periods; a step finer than one");
	run(st, NULL, NULL, 0, req.from_s, req.to_s, &whole);
	rc = planner_run_series(st, &req, 60, &ps, &err);
	REQUIRE(rc == 0, "series: %d %s", rc, err.msg);
	CHECK_CMP(ps.n, ==, 360);
	CHECK_CMP(ps.base_period_s, ==, 10);
	for (i = 0; i < ps.n; i++)
		sum += ps.points[i].count;
	CHECK(sum == whole.count, "series sums to %llu, the range holds %llu",
	      (unsigned long long)sum, (unsigned long long)whole.count);
	planner_series_clear(&ps);
	planner_answer_clear(&whole);

	rc = planner_run_series(st, &req, 30, &ps, &err);
	CHECK_CMP(rc, ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "host 'm60'");
	CHECK_CONTAINS(err.msg, "60 s base period");
	CHECK_CMP(ps.n, ==, 0);
}

static void expect_why(struct store *st, const char *host, const char *group,
		       uint32_t period_s, int64_t from_s, int64_t to_s,
		       enum planner_no_data want, const char *name)
{
	struct planner_request req = {
		.host = host,
		.group = group,
		.period_s = period_s,
		.from_s = from_s,
		.to_s = to_s,
	};
	struct answer_quantiles qs;
	struct planner_answer a;
	char *json = NULL;
	char field[64];

	REQUIRE(answer_quantiles_parse(NULL, &qs, NULL) == 0, "quantiles");
	run(st, host, group, period_s, from_s, to_s, &a);
	CHECK(a.count == 0 && a.no_data == want,
	      "host %s group %s period %u: count %llu, no_data %d, want %d",
	      host ? host : "(fleet)", group ? group : "all", period_s,
	      (unsigned long long)a.count, (int)a.no_data, (int)want);
	REQUIRE(answer_quantiles_json(&a, &req, &qs, &json, NULL) == 0,
		"answer json");
	snprintf(field, sizeof(field), "\"no_data\":\"%s\"", name);
	CHECK_CONTAINS(json, field);
	CHECK_CONTAINS(json, "\"sample_count\":0");
	free(json);
	planner_answer_clear(&a);
}

static void test_why_empty(struct store *st)
{
	struct planner_request req = { .from_s = D1, .to_s = D1 + HOUR_S };
	struct answer_quantiles qs;
	struct planner_answer a;
	char *json = NULL;
	int64_t from = D1, to = D1 + HOUR_S;

	check_section("an empty answer says why");
	expect_why(st, "nope", NULL, 0, from, to, PLANNER_NO_SUCH_HOST,
		   "no_such_host");
	expect_why(st, "m60", "raddr:10.9.9.9", 0, from, to,
		   PLANNER_NO_SUCH_GROUP, "no_such_group");
	expect_why(st, NULL, "raddr:10.9.9.9", 0, from, to,
		   PLANNER_NO_SUCH_GROUP, "no_such_group");
	expect_why(st, "m60", NULL, 10, from, to, PLANNER_NO_SUCH_PERIOD,
		   "no_such_period");
	expect_why(st, NULL, NULL, 30, from, to, PLANNER_NO_SUCH_PERIOD,
		   "no_such_period");
	expect_why(st, "m60", NULL, 0, D1 - 30 * 86400, D1 - 20 * 86400,
		   PLANNER_OUT_OF_RANGE, "out_of_range");
	expect_why(st, NULL, NULL, 0, D1 + 30 * 86400, D1 + 31 * 86400,
		   PLANNER_OUT_OF_RANGE, "out_of_range");

	/* With data there is no such field. */
	REQUIRE(answer_quantiles_parse(NULL, &qs, NULL) == 0, "quantiles");
	run(st, NULL, NULL, 0, req.from_s, req.to_s, &a);
	REQUIRE(answer_quantiles_json(&a, &req, &qs, &json, NULL) == 0,
		"answer json");
	CHECK(!strstr(json, "no_data"), "answer with data: %s", json);
	CHECK_CONTAINS(json, "\"agg_level\":\"10s\"");
	free(json);
	planner_answer_clear(&a);
}

int main(void)
{
	char dir[] = "/tmp/rttq-planner-periods.XXXXXX";
	struct store *st = NULL;

	REQUIRE(mkdtemp(dir), "mkdtemp");
	snprintf(url, sizeof(url), "sqlite:%s/mixed.db", dir);
	snprintf(moved_url, sizeof(moved_url), "sqlite:%s/moved.db", dir);
	fill(url, "m60", 60, D1 - HOUR_S, D1 + 7 * HOUR_S, 1, &t60);
	fill(url, "m10", 10, D1 - HOUR_S, D1 + 7 * HOUR_S, 2, &t10);
	fill(moved_url, "moved", 60, D1, D1 + 3 * HOUR_S, 3, &t_moved60);
	fill(moved_url, "moved", 10, D1 + 3 * HOUR_S, D1 + 7 * HOUR_S, 4,
	     &t_moved10);

	REQUIRE(store_open(url, &st, NULL) == 0, "open %s", url);
	check_section("the registry's finest base period");
	{
		uint32_t p = 1;

		CHECK(store_finest_period(st, "all", NULL, &p, NULL) == 0 && p == 10,
		      "finest period of 'all': %u", p);
		CHECK(store_finest_period(st, "raddr:10.9.9.9", NULL, &p, NULL) == 0 &&
		      p == 0, "finest period of an unknown group: %u", p);
	}
	test_mixed_fleet(st);
	test_series_steps(st);
	test_why_empty(st);
	store_close(st);
	test_moved_host();

	free(t60.values);
	free(t10.values);
	free(t_moved60.values);
	free(t_moved10.values);
	return check_report();
}
