// SPDX-License-Identifier: BSD-2-Clause
/*
 * Metric separation checks shared by both store backends' tests (see
 * metric-check.h).  Every expectation is exact: which records come back,
 * their counts and bytes, the registry's listing in order.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "counter_set.h"
#include "metric-check.h"
#include "metric.h"
#include "store.h"
#include "strbuf.h"

#define T0 1700000040 /* a multiple of 60 and 10 */

struct got {
	int n;
	char metric[4][METRIC_NAME_MAX];
	char host[4][16];
	uint64_t count[4];
	uint8_t digest[4][64];
	size_t digest_len[4];
};

static int keep(const struct store_record *r, void *arg)
{
	struct got *g = arg;

	if (g->n < 4) {
		snprintf(g->metric[g->n], sizeof(g->metric[0]), "%s",
			 r->metric ? r->metric : "(null)");
		snprintf(g->host[g->n], sizeof(g->host[0]), "%s", r->host);
		g->count[g->n] = r->count;
		g->digest_len[g->n] = r->digest_len;
		memcpy(g->digest[g->n], r->digest,
		       r->digest_len < 64 ? r->digest_len : 64);
	}
	g->n++;
	return 0;
}

static struct got read_metric(struct store *st, const char *host,
			      const char *metric, uint32_t period_s,
			      int64_t from_s, int64_t to_s)
{
	struct store_query q = { .host = host, .group = "all",
				 .metric = metric, .period_s = period_s,
				 .from_s = from_s, .to_s = to_s };
	struct rttq_error err = { 0 };
	struct got g = { 0 };

	CHECK(store_query(st, &q, keep, &g, &err) == 0, "query %s: %s",
	      metric ? metric : "(null)", err.msg);
	return g;
}

static int list(const char *host, const char *group, const char *metric,
		uint32_t period_s, void *arg)
{
	struct strbuf *b = arg;

	strbuf_addf(b, "%s%s/%s/%s/%u", b->len ? "," : "", host, group,
		    metric, period_s);
	return 0;
}

static struct store_record rec(const char *host, const char *metric,
			       uint32_t period_s, int64_t start_s,
			       uint64_t count, const uint8_t *d, size_t len)
{
	return (struct store_record){
		.host = host, .group = "all", .metric = metric,
		.period_s = period_s, .start_s = start_s, .periods = 1,
		.periods_total = 1, .count = count, .sum_us = 1.0,
		.min_us = 1.0, .max_us = 1.0, .digest = d, .digest_len = len,
	};
}

static void expect_refused(struct store *st, struct store_record r,
			   const char *needle)
{
	struct rttq_error err = { 0 };

	CHECK(store_put(st, &r, 1, &err) == -EINVAL &&
	      strstr(err.msg, needle), "put of a bad record: %d \"%s\" "
	      "(want -EINVAL naming %s)", err.code, err.msg, needle);
}

