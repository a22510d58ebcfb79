// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the series table (common/series/series.h) on a test clock: 5 s
 * base periods around a UTC midnight (also an hour boundary), checking the
 * keys, counts, sums, coverage numbers and digests of every emitted record,
 * and that counter sets are summed exactly through periods and rollups
 * while distributions of different metrics never mix.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec.h"
#include "counter_set.h"
#include "hist.h"
#include "rng.h"
#include "series.h"
#include "tdigest.h"

/* 2023-11-15T00:00:00Z: a day start, hence an hour start too. */
#define MIDNIGHT_S 1700006400
#define PERIOD_S 5
#define SUB_BITS 5
#define MAX_RECS 1024

struct kept_record {
	struct store_record rec;
	char host[STORE_HOST_MAX];
	char group[STORE_GROUP_MAX];
	char metric[METRIC_NAME_MAX];
	uint8_t *digest;
	unsigned int batch; /* which emit call delivered it */
};

struct sink {
	struct kept_record recs[MAX_RECS];
	size_t n;
	unsigned int batches;
	int fail_with; /* returned by the emit function when non-zero */
};

static int keep_records(const struct store_record *recs, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t i;

	s->batches++;
	if (s->fail_with)
		return s->fail_with;
	for (i = 0; i < n; i++) {
		struct kept_record *k = &s->recs[s->n++];

		REQUIRE_CMP(s->n, <=, MAX_RECS);
		k->rec = recs[i];
		snprintf(k->host, sizeof(k->host), "%s", recs[i].host);
		snprintf(k->group, sizeof(k->group), "%s", recs[i].group);
		snprintf(k->metric, sizeof(k->metric), "%s",
			 metric_or_rtt(recs[i].metric));
		k->digest = malloc(recs[i].digest_len);
		REQUIRE(k->digest, "out of memory");
		memcpy(k->digest, recs[i].digest, recs[i].digest_len);
		k->rec.host = k->host;
		k->rec.group = k->group;
		k->rec.metric = k->metric;
		k->rec.digest = k->digest;
		k->batch = s->batches;
	}
	return 0;
}

static void sink_clear(struct sink *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->recs[i].digest);
	memset(s, 0, sizeof(*s));
}

static const struct kept_record *find_kept(const struct sink *s,
					   const char *group, const char *metric,
					   uint32_t period_s, int64_t start_s)
{
	const struct kept_record *found = NULL;
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct store_record *r = &s->recs[i].rec;

		if (strcmp(r->group, group) == 0 &&
		    strcmp(r->metric, metric) == 0 && r->period_s == period_s &&
		    r->start_s == start_s) {
			/* one record per key */
			REQUIRE(!found, "two records of %s/%s/%u@%lld", group,
				metric, period_s, (long long)start_s);
			found = &s->recs[i];
		}
	}
	return found;
}

static const struct store_record *find(const struct sink *s, const char *group,
				       uint32_t period_s, int64_t start_s)
{
	const struct kept_record *k =
		find_kept(s, group, METRIC_RTT, period_s, start_s);

	return k ? &k->rec : NULL;
}

static struct series_table *table_new(struct sink *s, uint32_t period_s,
				      uint32_t max_groups)
{
	struct series_config cfg = {
		.host = "test-host",
		.period_s = period_s,
		.sub_bits = SUB_BITS,
		.compression = 100,
		.max_groups = max_groups,
		.emit = keep_records,
		.emit_arg = s,
	};
	struct rttq_error err = {0};
	struct series_table *t = NULL;

	REQUIRE_CMP(series_table_new(&cfg, &t, &err), ==, 0);
	return t;
}

/* @n RTT-like values: log-normal around 2 ms (z from 12 uniforms). */
static struct hist *random_hist(uint64_t *state, unsigned int n)
{
	struct hist *h = NULL;
	unsigned int i, k;

	REQUIRE_CMP(hist_new(SUB_BITS, &h), ==, 0);
	for (i = 0; i < n; i++) {
		double z = -6;

		for (k = 0; k < 12; k++)
			z += (double)(rng_xorshift64star(state) >> 11) /
			     (1ull << 53);
		hist_record(h, (uint32_t)(2000 * exp(0.6 * z)), 1);
	}
	return h;
}

/* The decoded digest of @r agrees with @ref to 1 % at the quantiles users
 * ask for, and carries the exact count.  Records hold >= 10,000 samples:
 * with a few thousand, p99 can differ by up to a bucket width (3.1 % at
 * g = 5) since both only know values to within a bucket. */
