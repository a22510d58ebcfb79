// SPDX-License-Identifier: BSD-2-Clause
/*
 * Synchronous HTTP/1.1 client on libevent bufferevents (see http_client.h).
 * Not evhttp: librttq links only libevent_core and libevent_openssl, and the
 * AWS APIs need little: one request at a time on a keep-alive connection,
 * Content-Length or chunked responses, an overall deadline, and TLS whose
 * failure messages say which certificate check failed.  The response
 * parser the read callback runs is in http_client_response.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "http_client_private.h"

/* ------------------------------------------------------------------------
 * URL parsing and TLS setup
 * ------------------------------------------------------------------------ */

static int parse_url(struct http_client *c, const char *url,
		     struct rttq_error *err)
{
	const char *p, *host, *host_end, *port = NULL, *end;
	size_t host_len;

	if (strncmp(url, "https://", 8) == 0) {
		c->tls = true;
		p = url + 8;
	} else if (strncmp(url, "http://", 7) == 0) {
		p = url + 7;
	} else {
		return rttq_fail(err, -EINVAL,
				 "endpoint \"%s\": expected http://HOST[:PORT] or https://HOST[:PORT]",
				 url);
	}
	end = p + strcspn(p, "/?#");
	/* Not echoed: user information would be a secret in a message. */
	if (memchr(p, '@', (size_t)(end - p)))
		return rttq_fail(err, -EINVAL,
				 "endpoint URL: user information (user:password@) is not supported");
	if (*end && strcmp(end, "/") != 0)
		return rttq_fail(err, -EINVAL,
				 "endpoint \"%s\": a path, query or fragment is not supported",
				 url);
	if (*p == '[') {
		host = p + 1;
		host_end = memchr(host, ']', (size_t)(end - host));
		if (!host_end)
			return rttq_fail(err, -EINVAL,
					 "endpoint \"%s\": unterminated [IPv6] address",
					 url);
		if (host_end + 1 < end) {
			if (host_end[1] != ':')
				return rttq_fail(err, -EINVAL,
						 "endpoint \"%s\": junk after ]", url);
			port = host_end + 2;
		}
	} else {
		host = p;
		host_end = memchr(p, ':', (size_t)(end - p));
		if (host_end)
			port = host_end + 1;
		else
			host_end = end;
	}
	host_len = (size_t)(host_end - host);
	if (host_len == 0)
		return rttq_fail(err, -EINVAL, "endpoint \"%s\": empty host", url);
	if (port) {
		size_t n = (size_t)(end - port);
		unsigned long v;
		char buf[8], *e;

		if (n == 0 || n >= sizeof(buf))
			return rttq_fail(err, -EINVAL, "endpoint \"%s\": bad port", url);
		memcpy(buf, port, n);
		buf[n] = '\0';
		errno = 0;
		v = strtoul(buf, &e, 10);
		if (errno || *e || buf[0] < '0' || buf[0] > '9' || v == 0 ||
		    v > 65535)
			return rttq_fail(err, -EINVAL,
					 "endpoint \"%s\": port \"%s\" is not in 1..65535",
					 url, buf);
		snprintf(c->port, sizeof(c->port), "%lu", v);
	} else {
		snprintf(c->port, sizeof(c->port), "%s", c->tls ? "443" : "80");
	}
	c->host = strndup(host, host_len);
	/* The Host header is the authority as written (brackets included). */
	c->host_header = strndup(p, (size_t)(end - p));
	if (!c->host || !c->host_header)
		return rttq_fail(err, -ENOMEM, "endpoint %s: out of memory", url);
	return 0;
}

static int tls_setup(struct http_client *c, const char *ca_file,
		     struct rttq_error *err)
{
	unsigned long e;
	int ok;

