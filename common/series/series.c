// SPDX-License-Identifier: BSD-2-Clause
/*
 * Series table (series.h): per-group base-period histograms, their 5 min,
 * 1 h and 1 d rollups, and the close step that turns them into store
 * records.  The coverage rules (periods / periods_total) are documented in
 * series.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buckets.h"
#include "codec.h"
#include "hist.h"
#include "name_table.h"
#include "series.h"
#include "tdigest.h"
#include "timeparse.h"

#define GROUP_ALL "all"
#define NO_PERIOD INT64_MIN

struct series_group {
	char *name;
	struct hist *base; /* open base period */
	/* Closed base periods of each rollup's current span; NULL for the
	 * levels the table does not build. */
	struct hist *rollup[SERIES_ROLLUPS];
};

/* One rollup level's span as the table closes base periods into it. */
struct rollup_span {
	bool built;       /* series_rollup_built() for the base period */
	int64_t start_s;  /* span the open rollup belongs to */
	uint32_t periods; /* complete base periods closed in it so far */
};

struct series_table {
	char *host;
	uint32_t period_s;
	unsigned int sub_bits;
	double compression;
	uint32_t max_groups;
	series_emit_fn emit;
	void *emit_arg;

	int64_t observed_from_s;  /* first add/tick; NO_PERIOD before */
	int64_t open_start_s;     /* open base period; NO_PERIOD before */
	struct rollup_span rollups[SERIES_ROLLUPS];
	uint64_t dropped;         /* samples refused by max_groups */

	struct series_group *groups;
	size_t ngroups;
	struct name_table index;  /* group name -> position in groups */

	struct hist *scratch;     /* rollup + open period, encoded at a close */
	struct store_record *recs;
	uint8_t **digests;
	size_t recs_cap;
};

/* -------------------------------------------------------------------------
 * Time: every period is aligned to UTC multiples of its length.
 * ------------------------------------------------------------------------- */

/* floor(t / len) * len, also for t < 0. */
static int64_t align_down(int64_t t, int64_t len)
{
	int64_t q = t / len;

	if (t % len < 0)
		q--;
	return q * len;
}

static const uint32_t rollup_length_s[SERIES_ROLLUPS] = {
	[SERIES_ROLLUP_5MIN] = SERIES_5MIN_S,
	[SERIES_ROLLUP_HOUR] = SERIES_HOUR_S,
	[SERIES_ROLLUP_DAY] = SERIES_DAY_S,
};

int series_period_valid(uint32_t period_s)
{
	return period_s > 0 && SERIES_HOUR_S % period_s == 0;
}

uint32_t series_rollup_length(enum series_rollup r)
{
	return rollup_length_s[r];
}

int series_rollup_built(uint32_t period_s, enum series_rollup r)
{
	return period_s > 0 && rollup_length_s[r] > period_s &&
	       rollup_length_s[r] % period_s == 0;
}

int series_parse_period(const char *text, uint32_t *out,
			struct rttq_error *err)
{
	int64_t s;
	int rc;

	rc = timeparse_duration(text, &s, err);
	if (rc)
		return -EINVAL;
	if (s > SERIES_HOUR_S || !series_period_valid((uint32_t)s))
		return rttq_fail(err, -EINVAL, "'%s' (%lld s) does not divide "
				 "an hour", text, (long long)s);
	*out = (uint32_t)s;
	return 0;
}

/* -------------------------------------------------------------------------
 * Groups: an array plus an index by name (name_table.h).
 * ------------------------------------------------------------------------- */

/* Index every group again after the array changed; cannot fail: the
 * table keeps the room reserved for max_groups + "all". */
static void rebuild_index(struct series_table *t)
{
	size_t g;

	name_table_clear(&t->index);
	for (g = 0; g < t->ngroups; g++)
		name_table_add(&t->index, t->groups[g].name, (uint32_t)g);
}

static void group_release(struct series_group *g)
{
	int r;

	free(g->name);
	hist_free(g->base);
	for (r = 0; r < SERIES_ROLLUPS; r++)
		hist_free(g->rollup[r]);
}

static int group_init(const struct series_table *t, struct series_group *g,
		      const char *name)
{
	int r, rc;

	memset(g, 0, sizeof(*g));
	g->name = strdup(name);
	rc = g->name ? hist_new(t->sub_bits, &g->base) : -ENOMEM;
	for (r = 0; rc == 0 && r < SERIES_ROLLUPS; r++)
		if (t->rollups[r].built)
			rc = hist_new(t->sub_bits, &g->rollup[r]);
	if (rc) {
		group_release(g);
		return -ENOMEM;
	}
	return 0;
}

