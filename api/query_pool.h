/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rttq-api's query workers: the event loop parses and validates a request,
 * hands the store work to a pool of threads, and replies when it is done,
 * so a month of the fleet never holds up /healthz, /metrics or another
 * client.  Each worker reads through its own store handle.  The queue is
 * bounded: a full queue is the caller's cue to answer 503.
 */
#ifndef RTTQ_API_QUERY_POOL_H
#define RTTQ_API_QUERY_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct event_base;
struct query_pool;
struct store;

/* A unit of work, embedded in the caller's own job struct. */
struct query_job {
	/* On a worker thread, with that worker's store handle. */
	void (*work)(struct query_job *job, struct store *st);
	/* On the loop thread, once: after work(), or instead of it when
	 * the pool stops first (then @ran is false). */
	void (*done)(struct query_job *job);
	bool ran;                 /* set by the pool before done() */
	struct query_job *next;   /* the pool's */
};

/**
 * query_pool_new() - start @workers threads, each with its own handle on
 * @st's store (store_open_sibling()).
 * @base: the loop done() runs on.
 * @st: the server's store; a store that cannot have siblings (an
 *      in-memory SQLite store) gives a pool of no threads, which runs each
 *      job inline when it is submitted.
 * @workers: threads, 1 or more.
 * @queue_max: jobs waiting beyond those running, 1 or more.
 * @background: the threads (and those they start) run at a lower
 *      priority than the event loop (query_pool.c says why); false: at
 *      the loop's.
 * @out: receives the pool.
 * @err: receives a message; may be NULL.
 *
 * @return 0, -EINVAL (no workers or no queue), the errors of
 *         store_open_sibling() other than -ENOTSUP, -ENOMEM, or the errno
 *         of a thread or pipe that could not be made.
 */
int query_pool_new(struct event_base *base, struct store *st,
		   unsigned int workers, size_t queue_max, bool background,
		   struct query_pool **out, struct rttq_error *err);

/**
 * query_pool_submit() - queue @job; its done() runs later on the loop.
 *
 * @return 0, -EAGAIN when @queue_max jobs already wait (done() will not
 *         run: the caller answers at once).
 */
int query_pool_submit(struct query_pool *p, struct query_job *job);

/** query_pool_waiting() - jobs queued and not started yet. */
size_t query_pool_waiting(struct query_pool *p);

/**
 * query_pool_free() - stop: workers finish the job they run (the caller
 * cancels its jobs first to make that quick), every job's done() runs
 * (@ran false for those never started), handles are closed.  Call on the
 * loop thread, before the HTTP server is freed.  NULL does nothing.
 */
void query_pool_free(struct query_pool *p);

#endif /* RTTQ_API_QUERY_POOL_H */
