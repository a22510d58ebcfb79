// SPDX-License-Identifier: BSD-2-Clause
/*
 * The planner's tail pass (planner_private.h): what the fleet records
 * leave of a fleet query is mostly its edges: the minutes before now (the
 * open 5-minute span, the rollup's grace), the partial 5-minute span at
 * its start, a span marked stale.  Host by host, those cost a listing of
 * the hosts and a few reads per host (on DynamoDB about six requests
 * each); store_fine_records() returns every host's base and 5-minute
 * records of them in a request or two per edge, for any metric: a
 * distribution's digests or a group's counter sets (planner_run_counters()
 * runs the same job, and a dashboard's /counters ends at now too).  Each
 * host's records are then planned as planner_plan_host() plans them
 * (complete 5-minute rollups where they fit, base records for the rest)
 * into one share per host, so merging, host counts, records per level and
 * errors are those of the host-by-host path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "planner_private.h"
#include "series.h"
#include "store.h"

/* Longer, or more scattered: host by host, where the hosts' hour and day
 * rollups cover most of it (no `rttq rollup` ran, or not for long). */
#define TAIL_MAX_S (3 * 3600)
#define TAIL_MAX_GAPS 8
#define FIVE_MIN_S 300

/* A record kept until every host is known; owns its host and digest. */
struct tail_rec {
	struct store_record r;
	char *host;
	uint8_t *digest;
};

struct tail {
	const struct plan_job *job;
	struct tail_rec *v;
	size_t n, cap;
};

/* Whether @t lies in one of @n sorted, disjoint spans. */
static bool in_spans(const struct span *v, size_t n, int64_t t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].end_s <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].start_s <= t;
}

/* The base period a record belongs to: a rollup spans periods_total of
 * them (series.h); a record that says otherwise counts as its own. */
static uint32_t base_of(const struct store_record *r)
{
	return r->period_s % r->periods_total ? r->period_s :
						r->period_s / r->periods_total;
}

/* store_fine_records() callback: keep what the host-by-host path could
 * read (the base period asked for, none a fleet record covers). */
static int keep_record(const struct store_record *rec, void *arg)
{
	struct tail *t = arg;
	const struct plan_job *job = t->job;
	struct tail_rec *x;

	if (planner_cancelled(job))
		return -ECANCELED;
	if ((job->req->period_s && base_of(rec) != job->req->period_s) ||
	    in_spans(job->fleet_cover, job->n_fleet_cover, rec->start_s))
		return 0;
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 256;

		x = realloc(t->v, cap * sizeof(*x));
		if (!x)
			return -ENOMEM;
		t->v = x;
		t->cap = cap;
	}
	x = &t->v[t->n];
	x->r = *rec;
	x->host = strdup(rec->host);
	x->digest = malloc(rec->digest_len);
	if (!x->host || !x->digest) {
		free(x->host);
		free(x->digest);
		return -ENOMEM;
	}
	memcpy(x->digest, rec->digest, rec->digest_len);
	x->r.host = x->host;
	x->r.group = job->group;
	x->r.metric = job->metric;
	x->r.digest = x->digest;
	t->n++;
	return 0;
}

/* Host order, then each host's 5-minute rollups first, then time. */
static int rec_cmp(const void *a, const void *b)
{
	const struct store_record *x = &((const struct tail_rec *)a)->r;
	const struct store_record *y = &((const struct tail_rec *)b)->r;
	int c = strcmp(x->host, y->host);

	if (c)
		return c;
	if ((x->periods_total > 1) != (y->periods_total > 1))
		return x->periods_total > 1 ? -1 : 1;
	if (x->period_s != y->period_s)
		return x->period_s < y->period_s ? -1 : 1;
	return (x->start_s > y->start_s) - (x->start_s < y->start_s);
}

/* @h's base periods (those of its records v[0 .. n), rollups included),
 * ascending, and whether it has 5-minute rollups. */
static int host_periods(struct plan_host *h, const struct tail_rec *v,
			size_t n)
{
	int rc;

	for (size_t i = 0; i < n; i++) {
		h->rollups[SERIES_ROLLUP_5MIN] |= v[i].r.periods_total > 1;
		rc = planner_host_add_period(h, base_of(&v[i].r));
		if (rc)
			return rc;
	}
	h->bases = h->n_periods < 64 ? (1ull << h->n_periods) - 1 : ~0ull;
	return 0;
}

/*
 * One host's records v[0 .. n) into its share, as planner_plan_host()
 * reads a span no rollup longer than 5 minutes fits: complete 5-minute
 * rollups inside the host's span first (when the step takes them), then
 * base records starting where neither they nor a fleet record cover.  A
 * failure stays in the share.
 */
static int plan_host(struct plan_job *job, const struct plan_host *h,
		     struct host_share *sh, const struct tail_rec *v, size_t n)
{
	const struct planner_request *req = job->req;
	uint32_t base = planner_host_min_base(h);
	int64_t a = ceil_to(req->from_s, base);
	int64_t b = floor_to(req->to_s, base) + base;
	int64_t first = ceil_to(a, FIVE_MIN_S), end = floor_to(b, FIVE_MIN_S);
	bool fives = !(job->step_s && job->step_s % FIVE_MIN_S) &&
		     (!req->period_s ||
		      series_rollup_built(req->period_s, SERIES_ROLLUP_5MIN));
	struct plan_worker w = { .job = job, .share = sh };
	size_t i;
	int rc;

