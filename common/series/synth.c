// SPDX-License-Identifier: BSD-2-Clause
/*
 * Synthetic fleet data (synth.h): the batch writer between a series_table
 * and the store, and the RTT model of one host.  Samples come from
 * per-group tables of log-normal factors so a month of a 100-host fleet
 * costs a few nanoseconds per sample, not a log/exp/cos per sample.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "series.h"
#include "synth.h"

#define SUB_BITS 5
#define TABLE_BITS 12
#define TABLE_SIZE (1u << TABLE_BITS)
#define PEER_SHARE 0.6   /* of "all" samples that go to the peer groups */
#define TAIL_ONE_IN 128  /* samples hitting a retransmit-like tail */
#define RTT_MAX_US 10000000.0

/* ---------------------------------------------------------------------------
 * Batch writer: records are copied into one growing byte arena (host, group
 * and digest of each), and store_put writes a full batch in one transaction.
 * ------------------------------------------------------------------------- */

struct kept_offsets {
	size_t host, group, metric, digest;
};

struct synth_writer {
	struct store *st;
	size_t cap;                /* records per batch */
	size_t n;                  /* records held */
	struct store_record *recs; /* pointers filled in at flush */
	struct kept_offsets *off;  /* where each record's bytes are */
	uint8_t *arena;
	size_t arena_len, arena_cap;
	uint64_t stored, stored_base;
	struct rttq_error err;
};

