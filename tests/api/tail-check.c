// SPDX-License-Identifier: BSD-2-Clause
/*
 * The scenario of tail-check.h.  Answers are compared with
 * PLANNER_NO_FLEET answers of the same store (each host's records read on
 * its own), which the planner tests hold against the exact samples.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "codec.h"
#include "counter_set.h"
#include "fill.h"
#include "fleet-check.h"
#include "planner.h"
#include "metric.h"
#include "strbuf.h"
#include "tail-check.h"
#include "tdigest.h"

#define HOUR_S 3600
#define HOSTS 4
#define GROUP_EXTRA "raddr:10.0.0.9"
#define FINE_GROUP "raddr:10.9.9.9"
#define METRIC_MINUTES 30

/*
 * planner_run() of @metric (NULL: rtt) with and without fleet records
 * over [from, to].  A range no fleet record covers is read from the same
 * records in the same host order both ways: the same records per level,
 * the same digest.
 */
static void expect_run(struct store *st, const char *group,
		       const char *metric, int64_t from_s, int64_t to_s,
		       bool tail_only, struct planner_answer *out)
{
	struct planner_request req = {
		.group = group,
		.metric = metric,
		.from_s = from_s,
		.to_s = to_s,
	};
	struct planner_answer got = { 0 }, want = { 0 };
	struct rttq_error err = { 0 };
	char what[128];

	snprintf(what, sizeof(what), "%s %s [now %+lld s, now]",
		 group ? group : "all", metric ? metric : METRIC_RTT,
		 (long long)(from_s - to_s));
	REQUIRE(planner_run(st, &req, &got, &err) == 0, "%s: %s", what,
		err.msg);
	req.flags = PLANNER_NO_FLEET;
	REQUIRE(planner_run(st, &req, &want, &err) == 0, "%s: %s", what,
		err.msg);
	fleet_expect_same(what, &got, &want, NULL);
	CHECK(got.count > 0, "%s: no samples", what);
	if (tail_only) {
		CHECK(got.fleet_records == 0, "%s: %zu fleet records used",
		      what, got.fleet_records);
		for (int l = 0; l < PLANNER_LEVELS; l++)
			CHECK(got.records[l] == want.records[l], "%s: level %d "
			      "records %zu, per host %zu", what, l,
			      got.records[l], want.records[l]);
		for (double q = 0.5; got.digest && want.digest && q < 1;
		     q += 0.049)
			CHECK(tdigest_quantile(got.digest, q) ==
			      tdigest_quantile(want.digest, q), "%s: q%.3f "
			      "differs", what, q);
	} else {
		CHECK(got.fleet_records > 0, "%s: no fleet record used", what);
	}
	if (out)
		*out = got;
	else
		planner_answer_clear(&got);
	planner_answer_clear(&want);
}

/* A step the 60 s hosts' periods do not fit: the same refusal both ways. */
static void expect_bad_step(struct store *st, int64_t from_s, int64_t to_s)
{
	struct planner_request req = { .from_s = from_s, .to_s = to_s };
	struct planner_series got = { 0 }, want = { 0 };
	struct rttq_error e1 = { 0 }, e2 = { 0 };
	int r1, r2;

	r1 = planner_run_series(st, &req, 30, &got, &e1);
	req.flags = PLANNER_NO_FLEET;
	r2 = planner_run_series(st, &req, 30, &want, &e2);
	CHECK(r1 == -EINVAL && r2 == -EINVAL, "step 30 s gave %d and %d", r1,
	      r2);
	CHECK(strcmp(e1.msg, e2.msg) == 0, "step 30 s: '%s' vs '%s'", e1.msg,
	      e2.msg);
	CHECK_CONTAINS(e1.msg, "60 s base period");
	planner_series_clear(&got);
	planner_series_clear(&want);
}

/* store_fine_records() callback: count them, check what they are. */
static int count_fine(const struct store_record *r, void *arg)
{
	CHECK((r->periods_total == 1 || r->period_s == 300) &&
	      !store_host_reserved(r->host), "store_fine_records returned %s "
	      "%u s periods_total %u", r->host, r->period_s, r->periods_total);
	(*(size_t *)arg)++;
	return 0;
}