static void check_digest(const struct store_record *r, const struct hist *ref)
{
	static const double qs[] = { 0.5, 0.75, 0.9, 0.95, 0.99 };
	struct tdigest *td = NULL;
	struct rttq_error err = {0};
	size_t i;

	REQUIRE_CMP(codec_decode(r->digest, r->digest_len, &td, &err), ==, 0);
	REQUIRE_CMP(tdigest_count(td), ==, r->count);
	REQUIRE_CMP(hist_count(ref), ==, r->count);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double want = hist_quantile(ref, qs[i]);
		double got = tdigest_quantile(td, qs[i]);

		REQUIRE(fabs(got - want) <= 0.01 * want,
			"%s/%u@%lld q%.2f: digest %.1f hist %.1f", r->group,
			r->period_s, (long long)r->start_s, qs[i], got, want);
	}
	tdigest_free(td);
}

static void test_config_is_validated(void)
{
	struct series_config cfg = {
		.host = "h", .period_s = 7, .sub_bits = SUB_BITS,
		.emit = keep_records,
	};
	struct rttq_error err = {0};
	struct series_table *t = NULL;

	REQUIRE_CMP(series_table_new(&cfg, &t, &err), ==, -EINVAL);
	REQUIRE(!t, "a table came back with the error");
	REQUIRE_CONTAINS(err.msg, "period 7");
	cfg.period_s = 60;
	cfg.sub_bits = 9;
	REQUIRE_CMP(series_table_new(&cfg, &t, &err), ==, -EINVAL);
	REQUIRE_CONTAINS(err.msg, "sub-bits");
	cfg.sub_bits = SUB_BITS;
	cfg.compression = 5;
	REQUIRE_CMP(series_table_new(&cfg, &t, &err), ==, -EINVAL);
	REQUIRE_CONTAINS(err.msg, "compression");
	cfg.compression = 0;
	cfg.host = "";
	REQUIRE_CMP(series_table_new(&cfg, &t, &err), ==, -EINVAL);
	REQUIRE_CONTAINS(err.msg, "host");
	cfg.host = "h";
	REQUIRE_CMP(series_table_new(&cfg, &t, &err), ==, 0);
	series_table_free(t);
	series_table_free(NULL);

	REQUIRE(series_period_valid(1), "refused");
	REQUIRE(series_period_valid(5), "refused");
	REQUIRE(series_period_valid(60), "refused");
	REQUIRE(series_period_valid(3600), "refused");
	REQUIRE(!series_period_valid(0), "accepted");
	REQUIRE(!series_period_valid(7), "accepted");
	REQUIRE(!series_period_valid(7200), "accepted");
	/* 5 min rollups only where 300 s is several base periods. */
	REQUIRE(series_rollup_built(5, SERIES_ROLLUP_5MIN), "not built");
	REQUIRE(series_rollup_built(60, SERIES_ROLLUP_5MIN), "not built");
	REQUIRE(!series_rollup_built(120, SERIES_ROLLUP_5MIN), "built");
	REQUIRE(!series_rollup_built(300, SERIES_ROLLUP_5MIN), "built");
	REQUIRE(!series_rollup_built(600, SERIES_ROLLUP_5MIN), "built");
	REQUIRE(series_rollup_built(600, SERIES_ROLLUP_HOUR), "not built");
	REQUIRE(!series_rollup_built(3600, SERIES_ROLLUP_HOUR), "built");
	REQUIRE(series_rollup_built(3600, SERIES_ROLLUP_DAY), "not built");
}

/* The sum of the counts of @group's base records in [from_s, to_s). */
static uint64_t base_count_sum(const struct sink *s, const char *group,
			       int64_t from_s, int64_t to_s)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < s->n; i++) {
		const struct store_record *r = &s->recs[i].rec;

		if (strcmp(r->group, group) == 0 && r->period_s == PERIOD_S &&
		    r->start_s >= from_s && r->start_s < to_s)
			sum += r->count;
	}
	return sum;
}

