// SPDX-License-Identifier: BSD-2-Clause
/*
 * Which hosts a query plans, and at which base periods (planner_private.h).
 * The store's registry lists every resolution of each (host, group,
 * metric) series; the agents' base periods are read from it, so a query needs no
 * --period and a fleet whose hosts use different base periods (60 s here,
 * 10 s there) is planned host by host.  When nothing matches, it also
 * finds out why (no such host, no such group, another base period, or a
 * range outside what is stored), since "sample_count": 0 alone leaves a
 * user guessing.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "planner_private.h"
#include "series.h"
#include "store.h"
#include "timeparse.h"

struct host_list {
	struct plan_host *v;
	size_t n, cap;
	const char *metric; /* only this metric's series */
};

int planner_host_add_period(struct plan_host *h, uint32_t period_s)
{
	size_t k;
	uint32_t *v;

	for (k = 0; k < h->n_periods && h->periods[k] < period_s; k++)
		;
	/* h->bases has a bit per period; a series has at most 46 (the
	 * divisors of 3600, and 86400). */
	if ((k < h->n_periods && h->periods[k] == period_s) ||
	    h->n_periods == 64)
		return 0;
	if (h->n_periods == h->cap_periods) {
		size_t cap = h->cap_periods ? 2 * h->cap_periods : 4;

		v = realloc(h->periods, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		h->periods = v;
		h->cap_periods = cap;
	}
	memmove(&h->periods[k + 1], &h->periods[k],
		(h->n_periods - k) * sizeof(*h->periods));
	h->periods[k] = period_s;
	h->n_periods++;
	return 0;
}

/* store_series() callback: each host once, with its resolutions of the
 * group and metric (they arrive sorted by host, then resolution). */
static int collect_host(const char *host, const char *group,
			const char *metric, uint32_t period_s, void *arg)
{
	struct host_list *hl = arg;
	struct plan_host *h;

	(void)group; /* the listing asked for one group */
	if (strcmp(metric, hl->metric))
		return 0;
	if (!hl->n || strcmp(hl->v[hl->n - 1].name, host)) {
		if (hl->n == hl->cap) {
			size_t cap = hl->cap ? 2 * hl->cap : 16;
			struct plan_host *v = realloc(hl->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			hl->v = v;
			hl->cap = cap;
		}
		h = &hl->v[hl->n];
		memset(h, 0, sizeof(*h));
		h->name = strdup(host);
		if (!h->name)
			return -ENOMEM;
		hl->n++;
	}
	return planner_host_add_period(&hl->v[hl->n - 1], period_s);
}

/* Whether @period_s is a rollup some base period below it builds. */
static bool rollup_of(const struct plan_host *h, size_t upto,
		      uint32_t period_s)
{
	size_t i;
	int r;

	for (i = 0; i < upto; i++)
		for (r = 0; r < SERIES_ROLLUPS; r++)
			if (h->bases & (1ull << i) &&
			    series_rollup_built(h->periods[i], r) &&
			    series_rollup_length(r) == period_s)
				return true;
	return false;
}

/*
 * Sort the host's resolutions into base periods and rollups: walking them
 * smallest first, a period is a rollup when a base period already found
 * builds it (60 s builds 300, 3600 and 86400), else a base period of its
 * own (a host that moved from 60 s to 10 s has both; one whose base
 * records have expired reads its rollups as its finest data).  With a
 * @filter, the host keeps only that base period and the rollups it
 * builds; a host with another base period of its own (not a rollup length
 * left after its base records expired) is left out.
 * @return whether the host has anything to read.
 */
static bool sort_periods(struct plan_host *h, uint32_t filter)
{
	bool any, other = false;
	size_t i;
	int r;

	h->bases = 0;
	for (i = 0; i < h->n_periods; i++)
		if (series_period_valid(h->periods[i]) &&
		    !rollup_of(h, i, h->periods[i]))
			h->bases |= 1ull << i;
	if (filter) {
		uint64_t keep = 0;

		for (i = 0; i < h->n_periods; i++) {
			if (!(h->bases & (1ull << i)))
				continue;
			if (h->periods[i] == filter)
				keep = 1ull << i;
			else if (!planner_rollup_length(h->periods[i]))
				other = true;
		}
		if (other && !keep)
			return false;
		h->bases = keep;
	}
	any = h->bases != 0;
	for (r = 0; r < SERIES_ROLLUPS; r++) {
		h->rollups[r] = false;
		for (i = 0; i < h->n_periods; i++)
			if (!(h->bases & (1ull << i)) &&
			    h->periods[i] == series_rollup_length(r) &&
			    (!filter || series_rollup_built(filter, r)))
				h->rollups[r] = true;
		any = any || h->rollups[r];
	}
	return any;
}

bool planner_rollup_length(uint32_t period_s)
{
	int r;

	for (r = 0; r < SERIES_ROLLUPS; r++)
		if (series_rollup_length(r) == period_s)
			return true;
	return false;
}

uint32_t planner_host_min_base(const struct plan_host *h)
{
	size_t i;

	for (i = 0; i < h->n_periods; i++)
		if (h->bases & (1ull << i))
			return h->periods[i]; /* ascending */
	return 0;
}

void planner_hosts_free(struct plan_host *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].periods);
	}
	free(v);
}

