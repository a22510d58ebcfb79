/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A cap on rttq-api's open client connections (--max-connections).
 * libevent 2.1 has no evhttp_set_max_connections() (2.2 has), so each
 * connection is counted when evhttp asks for its bufferevent and counted
 * out by the connection's close callback; at the cap the listener stops
 * accepting and further clients wait in the kernel's listen backlog, as
 * with Go's netutil.LimitListener, instead of costing a descriptor each.
 */
#ifndef RTTQ_API_CONN_LIMIT_H
#define RTTQ_API_CONN_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/http.h>
#include <event2/listener.h>

struct conn_limit {
	struct event_base *base;
	struct evconnlistener *listener; /* paused at the cap */
	uint64_t max;                    /* open connections allowed */
	uint64_t open;                   /* open now */
	uint64_t accepted;               /* since start */
	bool paused;
};

/**
 * conn_limit_install() - count @http's connections and stop accepting
 * at @max.
 * @cl: state; must outlive @http (close callbacks run in evhttp_free()).
 * @base: @http's event base.
 * @http: the server.
 * @sock: its one bound socket.
 * @max: open connections allowed, > 0.
 *
 * @return 0, -EINVAL (no listener behind @sock, @max 0).
 */
int conn_limit_install(struct conn_limit *cl, struct event_base *base,
		       struct evhttp *http, struct evhttp_bound_socket *sock,
		       uint64_t max);

#endif /* RTTQ_API_CONN_LIMIT_H */