/* Nothing pending: no samples in the open period nor in any rollup. */
static bool group_idle(const struct series_group *g)
{
	int r;

	if (hist_count(g->base))
		return false;
	for (r = 0; r < SERIES_ROLLUPS; r++)
		if (g->rollup[r] && hist_count(g->rollup[r]))
			return false;
	return true;
}

/* The group called @name, created when there is room; NULL otherwise with
 * *@rc set to -ENOSPC or -ENOMEM. */
static struct series_group *group_get(struct series_table *t, const char *name,
				      int *rc)
{
	bool is_all = strcmp(name, GROUP_ALL) == 0;
	struct series_group *g;
	size_t others;
	uint32_t pos;

	if (name_table_find(&t->index, name, &pos) == 0)
		return &t->groups[pos];
	/* "all" never competes with the per-key groups for room. */
	others = t->ngroups;
	if (name_table_find(&t->index, GROUP_ALL, NULL) == 0)
		others--;
	if (!is_all && others >= t->max_groups) {
		*rc = -ENOSPC;
		return NULL;
	}
	g = &t->groups[t->ngroups];
	*rc = group_init(t, g, name);
	if (*rc)
		return NULL;
	/* Room was reserved for every group the table admits. */
	*rc = name_table_add(&t->index, g->name, (uint32_t)t->ngroups);
	if (*rc) {
		group_release(g);
		return NULL;
	}
	t->ngroups++;
	return g;
}

/* Forget groups with nothing pending, so a table fed by short-lived peers
 * stays bounded by the groups seen in one day. */
static void drop_idle_groups(struct series_table *t)
{
	size_t r, w = 0;

	for (r = 0; r < t->ngroups; r++) {
		struct series_group *g = &t->groups[r];

		if (group_idle(g)) {
			group_release(g);
			continue;
		}
		t->groups[w++] = *g;
	}
	if (w != t->ngroups) {
		t->ngroups = w;
		rebuild_index(t);
	}
}

/* -------------------------------------------------------------------------
 * Records: built in a batch, handed to emit, then released.
 * ------------------------------------------------------------------------- */

static void release_records(struct series_table *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(t->digests[i]);
		t->digests[i] = NULL;
	}
}

/* Append the record of @h (non-empty) to the batch at position @n. */
static int build_record(struct series_table *t, size_t n,
			const struct series_group *g, const struct hist *h,
			uint32_t period_s, int64_t start_s, uint32_t periods,
			uint32_t periods_total)
{
	struct store_record *rec = &t->recs[n];
	struct tdigest *td = NULL;
	size_t len = 0;
	int rc;

	rc = tdigest_from_hist(h, t->compression, &td);
	if (rc)
		return rc;
	rc = codec_encode(td, &t->digests[n], &len);
	tdigest_free(td);
	if (rc)
		return rc;
	*rec = (struct store_record){
		.host = t->host,
		.group = g->name,
		.period_s = period_s,
		.start_s = start_s,
		.periods = periods,
		.periods_total = periods_total,
		.count = hist_count(h),
		.sum_us = hist_sum_us(h),
		.min_us = hist_min_us(h),
		.max_us = hist_max_us(h),
		.digest = t->digests[n],
		.digest_len = len,
	};
	return 0;
}

/* Encode the rollup of @g as it will be once the open period is merged in. */
static int build_rollup(struct series_table *t, size_t *n,
			const struct series_group *g, const struct hist *rollup,
			uint32_t length_s, int64_t start_s, uint32_t periods)
{
	int rc;

	if (hist_count(rollup) + hist_count(g->base) == 0)
		return 0;
	hist_reset(t->scratch);
	hist_merge(t->scratch, rollup);
	hist_merge(t->scratch, g->base);
	rc = build_record(t, *n, g, t->scratch, length_s, start_s, periods,
			  length_s / t->period_s);
	if (rc == 0)
		(*n)++;
	return rc;
}

/* Start every rollup span at the one holding @start_s, with no periods. */
static void open_rollup_spans(struct series_table *t, int64_t start_s)
{
	int r;

	for (r = 0; r < SERIES_ROLLUPS; r++) {
		t->rollups[r].start_s = align_down(start_s, rollup_length_s[r]);
		t->rollups[r].periods = 0;
	}
}

