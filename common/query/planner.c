// SPDX-License-Identifier: BSD-2-Clause
/*
 * Query planner (see planner.h).  Per host, the range of base-period starts
 * [from, to] becomes the time span [A, B) and is covered top-down, walking
 * the rollup levels of series.h from the coarsest:
 *
 *   1. whole UTC days inside [A, B): 1d records that are complete;
 *   2. whole hours inside [A, B) not covered yet: complete 1h records;
 *   3. whole 5-minute spans not covered yet: complete 5m records (only for
 *      base periods that divide 300 s);
 *   4. everything still uncovered: base records, whatever their coverage.
 *
 * Each step only reads the gaps the previous steps left, so a 30-day range
 * costs ~30 day records plus the edges, not 43,200 base records.  A host's
 * base periods and rollup levels are those its registry lists
 * (planner_hosts.c); a host with two base periods (it changed) has both
 * read in step 4.
 *
 * A series (planner_run_series()) is planned the same way, once for its
 * whole range, reading only the levels whose records fit its steps whole;
 * each record then counts in the step holding its start.  Read once per
 * host, not once per step: a 6-day 5-minute series is one plan per host,
 * not 1,729.
 *
 * A fleet query first reads the fleet records `rttq rollup` built
 * (planner_fleet.c: host STORE_FLEET_HOST, planned by planner_plan_host()
 * like a host without base records); the spans they cover count as
 * covered for every host, and the hosts are listed only over what is left.
 *
 * What the fleet records leave, when it is a few short edges (the
 * minutes before now, the partial span at the start, a stale span), is
 * read for every host at once (planner_tail.c: store_fine_records()), so
 * a fleet query ending at now also costs a few requests for any number of
 * hosts.
 *
 * Counters (planner_run_counters()) are planned by the same code: the job
 * reads the group's counter sets (METRIC_COUNTERS) instead of a
 * distribution's digests, and each part sums the counters asked for
 * exactly, where a distribution's part keeps digests to merge.
 *
 * A fleet query plans its hosts on up to PLANNER_WORKERS threads, each with
 * its own store handle (store_sibling(): opened once, kept by the store for
 * the next query); the caller's thread is one of them.  Each host's decoded
 * digests and totals are kept apart and merged once at the end in host
 * order (planner_merge.c; the fleet records first), so the answer (and the
 * error, if any: the first failing host in host order) does not depend on
 * which thread ran what.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "counter_set.h"
#include "metric.h"
#include "planner.h"
#include "planner_private.h"
#include "series.h"
#include "store.h"
#include "tdigest.h"
#include "timeparse.h"

/* Rollup level r of series.h is planner level r + 1. */
_Static_assert(PLANNER_LEVELS == SERIES_ROLLUPS + 1,
	       "one planner level per rollup level, plus the base");

static const char *const level_names[PLANNER_LEVELS] = {
	[PLANNER_LEVEL_BASE] = "base",
	[PLANNER_LEVEL_5MIN] = "5m",
	[PLANNER_LEVEL_HOUR] = "1h",
	[PLANNER_LEVEL_DAY] = "1d",
};

/* -------------------------------------------------------------------------
 * One host: plan, read and decode its records into its share.
 * ------------------------------------------------------------------------- */

