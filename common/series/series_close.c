// SPDX-License-Identifier: BSD-2-Clause
/*
 * The series table's close step (series_private.h): a period that ended
 * becomes one batch of store records, every metric of every group and the
 * rollups that ended with it, handed to the emit function in one call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "hist.h"
#include "series_private.h"
#include "strbuf.h"
#include "tdigest.h"

/* -------------------------------------------------------------------------
 * Records: built in a batch, handed to emit, then released.
 * ------------------------------------------------------------------------- */

void series_release_records(struct series_table *t, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(t->digests[i]);
		t->digests[i] = NULL;
	}
}

/* Where and what a record of the close being built covers. */
struct rec_span {
	uint32_t period_s;
	int64_t start_s;
	uint32_t periods;
};

static void fill_record(struct series_table *t, size_t n,
			const struct series_group *g, const char *metric,
			const struct rec_span *sp, size_t digest_len)
{
	t->recs[n] = (struct store_record){
		.host = t->host,
		.group = g->name,
		.metric = metric,
		.period_s = sp->period_s,
		.start_s = sp->start_s,
		.periods = sp->periods,
		.periods_total = sp->period_s / t->period_s,
		.digest = t->digests[n],
		.digest_len = digest_len,
	};
}

/* Append the record of @h (non-empty) to the batch at position *@n. */
static int build_record(struct series_table *t, size_t *n,
			const struct series_group *g, const char *metric,
			const struct hist *h, const struct rec_span *sp)
{
	struct store_record *rec = &t->recs[*n];
	struct tdigest *td = NULL;
	size_t len = 0;
	int rc;

	rc = tdigest_from_hist(h, t->compression, &td);
	if (rc)
		return rc;
	rc = codec_encode(td, &t->digests[*n], &len);
	tdigest_free(td);
	if (rc)
		return rc;
	fill_record(t, *n, g, metric, sp, len);
	rec->count = hist_count(h);
	rec->sum_us = hist_sum_us(h);
	rec->min_us = hist_min_us(h);
	rec->max_us = hist_max_us(h);
	(*n)++;
	return 0;
}

/* Append the record of counter set @c (non-empty) at position *@n. */
static int build_counter_record(struct series_table *t, size_t *n,
				const struct series_group *g,
				const struct counter_set *c,
				const struct rec_span *sp)
{
	struct strbuf b = STRBUF_INIT;
	size_t len = 0;

	if (counter_set_encode(c, &b)) {
		strbuf_release(&b);
		return -ENOMEM;
	}
	t->digests[*n] = (uint8_t *)strbuf_detach(&b, &len);
	if (!t->digests[*n])
		return -ENOMEM;
	fill_record(t, *n, g, METRIC_COUNTERS, sp, len);
	t->recs[*n].count = c->n;
	(*n)++;
	return 0;
}

/* The rollup of @d as it will be once the open period is merged in. */
static int build_rollup(struct series_table *t, size_t *n,
			const struct series_group *g,
			const struct series_dist *d, int r,
			const struct rec_span *sp)
{
	if (hist_count(d->rollup[r]) + hist_count(d->base) == 0)
		return 0;
	hist_reset(t->scratch);
	hist_merge(t->scratch, d->rollup[r]);
	hist_merge(t->scratch, d->base);
	return build_record(t, n, g, d->metric, t->scratch, sp);
}

/* Sum the counters' rollup @r with the open period into next[r] (the
 * rollup as it will be), and append its record when the span @ends. */
static int build_counter_rollup(struct series_table *t, size_t *n,
				const struct series_group *g, int r, bool ends,
				const struct rec_span *sp)
{
	struct series_counters *c = g->counters;
	int rc;

	counter_set_clear(&c->next[r]);
	rc = counter_set_merge(&c->next[r], &c->rollup[r]);
	if (!rc)
		rc = counter_set_merge(&c->next[r], &c->base);
	if (rc || !ends || c->next[r].n == 0)
		return rc;
	return build_counter_record(t, n, g, &c->next[r], sp);
}

void series_open_rollup_spans(struct series_table *t, int64_t start_s)
{
	int r;

	for (r = 0; r < SERIES_ROLLUPS; r++) {
		t->rollups[r].start_s = align_down(start_s, series_rollup_length(r));
		t->rollups[r].periods = 0;
	}
}