/*
 * Close the open period.  @complete says whether it was observed whole;
 * @next_start_s is the period opened next (NO_PERIOD on flush), which
 * decides which rollup spans ended.  Everything is encoded before any
 * state changes, so -ENOMEM leaves the table as it was.
 */
static int close_open_period(struct series_table *t, bool complete,
			     int64_t next_start_s)
{
	bool flush = next_start_s == NO_PERIOD;
	bool ends[SERIES_ROLLUPS];
	size_t i, n = 0;
	int r, rc = 0;

	for (r = 0; r < SERIES_ROLLUPS; r++) {
		const struct rollup_span *sp = &t->rollups[r];

		ends[r] = sp->built &&
			  (flush || align_down(next_start_s, rollup_length_s[r]) !=
					    sp->start_s);
	}
	for (i = 0; i < t->ngroups && rc == 0; i++) {
		struct series_group *g = &t->groups[i];

		if (hist_count(g->base) > 0) {
			rc = build_record(t, n, g, g->base, t->period_s,
					  t->open_start_s, complete, 1);
			if (rc == 0)
				n++;
		}
		for (r = 0; r < SERIES_ROLLUPS && rc == 0; r++)
			if (ends[r])
				rc = build_rollup(t, &n, g, g->rollup[r],
						  rollup_length_s[r],
						  t->rollups[r].start_s,
						  t->rollups[r].periods +
							  complete);
	}
	if (rc) {
		release_records(t, n);
		return rc;
	}

	for (i = 0; i < t->ngroups; i++) {
		struct series_group *g = &t->groups[i];

		for (r = 0; r < SERIES_ROLLUPS; r++) {
			if (!t->rollups[r].built)
				continue;
			if (ends[r])
				hist_reset(g->rollup[r]);
			else
				hist_merge(g->rollup[r], g->base);
		}
		hist_reset(g->base);
	}
	for (r = 0; r < SERIES_ROLLUPS; r++) {
		struct rollup_span *sp = &t->rollups[r];

		sp->periods = ends[r] ? 0 : sp->periods + complete;
		if (!flush)
			sp->start_s = align_down(next_start_s,
						 rollup_length_s[r]);
	}
	t->open_start_s = next_start_s;

	if (n > 0)
		rc = t->emit(t->recs, n, t->emit_arg);
	release_records(t, n);
	drop_idle_groups(t);
	return rc;
}

/* Make sure a close can hold a base record and every rollup per group. */
static int reserve_records(struct series_table *t)
{
	size_t need = (1 + SERIES_ROLLUPS) * (t->ngroups + 1);
	struct store_record *recs;
	uint8_t **digests;

	if (need <= t->recs_cap)
		return 0;
	recs = realloc(t->recs, need * sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	t->recs = recs;
	digests = realloc(t->digests, need * sizeof(*digests));
	if (!digests)
		return -ENOMEM;
	memset(digests + t->recs_cap, 0,
	       (need - t->recs_cap) * sizeof(*digests));
	t->digests = digests;
	t->recs_cap = need;
	return 0;
}

/* -------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

int series_table_new(const struct series_config *cfg,
		     struct series_table **out, struct rttq_error *err)
{
	struct series_table *t = NULL;
	double compression = cfg->compression == 0 ?
				     TDIGEST_COMPRESSION_DEFAULT :
				     cfg->compression;
	uint32_t max_groups = cfg->max_groups ? cfg->max_groups :
						SERIES_MAX_GROUPS_DEFAULT;
	int r, rc;

	*out = NULL;
	if (!cfg->host || !cfg->host[0] ||
	    strlen(cfg->host) >= STORE_HOST_MAX)
		return rttq_fail(err, -EINVAL,
				 "host name must be 1..%d bytes",
				 STORE_HOST_MAX - 1);
	if (!series_period_valid(cfg->period_s))
		return rttq_fail(err, -EINVAL,
				 "period %u s does not divide one hour (3600 s)",
				 cfg->period_s);
	if (cfg->sub_bits < BUCKET_SUB_BITS_MIN ||
	    cfg->sub_bits > BUCKET_SUB_BITS_MAX)
		return rttq_fail(err, -EINVAL, "sub-bits %u not in %d..%d",
				 cfg->sub_bits, BUCKET_SUB_BITS_MIN,
				 BUCKET_SUB_BITS_MAX);
	if (!(compression >= TDIGEST_COMPRESSION_MIN &&
	      compression <= TDIGEST_COMPRESSION_MAX))
		return rttq_fail(err, -EINVAL, "compression %g not in %g..%g",
				 compression, TDIGEST_COMPRESSION_MIN,
				 TDIGEST_COMPRESSION_MAX);
	if (max_groups > (1u << 20))
		return rttq_fail(err, -EINVAL, "max groups %u above %u",
				 max_groups, 1u << 20);
	if (!cfg->emit)
		return rttq_fail(err, -EINVAL, "series table needs an emit function");

	t = calloc(1, sizeof(*t));
	if (!t)
		goto nomem;
	t->host = strdup(cfg->host);
	t->period_s = cfg->period_s;
	t->sub_bits = cfg->sub_bits;
	t->compression = compression;
	t->max_groups = max_groups;
	t->emit = cfg->emit;
	t->emit_arg = cfg->emit_arg;
	for (r = 0; r < SERIES_ROLLUPS; r++)
		t->rollups[r].built = series_rollup_built(cfg->period_s, r);
	t->observed_from_s = NO_PERIOD;
	t->open_start_s = NO_PERIOD;
	/* Room for max_groups + "all": group_get() never allocates an index
	 * slot, and a rebuild never fails. */
	t->groups = calloc((size_t)max_groups + 1, sizeof(*t->groups));
	if (!t->host || !t->groups ||
	    name_table_reserve(&t->index, (size_t)max_groups + 1))
		goto nomem;
	rc = hist_new(cfg->sub_bits, &t->scratch);
	if (rc)
		goto nomem;
	*out = t;
	return 0;
nomem:
	series_table_free(t);
	return rttq_fail(err, -ENOMEM, "series table: out of memory");
}