	errno = 0;
	c->ssl_ctx = SSL_CTX_new(TLS_client_method());
	if (!c->ssl_ctx)
		return rttq_fail(err, -ENOMEM, "endpoint %s: cannot create TLS context",
				 c->url);
	SSL_CTX_set_min_proto_version(c->ssl_ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(c->ssl_ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file)
		ok = SSL_CTX_load_verify_locations(c->ssl_ctx, ca_file, NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(c->ssl_ctx);
	if (ok != 1) {
		int sys = errno;
		const char *why;

		e = ERR_get_error();
		ERR_clear_error();
		why = e ? ERR_reason_error_string(e) : NULL;
		if (!why)
			why = sys ? strerror(sys) : "unknown error";
		return rttq_fail(err, -EIO, "endpoint %s: cannot load CA certificates%s%s: %s",
				 c->url, ca_file ? " from " : "",
				 ca_file ? ca_file : "", why);
	}
	return 0;
}

int http_client_new(const char *url, const char *ca_file,
		    struct http_client **out, struct rttq_error *err)
{
	struct http_client *c;
	int ret;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return rttq_fail(err, -ENOMEM, "endpoint %s: out of memory", url);
	c->url = strdup(url);
	if (!c->url) {
		ret = rttq_fail(err, -ENOMEM, "endpoint %s: out of memory", url);
		goto fail;
	}
	ret = parse_url(c, url, err);
	if (!ret && c->tls)
		ret = tls_setup(c, ca_file, err);
	if (ret)
		goto fail;
	c->base = event_base_new();
	if (!c->base) {
		ret = rttq_fail(err, -ENOMEM, "endpoint %s: cannot create event base",
				url);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	http_client_free(c);
	return ret;
}

static void drop_connection(struct http_client *c)
{
	if (c->bev)
		bufferevent_free(c->bev);
	c->bev = NULL;
	c->reused = false;
}

void http_client_free(struct http_client *c)
{
	if (!c)
		return;
	drop_connection(c);
	if (c->base)
		event_base_free(c->base);
	SSL_CTX_free(c->ssl_ctx);
	free(c->host_header);
	free(c->host);
	free(c->url);
	free(c);
}

const char *http_client_host(const struct http_client *c)
{
	return c->host_header;
}

void http_response_release(struct http_response *r)
{
	if (!r)
		return;
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------------
 * Connection events: connect, EOF, socket and TLS errors
 * ------------------------------------------------------------------------ */

static int connect_next(struct exchange *x);

/* The certificate check that failed, else the first OpenSSL error. */
static void tls_reason(struct exchange *x, char *buf, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(x->c->bev);
	unsigned long e = bufferevent_get_openssl_error(x->c->bev);
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (vr != X509_V_OK)
		snprintf(buf, len, "TLS certificate verification failed: %s",
			 X509_verify_cert_error_string(vr));
	else if (e)
		snprintf(buf, len, "TLS error: %s", ERR_reason_error_string(e));
	else
		buf[0] = '\0';
	while (bufferevent_get_openssl_error(x->c->bev))
		;
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct exchange *x = arg;
	char why[300];
	int e;

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_EOF) {
		if (x->phase == PHASE_BODY_TO_CLOSE) {
			http_on_read(bev, x);
			x->keep_alive = false;
			finish(x, 0, NULL);
			return;
		}
		finish(x, -ECONNRESET, "connection closed before the response was complete");
		return;
	}
	if (!(what & BEV_EVENT_ERROR))
		return;
	e = EVUTIL_SOCKET_ERROR();
	why[0] = '\0';
	if (x->c->tls)
		tls_reason(x, why, sizeof(why));
	if (why[0]) {
		finish(x, -EKEYREJECTED, why);
		return;
	}
	if (!x->got_bytes && x->next_addr && !x->c->reused) {
		/* Connect failed: try the host's next address. */
		if (connect_next(x) == 0)
			return;
	}
	if (e == 0)
		e = EIO;
	snprintf(why, sizeof(why), "%s", strerror(e));
	finish(x, -e, why);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	finish(arg, -ETIMEDOUT, "no complete response in time");
}

static struct bufferevent *new_bufferevent(struct exchange *x)
{
	struct http_client *c = x->c;
	struct in6_addr a6;
	SSL *ssl;
	struct bufferevent *bev;
	int ok;

	if (!c->tls)
		return bufferevent_socket_new(c->base, -1, BEV_OPT_CLOSE_ON_FREE);
	ssl = SSL_new(c->ssl_ctx);
	if (!ssl)
		return NULL;
	/* Names get SNI and a host name check; addresses an IP check. */
	if (inet_pton(AF_INET, c->host, &a6) == 1 ||
	    inet_pton(AF_INET6, c->host, &a6) == 1) {
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), c->host);
	} else {
		ok = SSL_set_tlsext_host_name(ssl, c->host) == 1 &&
		     SSL_set1_host(ssl, c->host) == 1;
	}
	if (!ok) {
		SSL_free(ssl);
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(c->base, -1, ssl,
					     BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	/* Many servers close without close_notify once the body is read. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/* Start connecting to x->next_addr; the pending output is kept aside. */
static int connect_next(struct exchange *x)
{
	struct http_client *c = x->c;
	struct evbuffer *pending = NULL;
	struct evutil_addrinfo *ai;

	if (c->bev) {
		pending = evbuffer_new();
		if (!pending)
			return -ENOMEM;
		evbuffer_add_buffer(pending, bufferevent_get_output(c->bev));
		drop_connection(c);
	}
	while ((ai = x->next_addr)) {
		x->next_addr = ai->ai_next;
		c->bev = new_bufferevent(x);
		if (!c->bev)
			break;
		bufferevent_setcb(c->bev, http_on_read, NULL, on_event, x);
		if (pending)
			evbuffer_add_buffer(bufferevent_get_output(c->bev), pending);
		if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) == 0 &&
		    bufferevent_socket_connect(c->bev, ai->ai_addr,
					       (int)ai->ai_addrlen) == 0) {
			if (pending)
				evbuffer_free(pending);
			return 0;
		}
		if (!pending) {
			pending = evbuffer_new();
			if (!pending)
				break;
		}
		evbuffer_add_buffer(pending, bufferevent_get_output(c->bev));
		drop_connection(c);
	}
	if (pending)
		evbuffer_free(pending);
	return -ECONNREFUSED;
}

static int resolve(struct exchange *x, struct rttq_error *err)
{
	struct evutil_addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
	};
	int rc;

	rc = evutil_getaddrinfo(x->c->host, x->c->port, &hints, &x->addrs);
	if (rc == EVUTIL_EAI_NONAME || rc == EVUTIL_EAI_FAIL)
		return rttq_fail(err, -ENOENT, "endpoint %s: cannot resolve host %s: %s",
				 x->c->url, x->c->host, evutil_gai_strerror(rc));
	if (rc)
		return rttq_fail(err, -EAGAIN, "endpoint %s: cannot resolve host %s: %s",
				 x->c->url, x->c->host, evutil_gai_strerror(rc));
	x->next_addr = x->addrs;
	return 0;
}

static int write_request(struct evbuffer *out, struct http_client *c,
			 const char *method, const char *path,
			 const struct http_header *headers, size_t n_headers,
			 const void *body, size_t body_len)
{
	int ok;

	ok = evbuffer_add_printf(out, "%s %s HTTP/1.1\r\nHost: %s\r\n"
				 "Content-Length: %zu\r\n",
				 method, path, c->host_header, body_len) >= 0;
	for (size_t i = 0; ok && i < n_headers; i++)
		ok = evbuffer_add_printf(out, "%s: %s\r\n", headers[i].name,
					 headers[i].value) >= 0;
	if (ok)
		ok = evbuffer_add(out, "\r\n", 2) == 0;
	if (ok && body_len)
		ok = evbuffer_add(out, body, body_len) == 0;
	return ok ? 0 : -ENOMEM;
}

/* One attempt on the current connection (or a new one). */
static int exchange_once(struct http_client *c, struct exchange *x,
			 const char *method, const char *path,
			 const struct http_header *headers, size_t n_headers,
			 const void *body, size_t body_len,
			 unsigned int timeout_ms, struct rttq_error *err)
{
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};
	struct event *timer = NULL;
	int ret;

