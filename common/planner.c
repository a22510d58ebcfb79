// SPDX-License-Identifier: BSD-2-Clause
/*
 * Query planner (see planner.h).  Per host, the range of base-period starts
 * [from, to] becomes the time span [A, B) and is covered top-down:
 *
 *   1. whole UTC days inside [A, B): 1d records that are complete;
 *   2. whole hours inside [A, B) not covered by step 1: complete 1h records;
 *   3. everything still uncovered: base records, whatever their coverage.
 *
 * Each step only reads the gaps the previous steps left, so a 30-day range
 * costs ~30 day records plus the edges, not 43,200 base records.  Digests
 * are decoded as they arrive and merged once, k-way, at the end.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "planner.h"
#include "series.h"
#include "store.h"
#include "tdigest.h"
#include "timeparse.h"

#define MERGE_COMPRESSION_FACTOR 1.0

struct span {
	int64_t start_s; /* inclusive */
	int64_t end_s;   /* exclusive */
};

struct host_list {
	char **v;
	size_t n, cap;
	const char *group; /* only hosts with a series of this group */
};

struct merge_state {
	struct planner_answer *ans;
	struct tdigest **digests; /* decoded, merged at the end */
	size_t n, cap;
	double compression;       /* largest among the digests */
	struct span *cover;       /* spans of this host read from rollups */
	size_t ncover, cap_cover;
	enum planner_level level; /* of the query running now */
	bool host_used;           /* this host gave a record */
	struct rttq_error *err;
};

static const char *const level_names[PLANNER_LEVELS] = {
	[PLANNER_LEVEL_BASE] = "base",
	[PLANNER_LEVEL_HOUR] = "1h",
	[PLANNER_LEVEL_DAY] = "1d",
};

/* Largest multiple of @m at or below @x (also for negative @x). */
static int64_t floor_to(int64_t x, int64_t m)
{
	int64_t r = x % m;

	return r < 0 ? x - r - m : x - r;
}

static int64_t ceil_to(int64_t x, int64_t m)
{
	int64_t f = floor_to(x, m);

	return f == x ? x : f + m;
}