void metric_check_store(struct store *st)
{
	static const uint8_t d_rtt[] = { 1, 1, 1 }, d_jit[] = { 2, 2, 2, 2 },
			     d_hs[] = { 3 };
	struct counter_set cs = COUNTER_SET_INIT;
	struct strbuf set = STRBUF_INIT, series = STRBUF_INIT;
	struct rttq_error err = { 0 };
	uint32_t finest = 0;
	struct got g;

	check_section("rtt, jitter, handshake and counters records of one "
		      "key stay apart");
	REQUIRE(counter_set_add(&cs, "retrans.fast", 3) == 0 &&
		counter_set_add(&cs, "segs.out", 100) == 0 &&
		counter_set_encode(&cs, &set) == 0, "counter set");
	struct store_record recs[] = {
		rec("m1", NULL, 60, T0, 10, d_rtt, sizeof(d_rtt)),
		rec("m1", METRIC_JITTER, 60, T0, 20, d_jit, sizeof(d_jit)),
		rec("m1", METRIC_COUNTERS, 60, T0, 2,
		    (const uint8_t *)set.buf, set.len),
		rec("m1", METRIC_HANDSHAKE, 60, T0 + 60, 30, d_hs,
		    sizeof(d_hs)),
		rec("m2", METRIC_JITTER, 60, T0, 40, d_jit, 2),
		rec("m2", METRIC_COUNTERS, 10, T0, 2,
		    (const uint8_t *)set.buf, set.len),
	};
	REQUIRE(store_put(st, recs, sizeof(recs) / sizeof(recs[0]), &err) == 0,
		"put: %s", err.msg);

	g = read_metric(st, "m1", NULL, 60, T0, T0);
	CHECK(g.n == 1 && !strcmp(g.metric[0], "rtt") && g.count[0] == 10 &&
	      g.digest_len[0] == 3 && !memcmp(g.digest[0], d_rtt, 3),
	      "rtt: %d records, first %s count %llu", g.n, g.metric[0],
	      (unsigned long long)g.count[0]);
	g = read_metric(st, "m1", "rtt", 60, T0, T0 + 60);
	CHECK(g.n == 1 && g.count[0] == 10, "rtt by name: %d", g.n);
	g = read_metric(st, "m1", METRIC_JITTER, 60, T0, T0 + 60);
	CHECK(g.n == 1 && !strcmp(g.metric[0], "jitter") &&
	      g.count[0] == 20 && g.digest_len[0] == 4 &&
	      !memcmp(g.digest[0], d_jit, 4), "jitter: %d records", g.n);
	g = read_metric(st, "m1", METRIC_COUNTERS, 60, T0, T0 + 60);
	CHECK(g.n == 1 && !strcmp(g.metric[0], "counters") &&
	      g.count[0] == 2 && g.digest_len[0] == set.len &&
	      !memcmp(g.digest[0], set.buf, set.len),
	      "counters: %d records", g.n);
	g = read_metric(st, "m1", METRIC_HANDSHAKE, 60, T0, T0);
	CHECK(g.n == 0, "handshake at T0: %d records", g.n);
	g = read_metric(st, "m1", METRIC_HANDSHAKE, 60, T0, T0 + 60);
	CHECK(g.n == 1 && g.count[0] == 30, "handshake: %d records", g.n);
	/* Every host: jitter has two, rtt one; counters of m2 are 10 s. */
	g = read_metric(st, NULL, METRIC_JITTER, 60, T0, T0);
	CHECK(g.n == 2 && !strcmp(g.host[0], "m1") && !strcmp(g.host[1], "m2")
	      && g.count[1] == 40, "fleet jitter: %d records", g.n);
	g = read_metric(st, NULL, NULL, 60, T0, T0);
	CHECK(g.n == 1 && !strcmp(g.host[0], "m1"), "fleet rtt: %d", g.n);
	g = read_metric(st, NULL, METRIC_COUNTERS, 10, T0, T0);
	CHECK(g.n == 1 && !strcmp(g.host[0], "m2"), "fleet counters 10 s: %d",
	      g.n);

	/* Rewriting one metric's record leaves the others alone. */
	recs[0].count = 11;
	REQUIRE(store_put(st, recs, 1, &err) == 0, "rewrite: %s", err.msg);
	g = read_metric(st, "m1", NULL, 60, T0, T0);
	CHECK(g.n == 1 && g.count[0] == 11, "rewritten rtt: %llu",
	      (unsigned long long)g.count[0]);
	g = read_metric(st, "m1", METRIC_JITTER, 60, T0, T0);
	CHECK(g.n == 1 && g.count[0] == 20, "jitter after the rewrite: %llu",
	      (unsigned long long)g.count[0]);

	CHECK(store_series(st, "m1", NULL, 0, T0 + 3600, list, &series,
			   &err) == 0, "series: %s", err.msg);
	CHECK_STR(series.buf ? series.buf : "",
		  "m1/all/counters/60,m1/all/handshake/60,m1/all/jitter/60,"
		  "m1/all/rtt/60");
	strbuf_release(&series);
	CHECK(store_series(st, "m2", "all", 0, T0 + 3600, list, &series,
			   &err) == 0, "series: %s", err.msg);
	CHECK_STR(series.buf ? series.buf : "",
		  "m2/all/counters/10,m2/all/jitter/60");
	strbuf_release(&series);

	CHECK(store_finest_period(st, "all", NULL, &finest, &err) == 0 &&
	      finest == 60, "finest rtt period %u: %s", finest, err.msg);
	CHECK(store_finest_period(st, "all", METRIC_COUNTERS, &finest,
				  &err) == 0 && finest == 10,
	      "finest counters period %u", finest);
	CHECK(store_finest_period(st, "all", "nosuch", &finest, &err) == 0 &&
	      finest == 0, "finest period of a metric without records %u",
	      finest);

	check_section("store_put refuses bad metric names and counter sets");
	expect_refused(st, rec("m1", "Jitter", 60, T0, 1, d_rtt, 3),
		       "metric \"Jitter\"");
	expect_refused(st, rec("m1", "a..b", 60, T0, 1, d_rtt, 3),
		       "not a metric name");
	expect_refused(st, rec("m1", METRIC_COUNTERS, 60, T0, 1, d_rtt, 3),
		       "counter set");
	expect_refused(st, rec("m1", METRIC_COUNTERS, 60, T0, 3,
			       (const uint8_t *)set.buf, set.len),
		       "count 3, but the set holds 2 counters");
	g = read_metric(st, "m1", METRIC_COUNTERS, 60, T0, T0);
	CHECK(g.n == 1 && g.count[0] == 2, "refused puts changed counters");
	counter_set_free(&cs);
	strbuf_release(&set);
}