static void check_record(const struct store_record *r, const struct hist *ref,
			 uint32_t periods, uint32_t periods_total)
{
	REQUIRE(r, "no such record");
	REQUIRE_STR(r->host, "test-host");
	REQUIRE_CMP(r->periods, ==, periods);
	REQUIRE_CMP(r->periods_total, ==, periods_total);
	REQUIRE_CMP(r->count, ==, hist_count(ref));
	REQUIRE_CMP(fabs(r->sum_us - hist_sum_us(ref)), <=, 1e-9 * r->sum_us);
	REQUIRE_CMP(r->min_us, ==, hist_min_us(ref));
	REQUIRE_CMP(r->max_us, ==, hist_max_us(ref));
	check_digest(r, ref);
}

/*
 * Twelve base periods before midnight, six after, and a flush two seconds
 * into the seventh.  "all" gets samples from a drain every 2 s, "rport:443"
 * only in every other period.
 */
static void test_periods_and_rollups_across_midnight(void)
{
	const int64_t first_s = MIDNIGHT_S - 12 * PERIOD_S;
	const int64_t flush_s = MIDNIGHT_S + 6 * PERIOD_S + 2;
	const uint32_t per_hour = 3600 / PERIOD_S, per_day = 86400 / PERIOD_S;
	struct hist *ref_all[19] = {0}, *ref_443[19] = {0};
	struct hist *roll_all[2] = {0}, *roll_443[2] = {0};
	struct sink s = {0};
	struct series_table *t = table_new(&s, PERIOD_S, 0);
	const struct store_record *r;
	uint64_t state = 42;
	int p, half;

	REQUIRE_CMP(series_table_open_start(t), ==, -1);
	REQUIRE_CMP(series_table_tick(t, first_s), ==, 0);
	REQUIRE_CMP(series_table_open_start(t), ==, first_s);
	for (half = 0; half < 2; half++) {
		REQUIRE_CMP(hist_new(SUB_BITS, &roll_all[half]), ==, 0);
		REQUIRE_CMP(hist_new(SUB_BITS, &roll_443[half]), ==, 0);
	}

	for (p = 0; p < 19; p++) {
		int64_t start_s = first_s + p * PERIOD_S, at_s;

		half = start_s >= MIDNIGHT_S;
		REQUIRE_CMP(hist_new(SUB_BITS, &ref_all[p]), ==, 0);
		for (at_s = start_s; at_s < start_s + PERIOD_S && at_s <= flush_s;
		     at_s += 2) {
			struct hist *part = random_hist(&state, 5000 + 70 * p);

			REQUIRE_CMP(series_table_add(t, "all", at_s, part), ==,
				    0);
			REQUIRE_CMP(hist_merge(ref_all[p], part), ==, 0);
			hist_free(part);
		}
		REQUIRE_CMP(hist_merge(roll_all[half], ref_all[p]), ==, 0);
		if (p % 2 == 0) {
			ref_443[p] = random_hist(&state, 10000);
			REQUIRE_CMP(series_table_add(t, "rport:443",
						     start_s + 1, ref_443[p]),
				    ==, 0);
			REQUIRE_CMP(hist_merge(roll_443[half], ref_443[p]), ==,
				    0);
		}
	}
	/* Base periods 0..17 are closed, 18 is open; the rollups of the
	 * hour and day before midnight went out with period 11. */
	REQUIRE_CMP(series_table_open_start(t), ==, MIDNIGHT_S + 6 * PERIOD_S);
	REQUIRE(!find(&s, "all", PERIOD_S, MIDNIGHT_S + 6 * PERIOD_S),
		"the open period went out");
	REQUIRE(!find(&s, "all", 3600, MIDNIGHT_S), "the open hour went out");
	REQUIRE_CMP(series_table_flush(t, flush_s), ==, 0);
	REQUIRE_CMP(series_table_open_start(t), ==, -1);
	REQUIRE_CMP(series_table_groups(t), ==, 0);

	for (p = 0; p < 19; p++) {
		int64_t start_s = first_s + p * PERIOD_S;
		uint32_t periods = p < 18 ? 1 : 0; /* 18 is cut by the flush */

		check_record(find(&s, "all", PERIOD_S, start_s), ref_all[p],
			     periods, 1);
		if (p % 2 == 0)
			check_record(find(&s, "rport:443", PERIOD_S, start_s),
				     ref_443[p], periods, 1);
		else
			REQUIRE(!find(&s, "rport:443", PERIOD_S, start_s),
				"a record of a period without samples");
	}

	/* Before midnight: 12 observed periods; a quiet period of
	 * "rport:443" still counts as observed. */
	r = find(&s, "all", 3600, MIDNIGHT_S - 3600);
	check_record(r, roll_all[0], 12, per_hour);
	REQUIRE_CMP(r->count, ==,
		    base_count_sum(&s, "all", MIDNIGHT_S - 3600, MIDNIGHT_S));
	/* ... written in the same batch as the last base period before it */
	REQUIRE_CMP(find_kept(&s, "all", METRIC_RTT, 3600,
			      MIDNIGHT_S - 3600)->batch, ==,
		    find_kept(&s, "all", METRIC_RTT, PERIOD_S,
			      MIDNIGHT_S - PERIOD_S)->batch);
	check_record(find(&s, "rport:443", 3600, MIDNIGHT_S - 3600),
		     roll_443[0], 12, per_hour);
	check_record(find(&s, "all", 86400, MIDNIGHT_S - 86400), roll_all[0],
		     12, per_day);
	check_record(find(&s, "rport:443", 86400, MIDNIGHT_S - 86400),
		     roll_443[0], 12, per_day);

	/* After midnight, written by the flush: 6 complete periods plus the
	 * partial one's samples. */
	r = find(&s, "all", 3600, MIDNIGHT_S);
	check_record(r, roll_all[1], 6, per_hour);
	REQUIRE_CMP(r->count, ==,
		    base_count_sum(&s, "all", MIDNIGHT_S, MIDNIGHT_S + 3600));
	check_record(find(&s, "rport:443", 3600, MIDNIGHT_S), roll_443[1], 6,
		     per_hour);
	check_record(find(&s, "all", 86400, MIDNIGHT_S), roll_all[1], 6,
		     per_day);
	check_record(find(&s, "rport:443", 86400, MIDNIGHT_S), roll_443[1], 6,
		     per_day);

	/* The 5 min spans before and after midnight hold the same periods
	 * as the hours. */
	check_record(find(&s, "all", 300, MIDNIGHT_S - 300), roll_all[0], 12,
		     300 / PERIOD_S);
	check_record(find(&s, "rport:443", 300, MIDNIGHT_S - 300),
		     roll_443[0], 12, 300 / PERIOD_S);
	check_record(find(&s, "all", 300, MIDNIGHT_S), roll_all[1], 6,
		     300 / PERIOD_S);
	check_record(find(&s, "rport:443", 300, MIDNIGHT_S), roll_443[1], 6,
		     300 / PERIOD_S);

	/* 19 + 10 base records, 2 groups x 2 spans x (5 min + hour + day). */
	REQUIRE_CMP(s.n, ==, 19 + 10 + 12);
	/* One batch per close that had samples: 18 ticks and the flush. */
	REQUIRE_CMP(s.batches, ==, 19);

	series_table_free(t);
	sink_clear(&s);
	for (p = 0; p < 19; p++) {
		hist_free(ref_all[p]);
		hist_free(ref_443[p]);
	}
	for (half = 0; half < 2; half++) {
		hist_free(roll_all[half]);
		hist_free(roll_443[half]);
	}
}