void series_table_free(struct series_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->ngroups; i++)
		group_release(&t->groups[i]);
	if (t->digests)
		release_records(t, t->recs_cap);
	free(t->digests);
	free(t->recs);
	hist_free(t->scratch);
	name_table_release(&t->index);
	free(t->groups);
	free(t->host);
	free(t);
}

int series_table_tick(struct series_table *t, int64_t now_s)
{
	int64_t now_start = align_down(now_s, t->period_s);
	bool complete;
	int rc;

	if (t->open_start_s == NO_PERIOD) {
		/* Observation starts now; the open period is whole only if
		 * we are exactly at its start. */
		t->observed_from_s = now_s;
		t->open_start_s = now_start;
		open_rollup_spans(t, now_start);
		return 0;
	}
	if (now_start <= t->open_start_s)
		return 0;
	rc = reserve_records(t);
	if (rc)
		return rc;
	complete = t->observed_from_s <= t->open_start_s;
	/* A jump over whole periods opens the period holding now: the ones
	 * in between were not observed and are not counted. */
	return close_open_period(t, complete, now_start);
}

int series_table_add(struct series_table *t, const char *group, int64_t at_s,
		     const struct hist *delta)
{
	struct series_group *g;
	size_t len;
	int rc = 0;

	len = group ? strlen(group) : 0;
	if (len == 0 || len >= STORE_GROUP_MAX)
		return -EINVAL;
	if (hist_sub_bits(delta) != t->sub_bits)
		return -EINVAL;
	rc = series_table_tick(t, at_s);
	if (rc)
		return rc;
	g = group_get(t, group, &rc);
	if (!g) {
		if (rc == -ENOSPC)
			t->dropped += hist_count(delta);
		return rc;
	}
	return hist_merge(g->base, delta);
}

int series_table_flush(struct series_table *t, int64_t now_s)
{
	int rc;

	if (t->open_start_s == NO_PERIOD)
		return 0;
	rc = series_table_tick(t, now_s);
	if (rc)
		return rc;
	rc = reserve_records(t);
	if (rc)
		return rc;
	/* The tick above closed every period that had ended, so the open
	 * one is cut short: partial. */
	rc = close_open_period(t, false, NO_PERIOD);
	t->observed_from_s = NO_PERIOD;
	return rc;
}

size_t series_table_groups(const struct series_table *t)
{
	return t->ngroups;
}

uint64_t series_table_dropped(const struct series_table *t)
{
	return t->dropped;
}

int64_t series_table_open_start(const struct series_table *t)
{
	return t->open_start_s == NO_PERIOD ? -1 : t->open_start_s;
}
