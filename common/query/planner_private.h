/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to common/query: what the planner's two halves share.  planner.c
 * plans and reads each host on worker threads into its host_share;
 * planner_merge.c sums the shares into the answers.
 */
#ifndef RTTQ_PLANNER_PRIVATE_H
#define RTTQ_PLANNER_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counter_set.h"
#include "error.h"
#include "planner.h"
#include "series.h"

/* Threads planning a fleet query, the caller's included.  SQLite reads
 * are CPU bound and DynamoDB ones wait on the network; four keeps a small
 * machine busy without opening many handles per query. */
#define PLANNER_WORKERS 4

struct store;
struct tdigest;

struct span {
	int64_t start_s; /* inclusive */
	int64_t end_s;   /* exclusive */
};

/* Largest multiple of @m at or below @x (also for negative @x). */
static inline int64_t floor_to(int64_t x, int64_t m)
{
	int64_t r = x % m;

	return r < 0 ? x - r - m : x - r;
}

/* Smallest multiple of @m at or above @x. */
static inline int64_t ceil_to(int64_t x, int64_t m)
{
	int64_t f = floor_to(x, m);

	return f == x ? x : f + m;
}

/** planner_span_cmp() - qsort() order of struct span: by start. */
int planner_span_cmp(const void *a, const void *b);

/* What one host contributes to one answer (one point of a series). */
struct part {
	struct tdigest **digests; /* decoded, in the order read */
	size_t n, cap;
	double compression;       /* largest among the digests */
	uint64_t count;
	double sum_us, min_us, max_us;
	size_t records[PLANNER_LEVELS];
	size_t fleet_records;     /* fleet records among records[] */
	size_t fleet_hosts;       /* the most hosts one of them merged */
	struct counter_set counters; /* a counters query: the sets summed */
	size_t sets;              /* counter sets summed into it */
};

/* What one host contributes to every answer; filled by one worker. */
struct host_share {
	struct part *parts;       /* one per answer: job->n_points */
	size_t records_read;
	int rc;                   /* 0, or why this host failed */
	struct rttq_error err;
};

/* A host to plan and its resolutions of the group (planner_hosts.c). */
struct plan_host {
	char *name;
	uint32_t *periods;              /* every resolution, ascending */
	size_t n_periods, cap_periods;
	uint64_t bases;                 /* bit i: periods[i] is a base period */
	bool rollups[SERIES_ROLLUPS];   /* rollup levels stored */
};

/**
 * planner_list_hosts() - the hosts @req plans: the one asked for, or
 * every host, with a series of @group and @metric starting in [@from_s,
 * @to_s] (the
 * part of the request the fleet records left), each
 * with its base periods (only @req->period_s, when given; hosts without
 * it are left out) and rollup levels, in host order.
 * @out: receives the hosts; free with planner_hosts_free().
 * @n_out: receives how many; 0 is no data.
 *
 * @return 0, store_series()'s errors, -ENOMEM.
 */
int planner_list_hosts(struct store *st, const struct planner_request *req,
		       const char *group, const char *metric, int64_t from_s,
		       int64_t to_s, struct plan_host **out, size_t *n_out,
		       struct rttq_error *err);

/** planner_hosts_free() - free @n hosts at @v. */
void planner_hosts_free(struct plan_host *v, size_t n);

/** planner_rollup_length() - whether @period_s is a rollup level's
 * length (300, 3600, 86400). */
bool planner_rollup_length(uint32_t period_s);

/**
 * planner_host_add_period() - add @period_s to @h's periods, kept
 * ascending and without repeats (at most 64: h->bases has a bit each).
 *
 * @return 0 or -ENOMEM.
 */
int planner_host_add_period(struct plan_host *h, uint32_t period_s);

/** planner_host_min_base() - @h's smallest base period; 0 if none. */
uint32_t planner_host_min_base(const struct plan_host *h);

/**
 * planner_why_empty() - why planner_list_hosts() found no host for @req
 * (@group, @metric), from a few registry reads.
 * @why: receives the reason.
 *
 * @return 0, store_series()'s errors.
 */
int planner_why_empty(struct store *st, const struct planner_request *req,
		      const char *group, const char *metric,
		      enum planner_no_data *why, struct rttq_error *err);

/* The work every worker takes hosts from.  Only next and failed change
 * once workers run, under mu. */
struct plan_job {
	const struct planner_request *req;
	const char *group;
	const char *metric;       /* the store metric read: a distribution,
				   * or METRIC_COUNTERS */
	bool counters;            /* metric is METRIC_COUNTERS: parts sum
				   * counter sets, no digests */
	const char *const *names; /* counters kept: globs (counter_name_match());
				   * none: every counter */
	size_t n_names;
	int64_t a, b;             /* the span the steps and the fleet
				   * records fit: the periods of the base
				   * period asked for (or the group's finest)
				   * starting in [from, to], else every second
				   * of it; each host plans its own */
	int64_t step_s;           /* a series' step; 0: one answer */
	int64_t first_s;          /* start of the first step */
	size_t n_points;          /* answers: 1, or the steps meeting [a, b) */
	const struct plan_host *hosts;
	size_t n_hosts;
	struct host_share *shares; /* one per host */
	bool use_fleet;           /* planner_fleet_check() */
	struct host_share *fleet; /* the fleet records' share, or NULL */
	struct span *fleet_cover; /* spans the fleet records cover */
	size_t n_fleet_cover;
	pthread_mutex_t mu;
	size_t next;              /* first host no worker has taken */
	bool failed;              /* a host failed: take no more */
};