/* Started two seconds into a period: that one is partial and not counted;
 * a stall over three periods leaves them uncounted too. */
static void test_partial_start_and_stall(void)
{
	uint64_t state = 7;
	struct sink s = {0};
	struct series_table *t = table_new(&s, PERIOD_S, 0);
	struct hist *h = random_hist(&state, 1000);
	const struct store_record *r;
	int64_t now_s;

	REQUIRE_CMP(series_table_tick(t, MIDNIGHT_S - 58), ==, 0);
	REQUIRE_CMP(series_table_add(t, "all", MIDNIGHT_S - 57, h), ==, 0);
	REQUIRE_CMP(series_table_add(t, "all", MIDNIGHT_S - 53, h), ==, 0);
	/* ticks at -55, -50; then nothing until -30 */
	REQUIRE_CMP(series_table_tick(t, MIDNIGHT_S - 50), ==, 0);
	REQUIRE_CMP(series_table_add(t, "all", MIDNIGHT_S - 49, h), ==, 0);
	REQUIRE_CMP(series_table_tick(t, MIDNIGHT_S - 30), ==, 0);
	REQUIRE_CMP(series_table_tick(t, MIDNIGHT_S - 25), ==, 0);
	/* late data (clock stepped back) lands in the open period */
	REQUIRE_CMP(series_table_add(t, "all", MIDNIGHT_S - 100, h), ==, 0);
	for (now_s = MIDNIGHT_S - 20; now_s <= MIDNIGHT_S; now_s += PERIOD_S)
		REQUIRE_CMP(series_table_tick(t, now_s), ==, 0);

	r = find(&s, "all", PERIOD_S, MIDNIGHT_S - 60);
	REQUIRE(r, "no such record");
	REQUIRE_CMP(r->periods, ==, 0);
	REQUIRE_CMP(r->periods_total, ==, 1);
	REQUIRE_CMP(r->count, ==, hist_count(h));
	r = find(&s, "all", PERIOD_S, MIDNIGHT_S - 55);
	REQUIRE(r, "no such record");
	REQUIRE_CMP(r->periods, ==, 1);
	REQUIRE_CMP(r->count, ==, hist_count(h));
	r = find(&s, "all", PERIOD_S, MIDNIGHT_S - 25);
	REQUIRE(r, "no such record");
	REQUIRE_CMP(r->periods, ==, 1);
	REQUIRE_CMP(r->count, ==, hist_count(h));
	/* observed whole: -55, -50, then -30 .. -5: 8 periods */
	r = find(&s, "all", 3600, MIDNIGHT_S - 3600);
	REQUIRE(r, "no such record");
	REQUIRE_CMP(r->periods, ==, 8);
	REQUIRE_CMP(r->periods_total, ==, 720);
	REQUIRE_CMP(r->count, ==, 4 * hist_count(h));
	r = find(&s, "all", 300, MIDNIGHT_S - 300);
	REQUIRE(r, "no such record");
	REQUIRE_CMP(r->periods, ==, 8);
	REQUIRE_CMP(r->periods_total, ==, 60);
	REQUIRE_CMP(r->count, ==, 4 * hist_count(h));

	series_table_free(t);
	sink_clear(&s);
	hist_free(h);
}