static size_t fine(struct store *st, const char *metric, int64_t from_s,
		   int64_t to_s)
{
	struct rttq_error err = { 0 };
	size_t n = 0;

	REQUIRE(store_fine_records(st, FINE_GROUP, metric, from_s, to_s,
				   count_fine, &n, &err) == 0, "%s", err.msg);
	return n;
}

/* store_fine_records() itself: every host's base and 5-minute records
 * across an hour boundary, not hour rollups, stale marks, other groups
 * or other metrics. */
static void check_fine(struct store *st)
{
	int64_t now = time(NULL), t0 = now / HOUR_S * HOUR_S - 60;
	int64_t old = now / 60 * 60 - 3 * HOUR_S;
	struct store_record base = {
		.host = "r-60", .group = FINE_GROUP, .period_s = 60,
		.periods = 1, .periods_total = 1, .count = 1, .sum_us = 1,
		.min_us = 1, .max_us = 1,
	};
	struct store_record recs[10];
	struct rttq_error err = { 0 };
	struct tdigest *td = NULL;
	uint8_t *digest = NULL;

	/* A digest that decodes: `rttq rollup` reads these records too. */
	REQUIRE(tdigest_new(100, &td) == 0 && tdigest_add(td, 1, 1) == 0 &&
		codec_encode(td, &digest, &base.digest_len) == 0, "digest");
	base.digest = digest;

	for (size_t i = 0; i < 10; i++)
		recs[i] = base;
	recs[0].start_s = t0;
	recs[1].start_s = t0 + 60;               /* the next hour */
	recs[2].host = "r-10";
	recs[2].period_s = 10;
	recs[2].start_s = t0 + 50;
	recs[3] = recs[2];
	recs[3].start_s = t0 + 60;
	recs[4].period_s = 300;                  /* r-60's 5 min rollup */
	recs[4].start_s = t0 / 300 * 300;
	recs[4].periods_total = 5;
	recs[5].group = "raddr:10.9.9.8";        /* another group */
	recs[5].start_s = t0;
	recs[6].start_s = old;                   /* late: marks spans stale */
	recs[7].period_s = 3600;                 /* r-60's hour rollup */
	recs[7].start_s = t0 + 60;
	recs[7].periods_total = 60;
	recs[8].metric = METRIC_JITTER;          /* another metric */
	recs[8].start_s = t0;
	recs[9] = recs[8];
	recs[9].start_s = t0 + 60;
	REQUIRE(store_put(st, recs, 10, &err) == 0, "%s", err.msg);

	CHECK_CMP(fine(st, NULL, t0 - 600, t0 + 60), ==, 5);
	CHECK_CMP(fine(st, METRIC_RTT, t0 + 60, t0 + 60), ==, 2);
	CHECK_CMP(fine(st, NULL, t0 + 61, t0 + 3600), ==, 0);
	CHECK_CMP(fine(st, "", old - 300, t0 + 60), ==, 6);
	CHECK_CMP(fine(st, NULL, t0, t0 - 1), ==, 0);
	CHECK_CMP(fine(st, METRIC_JITTER, t0 - 600, t0 + 60), ==, 2);
	CHECK_CMP(fine(st, METRIC_JITTER, t0 + 60, t0 + 3600), ==, 1);
	CHECK_CMP(fine(st, METRIC_HANDSHAKE, t0 - 600, t0 + 60), ==, 0);
	CHECK(store_fine_records(st, FINE_GROUP, "Bad#metric", t0, t0 + 60,
				 count_fine, NULL, &err) == -EINVAL,
	      "a bad metric name is refused");
	free(digest);
	tdigest_free(td);
}

