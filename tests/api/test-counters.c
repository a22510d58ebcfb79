// SPDX-License-Identifier: BSD-2-Clause
/*
 * Counters through the query side on a real SQLite file: sums over base
 * records, hour rollups and fleet records (`rttq rollup`) are exact u64
 * totals (values past 2^53 included, where a double would round), the
 * name globs keep what they match, steps split the totals, the /counters
 * JSON is byte for byte what users read, and a distribution's planner
 * refuses the counters metric while answering jitter apart from rtt.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "answer_counters.h"
#include "check.h"
#include "codec.h"
#include "counter_set.h"
#include "fleet_rollup.h"
#include "planner.h"
#include "store.h"
#include "strbuf.h"
#include "tdigest.h"

#define T0 1700006400 /* a UTC day start */
#define PERIODS 180   /* 3 hours of 60 s periods */
#define BIG (UINT64_C(1) << 61)

static const char *const hosts[] = { "a", "b" };

/* The counters host @h has in period @k of group "all". */
static void period_counters(size_t h, int k, struct counter_set *s)
{
	counter_set_clear(s);
	REQUIRE(counter_set_add(s, "retrans.fast", (uint64_t)(k % 5) + h) == 0 &&
		counter_set_add(s, "retrans.timeout", k % 7 == 0) == 0 &&
		counter_set_add(s, "segs.out", 1000 + (uint64_t)k) == 0 &&
		counter_set_add(s, "drops.tcp.netfilter_drop", 2) == 0 &&
		(k >= 3 || counter_set_add(s, "big", BIG + 1) == 0),
		"counter set");
}

static void put_set(struct store *st, const char *host, uint32_t period_s,
		    int64_t start_s, uint32_t periods,
		    const struct counter_set *s)
{
	struct strbuf b = STRBUF_INIT;
	struct rttq_error err = { 0 };
	struct store_record r = {
		.host = host, .group = "all", .metric = METRIC_COUNTERS,
		.period_s = period_s, .start_s = start_s, .periods = periods,
		.periods_total = periods, .count = s->n,
	};

	REQUIRE(counter_set_encode(s, &b) == 0, "encode");
	r.digest = (const uint8_t *)b.buf;
	r.digest_len = b.len;
	REQUIRE(store_put(st, &r, 1, &err) == 0, "put: %s", err.msg);
	strbuf_release(&b);
}

/* Base records of both hosts, and host a's complete hour rollups of the
 * first two hours (sums of its base records, as the agent writes). */
static void fill(struct store *st, struct counter_set *want)
{
	struct counter_set s = COUNTER_SET_INIT, hour = COUNTER_SET_INIT;

	for (size_t h = 0; h < 2; h++) {
		for (int k = 0; k < PERIODS; k++) {
			period_counters(h, k, &s);
			put_set(st, hosts[h], 60, T0 + 60 * k, 1, &s);
			REQUIRE(counter_set_merge(want, &s) == 0, "want");
			if (h == 0 && k < 120)
				REQUIRE(counter_set_merge(&hour, &s) == 0, "hour");
			if (h == 0 && (k == 59 || k == 119)) {
				put_set(st, "a", 3600, T0 + 3600 * (k / 60),
					60, &hour);
				counter_set_clear(&hour);
			}
		}
	}
	counter_set_free(&s);
	counter_set_free(&hour);
}

static void expect_sets_equal(const struct counter_set *got,
			      const struct counter_set *want, const char *what)
{
	CHECK(got->n == want->n, "%s: %zu counters, want %zu", what, got->n,
	      want->n);
	for (size_t i = 0; i < want->n && i < got->n; i++)
		CHECK(!strcmp(got->v[i].name, want->v[i].name) &&
		      got->v[i].value == want->v[i].value,
		      "%s: %s = %" PRIu64 ", want %s = %" PRIu64, what,
		      got->v[i].name, got->v[i].value, want->v[i].name,
		      want->v[i].value);
}