/* max_groups bounds the keyed groups; "all" always has room; refused
 * samples are counted. */
static void test_group_bound(void)
{
	uint64_t state = 9;
	struct sink s = {0};
	struct series_table *t = table_new(&s, PERIOD_S, 2);
	struct hist *h = random_hist(&state, 50);
	struct hist *other = NULL;

	REQUIRE_CMP(series_table_add(t, "raddr:10.0.0.1", MIDNIGHT_S, h), ==,
		    0);
	REQUIRE_CMP(series_table_add(t, "raddr:10.0.0.2", MIDNIGHT_S, h), ==,
		    0);
	REQUIRE_CMP(series_table_add(t, "raddr:10.0.0.3", MIDNIGHT_S, h), ==,
		    -ENOSPC);
	REQUIRE_CMP(series_table_add(t, "all", MIDNIGHT_S, h), ==, 0);
	REQUIRE_CMP(series_table_add(t, "raddr:10.0.0.1", MIDNIGHT_S + 1, h),
		    ==, 0);
	REQUIRE_CMP(series_table_groups(t), ==, 3);
	REQUIRE_CMP(series_table_dropped(t), ==, hist_count(h));
	REQUIRE_CMP(series_table_add(t, "", MIDNIGHT_S, h), ==, -EINVAL);
	REQUIRE_CMP(hist_new(SUB_BITS + 1, &other), ==, 0);
	REQUIRE_CMP(series_table_add(t, "all", MIDNIGHT_S, other), ==, -EINVAL);

	/* emit failures reach the caller */
	s.fail_with = -EIO;
	REQUIRE_CMP(series_table_tick(t, MIDNIGHT_S + PERIOD_S), ==, -EIO);
	REQUIRE_CMP(s.batches, ==, 1);
	REQUIRE_CMP(s.n, ==, 0);

	series_table_free(t);
	sink_clear(&s);
	hist_free(h);
	hist_free(other);
}

/* With hour-long base periods there is no separate hour rollup. */
static void test_hour_base_period(void)
{
	uint64_t state = 11;
	struct sink s = {0};
	struct series_table *t = table_new(&s, 3600, 0);
	struct hist *h = random_hist(&state, 100);
	const struct store_record *r;

	REQUIRE_CMP(series_table_tick(t, MIDNIGHT_S - 3600), ==, 0);
	REQUIRE_CMP(series_table_add(t, "all", MIDNIGHT_S - 10, h), ==, 0);
	REQUIRE_CMP(series_table_tick(t, MIDNIGHT_S), ==, 0);
	REQUIRE_CMP(s.n, ==, 2);
	r = find(&s, "all", 3600, MIDNIGHT_S - 3600);
	REQUIRE(r, "no such record");
	REQUIRE_CMP(r->periods, ==, 1);
	REQUIRE_CMP(r->periods_total, ==, 1);
	r = find(&s, "all", 86400, MIDNIGHT_S - 86400);
	REQUIRE(r, "no such record");
	REQUIRE_CMP(r->periods, ==, 1);
	REQUIRE_CMP(r->periods_total, ==, 24);

	series_table_free(t);
	sink_clear(&s);
	hist_free(h);
}