void tail_put_metrics(struct store *st, const char *host, unsigned int h,
		      int64_t end_s, unsigned int minutes)
{
	struct counter_set cs = COUNTER_SET_INIT;
	struct strbuf sets = STRBUF_INIT;
	struct rttq_error err = { 0 };
	struct store_record *recs;
	struct tdigest *td = NULL;
	uint8_t *jit = NULL;
	size_t jit_len = 0;

	REQUIRE(tdigest_new(100, &td) == 0, "tdigest");
	for (unsigned int i = 0; i < TAIL_JITTER_SAMPLES; i++)
		REQUIRE(tdigest_add(td, 100 + (h * 13 + i * 29) % 400, 1) == 0,
			"tdigest_add");
	REQUIRE(codec_encode(td, &jit, &jit_len) == 0 &&
		counter_set_add(&cs, "segs.out", TAIL_SEGS_OUT) == 0 &&
		counter_set_add(&cs, "retrans.fast", h + 1) == 0 &&
		counter_set_encode(&cs, &sets) == 0, "jitter and counters");
	recs = calloc(2 * (size_t)minutes, sizeof(*recs));
	REQUIRE(recs, "out of memory");
	for (unsigned int i = 0; i < minutes; i++) {
		struct store_record r = {
			.host = host, .group = "all", .period_s = 60,
			.start_s = end_s - (int64_t)(minutes - i) * 60,
			.periods = 1, .periods_total = 1,
		};

		recs[2 * i] = r;
		recs[2 * i].metric = METRIC_JITTER;
		recs[2 * i].count = TAIL_JITTER_SAMPLES;
		recs[2 * i].sum_us = tdigest_sum(td);
		recs[2 * i].min_us = tdigest_min(td);
		recs[2 * i].max_us = tdigest_max(td);
		recs[2 * i].digest = jit;
		recs[2 * i].digest_len = jit_len;
		recs[2 * i + 1] = r;
		recs[2 * i + 1].metric = METRIC_COUNTERS;
		recs[2 * i + 1].count = cs.n;
		recs[2 * i + 1].digest = (const uint8_t *)sets.buf;
		recs[2 * i + 1].digest_len = sets.len;
	}
	REQUIRE(store_put(st, recs, 2 * (size_t)minutes, &err) == 0,
		"%s metrics: %s", host, err.msg);
	free(recs);
	free(jit);
	tdigest_free(td);
	counter_set_free(&cs);
	strbuf_release(&sets);
}

/* Two counters answers: the same counters, the same hosts. */
static void expect_same_counters(const char *what,
				 const struct planner_answer *got,
				 const struct planner_answer *want)
{
	CHECK(got->hosts == want->hosts, "%s: hosts %zu, per host %zu", what,
	      got->hosts, want->hosts);
	CHECK(got->counters.n == want->counters.n, "%s: %zu counters, per "
	      "host %zu", what, got->counters.n, want->counters.n);
	for (size_t i = 0; i < want->counters.n; i++)
		CHECK(counter_set_get(&got->counters,
				      want->counters.v[i].name) ==
		      want->counters.v[i].value, "%s: %s differs", what,
		      want->counters.v[i].name);
}

/*
 * planner_run() over [from, to] of the hosts whose base period is
 * @period_s only: with fleet records allowed, the same answer as each
 * host's records read on its own, from half the hosts.  The fleet records
 * merge every base period, so a fleet of mixed periods must not use them
 * under that filter.
 */
static void expect_period_filter(struct store *st, uint32_t period_s,
				 int64_t from_s, int64_t to_s)
{
	struct planner_request req = {
		.period_s = period_s,
		.from_s = from_s,
		.to_s = to_s,
	};
	struct planner_answer got = { 0 }, want = { 0 };
	struct rttq_error err = { 0 };
	char what[128];

	snprintf(what, sizeof(what), "period %u s [now %+lld s, now]",
		 period_s, (long long)(from_s - to_s));
	REQUIRE(planner_run(st, &req, &got, &err) == 0, "%s: %s", what,
		err.msg);
	req.flags = PLANNER_NO_FLEET;
	REQUIRE(planner_run(st, &req, &want, &err) == 0, "%s: %s", what,
		err.msg);
	CHECK(got.count == want.count && want.count > 0, "%s: count %llu, "
	      "per host %llu", what, (unsigned long long)got.count,
	      (unsigned long long)want.count);
	CHECK(got.hosts == HOSTS / 2 && want.hosts == HOSTS / 2, "%s: hosts "
	      "%zu, per host %zu", what, got.hosts, want.hosts);
	fleet_expect_same(what, &got, &want, NULL);
	planner_answer_clear(&got);
	planner_answer_clear(&want);
}

