/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fleet rollups (`rttq rollup`): per group, one fleet record (host
 * STORE_FLEET_HOST, see store.h) for every complete 5-minute, hour and day
 * span, the merge of every host's records for it, so that the planner
 * answers a fleet query over rolled-up spans without reading each host.
 * It lives beside the planner because it is built with it: a fleet span
 * is exactly the planner's fleet answer for that span.
 */
#ifndef RTTQ_FLEET_ROLLUP_H
#define RTTQ_FLEET_ROLLUP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct store;

#define FLEET_LOOKBACK_DEFAULT_S (2 * 86400)
#define FLEET_FLUSH_SLACK_S 60 /* the agent's write delay after a period */

struct fleet_rollup_opts {
	uint32_t period_s; /* the hosts' longest base period (divides 3600):
			    * sets the default grace; spans are built from
			    * every host, at the base periods the store
			    * lists for each */
	int64_t grace_s;   /* a span is built once it ended this long ago;
			    * at least STORE_LATE_S, so a record written
			    * after that is marked stale (store_put()) */
	int64_t from_s;    /* spans starting in [from_s, to_s] */
	int64_t to_s;
	int64_t now_s;     /* the wall clock, UTC epoch seconds */
};

struct fleet_rollup_stats {
	size_t groups;  /* groups with host records in the range */
	size_t built;   /* spans written for the first time */
	size_t rebuilt; /* stale or damaged spans written again */
	size_t raced;   /* marked again (or written by another run) while
			 * being built: left for the next run */
	size_t fresh;   /* already built and fresh: untouched */
	size_t levels_skipped; /* (group, level)s not built: a host's base
				* period does not fit the level's spans */
};

/**
 * fleet_rollup_grace_default() - the grace a span gets before it is built:
 * two base periods plus the agent's flush slack, at least STORE_LATE_S.
 * @period_s: the hosts' base period.
 *
 * @return seconds.
 */
RTTQ_API int64_t fleet_rollup_grace_default(uint32_t period_s);

/**
 * fleet_rollup_run() - build every missing, stale or damaged fleet span of
 * @o's range that ended @o->grace_s before @o->now_s, for every group,
 * finest level first, each from the hosts' records (planner_run_series()
 * with PLANNER_NO_FLEET, one step per span).  A span is written with
 * store_put_fleet() only if its stored record is still the one read before
 * building (absent, or the same stale mark), so a mark written meanwhile
 * survives for the next run.  Idempotent: a second run writes nothing.
 * @st: the store, opened with store_open() (it writes).
 * @o: what to build.
 * @stats: receives the counts (also on failure: what was done).
 * @err: receives a message; may be NULL.
 *
 * @return 0; -EINVAL for a base period not dividing 3600, a grace below
 *         STORE_LATE_S or a range outside 1970..9999; the errors of
 *         store_series(), store_query(), store_put_fleet() (but -ESTALE,
 *         counted in @stats->raced) and planner_run_series(); -ENOMEM.
 */
RTTQ_API int fleet_rollup_run(struct store *st,
			      const struct fleet_rollup_opts *o,
			      struct fleet_rollup_stats *stats,
			      struct rttq_error *err);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_FLEET_ROLLUP_H */
