// SPDX-License-Identifier: BSD-2-Clause
/*
 * planner_run_series() against planner_run() step by step, on a store
 * filled as agents fill it (tests/api/fill.c): three hosts with staggered
 * starts, one of them down for a while (partial periods, incomplete
 * rollups), a 60 s and a 5 s base period.  Every point must have the
 * count, sum, extremes, records per level and hosts of the per-step
 * answer exactly, and quantiles within 0.5 %, for every step length, for
 * one host and the fleet, aligned and unaligned ranges.
 */
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fill.h"
#include "planner.h"
#include "store.h"
#include "tdigest.h"

#define DAY_S 86400
#define HOUR_S 3600
/* 2023-11-15T00:00:00Z */
#define D1 INT64_C(1700006400)
#define TOLERANCE 0.005

static const double qs[] = { 0.5, 0.9, 0.99 };

/* Point @p of @ps against planner_run() over its step. */
static void check_point(struct store *st, const char *what,
			const struct planner_request *req, int64_t step_s,
			const struct planner_series *ps, size_t p)
{
	struct planner_request one = *req;
	struct planner_answer want = { 0 };
	const struct planner_answer *got = &ps->points[p];
	struct rttq_error err = { 0 };
	int64_t t = ps->first_s + (int64_t)p * step_s;
	size_t i;
	int l;

	one.from_s = t > req->from_s ? t : req->from_s;
	one.to_s = t + step_s - 1 < req->to_s ? t + step_s - 1 : req->to_s;
	if (!CHECK(planner_run(st, &one, &want, &err) == 0, "%s: %s", what,
		   err.msg))
		return;
	CHECK(got->count == want.count, "%s, step at %lld: count %llu, per "
	      "step %llu", what, (long long)t, (unsigned long long)got->count,
	      (unsigned long long)want.count);
	CHECK(got->hosts == want.hosts, "%s, step at %lld: hosts %zu vs %zu",
	      what, (long long)t, got->hosts, want.hosts);
	for (l = 0; l < PLANNER_LEVELS; l++)
		CHECK(got->records[l] == want.records[l], "%s, step at %lld: "
		      "level %d records %zu vs %zu", what, (long long)t, l,
		      got->records[l], want.records[l]);
	CHECK(fabs(got->sum_us - want.sum_us) <= 1e-9 * want.sum_us,
	      "%s, step at %lld: sum %.0f vs %.0f", what, (long long)t,
	      got->sum_us, want.sum_us);
	if (want.count)
		CHECK(got->min_us == want.min_us && got->max_us == want.max_us,
		      "%s, step at %lld: extremes differ", what, (long long)t);
	CHECK(!got->digest == !want.digest, "%s, step at %lld: digest %s",
	      what, (long long)t, got->digest ? "extra" : "missing");
	for (i = 0; got->digest && want.digest && i < 3; i++) {
		double a = tdigest_quantile(got->digest, qs[i]);
		double b = tdigest_quantile(want.digest, qs[i]);

		CHECK(fabs(a - b) <= TOLERANCE * b, "%s, step at %lld: p%g "
		      "%.1f us, per step %.1f us", what, (long long)t,
		      qs[i] * 100, a, b);
	}
	planner_answer_clear(&want);
}

static void check_series(struct store *st, const char *host, uint32_t period_s,
			 int64_t from_s, int64_t to_s, int64_t step_s,
			 unsigned int flags)
{
	struct planner_request req = {
		.host = host,
		.period_s = period_s,
		.from_s = from_s,
		.to_s = to_s,
		.flags = flags,
	};
	struct planner_series ps = { 0 };
	struct rttq_error err = { 0 };
	int64_t first = (from_s + period_s - 1) / period_s * period_s;
	int64_t last = to_s / period_s * period_s;
	char what[160];
	size_t p;

	snprintf(what, sizeof(what), "%s, period %u s, step %lld s, %lld..%lld%s",
		 host ? host : "fleet", period_s, (long long)step_s,
		 (long long)from_s, (long long)to_s,
		 flags & PLANNER_BASE_ONLY ? ", base only" : "");
	if (!CHECK(planner_run_series(st, &req, step_s, &ps, &err) == 0,
		   "%s: %s", what, err.msg))
		return;
	CHECK(ps.n == (size_t)(last / step_s - first / step_s + 1) &&
	      ps.first_s == first / step_s * step_s, "%s: %zu points from "
	      "%lld", what, ps.n, (long long)ps.first_s);
	for (p = 0; p < ps.n; p++)
		check_point(st, what, &req, step_s, &ps, p);
	CHECK(ps.records_read > 0, "%s: no record read", what);
	printf("  %s: %zu points, %zu records read\n", what, ps.n,
	       ps.records_read);
	planner_series_clear(&ps);
}