/* @r is a counter record holding exactly @want. */
static void check_counters(const struct kept_record *k,
			   const struct counter_set *want, uint32_t periods,
			   uint32_t periods_total)
{
	struct counter_set got = COUNTER_SET_INIT;
	struct rttq_error err = {0};
	size_t i;

	REQUIRE(k, "no counter record");
	REQUIRE_CMP(k->rec.periods, ==, periods);
	REQUIRE_CMP(k->rec.periods_total, ==, periods_total);
	REQUIRE_CMP(counter_set_decode(k->rec.digest, k->rec.digest_len, &got,
				       &err), ==, 0);
	REQUIRE_CMP(k->rec.count, ==, want->n);
	REQUIRE_CMP(got.n, ==, want->n);
	for (i = 0; i < want->n; i++) {
		REQUIRE_STR(got.v[i].name, want->v[i].name);
		REQUIRE_CMP(got.v[i].value, ==, want->v[i].value);
	}
	counter_set_free(&got);
}

/* @h's samples, each value @us. */
static struct hist *const_hist(uint32_t us, uint64_t n)
{
	struct hist *h = NULL;

	REQUIRE_CMP(hist_new(SUB_BITS, &h), ==, 0);
	hist_record(h, us, n);
	return h;
}

/*
 * The 12 base periods before midnight and 6 after, with a flush 2 s into
 * the seventh, as above, now with three kinds of series per group: "all"
 * has rtt (1 ms), jitter (50 us) and counters that move every drain (one
 * of them only now and then); "raddr:10.0.0.1" has jitter and counters in
 * every third period; "raddr:10.0.0.2" has rtt and counters that never
 * move; "raddr:10.0.0.3" only counters that never move.  Every counter
 * record holds the exact sums; distributions keep to their metric.
 */
