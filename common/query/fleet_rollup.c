// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fleet rollups (fleet_rollup.h).  Per group and level, the stored fleet
 * records of the range are read first (their state: absent, fresh, stale
 * mark, damaged), then the spans to build are answered from the hosts in
 * chunks of consecutive spans and written one by one, each conditional on
 * the state read first.  Reading the state before the hosts is what makes
 * the marks exact: store_put() writes a late record before its mark, so a
 * mark this run did not see belongs to a record it may have missed, and
 * its token no longer matches.  Each metric of a group has its own fleet
 * records: distributions merge their digests, counter sets are summed.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "counter_set.h"
#include "fleet_rollup.h"
#include "metric.h"
#include "planner.h"
#include "series.h"
#include "store.h"
#include "strbuf.h"
#include "tdigest.h"
#include "timeparse.h"

/* Spans answered by one planner_run_series(): every host's digests of a
 * chunk are held at once, and each chunk lists the hosts once. */
#define CHUNK_SPANS 48

enum span_state {
	SPAN_ABSENT,
	SPAN_FRESH,
	SPAN_STALE,   /* a stale mark: rebuild if its token is unchanged */
	SPAN_DAMAGED, /* complete but its digest does not decode */
};

struct span_info {
	enum span_state state;
	uint8_t *digest; /* stale or damaged: the stored bytes to expect */
	size_t digest_len;
};

struct level_scan {
	struct span_info *spans;
	size_t n;
	int64_t first_s;
	uint32_t len;
	bool counters; /* the metric's records hold counter sets */
};

/* A (group, metric) with host records in the range. */
struct group_metric {
	char *group;
	char *metric;
};

struct group_list {
	struct group_metric *v;
	size_t n, cap;
};

static int64_t floor_to(int64_t x, int64_t m)
{
	int64_t r = x % m;

	return r < 0 ? x - r - m : x - r;
}

int64_t fleet_rollup_grace_default(uint32_t period_s)
{
	int64_t g = 2 * (int64_t)period_s + FLEET_FLUSH_SLACK_S;

	return g < STORE_LATE_S ? STORE_LATE_S : g;
}

/* store_series() callback: each (group, metric) once (hosts come in any
 * order). */