/*
 * planner_run_counters() over [from, to] (by @step_s; 0: one answer) with
 * and without fleet records: the same sums, each period's counters
 * counted once whichever records hold them.
 */
static void expect_counters(struct store *st, int64_t from_s, int64_t to_s,
			    int64_t step_s)
{
	struct planner_request req = { .from_s = from_s, .to_s = to_s };
	struct planner_series got = { 0 }, want = { 0 };
	struct rttq_error err = { 0 };
	uint64_t segs = 0, fast = 0;
	/* The minutes with records: @to_s is in the open one. */
	int64_t minutes = (to_s + 1 - 60 - from_s) / 60;
	char what[128];

	snprintf(what, sizeof(what), "counters [now %+lld s, now] step %lld",
		 (long long)(from_s - to_s), (long long)step_s);
	REQUIRE(planner_run_counters(st, &req, NULL, 0, step_s, &got, &err) ==
		0, "%s: %s", what, err.msg);
	req.flags = PLANNER_NO_FLEET;
	REQUIRE(planner_run_counters(st, &req, NULL, 0, step_s, &want, &err) ==
		0, "%s: %s", what, err.msg);
	CHECK(got.n == want.n, "%s: %zu points, per host %zu", what, got.n,
	      want.n);
	for (size_t i = 0; i < got.n && i < want.n; i++) {
		expect_same_counters(what, &got.points[i], &want.points[i]);
		segs += counter_set_get(&got.points[i].counters, "segs.out");
		fast += counter_set_get(&got.points[i].counters,
					"retrans.fast");
	}
	CHECK(segs == (uint64_t)minutes * TAIL_SEGS_OUT * HOSTS, "%s: segs.out "
	      "%llu", what, (unsigned long long)segs);
	CHECK(fast == (uint64_t)minutes * (HOSTS * (HOSTS + 1) / 2), "%s: "
	      "retrans.fast %llu", what, (unsigned long long)fast);
	planner_series_clear(&got);
	planner_series_clear(&want);
}