static void fill(const char *url, uint32_t period_s, int64_t days)
{
	static const char *const hosts[] = { "a", "b", "c" };
	uint64_t fed = 0;
	size_t i;

	for (i = 0; i < 3; i++) {
		struct fill_spec f = {
			.url = url,
			.host = hosts[i],
			.extra_group = "raddr:10.0.0.2",
			.period_s = period_s,
			.start_s = D1 - (int64_t)i * 1500 / period_s * period_s,
			.end_s = D1 + days * DAY_S + (int64_t)i * 730,
			.samples = period_s == 60 ? 6 : 2,
			.seed = 40 + i,
		};

		if (i == 1) { /* down 25 minutes: partial rollups around it */
			f.down_s = D1 + 13 * HOUR_S + 20 * 60 + 7;
			f.up_s = D1 + 13 * HOUR_S + 45 * 60;
		}
		if (fill_store(&f, &fed)) {
			fprintf(stderr, "fill_store %s failed\n", url);
			exit(1);
		}
	}
}

int main(void)
{
	static const int64_t steps[] = { 300, 3600, DAY_S };
	char dir[] = "/tmp/rttq-planner-series.XXXXXX";
	char url60[96], url5[96];
	struct store *st = NULL;
	size_t i;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(url60, sizeof(url60), "sqlite:%s/p60.db", dir);
	snprintf(url5, sizeof(url5), "sqlite:%s/p5.db", dir);
	fill(url60, 60, 2);
	fill(url5, 5, 0);

	check_section("60 s base: every step, one host and the fleet, aligned "
		      "and unaligned ranges");
	if (!CHECK(store_open(url60, &st, NULL) == 0, "open %s", url60))
		return check_report();
	check_series(st, "b", 60, D1 + 3 * HOUR_S, D1 + 5 * HOUR_S, 60, 0);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		check_series(st, NULL, 60, D1 - HOUR_S, D1 + 2 * DAY_S, steps[i],
			     0);
		check_series(st, "b", 60, D1 + 7 * 60 + 13,
			     D1 + DAY_S + 17 * HOUR_S + 59, steps[i], 0);
		check_series(st, NULL, 60, D1 + 11 * HOUR_S + 299,
			     D1 + 15 * HOUR_S + 1, steps[i], 0);
	}
	check_series(st, NULL, 60, D1 + 12 * HOUR_S, D1 + 15 * HOUR_S, 3600,
		     PLANNER_BASE_ONLY);
	store_close(st);

	check_section("5 s base: 1-minute and 5-minute steps over the fleet");
	if (!CHECK(store_open(url5, &st, NULL) == 0, "open %s", url5))
		return check_report();
	check_series(st, NULL, 5, D1 - 1200, D1 + 3 * HOUR_S, 60, 0);
	check_series(st, NULL, 5, D1 + 13, D1 + 14 * HOUR_S + 3, 300, 0);
	store_close(st);

	check_section("a step that is not a multiple of the base period is "
		      "refused");
	{
		struct planner_request req = { .period_s = 60, .from_s = D1,
					       .to_s = D1 + HOUR_S };
		struct planner_series ps = { 0 };
		struct rttq_error err = { 0 };

		CHECK(store_open(url60, &st, NULL) == 0, "open");
		CHECK(planner_run_series(st, &req, 90, &ps, &err) == -EINVAL &&
		      strstr(err.msg, "90 s") && ps.n == 0, "step 90: %s",
		      err.msg);
		store_close(st);
	}
	check_section("a cancelled query stops with -ECANCELED and no answer");
	{
		atomic_bool cancel = true;
		struct planner_request req = { .period_s = 60,
					       .from_s = D1 - HOUR_S,
					       .to_s = D1 + DAY_S,
					       .cancel = &cancel };
		struct planner_answer ans = { 0 };
		struct planner_series ps = { 0 };
		struct rttq_error err = { 0 };

		CHECK(store_open(url60, &st, NULL) == 0, "open");
		CHECK(planner_run(st, &req, &ans, &err) == -ECANCELED &&
		      !ans.digest && ans.count == 0, "fleet: %s", err.msg);
		req.host = "a";
		CHECK(planner_run_series(st, &req, 3600, &ps, &err) ==
			      -ECANCELED && ps.n == 0, "series: %s", err.msg);
		store_close(st);
	}
	return check_report();
}