	if (!c->bev) {
		ret = resolve(x, err);
		if (ret)
			return ret;
		if (connect_next(x)) {
			ret = rttq_fail(err, -ECONNREFUSED,
					"endpoint %s: cannot connect", c->url);
			goto cleanup;
		}
	} else {
		bufferevent_setcb(c->bev, http_on_read, NULL, on_event, x);
		bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	}
	ret = write_request(bufferevent_get_output(c->bev), c, method, path,
			    headers, n_headers, body, body_len);
	if (ret) {
		ret = rttq_fail(err, ret, "endpoint %s: out of memory", c->url);
		goto cleanup;
	}
	timer = evtimer_new(c->base, on_timeout, x);
	if (!timer || evtimer_add(timer, &tv)) {
		ret = rttq_fail(err, -ENOMEM, "endpoint %s: cannot arm timer", c->url);
		goto cleanup;
	}
	/* Pending bytes already read may complete the exchange at once. */
	if (evbuffer_get_length(bufferevent_get_input(c->bev)))
		http_on_read(c->bev, x);
	while (!x->finished)
		if (event_base_dispatch(c->base) < 0)
			finish(x, -EIO, "event loop failed");
	ret = x->ret;
	if (ret)
		rttq_fail(err, ret, "endpoint %s: %s %s: %s", c->url, method,
			  path, x->why);
cleanup:
	if (timer)
		event_free(timer);
	if (x->addrs)
		evutil_freeaddrinfo(x->addrs);
	x->addrs = x->next_addr = NULL;
	return ret;
}