/* One thread planning hosts (planner.c). */
struct plan_worker {
	struct plan_job *job;
	struct store *st;         /* the caller's (worker 0) or a sibling */
	struct host_share *share; /* of the host being planned */
	struct span *cover;       /* spans of this host read from rollups */
	size_t ncover, cap_cover;
	enum planner_level level; /* of the query running now */
	pthread_t thread;
	bool started;
};

/**
 * planner_plan_host() - plan, read and decode @h's records for @job
 * into @sh: rollups coarsest first, then base records for what is left.
 * Spans in @job->fleet_cover count as covered.  A host's own span is
 * that of its finest base period; a host without base periods (the fleet,
 * STORE_FLEET_HOST) takes @job's, reads its rollup levels only, and leaves
 * the spans they cover in @w->cover.
 * @w: the worker; its cover list is reset.
 * @h: the host, its base periods and rollup levels.
 * @sh: receives the host's parts (job->n_points) and error.
 *
 * @return 0, or the error also kept in @sh->err.
 */
int planner_plan_host(struct plan_worker *w, const struct plan_host *h,
		      struct host_share *sh);

/**
 * planner_fleet_check() - set job->fleet: whether @job's request may be
 * answered from the fleet's records (and its tail through every host's
 * fine records): a fleet query, without PLANNER_BASE_ONLY or
 * PLANNER_NO_FLEET, and with a base period filter only when the registry
 * shows no other base period in the group (fleet records merge every
 * host's).  Without a filter, *@span receives the finest base period any
 * host of the group has (0: the registry cannot say).
 *
 * @return 0, or the errors of store_periods().
 */
int planner_fleet_check(struct store *st, struct plan_job *job,
			uint32_t *span, struct rttq_error *err);

/**
 * planner_fleet_pass() - read @job's fleet records (planner_fleet.c) into
 * @job->fleet and @job->fleet_cover, unless the request is for one host
 * or asks for no fleet records.
 * @st: the caller's store handle.
 * @job: planned; its span [a, b) set.
 * @ga: receives the start of what is left for the hosts to cover.
 * @gb: receives its end; @ga >= @gb when nothing is left.
 * @err: receives a message; may be NULL.
 *
 * @return 0, -ENOMEM, or the errors of reading and decoding records.
 */
int planner_fleet_pass(struct store *st, struct plan_job *job, int64_t *ga,
		       int64_t *gb, struct rttq_error *err);

/**
 * planner_share_init() - give @sh its @job->n_points empty parts.
 *
 * @return 0, -ENOMEM (no message: the caller's error names it).
 */
int planner_share_init(const struct plan_job *job, struct host_share *sh);

/**
 * planner_take_record() - store_query()'s callback for a worker @arg
 * (struct plan_worker): decode @rec into the worker's share, in the
 * answer holding its start, if its level (the worker's) may be used.
 *
 * @return 0, -ECANCELED, -ENOMEM, or codec_decode()'s error, each also
 * kept in the share's err.
 */
int planner_take_record(const struct store_record *rec, void *arg);

/**
 * planner_check_step() - a series' steps must hold a host's base periods
 * whole.  A rollup length read as a base period (a host whose finer
 * records expired) that does not fit is left out, as a rollup level
 * would be.
 * @job: the job.
 * @h: the host.
 * @sh: its share, for the message.
 *
 * @return 0, -EINVAL naming the step and the host's base period.
 */
int planner_check_step(const struct plan_job *job, const struct plan_host *h,
		       struct host_share *sh);

/**
 * planner_tail_pass() - read what the fleet records left of a fleet
 * query (the parts of @job's [a, b) outside @job->fleet_cover) from every
 * host's base records at once (store_fine_records(), planner_tail.c),
 * when they are few and short; the hosts found and their shares go into
 * @job (hosts, n_hosts, shares) as the workers would have filled them.
 * @st: the caller's store handle.
 * @job: after planner_fleet_pass().
 * @hosts: receives the hosts (free with planner_hosts_free()); NULL when
 *       not read this way.
 * @n_hosts: receives how many.
 * @read: receives whether it was read here; if not (a request for one
 *       host, PLANNER_NO_FLEET or PLANNER_BASE_ONLY, more than 3 hours
 *       or 8 gaps left), the caller lists and plans the hosts one by one.
 * @err: receives a message; may be NULL.
 *
 * @return 0, -ECANCELED, -ENOMEM, or store_fine_records()'s errors; a
 * host's own error (a record that does not decode, a step its base period
 * does not fit) is left in its share, for planner_first_failure().
 */
int planner_tail_pass(struct store *st, struct plan_job *job,
		      struct plan_host **hosts, size_t *n_hosts, bool *read,
		      struct rttq_error *err);

/** planner_share_release() - free @sh's parts (of @n_points answers). */
void planner_share_release(struct host_share *sh, size_t n_points);

/* Whether the caller asked @job's work to stop (planner_request.cancel). */
static inline bool planner_cancelled(const struct plan_job *job)
{
	return job->req->cancel && atomic_load(job->req->cancel);
}

/**
 * planner_first_failure() - the error of the first failing host, in host
 * order, whatever the timing.
 * @job: planned by every worker.
 * @records_read: the records every host read are added here.
 * @err: receives the host's message; may be NULL.
 *
 * @return 0 or that host's error.
 */
int planner_first_failure(const struct plan_job *job, size_t *records_read,
			  struct rttq_error *err);

/**
 * planner_merge_all() - every answer of @job into @ans (job->n_points of
 * them, initialised), each the merge of every host's part of it in host
 * order; a series' answers are merged on up to PLANNER_WORKERS threads.
 * @err: the error of the first failing answer; may be NULL.
 *
 * @return 0, -ENOMEM, or tdigest_merge()'s error.
 */
int planner_merge_all(const struct plan_job *job, struct planner_answer *ans,
		      struct rttq_error *err);

#endif /* RTTQ_PLANNER_PRIVATE_H */