	if (planner_share_init(job, sh))
		return -ENOMEM;
	rc = planner_check_step(job, h, sh);
	for (i = 0; rc == 0 && i < n && v[i].r.periods_total > 1; i++) {
		const struct store_record *r = &v[i].r;

		if (!fives || r->start_s < first ||
		    r->start_s + FIVE_MIN_S > end)
			continue;
		w.level = PLANNER_LEVEL_5MIN;
		rc = planner_take_record(r, &w); /* covers when complete */
	}
	if (w.ncover)
		qsort(w.cover, w.ncover, sizeof(*w.cover), planner_span_cmp);
	for (; rc == 0 && i < n; i++) {
		const struct store_record *r = &v[i].r;

		if (r->start_s < req->from_s || r->start_s > req->to_s ||
		    (job->step_s && job->step_s % r->period_s) ||
		    in_spans(w.cover, w.ncover, r->start_s))
			continue;
		w.level = PLANNER_LEVEL_BASE;
		rc = planner_take_record(r, &w);
	}
	free(w.cover);
	sh->rc = rc;
	return 0;
}

/* The hosts of @t->v (sorted) and their shares into @job. */
static int plan_hosts(struct plan_job *job, const struct tail *t,
		      struct plan_host **out, size_t *n_out)
{
	struct plan_host *hosts;
	size_t i, end, n = 0, k = 0;
	int rc = 0;

	for (i = 0; i < t->n; i++)
		n += i == 0 || strcmp(t->v[i].host, t->v[i - 1].host) != 0;
	if (!n)
		return 0;
	hosts = calloc(n, sizeof(*hosts));
	job->shares = calloc(n, sizeof(*job->shares));
	if (!hosts || !job->shares) {
		free(hosts);
		return -ENOMEM;
	}
	job->hosts = hosts;
	job->n_hosts = n;
	*out = hosts;
	*n_out = n;
	for (i = 0; rc == 0 && i < t->n; i = end, k++) {
		for (end = i + 1; end < t->n &&
		     strcmp(t->v[end].host, t->v[i].host) == 0; end++)
			;
		hosts[k].name = strdup(t->v[i].host);
		rc = hosts[k].name ? host_periods(&hosts[k], &t->v[i], end - i) :
				     -ENOMEM;
		if (rc == 0)
			rc = plan_host(job, &hosts[k], &job->shares[k],
				       &t->v[i], end - i);
	}
	return rc;
}

/*
 * The parts of [a, b) no fleet record covers, into @out; false when more
 * than TAIL_MAX_GAPS, longer than TAIL_MAX_S in all, or holding a whole
 * hour the hosts' hour rollups would answer for.
 */
static bool uncovered(const struct plan_job *job, struct span *out,
		      size_t *n_out)
{
	bool hours = !(job->step_s && job->step_s % 3600) &&
		     !(job->req->period_s &&
		       !series_rollup_built(job->req->period_s,
					    SERIES_ROLLUP_HOUR));
	int64_t cur = job->a, total = 0;
	size_t i, n = 0;

	for (i = 0; i <= job->n_fleet_cover && cur < job->b; i++) {
		int64_t end = i < job->n_fleet_cover ?
				      job->fleet_cover[i].start_s : job->b;

		if (end > job->b)
			end = job->b;
		if (end > cur) {
			if (n == TAIL_MAX_GAPS ||
			    (hours && ceil_to(cur, 3600) + 3600 <= end))
				return false;
			out[n++] = (struct span){ cur, end };
			total += end - cur;
		}
		if (i < job->n_fleet_cover && job->fleet_cover[i].end_s > cur)
			cur = job->fleet_cover[i].end_s;
	}
	*n_out = n;
	return total <= TAIL_MAX_S;
}

int planner_tail_pass(struct store *st, struct plan_job *job,
		      struct plan_host **hosts, size_t *n_hosts, bool *read,
		      struct rttq_error *err)
{
	const struct planner_request *req = job->req;
	struct span gap[TAIL_MAX_GAPS];
	struct tail t = { .job = job };
	size_t i, n = 0;
	int rc = 0;

	*hosts = NULL;
	*n_hosts = 0;
	*read = false;
	if (!job->use_fleet || !uncovered(job, gap, &n))
		return 0;
	for (i = 0; rc == 0 && i < n; i++) {
		/* The range's own edges at its ends, as planner_plan_host()
		 * reads base records. */
		int64_t lo = gap[i].start_s == job->a ? req->from_s :
							gap[i].start_s;
		int64_t hi = gap[i].end_s == job->b ? req->to_s :
						      gap[i].end_s - 1;

		rc = store_fine_records(st, job->group, job->metric, lo,
					hi < req->to_s ? hi : req->to_s,
					keep_record, &t, err);
	}
	if (rc == -ECANCELED)
		rttq_fail(err, rc, "query cancelled");
	if (rc == 0) {
		/* No records leaves t.v NULL, which qsort() may not take. */
		if (t.n)
			qsort(t.v, t.n, sizeof(*t.v), rec_cmp);
		rc = plan_hosts(job, &t, hosts, n_hosts);
	}
	if (rc == -ENOMEM)
		rttq_fail(err, rc, "out of memory");
	*read = rc == 0;
	for (i = 0; i < t.n; i++) {
		free(t.v[i].host);
		free(t.v[i].digest);
	}
	free(t.v);
	return rc;
}
