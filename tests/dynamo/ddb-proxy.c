// SPDX-License-Identifier: BSD-2-Clause
/*
 * The DynamoDB proxy of the tests (see ddb-proxy.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "ddb-proxy.h"
#include "net.h"

#define REQ_MAX (4u << 20)

/* ---------------------------------------------------------------------
 * A minimal HTTP/1.1 proxy: one thread per client connection, one
 * upstream connection per forwarded request.
 * ------------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one message (headers + Content-Length body) into @buf; returns its
 * length, 0 at EOF before any byte, -1 on error.  @have bytes are already
 * in @buf; surplus bytes are not expected (no pipelining). */
static ssize_t read_message(int fd, char *buf, size_t cap, size_t *body_off)
{
	size_t len = 0;
	char *end = NULL;

	for (;;) {
		ssize_t r;

		if (!end) {
			buf[len] = '\0';
			end = strstr(buf, "\r\n\r\n");
		}
		if (end) {
			const char *cl = strcasestr(buf, "\r\nContent-Length:");
			size_t body = cl ? strtoul(cl + 17, NULL, 10) : 0;
			size_t total = (size_t)(end + 4 - buf) + body;

			*body_off = (size_t)(end + 4 - buf);
			if (total >= cap)
				return -1;
			if (len >= total)
				return (ssize_t)total;
		}
		if (len + 1 >= cap)
			return -1;
		r = read(fd, buf + len, cap - len - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return len == 0 && r == 0 ? 0 : -1;
		len += (size_t)r;
	}
}

static int reply_json(int fd, int status, const char *reason, const char *body)
{
	char head[256];

	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d %s\r\nContent-Type: application/x-amz-json-1.0\r\n"
		 "Content-Length: %zu\r\n\r\n", status, reason, strlen(body));
	if (write_all(fd, head, strlen(head)))
		return -1;
	return write_all(fd, body, strlen(body));
}

/* BatchWriteItem refused as a whole: every item comes back unprocessed. */
static int reply_unprocessed(int fd, const char *req_body)
{
	const char *items = strstr(req_body, "\"RequestItems\"");
	char *body;
	int ret;

	if (!items)
		return -1;
	if (asprintf(&body, "{\"UnprocessedItems\"%s", items + 14) < 0)
		return -1;
	ret = reply_json(fd, 200, "OK", body);
	free(body);
	return ret;
}

static int forward(const struct ddb_proxy *p, int fd, const char *req,
		   size_t len, char *buf, size_t cap)
{
	size_t body_off;
	ssize_t n;
	int up = net_connect_loopback(p->upstream_port);

	if (up < 0)
		return -1;
	if (write_all(up, req, len)) {
		close(up);
		return -1;
	}
	n = read_message(up, buf, cap, &body_off);
	close(up);
	if (n <= 0)
		return -1;
	return write_all(fd, buf, (size_t)n);
}

/* The operation a request names: "Query" of
 * "X-Amz-Target: DynamoDB_20120810.Query", or "". */
static void operation(const char *req, char *op, size_t len)
{
	const char *t = strcasestr(req, "\r\nX-Amz-Target:");
	const char *dot = t ? strchr(t, '.') : NULL;
	size_t n = 0;

	if (dot && dot < strstr(t + 2, "\r\n"))
		for (dot++; n + 1 < len && dot[n] && dot[n] != '\r'; n++)
			op[n] = dot[n];
	op[n] = '\0';
}

/* A reply whose status line is not HTTP's: what a broken middlebox or a
 * flipped bit on the way gives. */
static const char garbled[] = "HTTP/1.1 2O0 OK\r\nContent-Length: 0\r\n\r\n";

struct client {
	struct ddb_proxy *p;
	int fd;
};

static void *serve(void *arg)
{
	struct client c = *(struct client *)arg;
	char *req = malloc(REQ_MAX), *resp = malloc(REQ_MAX);

	free(arg);
	while (req && resp) {
		enum ddb_proxy_action act;
		size_t body_off;
		ssize_t n = read_message(c.fd, req, REQ_MAX, &body_off);
		char op[64];
		int ret;

		if (n <= 0)
			break;
		req[n] = '\0';
		operation(req, op, sizeof(op));
		act = c.p->policy(op, atomic_fetch_add(&c.p->requests, 1),
				  c.p->arg);
		if (act == PROXY_UNPROCESSED && strcmp(op, "BatchWriteItem"))
			act = PROXY_FORWARD;
		atomic_fetch_add(&c.p->done[act], 1);
		switch (act) {
		case PROXY_FORWARD:
			if (c.p->delay_ms) {
				struct timespec d = {
					.tv_sec = c.p->delay_ms / 1000,
					.tv_nsec = (long)(c.p->delay_ms % 1000) *
						   1000000L,
				};

				while (nanosleep(&d, &d) && errno == EINTR)
					;
			}
			ret = forward(c.p, c.fd, req, (size_t)n, resp, REQ_MAX);
			break;
		case PROXY_THROTTLE:
			ret = reply_json(c.fd, 400, "Bad Request",
					 "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\","
					 "\"message\":\"The level of configured provisioned throughput for the table was exceeded.\"}");
			break;
		case PROXY_SERVER_ERROR:
			ret = reply_json(c.fd, 500, "Internal Server Error",
					 "{\"__type\":\"com.amazonaws.dynamodb.v20120810#InternalServerError\","
					 "\"message\":\"Internal server error\"}");
			break;
		case PROXY_UNPROCESSED:
			ret = reply_unprocessed(c.fd, req + body_off);
			break;
		case PROXY_DENY:
			ret = reply_json(c.fd, 400, "Bad Request",
					 "{\"__type\":\"com.amazon.coral.service#AccessDeniedException\","
					 "\"Message\":\"User is not authorized to perform this action\"}");
			break;
		case PROXY_GARBLE:
			ret = write_all(c.fd, garbled, sizeof(garbled) - 1);
			break;
		default: /* PROXY_DROP: close without a reply */
			ret = -1;
			break;
		}
		if (ret)
			break;
	}
	free(req);
	free(resp);
	close(c.fd);
	return NULL;
}

static void *accept_loop(void *arg)
{
	struct ddb_proxy *p = arg;

	for (;;) {
		int fd = accept(p->listen_fd, NULL, NULL);
		struct client *c;
		pthread_t t;

		if (fd < 0)
			continue;
		c = malloc(sizeof(*c));
		if (c) {
			c->p = p;
			c->fd = fd;
		}
		if (c && pthread_create(&t, NULL, serve, c) == 0) {
			pthread_detach(t);
		} else {
			free(c);
			close(fd);
		}
	}
	return NULL;
}

enum ddb_proxy_action ddb_proxy_forward(const char *op, unsigned int k,
					void *arg)
{
	(void)op;
	(void)k;
	(void)arg;
	return PROXY_FORWARD;
}

void ddb_proxy_start(struct ddb_proxy *p, int upstream_port,
		     ddb_proxy_policy policy, void *arg)
{
	pthread_t t;

	p->upstream_port = upstream_port;
	p->policy = policy;
	p->arg = arg;
	p->listen_fd = net_listen_loopback(64, &p->port);
	REQUIRE(p->listen_fd >= 0, "proxy socket: %s",
		strerror(-p->listen_fd));
	REQUIRE(pthread_create(&t, NULL, accept_loop, p) == 0,
		"proxy thread");
	pthread_detach(t);
}
