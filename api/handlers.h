/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rttq-api request handlers: /quantiles, /series, /counters, /hosts, /groups,
 * /healthz, /metrics and the JSON 404 for everything else.  Each request
 * passes the bearer-token check (when configured), then its handler
 * validates method and parameters, asks the store and ends every path in
 * exactly one reply, which the metrics count.
 */
#ifndef RTTQ_API_HANDLERS_H
#define RTTQ_API_HANDLERS_H

#include <stdint.h>

#include <event2/http.h>

#include "api_metrics.h"

struct auth;
struct conn_limit;
struct event_base;
struct query_pool;
struct store;
struct api_ctx;
struct store_health;

/* What evhttp hands each endpoint's callback. */
struct api_route {
	struct api_ctx *ctx;
	enum api_endpoint ep;
};

struct api_ctx {
	struct event_base *base; /* the loop every reply is sent from */
	struct store *st;     /* opened by main; the pools' handles come
				 from it, the loop never reads it */
	struct query_pool *pool; /* reads the store for queries */
	struct store_health *health; /* the store's, for /healthz */
	int64_t timeout_s;    /* --timeout: longest query run; 0: none */
	const struct auth *auth; /* NULL: no token needed */
	const struct conn_limit *conns; /* NULL until listening */
	uint32_t period_s;    /* --period: only this base period; 0: any */
	int64_t max_range_s;  /* longest from..to accepted */
	int64_t max_points;   /* most points one /series (or /counters?step=)
			       * answer holds */
	struct api_metrics metrics; /* served at /metrics */
	struct api_route routes[EP_COUNT]; /* set by handlers_register() */
};

/**
 * handlers_register() - install every endpoint on @http.
 * @http: the server.
 * @ctx: passed to every callback; must outlive @http.
 *
 * @return 0, -ENOMEM.
 */
int handlers_register(struct evhttp *http, struct api_ctx *ctx);

#endif /* RTTQ_API_HANDLERS_H */