/* Writing to a connection the server has reset raises SIGPIPE, which kills
 * a process that did not ignore it; a library must not change the
 * process's signal handling, so SIGPIPE is blocked in this thread during
 * the exchange and any SIGPIPE it raised is taken before unblocking. */
static bool block_sigpipe(sigset_t *old)
{
	sigset_t pipe_set;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	if (pthread_sigmask(SIG_BLOCK, &pipe_set, old) != 0)
		return false;
	return !sigismember(old, SIGPIPE);
}

static void unblock_sigpipe(bool blocked, const sigset_t *old)
{
	const struct timespec zero = { 0 };
	sigset_t pipe_set;

	if (!blocked)
		return;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
		;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

static int request_unsafe(struct http_client *c, const char *method,
			  const char *path, const struct http_header *headers,
			  size_t n_headers, const void *body, size_t body_len,
			  unsigned int timeout_ms, struct http_response *resp,
			  struct rttq_error *err);

int http_client_request(struct http_client *c, const char *method,
			const char *path, const struct http_header *headers,
			size_t n_headers, const void *body, size_t body_len,
			unsigned int timeout_ms, struct http_response *resp,
			struct rttq_error *err)
{
	sigset_t old;
	bool blocked = block_sigpipe(&old);
	int ret;

	ret = request_unsafe(c, method, path, headers, n_headers, body,
			     body_len, timeout_ms, resp, err);
	unblock_sigpipe(blocked, &old);
	return ret;
}

static int request_unsafe(struct http_client *c, const char *method,
			  const char *path, const struct http_header *headers,
			  size_t n_headers, const void *body, size_t body_len,
			  unsigned int timeout_ms, struct http_response *resp,
			  struct rttq_error *err)
{
	struct exchange x;
	int ret;

	memset(resp, 0, sizeof(*resp));
	for (int attempt = 0;; attempt++) {
		bool was_reused = c->bev && c->reused;

		memset(&x, 0, sizeof(x));
		x.c = c;
		x.method = method;
		x.phase = PHASE_STATUS;
		x.body = evbuffer_new();
		if (!x.body)
			return rttq_fail(err, -ENOMEM, "endpoint %s: out of memory",
					 c->url);
		ret = exchange_once(c, &x, method, path, headers, n_headers,
				    body, body_len, timeout_ms, err);
		if (ret == 0)
			break;
		evbuffer_free(x.body);
		drop_connection(c);
		/* The server may close an idle keep-alive connection just as
		 * we reuse it; that is not a failure of this request. */
		if (!(was_reused && !x.got_bytes && attempt == 0 &&
		      (ret == -ECONNRESET || ret == -EPIPE)))
			return ret;
	}
	if (c->bev) {
		bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
		if (x.keep_alive) {
			c->reused = true;
		} else {
			drop_connection(c);
		}
	}
	resp->status = x.status;
	resp->body_len = evbuffer_get_length(x.body);
	resp->body = malloc(resp->body_len + 1);
	if (!resp->body) {
		evbuffer_free(x.body);
		return rttq_fail(err, -ENOMEM, "endpoint %s: out of memory", c->url);
	}
	evbuffer_remove(x.body, resp->body, resp->body_len);
	resp->body[resp->body_len] = '\0';
	evbuffer_free(x.body);
	return 0;
}
