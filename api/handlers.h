/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rttq-api request handlers: /quantiles, /series, /hosts, /groups,
 * /healthz and the JSON 404 for everything else.  Each handler validates
 * method, then parameters, then asks the store, and ends every path in
 * exactly one reply.
 */
#ifndef RTTQ_API_HANDLERS_H
#define RTTQ_API_HANDLERS_H

#include <stdint.h>

#include <event2/http.h>

struct store;

struct api_ctx {
	struct store *st;     /* opened by main, one handle per process */
	uint32_t period_s;    /* the agents' base period */
	int64_t max_range_s;  /* longest from..to accepted */
	int64_t max_points;   /* most points one /series answer holds */
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
