// SPDX-License-Identifier: BSD-2-Clause
/*
 * Connection cap of rttq-api (see conn_limit.h).  evhttp gives no hook
 * when it accepts or frees a server connection, only the bevcb that makes
 * the connection's bufferevent, called before the connection object
 * exists.  So the bevcb counts the connection in and defers, by one loop
 * turn, fetching the connection (the bufferevent's callback argument, set
 * by evhttp right after) to install a close callback that counts it out.
 * A reference on the bufferevent keeps it valid across that turn; should
 * evhttp have freed the connection meanwhile, its callbacks are cleared
 * and the connection is counted out there.
 *
 * (A pass-through filter bufferevent whose free callback counts out would
 * be simpler, but under libevent 2.1.12 requests arriving while evhttp has
 * reading disabled stay stuck in the filter's underlying buffer.)
 */
#include <errno.h>
#include <stdlib.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "conn_limit.h"

struct conn_pending {
	struct conn_limit *cl;
	struct bufferevent *bev;
};

static void count_out(struct conn_limit *cl)
{
	cl->open--;
	if (cl->paused && cl->open < cl->max) {
		evconnlistener_enable(cl->listener);
		cl->paused = false;
	}
}

static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	count_out(arg);
}

static void conn_adopt(evutil_socket_t fd, short what, void *arg)
{
	struct conn_pending *p = arg;
	void *evcon = NULL;

	bufferevent_getcb(p->bev, NULL, NULL, NULL, &evcon);
	if (evcon)
		evhttp_connection_set_closecb(evcon, conn_closed, p->cl);
	else
		count_out(p->cl); /* freed by evhttp before this turn */
	bufferevent_decref(p->bev);
	free(p);
}

static struct bufferevent *conn_new(struct event_base *base, void *arg)
{
	static const struct timeval now = { 0, 0 };
	struct conn_limit *cl = arg;
	struct conn_pending *p = malloc(sizeof(*p));
	struct bufferevent *bev;

	if (!p)
		return NULL; /* evhttp then makes its own, uncounted */
	/* evhttp sets the descriptor itself. */
	bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		free(p);
		return NULL;
	}
	p->cl = cl;
	p->bev = bev;
	bufferevent_incref(bev);
	if (event_base_once(cl->base, -1, EV_TIMEOUT, conn_adopt, p, &now)) {
		bufferevent_decref(bev);
		free(p);
		return bev; /* served, but not counted */
	}
	cl->open++;
	cl->accepted++;
	if (!cl->paused && cl->open >= cl->max) {
		evconnlistener_disable(cl->listener);
		cl->paused = true;
	}
	return bev;
}

int conn_limit_install(struct conn_limit *cl, struct event_base *base,
		       struct evhttp *http, struct evhttp_bound_socket *sock,
		       uint64_t max)
{
	cl->listener = evhttp_bound_socket_get_listener(sock);
	if (!cl->listener || max == 0)
		return -EINVAL;
	cl->base = base;
	cl->max = max;
	cl->open = 0;
	cl->accepted = 0;
	cl->paused = false;
	evhttp_set_bevcb(http, conn_new, cl);
	return 0;
}