static struct planner_series run(struct store *st, const char *host,
				 const char *const *names, size_t n_names,
				 int64_t step_s, unsigned int flags)
{
	struct planner_request req = { .host = host, .from_s = T0,
				       .to_s = T0 + 60 * (PERIODS - 1),
				       .flags = flags };
	struct planner_series ps = { 0 };
	struct rttq_error err = { 0 };

	REQUIRE(planner_run_counters(st, &req, names, n_names, step_s, &ps,
				     &err) == 0, "planner_run_counters: %s",
		err.msg);
	return ps;
}

static void test_sums(struct store *st, const struct counter_set *want)
{
	struct counter_set host_a = COUNTER_SET_INIT, s = COUNTER_SET_INIT;
	struct planner_series ps;

	check_section("counters summed exactly over base records, hour "
		      "rollups and hosts (u64 past 2^53)");
	ps = run(st, NULL, NULL, 0, 0, PLANNER_NO_FLEET);
	REQUIRE(ps.n == 1, "%zu answers", ps.n);
	expect_sets_equal(&ps.points[0].counters, want, "fleet");
	CHECK_CMP(counter_set_get(&ps.points[0].counters, "big"), ==,
		  2 * 3 * (BIG + 1));
	CHECK_CMP(ps.points[0].hosts, ==, 2);
	CHECK_CMP(ps.points[0].records[PLANNER_LEVEL_HOUR], ==, 2);
	CHECK_CMP(ps.points[0].records[PLANNER_LEVEL_BASE], ==, 60 + 180);
	CHECK_CMP(ps.span_end_s - ps.span_start_s, ==, 3 * 3600);
	CHECK_CMP(ps.points[0].count, ==, 0);
	planner_series_clear(&ps);

	for (int k = 0; k < PERIODS; k++) {
		period_counters(0, k, &s);
		REQUIRE(counter_set_merge(&host_a, &s) == 0, "host a");
	}
	ps = run(st, "a", NULL, 0, 0, 0);
	expect_sets_equal(&ps.points[0].counters, &host_a, "host a");
	CHECK_CMP(ps.points[0].hosts, ==, 1);
	planner_series_clear(&ps);
	/* Base records only: the same totals. */
	ps = run(st, "a", NULL, 0, 0, PLANNER_BASE_ONLY);
	expect_sets_equal(&ps.points[0].counters, &host_a, "host a, base");
	CHECK_CMP(ps.points[0].records[PLANNER_LEVEL_BASE], ==, 180);
	planner_series_clear(&ps);

	check_section("steps split the totals: one hour each");
	ps = run(st, NULL, NULL, 0, 3600, PLANNER_NO_FLEET);
	CHECK_CMP(ps.n, ==, 3);
	for (size_t p = 0; p < ps.n; p++) {
		struct counter_set hour = COUNTER_SET_INIT;

		for (size_t h = 0; h < 2; h++)
			for (int k = 60 * (int)p; k < 60 * ((int)p + 1); k++) {
				period_counters(h, k, &s);
				REQUIRE(counter_set_merge(&hour, &s) == 0, "merge");
			}
		expect_sets_equal(&ps.points[p].counters, &hour, "hour");
		counter_set_free(&hour);
	}
	planner_series_clear(&ps);
	counter_set_free(&host_a);
	counter_set_free(&s);
}

static void test_globs(struct store *st, const struct counter_set *want)
{
	static const char *const retrans[] = { "retrans.*" };
	static const char *const two[] = { "*.netfilter_drop", "segs.out" };
	static const char *const none[] = { "nosuch.*" };
	struct planner_series ps;
	const struct counter_set *got;

	check_section("name globs keep what they match, nothing else");
	ps = run(st, NULL, retrans, 1, 0, PLANNER_NO_FLEET);
	got = &ps.points[0].counters;
	CHECK_CMP(got->n, ==, 2);
	CHECK_CMP(counter_set_get(got, "retrans.fast"), ==,
		  counter_set_get(want, "retrans.fast"));
	CHECK_CMP(counter_set_get(got, "retrans.timeout"), ==,
		  counter_set_get(want, "retrans.timeout"));
	planner_series_clear(&ps);
	ps = run(st, NULL, two, 2, 0, PLANNER_NO_FLEET);
	got = &ps.points[0].counters;
	CHECK_CMP(got->n, ==, 2);
	CHECK_CMP(counter_set_get(got, "drops.tcp.netfilter_drop"), ==,
		  2 * 2 * PERIODS);
	CHECK_CMP(counter_set_get(got, "segs.out"), ==,
		  counter_set_get(want, "segs.out"));
	planner_series_clear(&ps);
	ps = run(st, NULL, none, 1, 0, PLANNER_NO_FLEET);
	CHECK_CMP(ps.points[0].counters.n, ==, 0);
	CHECK_CMP(ps.points[0].hosts, ==, 2);
	planner_series_clear(&ps);
}

