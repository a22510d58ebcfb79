/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Series table: accumulates per-group deltas into UTC-aligned base periods,
 * closes them into store records and builds 5 min, 1 h and 1 d rollups.
 * A group holds one exact histogram per distribution metric (rtt, jitter,
 * handshake: a record is a t-digest + count/sum/min/max) and one counter
 * set (metric.h's METRIC_COUNTERS: exact u64 sums, the record's digest is
 * counter_set_encode() bytes and its count the number of counters).  One
 * record per (group, metric, period); a counter set record only when some
 * counter of the group moved.  Shared by rttq-agent and `rttq synth`, so
 * it knows nothing of BPF or event loops.
 *
 * Coverage bookkeeping (store_record.periods / periods_total):
 *  - A base record is complete (periods = periods_total = 1) when this table
 *    observed its whole period: observation started at or before its start
 *    and a tick after its end closed it.  A partial base period (the first
 *    one after start-up, or the one cut by series_table_flush()) is written
 *    with periods = 0, periods_total = 1.
 *  - A rollup counts the complete base periods this table closed inside it,
 *    whether or not a group had samples in them: "covered" means observed,
 *    and a quiet group during an observed period is a true zero, not a gap.
 *    periods_total is the rollup's length / period_s; a rollup with
 *    periods < periods_total is written as is and is never complete.
 *  - A rollup level is built only when its length is a whole number of
 *    base periods, more than one (series_rollup_built()): 5 min rollups
 *    exist for 5 s or 60 s periods, not for 120 s or 600 s ones; with
 *    3600 s periods only the day rollup does.
 *  - Periods skipped by a jump of the clock (no tick during them) are not
 *    observed and are not counted.
 */
#ifndef RTTQ_SERIES_H
#define RTTQ_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "metric.h"
#include "rttq_export.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SERIES_5MIN_S 300
#define SERIES_HOUR_S 3600
#define SERIES_DAY_S 86400
#define SERIES_PERIOD_DEFAULT_S 60
#define SERIES_MAX_GROUPS_DEFAULT 1024
/* Distribution metrics one group may hold (the kernel has three). */
#define SERIES_METRICS_MAX 16

/* Rollup levels, finest first; series_rollup_length() gives their
 * lengths.  series.c builds them and planner.c reads them (coarsest
 * first) by walking this one list. */
enum series_rollup {
	SERIES_ROLLUP_5MIN,
	SERIES_ROLLUP_HOUR,
	SERIES_ROLLUP_DAY,
	SERIES_ROLLUPS,
};

struct counter_set;
struct hist;
struct series_table;

/*
 * Receives the records of one close: every base record of the period that
 * ended plus the rollups that ended with it, all groups, in one call (so a
 * caller can write them in one store_put).  Records and everything they
 * point to are valid only during the call.  A non-zero return is passed
 * back to the caller of series_table_add/tick/flush; the table does not
 * retry, the records are the callee's to keep.
 */
typedef int (*series_emit_fn)(const struct store_record *recs, size_t n,
			      void *arg);

struct series_config {
	const char *host;        /* written into every record (copied) */
	uint32_t period_s;       /* base period; must divide 3600 */
	unsigned int sub_bits;   /* bucket sub-bits g of every delta */
	double compression;      /* t-digest delta; 0: TDIGEST_COMPRESSION_DEFAULT */
	uint32_t max_groups;     /* bound on groups besides "all" (whatever
				  * metrics each holds); 0: default */
	series_emit_fn emit;     /* where closed records go */
	void *emit_arg;          /* passed to @emit */
};

/**
 * series_table_new() - create an empty table.
 * @cfg: settings (copied).
 * @out: receives the table.
 * @err: names the bad setting; may be NULL.
 *
 * @return 0, -EINVAL (empty or too long host, period not dividing 3600,
 *         sub-bits or compression out of range, no emit function), -ENOMEM.
 */
RTTQ_API int series_table_new(const struct series_config *cfg,
			      struct series_table **out,
			      struct rttq_error *err);

/** series_table_free() - release @t without emitting; NULL does nothing. */
RTTQ_API void series_table_free(struct series_table *t);