int planner_list_hosts(struct store *st, const struct planner_request *req,
		       const char *group, const char *metric, int64_t from_s,
		       int64_t to_s, struct plan_host **out, size_t *n_out,
		       struct rttq_error *err)
{
	struct host_list hl = { .metric = metric };
	size_t i, kept = 0;
	int rc;

	*out = NULL;
	*n_out = 0;
	rc = store_series(st, req->host, group, from_s, to_s, collect_host,
			  &hl, err);
	if (rc == -ENOMEM)
		rttq_fail(err, rc, "out of memory listing hosts");
	if (rc) {
		planner_hosts_free(hl.v, hl.n);
		return rc;
	}
	/* Hosts with nothing of the --period asked for drop out. */
	for (i = 0; i < hl.n; i++) {
		if (sort_periods(&hl.v[i], req->period_s)) {
			hl.v[kept++] = hl.v[i];
		} else {
			free(hl.v[i].name);
			free(hl.v[i].periods);
		}
	}
	*out = hl.v;
	*n_out = kept;
	return 0;
}

/* -------------------------------------------------------------------------
 * Why there is no data
 * ------------------------------------------------------------------------- */

struct probe {
	const char *metric; /* NULL: any */
	bool found;
};

/* store_series() callback: one series is enough. */
static int found_any(const char *host, const char *group, const char *metric,
		     uint32_t period_s, void *arg)
{
	struct probe *p = arg;

	(void)host;
	(void)group;
	(void)period_s;
	if (p->metric && strcmp(p->metric, metric))
		return 0;
	p->found = true;
	return 1; /* stop: existence is all we ask */
}

static int probe(struct store *st, const char *host, const char *group,
		 const char *metric, int64_t from_s, int64_t to_s,
		 struct probe *p, struct rttq_error *err)
{
	int rc;

	memset(p, 0, sizeof(*p));
	p->metric = metric;
	rc = store_series(st, host, group, from_s, to_s, found_any, p, err);
	return rc == 1 ? 0 : rc;
}

int planner_why_empty(struct store *st, const struct planner_request *req,
		      const char *group, const char *metric,
		      enum planner_no_data *why, struct rttq_error *err)
{
	struct probe p;
	int rc;

	*why = PLANNER_DATA;
	/* Filtered out: the group is there in range at another period. */
	rc = req->period_s ? probe(st, req->host, group, metric, req->from_s,
				   req->to_s, &p, err) : 0;
	if (rc == 0 && req->period_s && p.found) {
		*why = PLANNER_NO_SUCH_PERIOD;
		return 0;
	}
	/* The group at any time: the range misses what is stored.  (A
	 * group without this metric at all is no such group for it.) */
	if (rc == 0)
		rc = probe(st, req->host, group, metric, 0, TIMEPARSE_MAX_S,
			   &p, err);
	if (rc == 0 && p.found) {
		*why = PLANNER_OUT_OF_RANGE;
		return 0;
	}
	/* The host with any group: no such group; else no such host. */
	if (rc == 0 && req->host)
		rc = probe(st, req->host, NULL, NULL, 0, TIMEPARSE_MAX_S, &p,
			   err);
	if (rc == 0)
		*why = req->host && !p.found ? PLANNER_NO_SUCH_HOST :
					       PLANNER_NO_SUCH_GROUP;
	return rc;
}

const char *planner_no_data_name(enum planner_no_data why)
{
	switch (why) {
	case PLANNER_NO_SUCH_HOST:
		return "no_such_host";
	case PLANNER_NO_SUCH_GROUP:
		return "no_such_group";
	case PLANNER_NO_SUCH_PERIOD:
		return "no_such_period";
	case PLANNER_OUT_OF_RANGE:
		return "out_of_range";
	case PLANNER_DATA:
		break;
	}
	return NULL;
}
