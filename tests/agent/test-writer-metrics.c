// SPDX-License-Identifier: BSD-2-Clause
/*
 * The agent's writer with every metric, against a real SQLite file: a
 * restart within a period merges the earlier run's partial records metric
 * by metric (rtt and jitter digests, counter sets counter by counter,
 * exactly), later periods keep their metrics apart, and records of every
 * metric spooled while the store was away reach it with their metric.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec.h"
#include "counter_set.h"
#include "hist.h"
#include "metric.h"
#include "spool.h"
#include "store.h"
#include "strbuf.h"
#include "tdigest.h"
#include "writer.h"

#define HOST "host-w"
#define PERIOD_S 60
#define START_S 1700006400 /* the period both runs share */

/* A record's bytes, kept until the test ends. */
struct built {
	struct store_record rec;
	uint8_t *digest;
};

/* A partial (periods 0) or complete record of @n samples of @us. */
static struct built dist_record(const char *metric, int64_t start_s,
				uint32_t periods, uint32_t us, uint64_t n)
{
	struct built b = { 0 };
	struct tdigest *td = NULL;
	struct hist *h = NULL;
	size_t len = 0;

	REQUIRE_CMP(hist_new(5, &h), ==, 0);
	hist_record(h, us, n);
	REQUIRE_CMP(tdigest_from_hist(h, TDIGEST_COMPRESSION_DEFAULT, &td), ==,
		    0);
	REQUIRE_CMP(codec_encode(td, &b.digest, &len), ==, 0);
	b.rec = (struct store_record){
		.host = HOST, .group = "all", .metric = metric,
		.period_s = PERIOD_S, .start_s = start_s,
		.periods = periods, .periods_total = 1,
		.count = n, .sum_us = hist_sum_us(h),
		.min_us = hist_min_us(h), .max_us = hist_max_us(h),
		.digest = b.digest, .digest_len = len,
	};
	tdigest_free(td);
	hist_free(h);
	return b;
}

static struct built counter_record(int64_t start_s, uint32_t periods,
				   const char *const *names,
				   const uint64_t *values, size_t n)
{
	struct counter_set c = COUNTER_SET_INIT;
	struct strbuf out = STRBUF_INIT;
	struct built b = { 0 };
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		REQUIRE_CMP(counter_set_add(&c, names[i], values[i]), ==, 0);
	REQUIRE_CMP(counter_set_encode(&c, &out), ==, 0);
	b.digest = (uint8_t *)strbuf_detach(&out, &len);
	REQUIRE(b.digest, "out of memory");
	b.rec = (struct store_record){
		.host = HOST, .group = "all", .metric = METRIC_COUNTERS,
		.period_s = PERIOD_S, .start_s = start_s,
		.periods = periods, .periods_total = 1,
		.count = c.n, .digest = b.digest, .digest_len = len,
	};
	counter_set_free(&c);
	return b;
}

/* What one store_query() found (at most one record expected). */
struct found {
	int n;
	uint64_t count;
	uint32_t periods;
	double min_us, max_us;
	struct counter_set counters;
	bool is_counters;
};

static int take(const struct store_record *r, void *arg)
{
	struct found *f = arg;
	struct rttq_error err = { 0 };

	f->n++;
	f->count = r->count;
	f->periods = r->periods;
	f->min_us = r->min_us;
	f->max_us = r->max_us;
	if (f->is_counters)
		REQUIRE(counter_set_decode(r->digest, r->digest_len,
					   &f->counters, &err) == 0,
			"stored counter set: %s", err.msg);
	return 0;
}

static struct found query(struct store *st, const char *metric,
			  int64_t start_s)
{
	struct store_query q = {
		.host = HOST, .group = "all", .metric = metric,
		.period_s = PERIOD_S, .from_s = start_s, .to_s = start_s,
	};
	struct found f = { .counters = COUNTER_SET_INIT };
	struct rttq_error err = { 0 };

	f.is_counters = strcmp(metric, METRIC_COUNTERS) == 0;
	REQUIRE(store_query(st, &q, take, &f, &err) == 0, "query: %s", err.msg);
	return f;
}

static void expect_counters(struct found *f, const char *const *names,
			    const uint64_t *values, size_t n)
{
	REQUIRE_CMP(f->n, ==, 1);
	REQUIRE_CMP(f->count, ==, n);
	REQUIRE_CMP(f->counters.n, ==, n);
	for (size_t i = 0; i < n; i++) {
		REQUIRE_STR(f->counters.v[i].name, names[i]);
		REQUIRE_CMP(f->counters.v[i].value, ==, values[i]);
	}
	counter_set_free(&f->counters);
}

static struct writer *start_writer(struct store *st, struct spool *sp,
				   int64_t first_start_s)
{
	struct writer_config cfg = {
		.store = st, .spool = sp, .host = HOST, .retry_ms = 1000,
		.first_start_s = first_start_s,
	};
	struct rttq_error err = { 0 };
	struct writer *w = NULL;

	REQUIRE(writer_start(&cfg, &w, &err) == 0, "writer_start: %s", err.msg);
	return w;
}