static int push_span(struct plan_worker *w, int64_t start_s, int64_t end_s)
{
	if (w->ncover == w->cap_cover) {
		size_t cap = w->cap_cover ? 2 * w->cap_cover : 64;
		struct span *v = realloc(w->cover, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->cover = v;
		w->cap_cover = cap;
	}
	w->cover[w->ncover++] = (struct span){ start_s, end_s };
	return 0;
}

static int push_digest(struct part *pt, struct tdigest *td)
{
	if (pt->n == pt->cap) {
		size_t cap = pt->cap ? 2 * pt->cap : 16;
		struct tdigest **v = realloc(pt->digests, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		pt->digests = v;
		pt->cap = cap;
	}
	pt->digests[pt->n++] = td;
	if (tdigest_compression(td) > pt->compression)
		pt->compression = tdigest_compression(td);
	return 0;
}

int planner_share_init(const struct plan_job *job, struct host_share *sh)
{
	size_t p;

	sh->parts = calloc(job->n_points, sizeof(*sh->parts));
	if (!sh->parts)
		return -ENOMEM;
	for (p = 0; p < job->n_points; p++)
		sh->parts[p].compression = TDIGEST_COMPRESSION_MIN;
	return 0;
}

void planner_share_release(struct host_share *sh, size_t n_points)
{
	size_t i, p;

	for (p = 0; sh->parts && p < n_points; p++) {
		for (i = 0; i < sh->parts[p].n; i++)
			tdigest_free(sh->parts[p].digests[i]);
		free(sh->parts[p].digests);
		counter_set_free(&sh->parts[p].counters);
	}
	free(sh->parts);
	sh->parts = NULL;
}

/* Count, sum, extremes and level count of one used record. */
static void part_add(struct part *pt, const struct store_record *rec,
		     enum planner_level level)
{
	if (rec->count > 0) {
		if (pt->count == 0 || rec->min_us < pt->min_us)
			pt->min_us = rec->min_us;
		if (pt->count == 0 || rec->max_us > pt->max_us)
			pt->max_us = rec->max_us;
	}
	pt->count += rec->count;
	pt->sum_us += rec->sum_us;
	pt->records[level]++;
	/* A fleet record's periods_total is 1 + the hosts it merged. */
	if (store_host_reserved(rec->host)) {
		pt->fleet_records++;
		if (rec->periods_total - 1 > pt->fleet_hosts)
			pt->fleet_hosts = rec->periods_total - 1;
	}
}

/* The answer a record counts in: the step holding its start.  Records
 * never straddle steps: only levels no longer than the step are read, and
 * every level's length divides every longer step. */
static struct part *part_of(const struct plan_worker *w,
			    const struct store_record *rec)
{
	const struct plan_job *job = w->job;
	int64_t p;

	if (!job->step_s)
		return &w->share->parts[0];
	p = (rec->start_s - job->first_s) / job->step_s;
	if (p < 0 || (size_t)p >= job->n_points)
		return NULL;
	return &w->share->parts[p];
}

/* A stored record that does not decode: the message names it. */
static int undecodable(const struct plan_worker *w,
		       const struct store_record *rec, int rc,
		       const struct rttq_error *derr)
{
	char start[TIMEPARSE_RFC3339_LEN];

	if (rc == -ENOMEM)
		return rttq_fail(&w->share->err, rc, "out of memory");
	if (timeparse_format(rec->start_s, start, sizeof(start)))
		snprintf(start, sizeof(start), "%lld", (long long)rec->start_s);
	return rttq_fail(&w->share->err, rc,
			 "record host '%s' group '%s' %s %u s at %s: %s",
			 rec->host, rec->group, level_names[w->level],
			 rec->period_s, start, derr->msg);
}

static bool name_wanted(const struct plan_job *job, const char *name)
{
	size_t i;

	for (i = 0; i < job->n_names; i++)
		if (counter_name_match(job->names[i], name))
			return true;
	return job->n_names == 0;
}

/* A counters query's planner_take_record(): the wanted counters of @rec's set
 * added to @pt exactly. */
static int take_counters(struct plan_worker *w, struct part *pt,
			 const struct store_record *rec)
{
	struct counter_set set = COUNTER_SET_INIT;
	struct store_record totals = *rec;
	struct rttq_error derr = { 0 };
	size_t i;
	int rc;

	rc = counter_set_decode(rec->digest, rec->digest_len, &set, &derr);
	if (rc)
		return undecodable(w, rec, rc, &derr);
	for (i = 0; rc == 0 && i < set.n; i++)
		if (name_wanted(w->job, set.v[i].name))
			rc = counter_set_add(&pt->counters, set.v[i].name,
					     set.v[i].value);
	if (rc == -EOVERFLOW)
		rc = rttq_fail(&w->share->err, rc, "counter %s of host '%s' "
			       "group '%s' passes 2^64 - 1", set.v[i - 1].name,
			       rec->host, rec->group);
	else if (rc)
		rc = rttq_fail(&w->share->err, rc, "out of memory");
	counter_set_free(&set);
	if (rc == 0 && w->level != PLANNER_LEVEL_BASE &&
	    push_span(w, rec->start_s, rec->start_s + rec->period_s))
		rc = rttq_fail(&w->share->err, -ENOMEM, "out of memory");
	if (rc)
		return rc;
	/* A set's count is how many counters it holds, no sample count. */
	totals.count = 0;
	totals.sum_us = 0;
	part_add(pt, &totals, w->level);
	pt->sets++;
	return 0;
}

int planner_take_record(const struct store_record *rec, void *arg)
{
	struct plan_worker *w = arg;
	struct host_share *sh = w->share;
	struct part *pt = part_of(w, rec);
	struct rttq_error derr = { 0 };
	struct tdigest *td = NULL;
	int rc;

	sh->records_read++;
	if (planner_cancelled(w->job))
		return rttq_fail(&sh->err, -ECANCELED, "query cancelled");
	/* A rollup missing base periods would silently drop samples. */
	if (!pt || (w->level != PLANNER_LEVEL_BASE &&
		    rec->periods != rec->periods_total))
		return 0;
	if (w->job->counters)
		return take_counters(w, pt, rec);
	/* An empty fleet span has nothing to merge; it still covers. */
	if (rec->count == 0 && store_host_reserved(rec->host)) {
		if (push_span(w, rec->start_s, rec->start_s + rec->period_s))
			return rttq_fail(&sh->err, -ENOMEM, "out of memory");
		part_add(pt, rec, w->level);
		return 0;
	}
	rc = codec_decode(rec->digest, rec->digest_len, &td, &derr);
	if (rc)
		return undecodable(w, rec, rc, &derr);
	rc = w->level != PLANNER_LEVEL_BASE ?
		     push_span(w, rec->start_s, rec->start_s + rec->period_s) :
		     0;
	if (rc == 0)
		rc = push_digest(pt, td);
	if (rc) {
		tdigest_free(td);
		return rttq_fail(&sh->err, rc, "out of memory");
	}
	part_add(pt, rec, w->level);
	return 0;
}

static int query_level(struct plan_worker *w, const char *host,
		       enum planner_level level, uint32_t period_s,
		       int64_t first_s, int64_t last_s)
{
	struct store_query q = {
		.host = host,
		.group = w->job->group,
		.metric = w->job->metric,
		.period_s = period_s,
		.from_s = first_s,
		.to_s = last_s,
	};

	w->level = level;
	return store_query(w->st, &q, planner_take_record, w, &w->share->err);
}

int planner_span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return (x->start_s > y->start_s) - (x->start_s < y->start_s);
}

/*
 * Query @level (records @period_s long) over the parts of [@a, @b) that
 * the rollups read so far left uncovered: a gap [g0, g1) holds the starts
 * g0 .. g1 - 1.  The range's own edges are the request's from and to, so
 * that a second base period, whose periods need not align with the first
 * one's [a, b), loses no start in [from, to].
 */
static int query_gaps(struct plan_worker *w, const char *host,
		      enum planner_level level, uint32_t period_s, int64_t a,
		      int64_t b)
{
	const struct planner_request *req = w->job->req;
	int64_t first = level == PLANNER_LEVEL_BASE ? req->from_s : a;
	int64_t last = level == PLANNER_LEVEL_BASE ? req->to_s : b - 1;
	size_t ncover = w->ncover, i;
	int64_t cur = a;
	int rc;

	/* Copy: the queries below append to w->cover. */
	struct span *cover = NULL;

	if (ncover) {
		cover = malloc(ncover * sizeof(*cover));
		if (!cover)
			return rttq_fail(&w->share->err, -ENOMEM,
					 "out of memory");
		memcpy(cover, w->cover, ncover * sizeof(*cover));
		qsort(cover, ncover, sizeof(*cover), planner_span_cmp);
	}
	for (i = 0; i < ncover && cur < b; i++) {
		if (cover[i].end_s <= cur)
			continue;
		if (cover[i].start_s > cur) {
			int64_t end = cover[i].start_s < b ? cover[i].start_s : b;

			rc = query_level(w, host, level, period_s,
					 cur == a ? first : cur, end - 1);
			if (rc)
				goto cleanup;
		}
		cur = cover[i].end_s;
	}
	rc = cur < b ? query_level(w, host, level, period_s,
				   cur == a ? first : cur, last) : 0;
cleanup:
	free(cover);
	return rc;
}

/* Whether a series' steps hold base period i of @h whole. */
static bool fits_step(const struct plan_job *job, const struct plan_host *h,
		      size_t i)
{
	return !job->step_s || job->step_s % h->periods[i] == 0;
}

int planner_check_step(const struct plan_job *job, const struct plan_host *h,
		      struct host_share *sh)
{
	size_t i;

	for (i = 0; i < h->n_periods; i++)
		if (h->bases & (1ull << i) && !fits_step(job, h, i) &&
		    !planner_rollup_length(h->periods[i]))
			return rttq_fail(&sh->err, -EINVAL, "step %lld s is not "
					 "a multiple of host '%s''s %u s base "
					 "period", (long long)job->step_s,
					 h->name, h->periods[i]);
	return 0;
}

/* Steps 1-4 of the file comment for one host into @sh. */
int planner_plan_host(struct plan_worker *w, const struct plan_host *h,
		      struct host_share *sh)
{
	const struct plan_job *job = w->job;
	const struct planner_request *req = job->req;
	bool rollups = !(req->flags & PLANNER_BASE_ONLY);
	uint32_t base = planner_host_min_base(h);
	/* The span of this host's base periods starting in [from, to]; the
	 * fleet (no base period) takes the job's. */
	int64_t a = base ? ceil_to(req->from_s, base) : job->a;
	int64_t b = base ? floor_to(req->to_s, base) + base : job->b;
	size_t i, p;
	int r, rc = 0;

	w->share = sh;
	w->ncover = 0;
	rc = planner_share_init(job, sh);
	for (p = 0; rc == 0 && p < job->n_fleet_cover; p++)
		rc = push_span(w, job->fleet_cover[p].start_s,
			       job->fleet_cover[p].end_s);
	if (rc)
		return rttq_fail(&sh->err, rc, "out of memory");
	rc = planner_check_step(job, h, sh);
	for (r = SERIES_ROLLUPS - 1; rollups && rc == 0 && r >= 0; r--) {
		uint32_t len = series_rollup_length(r);
		int64_t first = ceil_to(a, len), end = floor_to(b, len);

		/* A series reads only records that fit its steps whole. */
		if (job->step_s && job->step_s % len)
			continue;
		if (h->rollups[r] && first < end)
			rc = query_gaps(w, h->name, r + 1, len, first, end);
	}
	/* The fleet has no base periods: planner_fleet_pass(). */
	for (i = 0; rc == 0 && i < h->n_periods; i++)
		if (h->bases & (1ull << i) && fits_step(job, h, i))
			rc = query_gaps(w, h->name, PLANNER_LEVEL_BASE,
					h->periods[i], a, b);
	return rc;
}

/* -------------------------------------------------------------------------
 * Workers: hosts are taken in host order; a failure stops the taking.
 * ------------------------------------------------------------------------- */

static bool take_host(struct plan_job *job, size_t *i)
{
	bool got;

	pthread_mutex_lock(&job->mu);
	got = !job->failed && !planner_cancelled(job) && job->next < job->n_hosts;
	if (got)
		*i = job->next++;
	pthread_mutex_unlock(&job->mu);
	return got;
}

static void *work(void *arg)
{
	struct plan_worker *w = arg;
	struct plan_job *job = w->job;
	size_t i;

	while (take_host(job, &i)) {
		struct host_share *sh = &job->shares[i];

		sh->rc = planner_plan_host(w, &job->hosts[i], sh);
		if (sh->rc) {
			pthread_mutex_lock(&job->mu);
			job->failed = true;
			pthread_mutex_unlock(&job->mu);
		}
	}
	return NULL;
}

/*
 * Plan every host of @job on min(hosts, PLANNER_WORKERS) workers.  All
 * sibling handles are opened here, before any worker runs, so nothing
 * reads @st while worker 0 uses it.  A store that cannot have a sibling
 * (an in-memory SQLite store) and a thread that cannot start leave fewer
 * workers, not a failed query.
 */
static int run_workers(struct store *st, struct plan_job *job,
		       struct rttq_error *err)
{
	struct plan_worker w[PLANNER_WORKERS] = { 0 };
	struct rttq_error serr = { 0 };
	size_t n = job->n_hosts < PLANNER_WORKERS ? job->n_hosts :
						    PLANNER_WORKERS;
	size_t i, opened = 1;
	int rc = 0;

	w[0].st = st;
	for (i = 1; i < n; i++, opened++) {
		rc = store_sibling(st, (unsigned int)i, &w[i].st, &serr);
		if (rc)
			break;
	}
	if (rc == -ENOTSUP)
		rc = 0;
	else if (rc && err)
		*err = serr;
	for (i = 0; i < opened; i++)
		w[i].job = job;
	for (i = 1; rc == 0 && i < opened; i++)
		w[i].started = pthread_create(&w[i].thread, NULL, work,
					      &w[i]) == 0;
	if (rc == 0)
		work(&w[0]);
	for (i = 0; i < opened; i++) {
		if (w[i].started)
			pthread_join(w[i].thread, NULL);
		free(w[i].cover);
	}
	return rc;
}

/* -------------------------------------------------------------------------
 * Entry point
 * ------------------------------------------------------------------------- */

static int check_request(const struct planner_request *req,
			 const char *metric, struct rttq_error *err)
{
	if (!metric_name_valid(metric))
		return rttq_fail(err, -EINVAL, "metric \"%.80s\" is not a "
				 "metric name (1-63 of a-z, 0-9, '_', '.')",
				 metric);
	if (req->period_s && !series_period_valid(req->period_s))
		return rttq_fail(err, -EINVAL, "base period %u s does not "
				 "divide an hour", req->period_s);
	if (req->host && !*req->host)
		return rttq_fail(err, -EINVAL, "host is empty");
	if (req->host && store_host_reserved(req->host))
		return rttq_fail(err, -EINVAL, "host '%s' is reserved for the "
				 "fleet's records: leave the host out to ask "
				 "for the fleet", req->host);
	if (req->group && !*req->group)
		return rttq_fail(err, -EINVAL, "group is empty");
	if (req->from_s < 0 || req->from_s > TIMEPARSE_MAX_S ||
	    req->to_s < 0 || req->to_s > TIMEPARSE_MAX_S)
		return rttq_fail(err, -EINVAL, "time range %lld..%lld outside "
				 "1970..9999", (long long)req->from_s,
				 (long long)req->to_s);
	return 0;
}

static void answer_init(struct planner_answer *a)
{
	memset(a, 0, sizeof(*a));
	a->min_us = NAN;
	a->max_us = NAN;
}

/* What run() reads: a distribution, or counter sets kept by name. */
struct run_what {
	const char *metric;
	const char *const *names;
	size_t n_names;
};

/* What run() found beside the answers. */
struct run_info {
	size_t records_read;          /* records the store returned */
	uint32_t base_period_s;       /* smallest base period planned */
	enum planner_no_data no_data; /* why no host was planned */
	int64_t first_s;              /* a series' first step */
	int64_t span_start_s;         /* planner_series' span */
	int64_t span_end_s;
};

/* The fleet pass used a fleet record (even one of an empty span); stale
 * marks and incomplete ones do not count. */
static bool fleet_read(const struct plan_job *job)
{
	size_t p;
	int l;

	for (p = 0; job->fleet && job->fleet->parts && p < job->n_points; p++)
		for (l = 0; l < PLANNER_LEVELS; l++)
			if (job->fleet->parts[p].records[l])
				return true;
	return false;
}

/*
 * Plan, read and merge @req into @job->n_points answers at @out (step_s 0:
 * one); none when nothing is stored in range, and then @info says why.
 */
static int run(struct store *st, const struct planner_request *req,
	       const struct run_what *what, int64_t step_s,
	       struct planner_answer **out, size_t *n_out,
	       struct run_info *info, struct rttq_error *err)
{
	struct plan_job job = {
		.req = req,
		.group = req->group ? req->group : "all",
		.metric = metric_or_rtt(what->metric),
		.names = what->names,
		.n_names = what->n_names,
		.step_s = step_s,
		.n_points = 1,
		.mu = PTHREAD_MUTEX_INITIALIZER,
	};
	struct plan_host *hosts = NULL;
	struct planner_answer *ans = NULL;
	size_t i, n_hosts = 0;
	uint32_t base = 0, span = req->period_s;
	int64_t ga, gb;
	bool any, tail = false;
	int rc;

	*out = NULL;
	*n_out = 0;
	job.counters = !strcmp(job.metric, METRIC_COUNTERS);
	rc = check_request(req, job.metric, err);
	if (rc || req->from_s > req->to_s)
		return rc;
	/*
	 * The span the steps and the fleet records must fit: the periods
	 * starting in [from, to] of the base period asked for or, for the
	 * fleet, of the finest base period any host of the group has (a
	 * fleet record counts only when that host's last period in it
	 * starts by to); else every second of [from, to].  Each host plans
	 * its own span (planner_plan_host()).
	 */
	rc = planner_fleet_check(st, &job, &span, err);
	if (rc)
		return rc;
	job.a = span ? ceil_to(req->from_s, span) : req->from_s;
	job.b = span ? floor_to(req->to_s, span) + span : req->to_s + 1;
	if (step_s) {
		job.first_s = floor_to(job.a, step_s);
		job.n_points = (size_t)((job.b - 1 - job.first_s) / step_s + 1);
		info->first_s = job.first_s;
	}
	ans = calloc(job.n_points, sizeof(*ans));
	if (!ans)
		return rttq_fail(err, -ENOMEM, "out of memory");
	for (i = 0; i < job.n_points; i++)
		answer_init(&ans[i]);

	/* Fleet records first; the hosts only for what they leave: every
	 * host at once when that is a few short edges (planner_tail.c),
	 * else each host on its own. */
	rc = planner_fleet_pass(st, &job, &ga, &gb, err);
	if (rc == 0 && ga < gb)
		rc = planner_tail_pass(st, &job, &hosts, &n_hosts, &tail,
				       err);
	if (rc == 0 && ga < gb && !tail)
		rc = planner_list_hosts(st, req, job.group, job.metric, ga,
					gb - 1, &hosts, &n_hosts, err);
	for (i = 0; i < n_hosts; i++)
		if (!base || planner_host_min_base(&hosts[i]) < base)
			base = planner_host_min_base(&hosts[i]);
	/* Served by fleet records alone, no host was listed: the registry's
	 * finest base period (or the one asked for) names the level. */
	info->base_period_s = base ? base : span;
	span = span ? span : base;
	info->span_start_s = span ? ceil_to(req->from_s, span) : req->from_s;
	info->span_end_s = span ? floor_to(req->to_s, span) + span :
				  req->to_s + 1;
	if (rc == 0 && n_hosts && !tail) {
		job.hosts = hosts;
		job.n_hosts = n_hosts;
		job.shares = calloc(n_hosts, sizeof(*job.shares));
		rc = job.shares ? 0 : rttq_fail(err, -ENOMEM, "out of memory");
	}
	if (rc == 0 && n_hosts && !tail)
		rc = run_workers(st, &job, err);
	if (rc == 0 && n_hosts)
		rc = planner_first_failure(&job, &info->records_read, err);
	/* Hosts left untaken leave no error of their own. */
	if (rc == 0 && planner_cancelled(&job))
		rc = rttq_fail(err, -ECANCELED, "query cancelled");
	if (job.fleet)
		info->records_read += job.fleet->records_read;
	any = n_hosts || fleet_read(&job);
	if (rc == 0 && any)
		rc = planner_merge_all(&job, ans, err);
	if (rc == 0 && !any)
		rc = planner_why_empty(st, req, job.group, job.metric,
				       &info->no_data, err);

	for (i = 0; job.shares && i < job.n_hosts; i++)
		planner_share_release(&job.shares[i], job.n_points);
	free(job.shares);
	if (job.fleet)
		planner_share_release(job.fleet, job.n_points);
	free(job.fleet);
	free(job.fleet_cover);
	pthread_mutex_destroy(&job.mu);
	planner_hosts_free(hosts, n_hosts);
	if (rc || !any) {
		for (i = 0; i < job.n_points; i++)
			planner_answer_clear(&ans[i]);
		free(ans);
		return rc;
	}
	*out = ans;
	*n_out = job.n_points;
	return 0;
}

/* A distribution's query: METRIC_COUNTERS has its own entry, whose
 * answers hold counters, not a digest. */
static int distribution(const struct planner_request *req,
			struct run_what *what, struct rttq_error *err)
{
	what->metric = metric_or_rtt(req->metric);
	if (!strcmp(what->metric, METRIC_COUNTERS))
		return rttq_fail(err, -EINVAL, "metric \"%s\" is a group's "
				 "counters, not a distribution: ask for "
				 "counters (/counters, `rttq counters`)",
				 METRIC_COUNTERS);
	return 0;
}

int planner_run(struct store *st, const struct planner_request *req,
		struct planner_answer *out, struct rttq_error *err)
{
	struct planner_answer *ans = NULL;
	struct run_info info = { 0 };
	struct run_what what = { 0 };
	size_t n = 0;
	int rc;

	answer_init(out);
	rc = distribution(req, &what, err);
	if (rc == 0)
		rc = run(st, req, &what, 0, &ans, &n, &info, err);
	if (rc == 0 && n)
		*out = ans[0];
	out->records_read = info.records_read;
	out->base_period_s = info.base_period_s;
	out->no_data = info.no_data;
	free(ans);
	return rc;
}

static int run_series(struct store *st, const struct planner_request *req,
		      const struct run_what *what, int64_t step_s,
		      struct planner_series *out, struct rttq_error *err)
{
	struct run_info info = { 0 };
	int rc;

	rc = run(st, req, what, step_s, &out->points, &out->n, &info, err);
	out->records_read = info.records_read;
	out->base_period_s = info.base_period_s;
	out->no_data = info.no_data;
	out->span_start_s = info.span_start_s;
	out->span_end_s = info.span_end_s;
	if (rc == 0 && out->n)
		out->first_s = step_s ? info.first_s : info.span_start_s;
	return rc;
}

static int check_series_step(const struct planner_request *req,
			     int64_t step_s,
			     struct rttq_error *err)
{
	if (step_s <= 0 || (req->period_s && step_s % req->period_s))
		return rttq_fail(err, -EINVAL, "step %lld s is not a multiple "
				 "of the %u s base period", (long long)step_s,
				 req->period_s);
	return 0;
}

int planner_run_series(struct store *st, const struct planner_request *req,
		       int64_t step_s, struct planner_series *out,
		       struct rttq_error *err)
{
	struct run_what what = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	rc = check_series_step(req, step_s, err);
	if (rc == 0)
		rc = distribution(req, &what, err);
	return rc ? rc : run_series(st, req, &what, step_s, out, err);
}

int planner_run_counters(struct store *st, const struct planner_request *req,
			 const char *const *names, size_t n_names,
			 int64_t step_s, struct planner_series *out,
			 struct rttq_error *err)
{
	struct run_what what = {
		.metric = METRIC_COUNTERS,
		.names = names,
		.n_names = names ? n_names : 0,
	};
	int rc;

	memset(out, 0, sizeof(*out));
	rc = step_s ? check_series_step(req, step_s, err) : 0;
	return rc ? rc : run_series(st, req, &what, step_s, out, err);
}
