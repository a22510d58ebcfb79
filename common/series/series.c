// SPDX-License-Identifier: BSD-2-Clause
/*
 * Series table (series.h): per-group base-period histograms (one per
 * distribution metric) and counter sets, and the adds and ticks that fill
 * and close them; series_close.c turns a closed period and its 5 min, 1 h
 * and 1 d rollups into store records.  The coverage rules (periods /
 * periods_total) are documented in series.h.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buckets.h"
#include "hist.h"
#include "series_private.h"
#include "tdigest.h"
#include "timeparse.h"

/* -------------------------------------------------------------------------
 * Time: every period is aligned to UTC multiples of its length.
 * ------------------------------------------------------------------------- */

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

static void dist_release(struct series_dist *d)
{
	int r;

	hist_free(d->base);
	for (r = 0; r < SERIES_ROLLUPS; r++)
		hist_free(d->rollup[r]);
}

static void group_release(struct series_group *g)
{
	unsigned int i;
	int r;

	free(g->name);
	for (i = 0; i < g->ndists; i++)
		dist_release(&g->dists[i]);
	free(g->dists);
	if (g->counters) {
		counter_set_free(&g->counters->base);
		for (r = 0; r < SERIES_ROLLUPS; r++) {
			counter_set_free(&g->counters->rollup[r]);
			counter_set_free(&g->counters->next[r]);
		}
		free(g->counters);
	}
}

static int group_init(struct series_group *g, const char *name)
{
	memset(g, 0, sizeof(*g));
	g->name = strdup(name);
	return g->name ? 0 : -ENOMEM;
}

/* @g's histograms of @metric, created when new; NULL with *@rc set to
 * -E2BIG or -ENOMEM otherwise. */
static struct series_dist *dist_get(const struct series_table *t,
				    struct series_group *g, const char *metric,
				    int *rc)
{
	struct series_dist *d;
	unsigned int i;
	int r;

	for (i = 0; i < g->ndists; i++)
		if (strcmp(g->dists[i].metric, metric) == 0)
			return &g->dists[i];
	if (g->ndists == SERIES_METRICS_MAX) {
		*rc = -E2BIG;
		return NULL;
	}
	if (g->ndists == g->dists_cap) {
		unsigned int cap = g->dists_cap ? 2 * g->dists_cap : 2;

		d = realloc(g->dists, cap * sizeof(*d));
		if (!d) {
			*rc = -ENOMEM;
			return NULL;
		}
		g->dists = d;
		g->dists_cap = cap;
	}
	d = &g->dists[g->ndists];
	memset(d, 0, sizeof(*d));
	snprintf(d->metric, sizeof(d->metric), "%s", metric);
	*rc = hist_new(t->sub_bits, &d->base);
	for (r = 0; *rc == 0 && r < SERIES_ROLLUPS; r++)
		if (t->rollups[r].built)
			*rc = hist_new(t->sub_bits, &d->rollup[r]);
	if (*rc) {
		dist_release(d);
		*rc = -ENOMEM;
		return NULL;
	}
	g->ndists++;
	return d;
}

/* Nothing pending: no samples in the open period nor in any rollup. */
static bool dist_idle(const struct series_dist *d)
{
	int r;

	if (hist_count(d->base))
		return false;
	for (r = 0; r < SERIES_ROLLUPS; r++)
		if (d->rollup[r] && hist_count(d->rollup[r]))
			return false;
	return true;
}

/* Forget @g's idle metrics; whether nothing at all is pending in @g. */
static bool group_prune(struct series_group *g)
{
	unsigned int i, w = 0;
	int r;

	for (i = 0; i < g->ndists; i++) {
		if (dist_idle(&g->dists[i]))
			dist_release(&g->dists[i]);
		else
			g->dists[w++] = g->dists[i];
	}
	g->ndists = w;
	if (w)
		return false;
	if (!g->counters)
		return true;
	if (g->counters->base.n)
		return false;
	for (r = 0; r < SERIES_ROLLUPS; r++)
		if (g->counters->rollup[r].n)
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
	*rc = group_init(g, name);
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

/* Forget metrics and groups with nothing pending, so a table fed by
 * short-lived peers stays bounded by the groups seen in one day. */
void series_drop_idle_groups(struct series_table *t)
{
	size_t r, w = 0;

	for (r = 0; r < t->ngroups; r++) {
		struct series_group *g = &t->groups[r];

		if (group_prune(g)) {
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
		series_release_records(t, t->recs_cap);
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
		series_open_rollup_spans(t, now_start);
		return 0;
	}
	if (now_start <= t->open_start_s)
		return 0;
	rc = series_reserve_records(t);
	if (rc)
		return rc;
	complete = t->observed_from_s <= t->open_start_s;
	/* A jump over whole periods opens the period holding now: the ones
	 * in between were not observed and are not counted. */
	return series_close_period(t, complete, now_start);
}

/* What every add starts with: check @group, close the periods @at_s
 * says ended. */
static int add_begin(struct series_table *t, const char *group, int64_t at_s)
{
	size_t len = group ? strlen(group) : 0;

	if (len == 0 || len >= STORE_GROUP_MAX)
		return -EINVAL;
	return series_table_tick(t, at_s);
}

int series_table_add_metric(struct series_table *t, const char *group,
			    const char *metric, int64_t at_s,
			    const struct hist *delta)
{
	struct series_group *g;
	struct series_dist *d;
	int rc = 0;

	metric = metric_or_rtt(metric);
	if (!metric_name_valid(metric) || strcmp(metric, METRIC_COUNTERS) == 0)
		return -EINVAL;
	if (hist_sub_bits(delta) != t->sub_bits)
		return -EINVAL;
	rc = add_begin(t, group, at_s);
	if (rc)
		return rc;
	g = group_get(t, group, &rc);
	d = g ? dist_get(t, g, metric, &rc) : NULL;
	if (!d) {
		if (rc == -ENOSPC || rc == -E2BIG)
			t->dropped += hist_count(delta);
		return rc;
	}
	return hist_merge(d->base, delta);
}

int series_table_add(struct series_table *t, const char *group, int64_t at_s,
		     const struct hist *delta)
{
	return series_table_add_metric(t, group, METRIC_RTT, at_s, delta);
}

int series_table_add_counters(struct series_table *t, const char *group,
			      int64_t at_s, const struct counter_set *delta)
{
	struct series_group *g;
	size_t i;
	int rc = 0;

	rc = add_begin(t, group, at_s);
	for (i = 0; rc == 0 && i < delta->n && delta->v[i].value == 0; i++)
		;
	/* Nothing moved: no group is created for it. */
	if (rc || i == delta->n)
		return rc;
	g = group_get(t, group, &rc);
	if (!g)
		return rc;
	if (!g->counters) {
		g->counters = calloc(1, sizeof(*g->counters));
		if (!g->counters)
			return -ENOMEM;
	}
	for (; i < delta->n && rc == 0; i++)
		if (delta->v[i].value)
			rc = counter_set_add(&g->counters->base,
					     delta->v[i].name,
					     delta->v[i].value);
	return rc;
}

int series_table_flush(struct series_table *t, int64_t now_s)
{
	int rc;

	if (t->open_start_s == NO_PERIOD)
		return 0;
	rc = series_table_tick(t, now_s);
	if (rc)
		return rc;
	rc = series_reserve_records(t);
	if (rc)
		return rc;
	/* The tick above closed every period that had ended, so the open
	 * one is cut short: partial. */
	rc = series_close_period(t, false, NO_PERIOD);
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
