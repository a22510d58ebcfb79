// SPDX-License-Identifier: BSD-2-Clause
/*
 * The planner's fleet pass (planner_private.h): before a fleet query lists
 * and reads its hosts, the fleet records `rttq rollup` built (host
 * STORE_FLEET_HOST, see store.h) cover what they can, coarsest first, the
 * same way one host's rollups do.  A stale mark or a span not built yet
 * covers nothing, so the hosts' records answer for it.  Only what is left
 * (usually the edges of the range) costs a listing of the hosts and a read
 * per host: a range of rolled-up spans costs a few requests for 10 or
 * 10,000 hosts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "planner_private.h"
#include "store.h"

/* The smallest [ga, gb) holding every part of [a, b) not in @cover. */
static void uncovered(const struct span *cover, size_t n, int64_t a,
		      int64_t b, int64_t *ga, int64_t *gb)
{
	int64_t lo = a, hi = b;
	size_t i;

	/* Spans are disjoint and sorted: eat them from both ends. */
	for (i = 0; i < n && lo < hi; i++)
		if (cover[i].start_s <= lo && cover[i].end_s > lo)
			lo = cover[i].end_s;
	for (i = n; i-- > 0 && lo < hi;)
		if (cover[i].end_s >= hi && cover[i].start_s < hi)
			hi = cover[i].start_s;
	*ga = lo;
	*gb = hi;
}

/*
 * Whether a registry listing @periods (@n of them) has no base period
 * but @period_s: each other one is a rollup that @period_s builds.  A
 * host whose base period is itself a rollup length (--period 300 beside
 * 60 s hosts) cannot be told from those rollups here.
 */
static bool only_base(const uint32_t *periods, size_t n, uint32_t period_s)
{
	for (size_t i = 0; i < n; i++)
		if (periods[i] != period_s &&
		    (periods[i] < period_s ||
		     !planner_rollup_length(periods[i])))
			return false;
	return true;
}

int planner_fleet_check(struct store *st, struct plan_job *job,
			uint32_t *span, struct rttq_error *err)
{
	const struct planner_request *req = job->req;
	uint32_t periods[16];
	size_t n;
	int rc;

	job->use_fleet = !req->host &&
			 !(req->flags & (PLANNER_BASE_ONLY | PLANNER_NO_FLEET));
	if (!job->use_fleet)
		return 0;
	if (!req->period_s)
		return store_finest_period(st, job->group, job->metric, span,
					   err);
	rc = store_periods(st, job->group, job->metric, periods,
			   sizeof(periods) / sizeof(periods[0]), &n, err);
	if (rc)
		return rc;
	/* n == 0: a registry that cannot say, read as before it could. */
	job->use_fleet = n <= sizeof(periods) / sizeof(periods[0]) &&
			 only_base(periods, n, req->period_s);
	return 0;
}

int planner_fleet_pass(struct store *st, struct plan_job *job, int64_t *ga,
		       int64_t *gb, struct rttq_error *err)
{
	const struct planner_request *req = job->req;
	struct plan_worker w = { .job = job, .st = st };
	/* The fleet as a host without base periods: its rollup levels only
	 * (with a base period asked for, those that period builds). */
	struct plan_host fleet = { .name = (char *)STORE_FLEET_HOST };
	int r, rc;

	*ga = job->a;
	*gb = job->b;
	if (!job->use_fleet)
		return 0;
	for (r = 0; r < SERIES_ROLLUPS; r++)
		fleet.rollups[r] = !req->period_s ||
				   series_rollup_built(req->period_s, r);
	job->fleet = calloc(1, sizeof(*job->fleet));
	if (!job->fleet)
		return rttq_fail(err, -ENOMEM, "out of memory");
	rc = planner_plan_host(&w, &fleet, job->fleet);
	if (rc) {
		if (err)
			*err = job->fleet->err;
		free(w.cover);
		return rc;
	}
	if (w.ncover)
		qsort(w.cover, w.ncover, sizeof(*w.cover), planner_span_cmp);
	job->fleet_cover = w.cover;
	job->n_fleet_cover = w.ncover;
	uncovered(w.cover, w.ncover, job->a, job->b, ga, gb);
	return 0;
}