static void test_counters_and_metrics(void)
{
	const int64_t first_s = MIDNIGHT_S - 12 * PERIOD_S;
	const int64_t flush_s = MIDNIGHT_S + 6 * PERIOD_S + 2;
	struct counter_set ref_all[19], ref_one[19];
	struct counter_set roll_all[2] = { COUNTER_SET_INIT, COUNTER_SET_INIT };
	struct counter_set roll_one[2] = { COUNTER_SET_INIT, COUNTER_SET_INIT };
	struct counter_set still = COUNTER_SET_INIT;
	uint64_t rtt_n[2] = {0}, jit_n[2] = {0}, one_n[2] = {0};
	struct hist *rtt = const_hist(1000, 3), *jit = const_hist(50, 2);
	struct sink s = {0};
	struct series_table *t = table_new(&s, PERIOD_S, 0);
	const struct store_record *r;
	uint64_t k = 0;
	int p, half;

	REQUIRE_CMP(counter_set_add(&still, "retrans.fast", 0), ==, 0);
	REQUIRE_CMP(counter_set_add(&still, "segs.out", 0), ==, 0);
	REQUIRE_CMP(series_table_tick(t, first_s), ==, 0);
	for (p = 0; p < 19; p++) {
		int64_t start_s = first_s + p * PERIOD_S, at_s;

		half = start_s >= MIDNIGHT_S;
		ref_all[p] = (struct counter_set)COUNTER_SET_INIT;
		ref_one[p] = (struct counter_set)COUNTER_SET_INIT;
		for (at_s = start_s; at_s < start_s + PERIOD_S && at_s <= flush_s;
		     at_s++, k++) {
			struct counter_set d = COUNTER_SET_INIT;

			/* Near 2^40 per drain: sums stay exact in u64,
			 * where a double would round them. */
			REQUIRE_CMP(counter_set_add(&d, "segs.out",
						    (1ull << 40) + k), ==, 0);
			REQUIRE_CMP(counter_set_add(&d, "retrans.fast", k % 7),
				    ==, 0);
			REQUIRE_CMP(counter_set_add(&d, "drops.tcp.netfilter_drop",
						    k % 4 == 0), ==, 0);
			REQUIRE_CMP(series_table_add_counters(t, "all", at_s, &d),
				    ==, 0);
			REQUIRE_CMP(series_table_add(t, "all", at_s, rtt), ==, 0);
			REQUIRE_CMP(series_table_add_metric(t, "all",
							    METRIC_JITTER, at_s,
							    jit), ==, 0);
			rtt_n[half] += hist_count(rtt);
			jit_n[half] += hist_count(jit);
			for (size_t i = 0; i < d.n; i++)
				if (d.v[i].value)
					REQUIRE_CMP(counter_set_add(&ref_all[p],
								    d.v[i].name,
								    d.v[i].value),
						    ==, 0);
			counter_set_free(&d);

			REQUIRE_CMP(series_table_add(t, "raddr:10.0.0.2", at_s,
						     rtt), ==, 0);
			REQUIRE_CMP(series_table_add_counters(t, "raddr:10.0.0.2",
							      at_s, &still),
				    ==, 0);
			REQUIRE_CMP(series_table_add_counters(t, "raddr:10.0.0.3",
							      at_s, &still),
				    ==, 0);
		}
		REQUIRE_CMP(counter_set_merge(&roll_all[half], &ref_all[p]), ==,
			    0);
		if (p % 3 == 0) {
			struct counter_set d = COUNTER_SET_INIT;

			REQUIRE_CMP(counter_set_add(&d, "retrans.timeout", 1 + p),
				    ==, 0);
			REQUIRE_CMP(counter_set_add(&d, "conn.opened", 2), ==, 0);
			REQUIRE_CMP(series_table_add_counters(t, "raddr:10.0.0.1",
							      start_s + 1, &d),
				    ==, 0);
			REQUIRE_CMP(series_table_add_metric(t, "raddr:10.0.0.1",
							    METRIC_JITTER,
							    start_s + 1, jit),
				    ==, 0);
			one_n[half] += hist_count(jit);
			REQUIRE_CMP(counter_set_merge(&ref_one[p], &d), ==, 0);
			REQUIRE_CMP(counter_set_merge(&roll_one[half], &d), ==,
				    0);
			counter_set_free(&d);
		}
	}
	/* Counters that never moved made no group. */
	REQUIRE_CMP(series_table_groups(t), ==, 3);
	REQUIRE_CMP(series_table_flush(t, flush_s), ==, 0);

	for (p = 0; p < 19; p++) {
		int64_t start_s = first_s + p * PERIOD_S;
		const struct kept_record *one =
			find_kept(&s, "raddr:10.0.0.1", METRIC_COUNTERS,
				  PERIOD_S, start_s);

		check_counters(find_kept(&s, "all", METRIC_COUNTERS, PERIOD_S,
					 start_s),
			       &ref_all[p], p < 18, 1);
		if (p % 3 == 0)
			check_counters(one, &ref_one[p], p < 18, 1);
		else
			REQUIRE(!one, "a counter record for a quiet period");
		REQUIRE(!find_kept(&s, "raddr:10.0.0.1", METRIC_RTT, PERIOD_S,
				   start_s), "rtt from jitter samples");
		REQUIRE(!find_kept(&s, "raddr:10.0.0.2", METRIC_COUNTERS,
				   PERIOD_S, start_s),
			"a counter record of counters that never moved");
		r = find(&s, "all", PERIOD_S, start_s);
		REQUIRE(r, "no rtt record");
		REQUIRE_CMP(r->min_us, >=, 990);
		r = &find_kept(&s, "all", METRIC_JITTER, PERIOD_S,
			       start_s)->rec;
		REQUIRE_CMP(r->max_us, <=, 51);
	}
	/* Rollups: 12 observed periods before midnight, 6 complete and a
	 * partial one after; sums exact, metrics apart. */
	for (half = 0; half < 2; half++) {
		static const uint32_t lens[] = { 300, 3600, 86400 };

		for (size_t i = 0; i < 3; i++) {
			int64_t start_s = half ? MIDNIGHT_S : MIDNIGHT_S - lens[i];
			uint32_t periods = half ? 6 : 12;
			uint32_t total = lens[i] / PERIOD_S;

			check_counters(find_kept(&s, "all", METRIC_COUNTERS,
						 lens[i], start_s),
				       &roll_all[half], periods, total);
			check_counters(find_kept(&s, "raddr:10.0.0.1",
						 METRIC_COUNTERS, lens[i],
						 start_s),
				       &roll_one[half], periods, total);
			r = find(&s, "all", lens[i], start_s);
			REQUIRE(r, "no rtt rollup");
			REQUIRE_CMP(r->count, ==, rtt_n[half]);
			REQUIRE_STR(r->metric, METRIC_RTT);
			r = &find_kept(&s, "all", METRIC_JITTER, lens[i],
				       start_s)->rec;
			REQUIRE_CMP(r->count, ==, jit_n[half]);
			r = &find_kept(&s, "raddr:10.0.0.1", METRIC_JITTER,
				       lens[i], start_s)->rec;
			REQUIRE_CMP(r->count, ==, one_n[half]);
			REQUIRE(!find_kept(&s, "raddr:10.0.0.2",
					   METRIC_COUNTERS, lens[i], start_s),
				"a counter rollup of counters that never moved");
		}
	}
	for (p = 0; p < 19; p++) {
		counter_set_free(&ref_all[p]);
		counter_set_free(&ref_one[p]);
	}
	for (half = 0; half < 2; half++) {
		counter_set_free(&roll_all[half]);
		counter_set_free(&roll_one[half]);
	}
	counter_set_free(&still);
	series_table_free(t);
	sink_clear(&s);
	hist_free(rtt);
	hist_free(jit);
}