/**
 * series_table_add_metric() - add @delta to @group's histogram of
 * distribution @metric in the base period holding @at_s.  The first call
 * to an add or tick marks when observation started.  When @at_s lies past
 * the open period, the due periods are closed first (as
 * series_table_tick() would); when it lies before the open period (late
 * data, clock stepped back), @delta goes into the open period so no sample
 * is lost.
 * @t: table.
 * @group: "all" or a key such as "raddr:10.0.0.2"; copied.
 * @metric: METRIC_RTT, METRIC_JITTER, ... (metric_name_valid(), not
 *          METRIC_COUNTERS); NULL or "" is METRIC_RTT.
 * @at_s: UTC epoch seconds the samples belong to.
 * @delta: new counts (not changed); same sub-bits as the table.
 *
 * @return 0; -EINVAL for an empty or too long @group, an invalid @metric
 *         or a @delta with other sub-bits; -ENOSPC when @group is new and
 *         max_groups groups are active (the samples are counted in
 *         series_table_dropped()); -E2BIG when @metric would be the
 *         group's SERIES_METRICS_MAX + 1st (counted there too); -ENOMEM;
 *         or the non-zero value returned by the emit function.
 */
RTTQ_API int series_table_add_metric(struct series_table *t, const char *group,
				     const char *metric, int64_t at_s,
				     const struct hist *delta);

/** series_table_add() - series_table_add_metric() for METRIC_RTT. */
RTTQ_API int series_table_add(struct series_table *t, const char *group,
			      int64_t at_s, const struct hist *delta);

/**
 * series_table_add_counters() - add every non-zero counter of @delta to
 * @group's counter set of the base period holding @at_s (late and early
 * @at_s as for series_table_add_metric()).  Counters that did not move
 * (value 0) are left out, so a group whose counters stood still writes no
 * counter record.
 * @t: table.
 * @group: as for series_table_add_metric().
 * @at_s: UTC epoch seconds the counts belong to.
 * @delta: counts since the previous call (not changed).
 *
 * @return 0; -EINVAL for an empty or too long @group or a set that would
 *         pass COUNTER_SET_MAX counters; -ENOSPC when @group is new and
 *         max_groups groups are active (nothing added); -EOVERFLOW when a
 *         period's sum would pass 2^64 - 1; -ENOMEM (for these two, the
 *         counters before the failing one were added); or the non-zero
 *         value returned by the emit function.
 */
RTTQ_API int series_table_add_counters(struct series_table *t,
				       const char *group, int64_t at_s,
				       const struct counter_set *delta);

/**
 * series_table_tick() - close the open base period when @now_s is at or past
 * its end, and the rollups that ended with it; then open the period holding
 * @now_s.  Emits nothing when no group had samples or moved counters.
 *
 * @return 0, -ENOMEM (nothing closed; the next tick retries), or the
 *         non-zero value returned by the emit function.
 */
RTTQ_API int series_table_tick(struct series_table *t, int64_t now_s);

/**
 * series_table_flush() - on shutdown: tick at @now_s, then close the open
 * base period as partial (periods = 0) and emit every rollup as it stands
 * (incomplete).  The table is empty afterwards; a later add or
 * tick starts a new observation.
 *
 * @return 0, -ENOMEM, or the non-zero value returned by the emit function.
 */
RTTQ_API int series_table_flush(struct series_table *t, int64_t now_s);

/** series_table_groups() - groups currently held (including "all"). */
RTTQ_API size_t series_table_groups(const struct series_table *t);

/** series_table_dropped() - distribution samples refused because of
 * max_groups or SERIES_METRICS_MAX (total). */
RTTQ_API uint64_t series_table_dropped(const struct series_table *t);

/**
 * series_table_open_start() - start of the open base period (UTC epoch
 * seconds), or -1 before the first add/tick and after a flush.
 */
RTTQ_API int64_t series_table_open_start(const struct series_table *t);

/**
 * series_period_valid() - whether @period_s can be a base period: it must
 * divide 3600 so hours and days are whole numbers of periods.
 */
RTTQ_API int series_period_valid(uint32_t period_s);

/**
 * series_rollup_length() - how long rollup level @r is.
 * @r: a level below SERIES_ROLLUPS.
 *
 * @return seconds: 300, 3600 or 86400.
 */
RTTQ_API uint32_t series_rollup_length(enum series_rollup r);

/**
 * series_rollup_built() - whether a table with base period @period_s
 * builds rollup level @r: its length must be a multiple of @period_s and
 * longer (a rollup of one base period would repeat the base record).
 * @period_s: a valid base period (series_period_valid()).
 * @r: a level below SERIES_ROLLUPS.
 *
 * @return 1 or 0.
 */
RTTQ_API int series_rollup_built(uint32_t period_s, enum series_rollup r);

/**
 * series_parse_period() - parse a base period as users write it ("60",
 * "5s", "1m") and check that it divides an hour.
 * @text: the value as given.
 * @out: receives seconds.
 * @err: receives a message quoting @text; may be NULL.
 *
 * @return 0, -EINVAL.
 */
RTTQ_API int series_parse_period(const char *text, uint32_t *out,
				 struct rttq_error *err);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_SERIES_H */
