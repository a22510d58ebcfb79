// SPDX-License-Identifier: BSD-2-Clause
/*
 * The planner's tail pass (planner_private.h): what the fleet records
 * leave of a fleet query is mostly its last minutes (the open 5-minute
 * span, the rollup's grace, a span marked stale).  Host by host, those
 * cost a listing of the hosts and a few reads per host (on DynamoDB about
 * six requests each); store_recent() returns every host's base records of
 * them in a request or two.  The records are sorted into one share per
 * host, as planner_plan_host() fills them from base records, so merging,
 * host counts and errors are those of the host-by-host path.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "planner_private.h"
#include "store.h"

/* store_recent() checks its window again a moment later: stay clear. */
#define TAIL_MARGIN_S 300

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

/* Whether a fleet record covers @t (job->fleet_cover is sorted). */
static bool covered(const struct plan_job *job, int64_t t)
{
	size_t lo = 0, hi = job->n_fleet_cover;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (job->fleet_cover[mid].end_s <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < job->n_fleet_cover && job->fleet_cover[lo].start_s <= t;
}

/* store_recent() callback: keep what the host-by-host path would read. */
static int keep_record(const struct store_record *rec, void *arg)
{
	struct tail *t = arg;
	const struct planner_request *req = t->job->req;
	struct tail_rec *x;

	if (planner_cancelled(t->job))
		return -ECANCELED;
	if (rec->start_s < req->from_s || rec->start_s > req->to_s ||
	    covered(t->job, rec->start_s))
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
	x->r.group = t->job->group;
	x->r.digest = x->digest;
	t->n++;
	return 0;
}

/* Host order, then each host's periods ascending, then time. */
static int rec_cmp(const void *a, const void *b)
{
	const struct store_record *x = &((const struct tail_rec *)a)->r;
	const struct store_record *y = &((const struct tail_rec *)b)->r;
	int c = strcmp(x->host, y->host);

	if (c)
		return c;
	if (x->period_s != y->period_s)
		return x->period_s < y->period_s ? -1 : 1;
	return (x->start_s > y->start_s) - (x->start_s < y->start_s);
}

/* @h's base periods: those of its records v[0 .. n), ascending. */
static int host_periods(struct plan_host *h, const struct tail_rec *v,
			size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (h->n_periods && h->periods[h->n_periods - 1] ==
				    v[i].r.period_s)
			continue;
		if (h->n_periods == 64) /* h->bases has a bit per period */
			break;
		if (h->n_periods == h->cap_periods) {
			size_t cap = h->cap_periods ? 2 * h->cap_periods : 4;
			uint32_t *p = realloc(h->periods, cap * sizeof(*p));

			if (!p)
				return -ENOMEM;
			h->periods = p;
			h->cap_periods = cap;
		}
		h->bases |= 1ull << h->n_periods;
		h->periods[h->n_periods++] = v[i].r.period_s;
	}
	return 0;
}

/* One host's records v[0 .. n) into its share, as planner_plan_host()
 * reads base records; a failure stays in the share. */
static int plan_host(struct plan_job *job, const struct plan_host *h,
		     struct host_share *sh, const struct tail_rec *v, size_t n)
{
	struct plan_worker w = {
		.job = job,
		.share = sh,
		.level = PLANNER_LEVEL_BASE,
	};
	size_t i;
	int rc;

	if (planner_share_init(job, sh))
		return -ENOMEM;
	rc = planner_check_step(job, h, sh);
	for (i = 0; rc == 0 && i < n; i++)
		if (!job->step_s || job->step_s % v[i].r.period_s == 0)
			rc = planner_take_record(&v[i].r, &w);
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

int planner_tail_pass(struct store *st, struct plan_job *job, int64_t ga,
		      int64_t gb, struct plan_host **hosts, size_t *n_hosts,
		      bool *read, struct rttq_error *err)
{
	const struct planner_request *req = job->req;
	int64_t oldest = (int64_t)time(NULL) - STORE_RECENT_S + TAIL_MARGIN_S;
	/* The range's own edges where nothing was covered, as
	 * planner_plan_host() reads base records. */
	int64_t lo = ga == job->a ? req->from_s : ga;
	int64_t hi = gb == job->b || gb - 1 > req->to_s ? req->to_s : gb - 1;
	struct tail t = { .job = job };
	size_t i;
	int rc;

	*hosts = NULL;
	*n_hosts = 0;
	*read = false;
	if (req->host || (req->flags & (PLANNER_BASE_ONLY | PLANNER_NO_FLEET)) ||
	    lo < oldest)
		return 0;
	rc = store_recent(st, job->group, req->period_s, lo, hi, keep_record,
			  &t, err);
	if (rc == -ECANCELED)
		rttq_fail(err, rc, "query cancelled");
	if (rc == 0) {
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