static int collect_group(const char *host, const char *group,
			 const char *metric, uint32_t period_s, void *arg)
{
	struct group_list *gl = arg;
	struct group_metric *gm;

	(void)host;
	(void)period_s;
	for (size_t i = 0; i < gl->n; i++)
		if (!strcmp(gl->v[i].group, group) &&
		    !strcmp(gl->v[i].metric, metric))
			return 0;
	if (gl->n == gl->cap) {
		size_t cap = gl->cap ? 2 * gl->cap : 16;
		struct group_metric *v = realloc(gl->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		gl->v = v;
		gl->cap = cap;
	}
	gm = &gl->v[gl->n];
	gm->group = strdup(group);
	gm->metric = strdup(metric);
	if (!gm->group || !gm->metric) {
		free(gm->group);
		free(gm->metric);
		return -ENOMEM;
	}
	gl->n++;
	return 0;
}

static int cmp_group_metric(const void *a, const void *b)
{
	const struct group_metric *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	return c ? c : strcmp(x->metric, y->metric);
}

/* Whether a complete fleet record's bytes read back. */
static bool record_decodes(const struct level_scan *ls,
			   const struct store_record *rec)
{
	struct counter_set set = COUNTER_SET_INIT;
	struct tdigest *td = NULL;
	int rc;

	if (ls->counters) {
		rc = counter_set_decode(rec->digest, rec->digest_len, &set,
					NULL);
		counter_set_free(&set);
		return rc == 0;
	}
	if (rec->count == 0)
		return true;
	rc = codec_decode(rec->digest, rec->digest_len, &td, NULL);
	tdigest_free(td);
	return rc == 0;
}

/* store_query() callback: the state of one stored fleet span. */
static int scan_record(const struct store_record *rec, void *arg)
{
	struct level_scan *ls = arg;
	struct span_info *si;
	int64_t i = (rec->start_s - ls->first_s) / ls->len;

	if (i < 0 || (size_t)i >= ls->n)
		return 0;
	si = &ls->spans[i];
	if (rec->periods == rec->periods_total) {
		if (record_decodes(ls, rec)) {
			si->state = SPAN_FRESH;
			return 0;
		}
		si->state = SPAN_DAMAGED;
	} else {
		si->state = SPAN_STALE;
	}
	si->digest = malloc(rec->digest_len);
	if (!si->digest)
		return -ENOMEM;
	memcpy(si->digest, rec->digest, rec->digest_len);
	si->digest_len = rec->digest_len;
	return 0;
}

static void scan_free(struct level_scan *ls)
{
	for (size_t i = 0; ls->spans && i < ls->n; i++)
		free(ls->spans[i].digest);
	free(ls->spans);
	ls->spans = NULL;
}

/* The bytes of a span's fleet record: the merged digest (an empty one for
 * an empty span: the record still covers it), or the summed counters. */
static int encode_span(const struct group_metric *gm,
		       const struct planner_answer *a, struct store_record *rec,
		       uint8_t **bytes)
{
	struct strbuf b = STRBUF_INIT;
	struct tdigest *empty = NULL;
	int rc;

	if (!strcmp(gm->metric, METRIC_COUNTERS)) {
		rc = counter_set_encode(&a->counters, &b);
		*bytes = (uint8_t *)strbuf_detach(&b, &rec->digest_len);
		rec->count = a->counters.n;
		return rc ? rc : *bytes ? 0 : -ENOMEM;
	}
	if (a->digest)
		return codec_encode(a->digest, bytes, &rec->digest_len);
	rc = tdigest_new(TDIGEST_COMPRESSION_MIN, &empty);
	if (rc == 0)
		rc = codec_encode(empty, bytes, &rec->digest_len);
	tdigest_free(empty);
	return rc;
}

/* The fleet record of one answered span, written if still expected. */
static int write_span(struct store *st, const struct group_metric *gm,
		      uint32_t len, int64_t start_s,
		      const struct planner_answer *a,
		      const struct span_info *si,
		      struct fleet_rollup_stats *stats, struct rttq_error *err)
{
	struct store_record rec = {
		.host = STORE_FLEET_HOST,
		.group = gm->group,
		.metric = gm->metric,
		.period_s = len,
		.start_s = start_s,
		.periods = (uint32_t)(1 + a->hosts),
		.periods_total = (uint32_t)(1 + a->hosts),
		.count = a->count,
		.sum_us = a->sum_us,
		.min_us = a->count ? a->min_us : 0,
		.max_us = a->count ? a->max_us : 0,
	};
	uint8_t *bytes = NULL;
	int rc;

	rc = encode_span(gm, a, &rec, &bytes);
	if (rc)
		return rttq_fail(err, rc, "out of memory");
	rec.digest = bytes;
	rc = store_put_fleet(st, &rec, si->state == SPAN_ABSENT ? NULL :
				       si->digest, si->digest_len, err);
	free(bytes);
	if (rc == -ESTALE) {
		stats->raced++;
		return 0;
	}
	if (rc == 0 && si->state == SPAN_ABSENT)
		stats->built++;
	else if (rc == 0)
		stats->rebuilt++;
	return rc;
}

/* Answer spans [i0, i1) of @ls from the hosts and write those to build. */
static int build_chunk(struct store *st, const struct fleet_rollup_opts *o,
		       const struct group_metric *gm,
		       const struct level_scan *ls,
		       size_t i0, size_t i1, struct fleet_rollup_stats *stats,
		       struct rttq_error *err)
{
	/* Every host at its own base periods (none asked for): a fleet
	 * record holds the whole fleet.  Each span takes the base periods
	 * starting in it, whatever their length. */
	struct planner_request req = {
		.group = gm->group,
		.metric = ls->counters ? NULL : gm->metric,
		.from_s = ls->first_s + (int64_t)i0 * ls->len,
		.to_s = ls->first_s + (int64_t)i1 * ls->len - 1,
		.flags = PLANNER_NO_FLEET,
	};
	struct planner_series s;
	int rc;

	rc = ls->counters ?
		planner_run_counters(st, &req, NULL, 0, ls->len, &s, err) :
		planner_run_series(st, &req, ls->len, &s, err);
	if (rc)
		return rc;
	/* planner_run_series() answers one point per span, from i0 on. */
	for (size_t i = i0; rc == 0 && i < i1 && i - i0 < s.n; i++) {
		const struct span_info *si = &ls->spans[i];

		if (si->state != SPAN_FRESH)
			rc = write_span(st, gm, ls->len, ls->first_s +
					(int64_t)i * ls->len,
					&s.points[i - i0], si, stats, err);
	}
	planner_series_clear(&s);
	return rc;
}

static int build_level(struct store *st, const struct fleet_rollup_opts *o,
		       const struct group_metric *gm, enum series_rollup r,
		       struct fleet_rollup_stats *stats, struct rttq_error *err)
{
	uint32_t len = series_rollup_length(r);
	int64_t first = floor_to(o->from_s + len - 1, len);
	int64_t last = floor_to(o->now_s - o->grace_s - len, len);
	struct level_scan ls = {
		.len = len,
		.first_s = first,
		.counters = !strcmp(gm->metric, METRIC_COUNTERS),
	};
	struct store_query q = {
		.host = STORE_FLEET_HOST,
		.group = gm->group,
		.metric = gm->metric,
		.period_s = len,
		.from_s = first,
	};
	size_t i = 0;
	int rc;

	if (floor_to(o->to_s, len) < last)
		last = floor_to(o->to_s, len);
	if (first > last)
		return 0;
	ls.n = (size_t)((last - first) / len + 1);
	ls.spans = calloc(ls.n, sizeof(*ls.spans));
	if (!ls.spans)
		return rttq_fail(err, -ENOMEM, "out of memory");
	q.to_s = last;
	rc = store_query(st, &q, scan_record, &ls, err);
	if (rc == -ENOMEM)
		rttq_fail(err, rc, "out of memory");
	while (rc == 0 && i < ls.n) {
		size_t end;

		if (ls.spans[i].state == SPAN_FRESH) {
			stats->fresh++;
			i++;
			continue;
		}
		/* A chunk starts at a span to build and holds at most
		 * CHUNK_SPANS spans, some of them perhaps fresh. */
		end = i + CHUNK_SPANS < ls.n ? i + CHUNK_SPANS : ls.n;
		while (end > i + 1 && ls.spans[end - 1].state == SPAN_FRESH)
			end--;
		rc = build_chunk(st, o, gm, &ls, i, end, stats, err);
		/* A host whose base period does not fit this level's spans
		 * (600 s under 5 minutes): the level cannot hold the whole
		 * fleet, so it is not built; the planner reads the hosts. */
		if (rc == -EINVAL) {
			stats->levels_skipped++;
			rc = 0;
			break;
		}
		for (size_t k = i; k < end; k++)
			stats->fresh += ls.spans[k].state == SPAN_FRESH;
		i = end;
	}
	scan_free(&ls);
	return rc;
}

static int check_opts(const struct fleet_rollup_opts *o,
		      struct rttq_error *err)
{
	if (!series_period_valid(o->period_s))
		return rttq_fail(err, -EINVAL, "base period %u s does not "
				 "divide an hour", o->period_s);
	if (o->grace_s < STORE_LATE_S)
		return rttq_fail(err, -EINVAL, "grace %lld s is below %d s: "
				 "a record written later than that is not "
				 "marked stale", (long long)o->grace_s,
				 STORE_LATE_S);
	if (o->from_s < 0 || o->from_s > TIMEPARSE_MAX_S || o->to_s < 0 ||
	    o->to_s > TIMEPARSE_MAX_S || o->now_s < 0 ||
	    o->now_s > TIMEPARSE_MAX_S)
		return rttq_fail(err, -EINVAL, "time range %lld..%lld outside "
				 "1970..9999", (long long)o->from_s,
				 (long long)o->to_s);
	return 0;
}

int fleet_rollup_run(struct store *st, const struct fleet_rollup_opts *o,
		     struct fleet_rollup_stats *stats, struct rttq_error *err)
{
	struct group_list gl = { 0 };
	int rc;

	memset(stats, 0, sizeof(*stats));
	rc = check_opts(o, err);
	if (rc || o->from_s > o->to_s)
		return rc;
	rc = store_series(st, NULL, NULL, o->from_s, o->to_s, collect_group,
			  &gl, err);
	if (rc == -ENOMEM)
		rttq_fail(err, rc, "out of memory listing groups");
	if (rc == 0 && gl.n)
		qsort(gl.v, gl.n, sizeof(*gl.v), cmp_group_metric);
	for (size_t g = 0; g < gl.n; g++)
		stats->groups += g == 0 || strcmp(gl.v[g].group,
						  gl.v[g - 1].group);
	/* Finest first: a run that stops early has built what the coarser
	 * levels' edges need. */
	for (size_t g = 0; rc == 0 && g < gl.n; g++)
		for (int r = 0; rc == 0 && r < SERIES_ROLLUPS; r++)
			rc = build_level(st, o, &gl.v[g], r, stats, err);
	for (size_t g = 0; g < gl.n; g++) {
		free(gl.v[g].group);
		free(gl.v[g].metric);
	}
	free(gl.v);
	return rc;
}
