// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fleet rollups on dynalite:
 *  - rollup: the scenario of tests/api/fleet-check.c (answers equal the
 *    per-host ones, stale spans rebuilt, idempotent, fleet host never
 *    listed, damaged record) on the DynamoDB backend;
 *  - requests: a fleet query over a rolled-up 2-day range makes the same
 *    number of requests (counted at a proxy) with 10 and 50 hosts;
 *  - tail: the scenario of tests/api/tail-check.c (fleet queries ending
 *    at now equal the per-host answers) on the DynamoDB backend;
 *  - now: a fleet query ending at now, whose last minutes no fleet record
 *    covers, makes the same number of requests with 10 and 50 hosts, for
 *    rtt, jitter and counters, with exact counts and sums.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "codec.h"
#include "counter_set.h"
#include "ddb-proxy.h"
#include "dynamo-test.h"
#include "fleet-check.h"
#include "metric.h"
#include "planner.h"
#include "tail-check.h"
#include "tdigest.h"

#define DAY_S 86400
#define HOUR_S 3600
#define MAX_FLEET_REQUESTS 10

static struct ddb_proxy proxy;

static void case_rollup(const char *dir)
{
	(void)dir;
	fleet_check_all(dynamo_url("fleet"));
}

/* Host @h's digest of @samples samples, and its encoding. */
static void host_digest(unsigned int h, unsigned int samples,
			struct tdigest **td, uint8_t **bytes, size_t *len)
{
	REQUIRE(tdigest_new(100, td) == 0, "tdigest");
	for (unsigned int i = 0; i < samples; i++)
		tdigest_add(*td, 1000 + (h * 37 + i * 101) % 9000, 1);
	REQUIRE(codec_encode(*td, bytes, len) == 0, "encode");
}

/* @hosts hosts with complete hour and day records of group "all" over
 * two days (what their agents' rollups hold), in one put per host. */
static void put_hosts(struct store *st, unsigned int hosts)
{
	for (unsigned int h = 0; h < hosts; h++) {
		struct store_record recs[50];
		struct tdigest *td = NULL;
		struct rttq_error err = { 0 };
		uint8_t *bytes = NULL;
		size_t len = 0, n = 0;
		char host[32];

		snprintf(host, sizeof(host), "host-%03u", h);
		host_digest(h, 500, &td, &bytes, &len);
		for (int64_t t = 0; t < 2 * DAY_S; t += HOUR_S)
			recs[n++] = (struct store_record){
				.host = host, .group = "all", .period_s = HOUR_S,
				.start_s = FLEET_T0 + t, .periods = 60,
				.periods_total = 60, .count = 500,
				.sum_us = tdigest_sum(td), .min_us = 1000,
				.max_us = 9999, .digest = bytes, .digest_len = len,
			};
		for (int64_t t = 0; t < 2 * DAY_S; t += DAY_S)
			recs[n++] = (struct store_record){
				.host = host, .group = "all", .period_s = DAY_S,
				.start_s = FLEET_T0 + t, .periods = 1440,
				.periods_total = 1440, .count = 12000,
				.sum_us = 24 * tdigest_sum(td), .min_us = 1000,
				.max_us = 9999, .digest = bytes, .digest_len = len,
			};
		REQUIRE(store_put(st, recs, n, &err) == 0, "%s", err.msg);
		free(bytes);
		tdigest_free(td);
	}
}

/*
 * Requests one fleet query of @metric (NULL: rtt) over [from, to] makes
 * (series when @step_s); @count receives its samples, or for counters
 * the sum of segs.out.
 */
static unsigned int requests_of(struct store *st, const char *metric,
				int64_t from_s, int64_t to_s, int64_t step_s,
				uint64_t *count)
{
	struct planner_request req = {
		.metric = metric,
		.period_s = 60,
		.from_s = from_s,
		.to_s = to_s,
	};
	struct rttq_error err = { 0 };
	unsigned int before = atomic_load(&proxy.requests);

	if (metric && !strcmp(metric, METRIC_COUNTERS)) {
		struct planner_series s = { 0 };

		REQUIRE(planner_run_counters(st, &req, NULL, 0, step_s, &s,
					     &err) == 0, "%s", err.msg);
		*count = 0;
		for (size_t i = 0; i < s.n; i++)
			*count += counter_set_get(&s.points[i].counters,
						  "segs.out");
		planner_series_clear(&s);
	} else if (step_s) {
		struct planner_series s = { 0 };

		REQUIRE(planner_run_series(st, &req, step_s, &s, &err) == 0,
			"%s", err.msg);
		*count = 0;
		for (size_t i = 0; i < s.n; i++)
			*count += s.points[i].count;
		planner_series_clear(&s);
	} else {
		struct planner_answer a = { 0 };

		REQUIRE(planner_run(st, &req, &a, &err) == 0, "%s", err.msg);
		*count = a.count;
		planner_answer_clear(&a);
	}
	return atomic_load(&proxy.requests) - before;
}