static void test_fleet(struct store *st, const struct counter_set *want)
{
	struct fleet_rollup_opts o = { .period_s = 60, .grace_s = 60,
				       .from_s = T0,
				       .to_s = T0 + 60 * (PERIODS - 1),
				       .now_s = T0 + 86400 * 2 };
	struct fleet_rollup_stats stats;
	struct rttq_error err = { 0 };
	struct planner_series ps;

	check_section("fleet records of counters: built by rttq rollup, "
		      "summed exactly, answers unchanged");
	REQUIRE(fleet_rollup_run(st, &o, &stats, &err) == 0, "rollup: %s",
		err.msg);
	/* 36 5-minute spans, 3 hours and the day (its hosts have nothing
	 * after the third hour); stale-marked by the late puts above, so
	 * rebuilt rather than built. */
	CHECK(stats.built + stats.rebuilt == 36 + 3 + 1 && stats.raced == 0,
	      "built %zu rebuilt %zu fresh %zu skipped %zu groups %zu", stats.built, stats.rebuilt, stats.fresh, stats.levels_skipped, stats.groups);
	ps = run(st, NULL, NULL, 0, 0, 0);
	expect_sets_equal(&ps.points[0].counters, want, "fleet records");
	CHECK_CMP(ps.points[0].fleet_records, ==, 3);
	CHECK_CMP(ps.points[0].hosts, ==, 2);
	CHECK_CMP(ps.records_read, ==, 3);
	planner_series_clear(&ps);
	/* A 5-minute series reads the 5-minute fleet records. */
	ps = run(st, NULL, NULL, 0, 300, 0);
	CHECK_CMP(ps.n, ==, 36);
	CHECK_CMP(ps.records_read, ==, 36);
	planner_series_clear(&ps);
}

static void test_answer(struct store *st)
{
	struct planner_request req = { .host = "b", .from_s = T0,
				       .to_s = T0 + 60 };
	struct answer_counter_names names;
	struct rttq_error err = { 0 };
	size_t read = 0, len = 0;
	char *json = NULL;

	check_section("the /counters answer, byte for byte");
	REQUIRE(answer_counter_names_parse("retrans.*,big", &names, &err) == 0,
		"%s", err.msg);
	REQUIRE(answer_counters_json(st, &req, &names, 0, NULL, &read, &json,
				     &len, &err) == 0, "%s", err.msg);
	/* Periods 0 and 1 of host b: fast 1 + 2, timeout 1 + 0, big twice. */
	CHECK_STR(json, "{\"from\":\"2023-11-15T00:00:00Z\","
		  "\"to\":\"2023-11-15T00:01:00Z\",\"host\":\"b\","
		  "\"group\":\"all\",\"hosts\":1,\"seconds\":120,"
		  "\"counters\":{\"big\":4611686018427387906,"
		  "\"retrans.fast\":3,\"retrans.timeout\":1},"
		  "\"per_second\":{\"big\":3.84307168e+16,"
		  "\"retrans.fast\":0.025,\"retrans.timeout\":0.00833333333}}\n");
	CHECK_CMP(read, ==, 2);
	free(json);
	json = NULL;
	req.host = "c";
	REQUIRE(answer_counters_json(st, &req, &names, 60, "1m", &read, &json,
				     &len, &err) == 0, "%s", err.msg);
	CHECK_STR(json, "{\"from\":\"2023-11-15T00:00:00Z\","
		  "\"to\":\"2023-11-15T00:01:00Z\",\"host\":\"c\","
		  "\"group\":\"all\",\"hosts\":0,\"seconds\":61,"
		  "\"counters\":{},\"per_second\":{},"
		  "\"no_data\":\"no_such_host\",\"step\":\"1m\",\"points\":["
		  "{\"t\":\"2023-11-15T00:00:00Z\",\"counters\":{}},"
		  "{\"t\":\"2023-11-15T00:01:00Z\",\"counters\":{}}]}\n");
	free(json);
	CHECK_CMP(answer_counter_names_parse("Retrans.*", &names, &err), ==,
		  -EINVAL);
	CHECK_CONTAINS(err.msg, "'Retrans.*'");
	CHECK_CMP(answer_counter_names_parse("a,,b", &names, &err), ==,
		  -EINVAL);
	CHECK_CONTAINS(err.msg, "empty counter name");
}

