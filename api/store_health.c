// SPDX-License-Identifier: BSD-2-Clause
/*
 * The store's health for /healthz (store_health.h): a timer on the loop
 * sends one ping at a time to a pool thread and keeps what it answered.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "monoclock.h"
#include "query_pool.h"
#include "store.h"
#include "store_health.h"

struct store_health {
	struct query_job job;    /* the one ping; reused */
	struct query_pool *pool;
	struct event *timer;
	int64_t timeout_ms;      /* 0: none */
	bool in_flight;
	int64_t sent_ms;
	int rc;                  /* the ping's, on the worker */
	struct rttq_error ping_err;
	int state;               /* the last outcome, on the loop */
	struct rttq_error state_err;
};

/* On the pool's thread. */
static void ping_work(struct query_job *job, struct store *st)
{
	struct store_health *h = (struct store_health *)job;

	memset(&h->ping_err, 0, sizeof(h->ping_err));
	h->rc = store_ping(st, &h->ping_err);
}

/* On the loop. */
static void ping_done(struct query_job *job)
{
	struct store_health *h = (struct store_health *)job;

	h->in_flight = false;
	if (!job->ran)
		return; /* the pool stopped first */
	h->state = h->rc;
	h->state_err = h->ping_err;
	if (h->rc && !h->state_err.msg[0])
		rttq_fail(&h->state_err, h->rc, "store ping failed: %s",
			  strerror(-h->rc));
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct store_health *h = arg;
	int64_t now = monoclock_ms();

	(void)fd;
	(void)what;
	if (h->in_flight) {
		if (h->timeout_ms && now - h->sent_ms > h->timeout_ms) {
			h->state = -ETIMEDOUT;
			rttq_fail(&h->state_err, -ETIMEDOUT,
				  "store did not answer a ping within the "
				  "server's --timeout of %lld s",
				  (long long)(h->timeout_ms / 1000));
		}
		return;
	}
	h->in_flight = true;
	h->sent_ms = now;
	if (query_pool_submit(h->pool, &h->job)) {
		/* A pool of one never queues more than this ping. */
		h->in_flight = false;
	}
}

int store_health_start(struct event_base *base, struct query_pool *pool,
		       int64_t timeout_s, struct store_health **out,
		       struct rttq_error *err)
{
	const struct timeval every = {
		.tv_sec = STORE_HEALTH_INTERVAL_MS / 1000,
		.tv_usec = STORE_HEALTH_INTERVAL_MS % 1000 * 1000,
	};
	struct store_health *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (!h)
		return rttq_fail(err, -ENOMEM, "out of memory");
	h->job.work = ping_work;
	h->job.done = ping_done;
	h->pool = pool;
	h->timeout_ms = timeout_s * 1000;
	h->timer = event_new(base, -1, EV_PERSIST, on_tick, h);
	if (!h->timer || event_add(h->timer, &every)) {
		store_health_free(h);
		return rttq_fail(err, -ENOMEM, "cannot start the store's "
				 "health timer");
	}
	on_tick(-1, 0, h); /* the first ping now, not in a second */
	*out = h;
	return 0;
}

int store_health_get(const struct store_health *h, struct rttq_error *err)
{
	if (h->state && err)
		*err = h->state_err;
	return h->state;
}

void store_health_free(struct store_health *h)
{
	if (!h)
		return;
	if (h->timer)
		event_free(h->timer);
	free(h);
}