/* Every record of group @g for the close: base records of each metric and
 * the counters, then the rollups that end. */
static int build_group(struct series_table *t, size_t *n,
		       const struct series_group *g, bool complete,
		       const bool *ends)
{
	struct rec_span base = { t->period_s, t->open_start_s, complete };
	struct rec_span roll[SERIES_ROLLUPS];
	unsigned int i;
	int r, rc = 0;

	for (r = 0; r < SERIES_ROLLUPS; r++)
		roll[r] = (struct rec_span){ series_rollup_length(r),
					     t->rollups[r].start_s,
					     t->rollups[r].periods + complete };
	for (i = 0; i < g->ndists && rc == 0; i++) {
		const struct series_dist *d = &g->dists[i];

		if (hist_count(d->base) > 0)
			rc = build_record(t, n, g, d->metric, d->base, &base);
		for (r = 0; r < SERIES_ROLLUPS && rc == 0; r++)
			if (ends[r])
				rc = build_rollup(t, n, g, d, r, &roll[r]);
	}
	if (rc || !g->counters)
		return rc;
	if (g->counters->base.n > 0)
		rc = build_counter_record(t, n, g, &g->counters->base, &base);
	for (r = 0; r < SERIES_ROLLUPS && rc == 0; r++)
		if (t->rollups[r].built)
			rc = build_counter_rollup(t, n, g, r, ends[r],
						  &roll[r]);
	return rc;
}

/* The close is built: move the open period into the rollups that go on,
 * empty the ones that ended and the open period. */
static void commit_group(const struct series_table *t, struct series_group *g,
			 const bool *ends)
{
	struct series_counters *c = g->counters;
	unsigned int i;
	int r;

	for (i = 0; i < g->ndists; i++) {
		struct series_dist *d = &g->dists[i];

		for (r = 0; r < SERIES_ROLLUPS; r++) {
			if (!t->rollups[r].built)
				continue;
			if (ends[r])
				hist_reset(d->rollup[r]);
			else
				hist_merge(d->rollup[r], d->base);
		}
		hist_reset(d->base);
	}
	if (!c)
		return;
	for (r = 0; r < SERIES_ROLLUPS; r++) {
		struct counter_set swap;

		if (!t->rollups[r].built)
			continue;
		if (ends[r]) {
			counter_set_clear(&c->rollup[r]);
		} else {
			swap = c->rollup[r];
			c->rollup[r] = c->next[r];
			c->next[r] = swap;
		}
		counter_set_clear(&c->next[r]);
	}
	counter_set_clear(&c->base);
}

int series_close_period(struct series_table *t, bool complete,
			int64_t next_start_s)
{
	bool flush = next_start_s == NO_PERIOD;
	bool ends[SERIES_ROLLUPS];
	size_t i, n = 0;
	int r, rc = 0;

	for (r = 0; r < SERIES_ROLLUPS; r++) {
		const struct rollup_span *sp = &t->rollups[r];

		ends[r] = sp->built &&
			  (flush || align_down(next_start_s, series_rollup_length(r)) !=
					    sp->start_s);
	}
	for (i = 0; i < t->ngroups && rc == 0; i++)
		rc = build_group(t, &n, &t->groups[i], complete, ends);
	if (rc) {
		series_release_records(t, n);
		return rc;
	}

	for (i = 0; i < t->ngroups; i++)
		commit_group(t, &t->groups[i], ends);
	for (r = 0; r < SERIES_ROLLUPS; r++) {
		struct rollup_span *sp = &t->rollups[r];

		sp->periods = ends[r] ? 0 : sp->periods + complete;
		if (!flush)
			sp->start_s = align_down(next_start_s,
						 series_rollup_length(r));
	}
	t->open_start_s = next_start_s;

	if (n > 0)
		rc = t->emit(t->recs, n, t->emit_arg);
	series_release_records(t, n);
	series_drop_idle_groups(t);
	return rc;
}

int series_reserve_records(struct series_table *t)
{
	size_t need = 1, i;
	struct store_record *recs;
	uint8_t **digests;

	for (i = 0; i < t->ngroups; i++)
		need += t->groups[i].ndists + 1;
	need *= 1 + SERIES_ROLLUPS;
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