int main(void)
{
	static const char *const first_names[] = { "retrans.fast", "segs.out" };
	static const uint64_t first_values[] = { 3, 100 };
	static const char *const second_names[] = { "drops.tcp.netfilter_drop",
						    "retrans.fast" };
	static const uint64_t second_values[] = { 1, 2 };
	static const char *const merged_names[] = { "drops.tcp.netfilter_drop",
						    "retrans.fast", "segs.out" };
	static const uint64_t merged_values[] = { 1, 5, 100 };
	static const char *const next_names[] = { "segs.out" };
	static const uint64_t next_values[] = { (1ull << 62) + 7 };
	char dir[] = "/tmp/rttq-writer-metrics.XXXXXX";
	char url[128], spool_dir[128], cmd[160];
	struct rttq_error err = { 0 };
	struct built earlier[3], later[5], spooled[2];
	struct store *st = NULL;
	struct spool *sp = NULL;
	struct writer *w;
	struct found f;
	size_t i;

	REQUIRE(mkdtemp(dir), "mkdtemp");
	snprintf(url, sizeof(url), "sqlite:%s/w.db", dir);
	snprintf(spool_dir, sizeof(spool_dir), "%s/spool", dir);

	/* The earlier run stopped inside the period: partial records. */
	earlier[0] = dist_record(METRIC_RTT, START_S, 0, 1000, 10);
	earlier[1] = dist_record(METRIC_JITTER, START_S, 0, 50, 4);
	earlier[2] = counter_record(START_S, 0, first_names, first_values, 2);
	REQUIRE(store_open(url, &st, &err) == 0, "open: %s", err.msg);
	for (i = 0; i < 3; i++)
		REQUIRE(store_put(st, &earlier[i].rec, 1, &err) == 0,
			"put: %s", err.msg);

	/* The next run starts in the same period. */
	later[0] = dist_record(METRIC_RTT, START_S, 0, 1000, 5);
	later[1] = dist_record(METRIC_JITTER, START_S, 0, 60, 2);
	later[2] = counter_record(START_S, 0, second_names, second_values, 2);
	later[3] = counter_record(START_S + PERIOD_S, 1, next_names,
				  next_values, 1);
	later[4] = dist_record(METRIC_RTT, START_S + PERIOD_S, 1, 2000, 3);
	w = start_writer(st, NULL, START_S);
	for (i = 0; i < 5; i++)
		REQUIRE_CMP(writer_submit(w, &later[i].rec, 1), ==, 0);
	REQUIRE_CMP(writer_stop(w, 5000), ==, WRITER_ALL_WRITTEN);
	writer_free(w);

	f = query(st, METRIC_COUNTERS, START_S);
	REQUIRE_CMP(f.periods, ==, 0);
	expect_counters(&f, merged_names, merged_values, 3);
	f = query(st, METRIC_RTT, START_S);
	REQUIRE_CMP(f.n, ==, 1);
	REQUIRE_CMP(f.count, ==, 15);
	f = query(st, METRIC_JITTER, START_S);
	REQUIRE_CMP(f.n, ==, 1);
	REQUIRE_CMP(f.count, ==, 6);
	REQUIRE_CMP(f.max_us, <, 64);
	f = query(st, METRIC_COUNTERS, START_S + PERIOD_S);
	expect_counters(&f, next_names, next_values, 1);
	f = query(st, METRIC_RTT, START_S + PERIOD_S);
	REQUIRE_CMP(f.n, ==, 1);
	REQUIRE_CMP(f.count, ==, 3);
	REQUIRE_CMP(f.min_us, >=, 1900);
	f = query(st, METRIC_JITTER, START_S + PERIOD_S);
	REQUIRE_CMP(f.n, ==, 0);

	/* Spooled while the store was away: each keeps its metric. */
	spooled[0] = dist_record(METRIC_HANDSHAKE, START_S + 2 * PERIOD_S, 1,
				 700, 9);
	spooled[1] = counter_record(START_S + 2 * PERIOD_S, 1, first_names,
				    first_values, 2);
	REQUIRE(spool_open(spool_dir, 0, NULL, NULL, &sp, &err) == 0,
		"spool: %s", err.msg);
	REQUIRE(spool_append(sp, &spooled[0].rec, 1, &err) == 0, "append: %s",
		err.msg);
	REQUIRE(spool_append(sp, &spooled[1].rec, 1, &err) == 0, "append: %s",
		err.msg);
	w = start_writer(st, sp, -1);
	REQUIRE_CMP(writer_stop(w, 5000), ==, WRITER_ALL_WRITTEN);
	writer_free(w);
	REQUIRE_CMP(spool_records(sp), ==, 0);
	f = query(st, METRIC_HANDSHAKE, START_S + 2 * PERIOD_S);
	REQUIRE_CMP(f.n, ==, 1);
	REQUIRE_CMP(f.count, ==, 9);
	f = query(st, METRIC_COUNTERS, START_S + 2 * PERIOD_S);
	expect_counters(&f, first_names, first_values, 2);
	f = query(st, METRIC_RTT, START_S + 2 * PERIOD_S);
	REQUIRE_CMP(f.n, ==, 0);

	spool_close(sp);
	store_close(st);
	for (i = 0; i < 3; i++)
		free(earlier[i].digest);
	for (i = 0; i < 5; i++)
		free(later[i].digest);
	for (i = 0; i < 2; i++)
		free(spooled[i].digest);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_report();
}