static unsigned int requests(struct store *st, int64_t from_s, int64_t to_s,
			     int64_t step_s, uint64_t *count)
{
	return requests_of(st, NULL, from_s, to_s, step_s, count);
}

struct fleet_costs {
	unsigned int before, after, series, edge;
};

static struct fleet_costs measure(unsigned int hosts)
{
	/* Hour-aligned at the start, 5-minute-aligned at the end: the fleet
	 * records cover it whole once built. */
	int64_t from = FLEET_T0 + HOUR_S + 600;
	int64_t to = FLEET_T0 + 2 * DAY_S - 1200 - 60;
	struct fleet_rollup_stats stats = { 0 };
	struct fleet_costs c = { 0 };
	struct store *direct = NULL, *st = NULL;
	struct rttq_error err = { 0 };
	char table[32], url[256];
	uint64_t n1 = 0, n2 = 0;

	snprintf(table, sizeof(table), "fleet%u", hosts);
	dynamo_open_store(dynamo_url(table), &direct);
	put_hosts(direct, hosts);
	snprintf(url, sizeof(url), "dynamodb:%s?region=us-east-1&endpoint="
		 "http://127.0.0.1:%d", table, proxy.port);
	REQUIRE(store_open_read(url, &st, &err) == 0, "%s", err.msg);
	c.before = requests(st, from, to, 0, &n1);
	fleet_rollup(direct, 60, 2, &stats);
	c.after = requests(st, from, to, 0, &n2);
	CHECK(n1 == n2, "%u hosts: count %llu before rollups, %llu after",
	      hosts, (unsigned long long)n1, (unsigned long long)n2);
	c.series = requests(st, FLEET_T0 + HOUR_S,
			    FLEET_T0 + 2 * DAY_S - HOUR_S - 60, HOUR_S, &n1);
	/* An edge no fleet record covers (as the minutes before now): every
	 * host is listed and read again. */
	c.edge = requests(st, from, to + 60, 0, &n1);
	printf("%u hosts: fleet query requests %u before rollups, %u after "
	       "(1-hour series %u; with a 1-minute edge not rolled up %u)\n",
	       hosts, c.before, c.after, c.series, c.edge);
	store_close(st);
	store_close(direct);
	return c;
}

static void case_requests(const char *dir)
{
	struct fleet_costs ten, fifty;

	(void)dir;
	ddb_proxy_start(&proxy, dynamo_server()->port, ddb_proxy_forward,
			NULL);
	ten = measure(10);
	fifty = measure(50);
	check_section("requests per fleet query do not grow with hosts");
	CHECK_CMP(ten.after, ==, fifty.after);
	CHECK_CMP(fifty.after, <=, MAX_FLEET_REQUESTS);
	CHECK_CMP(ten.series, ==, fifty.series);
	CHECK_CMP(fifty.series, <=, MAX_FLEET_REQUESTS);
	CHECK_CMP(fifty.before, >, fifty.after);
}

static void case_tail(const char *dir)
{
	(void)dir;
	tail_check_all(dynamo_url("tail"));
}

/* @hosts hosts with 60 s base records of group "all" for the 30 minutes
 * before @end_s, rtt then jitter and counters (tail_put_metrics()), in a
 * put per host and kind (what their agents wrote). */
static void put_recent(struct store *st, unsigned int hosts, int64_t end_s)
{
	for (unsigned int h = 0; h < hosts; h++) {
		struct store_record recs[30];
		struct tdigest *td = NULL;
		struct rttq_error err = { 0 };
		uint8_t *bytes = NULL;
		size_t len = 0;
		char host[32];

		snprintf(host, sizeof(host), "host-%03u", h);
		host_digest(h, 50, &td, &bytes, &len);
		for (size_t i = 0; i < 30; i++)
			recs[i] = (struct store_record){
				.host = host, .group = "all", .period_s = 60,
				.start_s = end_s - (int64_t)(30 - i) * 60,
				.periods = 1, .periods_total = 1, .count = 50,
				.sum_us = tdigest_sum(td), .min_us = 1000,
				.max_us = 9999, .digest = bytes, .digest_len = len,
			};
		REQUIRE(store_put(st, recs, 30, &err) == 0, "%s", err.msg);
		tail_put_metrics(st, host, h, end_s, 30);
		free(bytes);
		tdigest_free(td);
	}
}

struct now_costs {
	unsigned int quantiles, series, jitter, counters, counters_series;
};

/* The same @end_s and rollup clock @now_s for every fleet size: the
 * same spans rolled up, the same hour partitions read. */