int planner_level_label(uint32_t period_s, char *buf, size_t len)
{
	static const struct {
		uint32_t unit_s;
		char name;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	size_t i;
	int n;

	if (period_s == 0 || len == 0)
		return -EINVAL;
	for (i = 0; period_s % units[i].unit_s; i++)
		;
	n = snprintf(buf, len, "%u%c", period_s / units[i].unit_s,
		     units[i].name);
	return n > 0 && (size_t)n < len ? 0 : -EINVAL;
}

void planner_answer_clear(struct planner_answer *a)
{
	if (!a)
		return;
	tdigest_free(a->digest);
	memset(a, 0, sizeof(*a));
	a->min_us = NAN;
	a->max_us = NAN;
}

static int push_span(struct merge_state *ms, int64_t start_s, int64_t end_s)
{
	if (ms->ncover == ms->cap_cover) {
		size_t cap = ms->cap_cover ? 2 * ms->cap_cover : 64;
		struct span *v = realloc(ms->cover, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ms->cover = v;
		ms->cap_cover = cap;
	}
	ms->cover[ms->ncover++] = (struct span){ start_s, end_s };
	return 0;
}

static int push_digest(struct merge_state *ms, struct tdigest *td)
{
	if (ms->n == ms->cap) {
		size_t cap = ms->cap ? 2 * ms->cap : 256;
		struct tdigest **v = realloc(ms->digests, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ms->digests = v;
		ms->cap = cap;
	}
	ms->digests[ms->n++] = td;
	return 0;
}

/* store_query() callback: decode and keep one record if it may be used. */
static int take_record(const struct store_record *rec, void *arg)
{
	struct merge_state *ms = arg;
	struct planner_answer *a = ms->ans;
	struct rttq_error derr = { 0 };
	struct tdigest *td = NULL;
	char start[TIMEPARSE_RFC3339_LEN];
	int rc;

	a->records_read++;
	/* A rollup missing base periods would silently drop samples. */
	if (ms->level != PLANNER_LEVEL_BASE &&
	    rec->periods != rec->periods_total)
		return 0;
	rc = codec_decode(rec->digest, rec->digest_len, &td, &derr);
	if (rc) {
		if (timeparse_format(rec->start_s, start, sizeof(start)))
			snprintf(start, sizeof(start), "%lld",
				 (long long)rec->start_s);
		if (rc == -ENOMEM)
			return rttq_fail(ms->err, rc, "out of memory");
		return rttq_fail(ms->err, PLANNER_E_BADRECORD,
				 "record host '%s' group '%s' %s %u s at %s: "
				 "%s", rec->host, rec->group,
				 level_names[ms->level], rec->period_s, start,
				 derr.msg);
	}
	rc = push_digest(ms, td);
	if (rc == 0 && ms->level != PLANNER_LEVEL_BASE)
		rc = push_span(ms, rec->start_s, rec->start_s + rec->period_s);
	if (rc) {
		if (ms->n && ms->digests[ms->n - 1] == td)
			ms->n--;
		tdigest_free(td);
		return rttq_fail(ms->err, rc, "out of memory");
	}
	if (tdigest_compression(td) > ms->compression)
		ms->compression = tdigest_compression(td);
	if (rec->count > 0) {
		if (a->count == 0 || rec->min_us < a->min_us)
			a->min_us = rec->min_us;
		if (a->count == 0 || rec->max_us > a->max_us)
			a->max_us = rec->max_us;
	}
	a->count += rec->count;
	a->sum_us += rec->sum_us;
	a->records[ms->level]++;
	ms->host_used = true;
	return 0;
}

static int query_level(struct store *st, const char *host, const char *group,
		       enum planner_level level, uint32_t period_s,
		       int64_t first_s, int64_t last_s, struct merge_state *ms)
{
	struct store_query q = {
		.host = host,
		.group = group,
		.period_s = period_s,
		.from_s = first_s,
		.to_s = last_s,
	};

	ms->level = level;
	return store_query(st, &q, take_record, ms, ms->err);
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return (x->start_s > y->start_s) - (x->start_s < y->start_s);
}

/*
 * Query @level (records @period_s long) over the parts of [@a, @b) that
 * the rollups read so far left uncovered.  Every edge is a multiple of
 * @period_s, so a gap [g0, g1) holds the starts g0 .. g1 - period_s.
 */
static int query_gaps(struct store *st, const char *host, const char *group,
		      enum planner_level level, uint32_t period_s, int64_t a,
		      int64_t b, struct merge_state *ms)
{
	size_t ncover = ms->ncover, i;
	int64_t cur = a;
	int rc;

	/* Copy: the queries below append to ms->cover. */
	struct span *cover = NULL;

	if (ncover) {
		cover = malloc(ncover * sizeof(*cover));
		if (!cover)
			return rttq_fail(ms->err, -ENOMEM, "out of memory");
		memcpy(cover, ms->cover, ncover * sizeof(*cover));
		qsort(cover, ncover, sizeof(*cover), span_cmp);
	}
	for (i = 0; i < ncover && cur < b; i++) {
		if (cover[i].end_s <= cur)
			continue;
		if (cover[i].start_s > cur) {
			int64_t end = cover[i].start_s < b ? cover[i].start_s : b;

			rc = query_level(st, host, group, level, period_s, cur,
					 end - period_s, ms);
			if (rc)
				goto cleanup;
		}
		cur = cover[i].end_s;
	}
	rc = cur < b ? query_level(st, host, group, level, period_s, cur,
				   b - period_s, ms) : 0;
cleanup:
	free(cover);
	return rc;
}

/* Steps 1-3 of the file comment for one host over the span [a, b). */
static int plan_host(struct store *st, const char *host, const char *group,
		     const struct planner_request *req, int64_t a, int64_t b,
		     struct merge_state *ms)
{
	bool rollups = !(req->flags & PLANNER_BASE_ONLY);
	int64_t d0 = ceil_to(a, SERIES_DAY_S), d1 = floor_to(b, SERIES_DAY_S);
	int64_t h0 = ceil_to(a, SERIES_HOUR_S), h1 = floor_to(b, SERIES_HOUR_S);
	int rc;

	ms->ncover = 0;
	ms->host_used = false;
	if (rollups && d0 < d1) {
		rc = query_level(st, host, group, PLANNER_LEVEL_DAY,
				 SERIES_DAY_S, d0, d1 - SERIES_DAY_S, ms);
		if (rc)
			return rc;
	}
	if (rollups && req->period_s < SERIES_HOUR_S && h0 < h1) {
		rc = query_gaps(st, host, group, PLANNER_LEVEL_HOUR,
				SERIES_HOUR_S, h0, h1, ms);
		if (rc)
			return rc;
	}
	rc = query_gaps(st, host, group, PLANNER_LEVEL_BASE, req->period_s, a,
			b, ms);
	if (rc == 0 && ms->host_used)
		ms->ans->hosts++;
	return rc;
}

/* store_series() callback: collect each host once (they arrive sorted). */
static int collect_host(const char *host, const char *group, void *arg)
{
	struct host_list *hl = arg;
	char *copy;

	if (strcmp(group, hl->group))
		return 0;
	if (hl->n && !strcmp(hl->v[hl->n - 1], host))
		return 0;
	if (hl->n == hl->cap) {
		size_t cap = hl->cap ? 2 * hl->cap : 16;
		char **v = realloc(hl->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		hl->v = v;
		hl->cap = cap;
	}
	copy = strdup(host);
	if (!copy)
		return -ENOMEM;
	hl->v[hl->n++] = copy;
	return 0;
}

static void host_list_free(struct host_list *hl)
{
	size_t i;

	for (i = 0; i < hl->n; i++)
		free(hl->v[i]);
	free(hl->v);
}

static int merge_all(struct merge_state *ms, struct rttq_error *err)
{
	int rc;

	if (ms->n == 0)
		return 0;
	/* The merged digest is read once and thrown away: give it more
	 * centroids than its sources so the final compression does not add
	 * error on top of theirs. */
	rc = tdigest_new(fmin(ms->compression * MERGE_COMPRESSION_FACTOR,
			      TDIGEST_COMPRESSION_MAX), &ms->ans->digest);
	if (rc == 0)
		rc = tdigest_merge(ms->ans->digest, ms->digests, ms->n);
	if (rc)
		return rttq_fail(err, rc, "merging %zu digests: %s", ms->n,
				 strerror(-rc));
	return 0;
}

static int check_request(const struct planner_request *req,
			 struct rttq_error *err)
{
	if (!series_period_valid(req->period_s))
		return rttq_fail(err, -EINVAL, "base period %u s does not "
				 "divide an hour", req->period_s);
	if (req->host && !*req->host)
		return rttq_fail(err, -EINVAL, "host is empty");
	if (req->group && !*req->group)
		return rttq_fail(err, -EINVAL, "group is empty");
	if (req->from_s < 0 || req->from_s > TIMEPARSE_MAX_S ||
	    req->to_s < 0 || req->to_s > TIMEPARSE_MAX_S)
		return rttq_fail(err, -EINVAL, "time range %lld..%lld outside "
				 "1970..9999", (long long)req->from_s,
				 (long long)req->to_s);
	return 0;
}

int planner_run(struct store *st, const struct planner_request *req,
		struct planner_answer *out, struct rttq_error *err)
{
	const char *group = req->group ? req->group : "all";
	struct merge_state ms = { .ans = out, .err = err,
				  .compression = TDIGEST_COMPRESSION_MIN };
	struct host_list hl = { .group = group };
	int64_t a, b;
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	out->min_us = NAN;
	out->max_us = NAN;
	rc = check_request(req, err);
	if (rc)
		return rc;
	/* The span of the base periods whose start lies in [from, to]. */
	a = ceil_to(req->from_s, req->period_s);
	b = floor_to(req->to_s, req->period_s) + req->period_s;
	if (a >= b)
		return 0;

	if (req->host) {
		rc = plan_host(st, req->host, group, req, a, b, &ms);
	} else {
		rc = store_series(st, NULL, a, b - 1, collect_host, &hl, err);
		if (rc == -ENOMEM)
			rttq_fail(err, rc, "out of memory listing hosts");
		for (i = 0; rc == 0 && i < hl.n; i++)
			rc = plan_host(st, hl.v[i], group, req, a, b, &ms);
	}
	if (rc == 0)
		rc = merge_all(&ms, err);

	for (i = 0; i < ms.n; i++)
		tdigest_free(ms.digests[i]);
	free(ms.digests);
	free(ms.cover);
	host_list_free(&hl);
	if (rc)
		planner_answer_clear(out);
	return rc;
}
