/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to the HTTP client (http_client.c, http_client_response.c): the
 * client and the state of one exchange, shared by the connection code and
 * the response parser it feeds.
 */
#ifndef RTTQ_HTTP_CLIENT_PRIVATE_H
#define RTTQ_HTTP_CLIENT_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/ssl.h>

#include "http_client.h"

struct http_client {
	char *url;         /* for messages */
	char *host;        /* name or address, without IPv6 brackets */
	char *host_header; /* "host" or "host:port" as written in the URL */
	char port[8];
	bool tls;
	SSL_CTX *ssl_ctx;
	struct event_base *base;
	struct bufferevent *bev; /* open connection, or NULL */
	bool reused;             /* bev already carried a full exchange */
};

enum phase {
	PHASE_STATUS,
	PHASE_HEADERS,
	PHASE_BODY,          /* Content-Length bytes */
	PHASE_BODY_TO_CLOSE, /* no length: the body ends at EOF */
	PHASE_CHUNK_SIZE,
	PHASE_CHUNK_DATA,
	PHASE_CHUNK_END,     /* the CRLF after a chunk */
	PHASE_TRAILERS,
	PHASE_DONE,
};

/* One request/response on the client's connection. */
struct exchange {
	struct http_client *c;
	const char *method;
	enum phase phase;
	int ret;            /* 0, or negative errno once failed */
	char why[256];      /* detail for a failure */
	bool finished;
	bool got_bytes;     /* any response byte arrived */
	int status;
	bool keep_alive;
	bool chunked;       /* Transfer-Encoding: chunked */
	uint64_t left;      /* body or chunk bytes still expected */
	struct evbuffer *body;
	struct evutil_addrinfo *addrs;
	struct evutil_addrinfo *next_addr;
};

/* End @x with @ret (the first call only; @why is the failure's detail)
 * and stop the client's event loop; inline, as the parser and the
 * connection code both end exchanges. */
static inline void finish(struct exchange *x, int ret, const char *why)
{
	if (x->finished)
		return;
	x->finished = true;
	x->ret = ret;
	if (why)
		snprintf(x->why, sizeof(x->why), "%s", why);
	event_base_loopbreak(x->c->base);
}

/**
 * http_on_read() - the read callback (http_client_response.c): parse what
 * arrived into @arg's exchange, finishing it when the response is complete
 * or malformed.
 * @bev: the connection.
 * @arg: the struct exchange.
 */
void http_on_read(struct bufferevent *bev, void *arg);

#endif /* RTTQ_HTTP_CLIENT_PRIVATE_H */