void tail_check_all(const char *url)
{
	int64_t end = time(NULL) / 60 * 60, start = end - 2 * HOUR_S;
	struct fleet_rollup_stats stats = { 0 };
	struct planner_answer before = { 0 }, after = { 0 };
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	uint64_t late;

	check_section("fill 4 hosts (60 s and 10 s) x 2 hours ending now");
	for (unsigned int i = 1; i <= HOSTS; i++) {
		char host[32];
		struct fill_spec spec = {
			.url = url,
			.host = host,
			.extra_group = GROUP_EXTRA,
			.period_s = i % 2 ? 60 : 10,
			.start_s = start,
			.end_s = end,
			.samples = 400,
			.seed = 2000 + i,
		};
		uint64_t n = 0;

		snprintf(host, sizeof(host), "host-%02u", i);
		REQUIRE(fill_store(&spec, &n) == 0, "filling %s", host);
	}
	REQUIRE(store_open(url, &st, &err) == 0, "%s", err.msg);
	for (unsigned int i = 1; i <= HOSTS; i++) {
		char host[32];

		snprintf(host, sizeof(host), "host-%02u", i);
		tail_put_metrics(st, host, i - 1, end, METRIC_MINUTES);
	}

	check_section("store_fine_records: every host's base and 5-minute "
		      "records, nothing else");
	check_fine(st);
	{
		struct fleet_rollup_opts o = {
			.period_s = 60,
			.grace_s = fleet_rollup_grace_default(60),
			.from_s = start,
			.to_s = end - 1,
			/* Not the clock: the last 2 minutes stay unbuilt
			 * however long the fill took. */
			.now_s = end,
		};

		REQUIRE(fleet_rollup_run(st, &o, &stats, &err) == 0,
			"rollup: %s", err.msg);
		CHECK(stats.built + stats.rebuilt > 0, "the rollup built "
		      "nothing");
	}

	check_section("fleet queries ending at now equal the per-host answers");
	expect_run(st, NULL, NULL, end - HOUR_S, end + 59, false, &before);
	/* A partial 5-minute span at the start too. */
	expect_run(st, NULL, NULL, end / 300 * 300 - HOUR_S - 180, end + 59,
		   false, NULL);
	CHECK(before.hosts == HOSTS, "hosts %zu", before.hosts);
	/* The last 2 minutes: no fleet record covers them yet. */
	expect_run(st, NULL, NULL, end - 120, end + 59, true, NULL);
	expect_run(st, GROUP_EXTRA, NULL, end - 90 * 60, end + 59, false,
		   NULL);
	{
		/* Half an hour of built 5-minute spans: fleet records
		 * alone, still labelled with the finest base period. */
		int64_t from = (end - HOUR_S) / 300 * 300 + 300;
		struct planner_answer a = { 0 };

		expect_run(st, NULL, NULL, from, from + 1799, false, &a);
		CHECK(a.fleet_records == a.records[PLANNER_LEVEL_5MIN] &&
		      a.base_period_s == 10, "fleet alone: %zu of %zu records "
		      "fleet, base period %u", a.fleet_records,
		      a.records[PLANNER_LEVEL_5MIN], a.base_period_s);
		planner_answer_clear(&a);
	}
	fleet_expect_series(st, 0, start, end + 59, 300, 1);
	fleet_expect_series(st, 0, end - HOUR_S, end + 59, 60, 0);
	expect_bad_step(st, end - HOUR_S, end + 59);

	check_section("a base period filter over a fleet of mixed periods "
		      "counts only the hosts of that period");
	expect_period_filter(st, 60, end - HOUR_S, end + 59);
	expect_period_filter(st, 10, end - HOUR_S, end + 59);

	check_section("jitter and counters ending at now equal the per-host "
		      "answers, counts and sums exact");
	{
		struct planner_answer jit = { 0 };

		expect_run(st, NULL, METRIC_JITTER,
			   end - METRIC_MINUTES * 60, end + 59, false, &jit);
		CHECK(jit.count == (uint64_t)TAIL_JITTER_SAMPLES *
				   METRIC_MINUTES * HOSTS &&
		      jit.hosts == HOSTS, "jitter: count %llu, hosts %zu",
		      (unsigned long long)jit.count, jit.hosts);
		planner_answer_clear(&jit);
		expect_run(st, NULL, METRIC_JITTER, end - 120, end + 59, true,
			   &jit);
		CHECK(jit.count == (uint64_t)TAIL_JITTER_SAMPLES * 2 * HOSTS,
		      "jitter, last 2 minutes: count %llu",
		      (unsigned long long)jit.count);
		planner_answer_clear(&jit);
	}
	expect_counters(st, end - METRIC_MINUTES * 60, end + 59, 0);
	expect_counters(st, end - METRIC_MINUTES * 60, end + 59, 300);
	expect_counters(st, end - 120, end + 59, 0);

	check_section("a late record in a rolled-up span counts at once");
	late = fleet_write_late(st, end - 40 * 60);
	expect_run(st, NULL, NULL, end - HOUR_S, end + 59, false, &after);
	CHECK(after.count == before.count + late, "count %llu, expected "
	      "%llu + %llu", (unsigned long long)after.count,
	      (unsigned long long)before.count, (unsigned long long)late);
	CHECK(after.hosts == HOSTS + 1, "hosts %zu", after.hosts);

	check_section("a late record at an hour's start: no host's hour record "
		      "counts beside the fleet's 5-minute records");
	{
		/* The fleet's hour and first 5 minutes go stale; the range
		 * starts 2 minutes before that hour and ends at now, so the
		 * hosts are read from its start to its end, and the hour
		 * lies wholly inside. */
		int64_t hour = end / HOUR_S * HOUR_S - HOUR_S;

		planner_answer_clear(&before);
		planner_answer_clear(&after);
		expect_run(st, NULL, NULL, hour - 120, end + 59, false,
			   &before);
		late = fleet_write_late(st, hour);
		expect_run(st, NULL, NULL, hour - 120, end + 59, false,
			   &after);
		CHECK(after.count == before.count + late, "count %llu, "
		      "expected %llu + %llu", (unsigned long long)after.count,
		      (unsigned long long)before.count,
		      (unsigned long long)late);
	}

	planner_answer_clear(&before);
	planner_answer_clear(&after);
	store_close(st);
}
