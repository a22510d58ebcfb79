/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The store's health as rttq-api last saw it: a ping every second on its
 * own thread (a query pool of one), its outcome kept for /healthz to read
 * on the loop.  A probe then costs the loop a lookup, never a wait for
 * the store nor for a thread to be scheduled, however busy the query
 * workers are; a store that stops answering shows within a second, or
 * within --timeout when a ping hangs.
 */
#ifndef RTTQ_API_STORE_HEALTH_H
#define RTTQ_API_STORE_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct event_base;
struct query_pool;
struct store_health;

#define STORE_HEALTH_INTERVAL_MS 1000

/**
 * store_health_start() - ping the store through @pool every
 * STORE_HEALTH_INTERVAL_MS, from a timer on @base.
 * @base: the loop.
 * @pool: a pool whose threads each hold a store handle.
 * @timeout_s: a ping not answered within it makes the store unhealthy
 *             (0: only an error does).
 * @out: receives the watcher; free with store_health_free() after the
 *       pool is freed.
 * @err: receives a message; may be NULL.
 *
 * The store counts as healthy until the first ping says otherwise: it
 * was just opened.
 *
 * @return 0, -ENOMEM.
 */
int store_health_start(struct event_base *base, struct query_pool *pool,
		       int64_t timeout_s, struct store_health **out,
		       struct rttq_error *err);

/**
 * store_health_get() - the last outcome.
 * @h: the watcher.
 * @err: receives why the store is unhealthy; may be NULL.
 *
 * @return 0 (healthy), or the last ping's error (-ETIMEDOUT for a ping
 *         pending past the timeout).
 */
int store_health_get(const struct store_health *h, struct rttq_error *err);

/** store_health_free() - stop the timer and free @h; NULL is fine. */
void store_health_free(struct store_health *h);

#endif /* RTTQ_API_STORE_HEALTH_H */