/* max_groups counts groups, whatever metrics they hold; metric names are
 * checked; a group holds at most SERIES_METRICS_MAX metrics. */
static void test_metric_bounds(void)
{
	struct sink s = {0};
	struct series_table *t = table_new(&s, PERIOD_S, 1);
	struct hist *h = const_hist(700, 4);
	struct counter_set d = COUNTER_SET_INIT;
	char name[32];
	int i;

	REQUIRE_CMP(counter_set_add(&d, "rst.sent", 3), ==, 0);
	REQUIRE_CMP(series_table_add(t, "peer:a", MIDNIGHT_S, h), ==, 0);
	REQUIRE_CMP(series_table_add_metric(t, "peer:a", METRIC_HANDSHAKE,
					    MIDNIGHT_S, h), ==, 0);
	REQUIRE_CMP(series_table_add_counters(t, "peer:a", MIDNIGHT_S, &d), ==,
		    0);
	REQUIRE_CMP(series_table_add_counters(t, "peer:b", MIDNIGHT_S, &d), ==,
		    -ENOSPC);
	REQUIRE_CMP(series_table_add_metric(t, "peer:b", METRIC_JITTER,
					    MIDNIGHT_S, h), ==, -ENOSPC);
	REQUIRE_CMP(series_table_groups(t), ==, 1);
	REQUIRE_CMP(series_table_add_metric(t, "all", METRIC_COUNTERS,
					    MIDNIGHT_S, h), ==, -EINVAL);
	REQUIRE_CMP(series_table_add_metric(t, "all", "Jitter", MIDNIGHT_S, h),
		    ==, -EINVAL);
	REQUIRE_CMP(series_table_dropped(t), ==, hist_count(h));
	for (i = 2; i < SERIES_METRICS_MAX; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		REQUIRE_CMP(series_table_add_metric(t, "peer:a", name,
						    MIDNIGHT_S, h), ==, 0);
	}
	REQUIRE_CMP(series_table_add_metric(t, "peer:a", "one.too.many",
					    MIDNIGHT_S, h), ==, -E2BIG);
	REQUIRE_CMP(series_table_dropped(t), ==, 2 * hist_count(h));
	/* The one close writes a base record per metric and the counters. */
	REQUIRE_CMP(series_table_tick(t, MIDNIGHT_S + PERIOD_S), ==, 0);
	REQUIRE_CMP(s.n, ==, SERIES_METRICS_MAX + 1);
	REQUIRE(find_kept(&s, "peer:a", METRIC_HANDSHAKE, PERIOD_S, MIDNIGHT_S),
		"no handshake record");

	counter_set_free(&d);
	series_table_free(t);
	sink_clear(&s);
	hist_free(h);
}

int main(void)
{
	test_config_is_validated();
	test_periods_and_rollups_across_midnight();
	test_partial_start_and_stall();
	test_group_bound();
	test_hour_base_period();
	test_counters_and_metrics();
	test_metric_bounds();
	return check_report();
}
