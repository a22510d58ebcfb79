/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Query planner: answers "the RTT (or another metric's) distribution of
 * this host (or the fleet) and group between from and to", and the sums of
 * a group's counters, from the store, reading the coarsest
 * complete records (whole UTC days from 1d rollups, whole hours from 1h
 * rollups, whole 5-minute spans from 5m rollups, base periods for the rest)
 * and merging their digests in one k-way pass; the hosts of a fleet query
 * are read on a few threads.  Each host's base periods come from the
 * store's registry, so hosts with different base periods answer together.  rttq-api and `rttq query` both call it, so
 * they agree.
 */
#ifndef RTTQ_PLANNER_H
#define RTTQ_PLANNER_H

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "counter_set.h"
#include "error.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct store;
struct tdigest;

enum planner_level {
	PLANNER_LEVEL_BASE, /* the agent's base period (60 s, 5 s in tests) */
	PLANNER_LEVEL_5MIN, /* 5m rollups (base periods dividing 300 s) */
	PLANNER_LEVEL_HOUR, /* 1h rollups */
	PLANNER_LEVEL_DAY,  /* 1d rollups */
	PLANNER_LEVELS,
};

/* Why an answer holds no data, when the store can tell. */
enum planner_no_data {
	PLANNER_DATA,           /* data, or no reason to give */
	PLANNER_NO_SUCH_HOST,   /* the host has no series at all */
	PLANNER_NO_SUCH_GROUP,  /* no series of the group (on the host) */
	PLANNER_NO_SUCH_PERIOD, /* the group is there at other base periods
				 * than the one asked for */
	PLANNER_OUT_OF_RANGE,   /* the group has records, none in range */
};

enum planner_flags {
	PLANNER_BASE_ONLY = 1 << 0, /* ignore rollups (reference answers) */
	PLANNER_NO_FLEET = 1 << 1,  /* ignore fleet records (`rttq rollup`
				     * builds from the hosts'; reference
				     * answers) */
};

struct planner_request {
	const char *host;   /* NULL: every host (the fleet) */
	const char *group;  /* NULL: "all" */
	const char *metric; /* a distribution (metric.h); NULL or "": rtt.
			     * METRIC_COUNTERS is refused: counters are
			     * asked with planner_run_counters() */
	uint32_t period_s;  /* 0: each host's base periods, as its registry
			     * lists them; else only hosts and records of
			     * this base period (a divisor of 3600) */
	int64_t from_s;     /* periods whose start lies in [from_s, to_s], */
	int64_t to_s;       /* UTC epoch seconds */
	unsigned int flags; /* enum planner_flags */
	const atomic_bool *cancel; /* NULL, or set (by any thread) to stop
				    * the remaining work: -ECANCELED */
};

struct planner_answer {
	struct tdigest *digest;          /* merged; NULL when count is 0 */
	uint64_t count;                  /* the metric's samples, exact; 0
					  * for counters */
	double sum_us;                   /* their sum, microseconds */
	double min_us;                   /* NAN when count is 0 */
	double max_us;                   /* NAN when count is 0 */
	size_t records[PLANNER_LEVELS];  /* records merged, per level */
	size_t records_read;             /* records the store returned */
	size_t hosts;                    /* hosts with a merged record; with
					  * fleet records, at least the most
					  * hosts one of them merged */
	size_t fleet_records;            /* of records[], fleet records */
	uint32_t base_period_s;          /* smallest base period planned;
					  * 0 when no host was */
	enum planner_no_data no_data;    /* why count is 0, when known */
	struct counter_set counters;     /* planner_run_counters(): the
					  * counters asked for, summed
					  * exactly; empty otherwise */
};

/**
 * planner_run() - plan, fetch and merge the records answering @req.
 * @st: the store.
 * @req: what to answer; from_s > to_s is an empty range (no data).
 * @out: receives the answer; release it with planner_answer_clear().
 *       Zeroed (count 0, NAN min/max) on failure.
 * @err: receives a message; may be NULL.
 *
 * A base record is used whatever its coverage (a partial period still
 * holds real samples); a rollup only when periods == periods_total, and
 * then none of the finer records it covers are read.
 *
 * A fleet query (no host) first reads the fleet records `rttq rollup`
 * built (planner_fleet.c): complete, fresh ones cover their spans, coarsest
 * first, and the hosts are listed and read only for what is left (the
 * edges of the range, spans not built yet or marked stale), so a range of
 * rolled-up spans costs a few requests whatever the number of hosts.
 * PLANNER_NO_FLEET (or PLANNER_BASE_ONLY) reads the hosts only.
 *
 * The hosts of a fleet query are planned up to four at a time on threads,
 * each reading through its own handle from store_sibling() (@st itself
 * serves the calling thread; the siblings stay open with @st).  Only one
 * planner_run() at a time may use @st.  Per-host results are merged in host
 * order, so the answer does not depend on thread timing; on failure the
 * error is that of the first failing host in host order.
 *
 * When no host has a series of the group in range, @out->no_data says
 * why (a few more registry reads, only then).
 *
 * @return 0; -ECANCELED when @req->cancel was set before the work was
 *         done; -EINVAL for a period not dividing 3600, an empty or
 *         reserved (STORE_FLEET_HOST) host, an empty group, a metric
 *         that is not a metric name or is METRIC_COUNTERS, or times
 *         outside 0..TIMEPARSE_MAX_S; -EBADMSG
 *         for a record whose digest does not decode, -ENOTSUP for one of
 *         a newer format (the message names host, group, resolution and
 *         start); the store's error (-EIO,
 *         -EBUSY, ..., also from opening a sibling handle); -ENOMEM.
 */