int synth_writer_new(struct store *st, size_t batch_records,
		     struct synth_writer **out)
{
	struct synth_writer *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->st = st;
	w->cap = batch_records ? batch_records : SYNTH_BATCH_RECORDS_DEFAULT;
	w->recs = calloc(w->cap, sizeof(*w->recs));
	w->off = calloc(w->cap, sizeof(*w->off));
	w->arena_cap = w->cap * 512;
	w->arena = malloc(w->arena_cap);
	if (!w->recs || !w->off || !w->arena) {
		synth_writer_free(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

void synth_writer_free(struct synth_writer *w)
{
	if (!w)
		return;
	free(w->recs);
	free(w->off);
	free(w->arena);
	free(w);
}

/* Copy @len bytes into the arena; their offset goes to @off. */
static int arena_add(struct synth_writer *w, const void *p, size_t len,
		     size_t *off)
{
	if (w->arena_len + len > w->arena_cap) {
		size_t cap = 2 * w->arena_cap + len;
		uint8_t *a = realloc(w->arena, cap);

		if (!a)
			return -ENOMEM;
		w->arena = a;
		w->arena_cap = cap;
	}
	memcpy(w->arena + w->arena_len, p, len);
	*off = w->arena_len;
	w->arena_len += len;
	return 0;
}

int synth_writer_flush(struct synth_writer *w, struct rttq_error *err)
{
	uint64_t base = 0;
	size_t i;
	int rc;

	if (w->n == 0)
		return 0;
	for (i = 0; i < w->n; i++) {
		w->recs[i].host = (const char *)w->arena + w->off[i].host;
		w->recs[i].group = (const char *)w->arena + w->off[i].group;
		w->recs[i].metric = (const char *)w->arena + w->off[i].metric;
		w->recs[i].digest = w->arena + w->off[i].digest;
		base += w->recs[i].periods_total == 1;
	}
	rc = store_put(w->st, w->recs, w->n, &w->err);
	if (rc) {
		if (err)
			*err = w->err;
		return rc;
	}
	w->stored += w->n;
	w->stored_base += base;
	w->n = 0;
	w->arena_len = 0;
	return 0;
}

int synth_writer_emit(const struct store_record *recs, size_t n, void *arg)
{
	struct synth_writer *w = arg;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		struct kept_offsets *o;

		if (w->n == w->cap) {
			rc = synth_writer_flush(w, NULL);
			if (rc)
				return rc;
		}
		o = &w->off[w->n];
		rc = arena_add(w, recs[i].host, strlen(recs[i].host) + 1,
			       &o->host);
		if (rc == 0)
			rc = arena_add(w, recs[i].group,
				       strlen(recs[i].group) + 1, &o->group);
		if (rc == 0)
			rc = arena_add(w, metric_or_rtt(recs[i].metric),
				       strlen(metric_or_rtt(recs[i].metric)) + 1,
				       &o->metric);
		if (rc == 0)
			rc = arena_add(w, recs[i].digest, recs[i].digest_len,
				       &o->digest);
		if (rc)
			return rc;
		w->recs[w->n++] = recs[i];
	}
	return 0;
}

const struct rttq_error *synth_writer_error(const struct synth_writer *w)
{
	return &w->err;
}

uint64_t synth_writer_records(const struct synth_writer *w)
{
	return w->stored;
}

uint64_t synth_writer_base_records(const struct synth_writer *w)
{
	return w->stored_base;
}

/* ---------------------------------------------------------------------------
 * RTT model.  A host has a median RTT, a busy peak at some hour of the day
 * (its users' afternoon) when the median rises and more samples arrive, and
 * peers each at their own multiple of that median.  RTTs are log-normal
 * around the median with 1 in TAIL_ONE_IN samples 3-10x slower.
 * ------------------------------------------------------------------------- */

struct model_group {
	double median_factor; /* of the host's median */
	double share;         /* of the peer samples */
	double table[TABLE_SIZE]; /* exp(sigma * z) for standard normal z */
	struct hist *h;       /* this period's samples */
};

struct host_model {
	double median_us;  /* at the quietest hour */
	double busy_rise;  /* median grows by this fraction at the peak */
	double peak_hour;  /* UTC hour of the busy peak */
	unsigned int ngroups;
	struct model_group *g; /* [0] is "all" (peers outside the groups) */
	uint64_t rng;
};

static uint64_t next_random(uint64_t *s)
{
	/* xorshift64*: fast, deterministic, good enough for synthetic data. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static double uniform(uint64_t *s)
{
	return ((double)(next_random(s) >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(uint64_t *s)
{
	return sqrt(-2.0 * log(uniform(s))) * cos(2.0 * M_PI * uniform(s));
}

/* Standard normal quantile of @p by bisection on erfc (done TABLE_SIZE
 * times per host, so speed does not matter): a table of them at evenly
 * spaced probabilities, looked up by a uniform index, is a log-normal up
 * to the table's resolution. */
static double normal_quantile(double p)
{
	double lo = -9.0, hi = 9.0;

	for (int i = 0; i < 60; i++) {
		double mid = 0.5 * (lo + hi);

		if (0.5 * erfc(-mid / M_SQRT2) < p)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

static void fill_table(double *table, const double *z, double sigma)
{
	for (unsigned int i = 0; i < TABLE_SIZE; i++)
		table[i] = exp(sigma * z[i]);
}

static void model_free(struct host_model *m)
{
	if (!m->g)
		return;
	for (unsigned int i = 0; i <= m->ngroups; i++)
		hist_free(m->g[i].h);
	free(m->g);
	m->g = NULL;
}

static int model_init(struct host_model *m, uint64_t seed,
		      unsigned int ngroups)
{
	double shares = 0.0, *z;
	unsigned int i;

	memset(m, 0, sizeof(*m));
	z = malloc(TABLE_SIZE * sizeof(*z));
	if (!z)
		return -ENOMEM;
	for (i = 0; i < TABLE_SIZE; i++)
		z[i] = normal_quantile((i + 0.5) / (double)TABLE_SIZE);
	m->rng = seed * 2 + 1;
	for (i = 0; i < 4; i++)
		next_random(&m->rng); /* small seeds start poorly mixed */
	m->median_us = fmin(fmax(1500.0 * exp(0.6 * normal(&m->rng)), 200.0),
			    50000.0);
	m->busy_rise = 0.2 + 1.2 * uniform(&m->rng);
	m->peak_hour = 24.0 * uniform(&m->rng);
	m->ngroups = ngroups;
	m->g = calloc(ngroups + 1, sizeof(*m->g));
	for (i = 0; m->g && i <= ngroups; i++) {
		struct model_group *g = &m->g[i];

		if (hist_new(SUB_BITS, &g->h))
			break;
		g->median_factor = i ? exp(0.8 * normal(&m->rng)) : 1.0;
		g->share = i ? 0.2 + uniform(&m->rng) : 0.0;
		shares += g->share;
		fill_table(g->table, z, 0.25 + 0.3 * uniform(&m->rng));
	}
	free(z);
	if (!m->g || i <= ngroups)
		return -ENOMEM;
	for (i = 1; i <= ngroups; i++)
		m->g[i].share /= shares;
	return 0;
}

/* 0 at the quietest hour, 1 at the peak; a raised cosine, squared so the
 * busy hours stand out from the rest of the day. */
static double busyness(const struct host_model *m, int64_t at_s)
{
	double hour = (double)(at_s % SERIES_DAY_S) / 3600.0;
	double c = 0.5 + 0.5 * cos(2.0 * M_PI * (hour - m->peak_hour) / 24.0);

	return c * c;
}

/* @n samples of group @g around @median_us into its histogram, and into
 * "all" when @also_all. */
static void draw(struct host_model *m, struct model_group *g,
		 double median_us, uint64_t n, bool also_all)
{
	struct hist *all = m->g[0].h;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t r = next_random(&m->rng);
		double v = median_us * g->table[r >> (64 - TABLE_BITS)];
		uint32_t us;

		if ((r & (TAIL_ONE_IN - 1)) == 0)
			v *= 3.0 + (double)((r >> 7) & 7);
		us = v < 1.0 ? 1u : v > RTT_MAX_US ? (uint32_t)RTT_MAX_US
						   : (uint32_t)v;
		hist_record(g->h, us, 1);
		if (also_all)
			hist_record(all, us, 1);
	}
}

/* One period's samples at @p_s; returns how many went into "all". */
static uint64_t draw_period(struct host_model *m, const struct synth_host *h,
			    int64_t p_s, struct synth_totals *tot)
{
	double b = busyness(m, p_s + h->period_s / 2);
	double median_us = m->median_us * (1.0 + m->busy_rise * b);
	double load = (0.4 + 1.2 * b) * (0.85 + 0.3 * uniform(&m->rng));
	uint64_t n = (uint64_t)llround(h->samples * load), peers = 0;
	unsigned int i;

	for (i = 0; i <= m->ngroups; i++)
		hist_reset(m->g[i].h);
	for (i = 1; i <= m->ngroups; i++) {
		uint64_t k = (uint64_t)llround((double)n * PEER_SHARE *
					       m->g[i].share);

		draw(m, &m->g[i], median_us * m->g[i].median_factor, k, true);
		peers += k;
	}
	/* Rounding can give the peers more than n when n is tiny. */
	n = n > peers ? n - peers : 0;
	draw(m, &m->g[0], median_us, n, false);
	tot->group_samples += peers;
	tot->samples += peers + n;
	return peers + n;
}

static void peer_name(char *buf, size_t len, unsigned int i)
{
	snprintf(buf, len, "raddr:10.0.%u.%u", i / 250, i % 250 + 1);
}

static int check_host(const struct synth_host *h, struct rttq_error *err)
{
	if (!h->name || !*h->name)
		return rttq_fail(err, -EINVAL, "synth: empty host name");
	if (h->groups > SYNTH_GROUPS_MAX)
		return rttq_fail(err, -EINVAL,
				 "synth: %u groups, at most %d", h->groups,
				 SYNTH_GROUPS_MAX);
	if (!series_period_valid(h->period_s))
		return rttq_fail(err, -EINVAL,
				 "synth: period %u s does not divide an hour",
				 h->period_s);
	if (h->start_s % h->period_s || h->end_s <= h->start_s)
		return rttq_fail(err, -EINVAL,
				 "synth: start %lld is not a period start before end %lld",
				 (long long)h->start_s, (long long)h->end_s);
	return 0;
}

/* Hand the period's histograms to the table at mid-period, as a drain
 * would, skipping groups that got no samples. */
static int add_period(struct series_table *t, struct host_model *m,
		      const struct synth_host *h, int64_t p_s)
{
	char name[32];
	int rc = 0;

	if (hist_count(m->g[0].h))
		rc = series_table_add(t, "all", p_s + h->period_s / 2,
				      m->g[0].h);
	for (unsigned int i = 1; rc == 0 && i <= m->ngroups; i++) {
		if (!hist_count(m->g[i].h))
			continue;
		peer_name(name, sizeof(name), i - 1);
		rc = series_table_add(t, name, p_s + h->period_s / 2,
				      m->g[i].h);
	}
	return rc;
}

int synth_host_run(const struct synth_host *h, struct synth_writer *w,
		   synth_progress_fn progress, void *progress_arg,
		   struct synth_totals *tot, struct rttq_error *err)
{
	struct series_table *t = NULL;
	struct host_model m = { 0 };
	struct series_config cfg = {
		.host = h->name,
		.period_s = h->period_s,
		.sub_bits = SUB_BITS,
		.max_groups = h->groups + 1,
		.emit = synth_writer_emit,
		.emit_arg = w,
	};
	int64_t p, next_day_s;
	unsigned int days = 0;
	int rc;

	rc = check_host(h, err);
	if (rc)
		return rc;
	rc = series_table_new(&cfg, &t, err);
	if (rc)
		return rc;
	rc = model_init(&m, h->seed, h->groups);
	next_day_s = h->start_s + SERIES_DAY_S;
	for (p = h->start_s; rc == 0 && p < h->end_s; p += h->period_s) {
		rc = series_table_tick(t, p);
		if (rc == 0) {
			draw_period(&m, h, p, tot);
			rc = add_period(t, &m, h, p);
		}
		if (rc == 0 && progress && p + h->period_s >= next_day_s) {
			next_day_s += SERIES_DAY_S;
			if (progress(++days, progress_arg))
				rc = -EINTR;
		}
	}
	if (rc == 0)
		rc = series_table_flush(t, h->end_s);
	if (rc == -ENOMEM)
		rttq_fail(err, rc, "synth: host %s: out of memory", h->name);
	else if (rc == -EINTR)
		rttq_fail(err, rc, "synth: host %s: stopped", h->name);
	else if (rc && synth_writer_error(w)->code && err)
		*err = *synth_writer_error(w);
	else if (rc)
		rttq_fail(err, rc, "synth: host %s: %s", h->name,
			  strerror(-rc));
	model_free(&m);
	series_table_free(t);
	return rc;
}