/* A jitter record beside rtt ones: its own answer; counters refused. */
static void test_distributions(struct store *st)
{
	struct planner_request req = { .host = "a", .from_s = T0,
				       .to_s = T0 };
	struct planner_answer ans = { 0 };
	struct rttq_error err = { 0 };
	struct tdigest *td = NULL;
	uint8_t *bytes = NULL;
	size_t len = 0;

	check_section("jitter answered apart from rtt; counters refused by "
		      "the distribution planner");
	REQUIRE(tdigest_new(100, &td) == 0 && tdigest_add(td, 250, 7) == 0 &&
		codec_encode(td, &bytes, &len) == 0, "digest");
	struct store_record r = {
		.host = "a", .group = "all", .metric = METRIC_JITTER,
		.period_s = 60, .start_s = T0, .periods = 1,
		.periods_total = 1, .count = 7, .sum_us = 1750,
		.min_us = 250, .max_us = 250, .digest = bytes,
		.digest_len = len,
	};
	REQUIRE(store_put(st, &r, 1, &err) == 0, "%s", err.msg);
	req.metric = METRIC_JITTER;
	REQUIRE(planner_run(st, &req, &ans, &err) == 0, "%s", err.msg);
	CHECK_CMP(ans.count, ==, 7);
	CHECK(ans.min_us == 250 && ans.max_us == 250, "jitter min/max");
	planner_answer_clear(&ans);
	/* rtt: nothing stored. */
	req.metric = NULL;
	REQUIRE(planner_run(st, &req, &ans, &err) == 0, "%s", err.msg);
	CHECK_CMP(ans.count, ==, 0);
	CHECK_CMP(ans.no_data, ==, PLANNER_NO_SUCH_GROUP);
	planner_answer_clear(&ans);
	req.metric = METRIC_COUNTERS;
	CHECK_CMP(planner_run(st, &req, &ans, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "not a distribution");
	req.metric = "Bad";
	CHECK_CMP(planner_run(st, &req, &ans, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "\"Bad\"");
	tdigest_free(td);
	free(bytes);
}

int main(void)
{
	char dir[] = "/tmp/rttq-test-counters-XXXXXX";
	struct counter_set want = COUNTER_SET_INIT;
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	char url[128];

	REQUIRE(mkdtemp(dir), "mkdtemp");
	snprintf(url, sizeof(url), "sqlite:%s/c.db", dir);
	REQUIRE(store_open(url, &st, &err) == 0, "%s", err.msg);
	fill(st, &want);
	test_sums(st, &want);
	test_globs(st, &want);
	test_answer(st);
	test_fleet(st, &want);
	test_distributions(st);
	store_close(st);
	counter_set_free(&want);
	snprintf(url, sizeof(url), "%s/c.db", dir);
	unlink(url);
	snprintf(url, sizeof(url), "%s/c.db-shm", dir);
	unlink(url);
	snprintf(url, sizeof(url), "%s/c.db-wal", dir);
	unlink(url);
	rmdir(dir);
	return check_report();
}