static struct now_costs measure_now(unsigned int hosts, int64_t end_s,
				    int64_t now_s)
{
	int64_t end = end_s;
	struct planner_request ref = {
		.from_s = end - 1800,
		.to_s = end + 59,
		.flags = PLANNER_NO_FLEET,
	};
	struct fleet_rollup_opts o = {
		.period_s = 60,
		.grace_s = fleet_rollup_grace_default(60),
		.from_s = end - HOUR_S,
		.to_s = end - 1,
		.now_s = now_s,
	};
	struct fleet_rollup_stats stats = { 0 };
	struct planner_answer want = { 0 };
	struct store *direct = NULL, *st = NULL;
	struct rttq_error err = { 0 };
	struct now_costs c = { 0 };
	char table[32], url[256];
	uint64_t n = 0;

	snprintf(table, sizeof(table), "now%u", hosts);
	dynamo_open_store(dynamo_url(table), &direct);
	put_recent(direct, hosts, end);
	REQUIRE(fleet_rollup_run(direct, &o, &stats, &err) == 0, "rollup: %s",
		err.msg);
	snprintf(url, sizeof(url), "dynamodb:%s?region=us-east-1&endpoint="
		 "http://127.0.0.1:%d", table, proxy.port);
	REQUIRE(store_open_read(url, &st, &err) == 0, "%s", err.msg);
	REQUIRE(planner_run(direct, &ref, &want, &err) == 0, "%s", err.msg);
	c.quantiles = requests(st, end - 1800, end + 59, 0, &n);
	CHECK(n == want.count && n == 50ull * 30 * hosts, "%u hosts: count "
	      "%llu, per host %llu", hosts, (unsigned long long)n,
	      (unsigned long long)want.count);
	c.series = requests(st, end - 1800, end + 59, 300, &n);
	CHECK(n == want.count, "%u hosts: series count %llu, per host %llu",
	      hosts, (unsigned long long)n, (unsigned long long)want.count);
	c.jitter = requests_of(st, METRIC_JITTER, end - 1800, end + 59, 0, &n);
	CHECK(n == (uint64_t)TAIL_JITTER_SAMPLES * 30 * hosts, "%u hosts: "
	      "jitter count %llu", hosts, (unsigned long long)n);
	c.counters = requests_of(st, METRIC_COUNTERS, end - 1800, end + 59, 0,
				 &n);
	CHECK(n == (uint64_t)TAIL_SEGS_OUT * 30 * hosts, "%u hosts: segs.out "
	      "%llu", hosts, (unsigned long long)n);
	c.counters_series = requests_of(st, METRIC_COUNTERS, end - 1800,
					end + 59, 300, &n);
	CHECK(n == (uint64_t)TAIL_SEGS_OUT * 30 * hosts, "%u hosts: series "
	      "segs.out %llu", hosts, (unsigned long long)n);
	printf("%u hosts: fleet query ending at now %u requests, series %u, "
	       "jitter %u, counters %u, counters series %u (%zu spans rolled "
	       "up)\n", hosts, c.quantiles, c.series, c.jitter, c.counters,
	       c.counters_series, stats.built + stats.rebuilt);
	planner_answer_clear(&want);
	store_close(st);
	store_close(direct);
	return c;
}

static void case_now(const char *dir)
{
	int64_t now = time(NULL);
	struct now_costs ten, fifty;

	(void)dir;
	ddb_proxy_start(&proxy, dynamo_server()->port, ddb_proxy_forward,
			NULL);
	ten = measure_now(10, now / 60 * 60, now);
	fifty = measure_now(50, now / 60 * 60, now);
	check_section("requests per fleet query ending at now do not grow "
		      "with hosts");
	CHECK_CMP(ten.quantiles, ==, fifty.quantiles);
	CHECK_CMP(fifty.quantiles, <=, MAX_FLEET_REQUESTS);
	CHECK_CMP(ten.series, ==, fifty.series);
	CHECK_CMP(fifty.series, <=, MAX_FLEET_REQUESTS);
	CHECK_CMP(ten.jitter, ==, fifty.jitter);
	CHECK_CMP(fifty.jitter, <=, MAX_FLEET_REQUESTS);
	CHECK_CMP(ten.counters, ==, fifty.counters);
	CHECK_CMP(fifty.counters, <=, MAX_FLEET_REQUESTS);
	CHECK_CMP(ten.counters_series, ==, fifty.counters_series);
	CHECK_CMP(fifty.counters_series, <=, MAX_FLEET_REQUESTS);
}

int main(int argc, char **argv)
{
	static const struct dynamo_case cases[] = {
		{ "rollup", case_rollup },
		{ "requests", case_requests },
		{ "tail", case_tail },
		{ "now", case_now },
		{ NULL, NULL },
	};

	return dynamo_test_main(argc, argv, cases);
}