RTTQ_API int planner_run(struct store *st, const struct planner_request *req,
			 struct planner_answer *out, struct rttq_error *err);

/* A series: one answer per step. */
struct planner_series {
	struct planner_answer *points; /* points[i] covers the base periods
					* starting in [first_s + i * step,
					* first_s + (i + 1) * step) and in the
					* request's range */
	size_t n;                      /* points; 0 for an empty range */
	int64_t first_s;               /* start of points[0], a multiple of
					* the step */
	size_t records_read;           /* records the store returned */
	uint32_t base_period_s;        /* as in planner_answer */
	enum planner_no_data no_data;  /* as in planner_answer */
	int64_t span_start_s;          /* the range as time: [from, to]     */
	int64_t span_end_s;            /* widened to whole periods of the
					* finest base period planned (or
					* asked for), end exclusive; else
					* [from, to + 1) */
};

/**
 * planner_run_series() - the answers of planner_run() for every step of
 * @req's range at once: each UTC-aligned step [t, t + @step_s) that meets
 * the range, clipped to it.  The range is planned and read once per host
 * (levels whose records do not fit a step whole are skipped), and every
 * record counts in the step holding its start, so counts equal those of
 * one planner_run() per step and quantiles agree within the digests'
 * accuracy (the same records are merged, in another order).
 * @st: the store (as for planner_run()).
 * @req: the whole range, host (NULL: fleet), group, base period.
 * @step_s: seconds, a multiple of every base period planned.
 * @out: receives the points; release with planner_series_clear().  Empty
 *       on failure.
 * @err: receives a message; may be NULL.
 *
 * @return 0, -EINVAL for a step that is not a positive multiple of a
 *         host's base period (the message names the host), and the errors
 *         of planner_run().
 */
RTTQ_API int planner_run_series(struct store *st,
				const struct planner_request *req,
				int64_t step_s, struct planner_series *out,
				struct rttq_error *err);

/**
 * planner_run_counters() - the counters of @req's host (or fleet) and
 * group, summed exactly: planned like planner_run() (coarsest complete
 * records, finer ones at the edges, fleet records when complete and
 * fresh), reading the group's counter sets (METRIC_COUNTERS) instead of
 * digests.
 * @st: the store (as for planner_run()).
 * @req: the range, host, group, base period; its metric is not read.
 * @names: globs (counter_name_match()) of the counters to keep; NULL or
 *       none: every counter.
 * @n_names: how many.
 * @step_s: 0 for one answer over the range (@out->n is 1 when anything
 *       is stored, @out->first_s the span's start); else as for
 *       planner_run_series().
 * @out: receives the answers, each with its counters (count, sum and
 *       digest stay empty); release with planner_series_clear().
 * @err: receives a message; may be NULL.
 *
 * @return 0; -EOVERFLOW when a sum passes 2^64 - 1 (the message names the
 *         counter); -EBADMSG for a stored counter set that does not
 *         decode; the errors of planner_run_series().
 */
RTTQ_API int planner_run_counters(struct store *st,
				  const struct planner_request *req,
				  const char *const *names, size_t n_names,
				  int64_t step_s, struct planner_series *out,
				  struct rttq_error *err);

/** planner_series_clear() - free @s's points and zero it; NULL is fine. */
RTTQ_API void planner_series_clear(struct planner_series *s);

/**
 * planner_no_data_name() - the name users see for @why: "no_such_host",
 * "no_such_group", "no_such_period", "out_of_range"; NULL for
 * PLANNER_DATA.
 */
RTTQ_API const char *planner_no_data_name(enum planner_no_data why);

/** planner_answer_clear() - free @a's digest and zero it; NULL is fine. */
RTTQ_API void planner_answer_clear(struct planner_answer *a);

/**
 * planner_level_label() - the name users see for a resolution: "5s",
 * "1m", "1h", "1d" (the largest unit dividing @period_s).
 * @period_s: seconds, > 0.
 * @buf: receives the label.
 * @len: size of @buf; 16 bytes always suffice.
 *
 * @return 0, -EINVAL for a zero period or a too small buffer.
 */
RTTQ_API int planner_level_label(uint32_t period_s, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_PLANNER_H */
