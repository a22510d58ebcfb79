// SPDX-License-Identifier: BSD-2-Clause
/*
 * The DynamoDB store through a faulty network: a proxy in front of dynalite
 * answers a share of requests with 400 ProvisionedThroughputExceededException,
 * 500 InternalServerError, a dropped connection, or (for BatchWriteItem)
 * every item back as UnprocessedItems.  Every record must still arrive
 * exactly as written, and the client must have retried and backed off.
 * A deadline bounds the retries against an endpoint that refuses.
 * Usage: test-dynamo-faults DYNALITE_DIR
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "aws_config.h"
#include "check.h"
#include "dynalite.h"
#include "dynamodb.h"
#include "net.h"
#include "store.h"

#define N_RECORDS 300
#define DIGEST_LEN 4000 /* 300 x 4 KB: the query needs two pages */
#define REQ_MAX (4u << 20)

static struct dynalite server;

struct proxy {
	int listen_fd;
	int port;
	atomic_uint requests;
	atomic_uint throttled, server_errors, dropped, unprocessed, forwarded;
};

static struct proxy proxy;

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

static int forward(int fd, const char *req, size_t len, char *buf, size_t cap)
{
	size_t body_off;
	ssize_t n;
	int up = net_connect_loopback(server.port);

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

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *req = malloc(REQ_MAX), *resp = malloc(REQ_MAX);

	while (req && resp) {
		size_t body_off;
		ssize_t n = read_message(fd, req, REQ_MAX, &body_off);
		unsigned int k;
		int ret;

		if (n <= 0)
			break;
		req[n] = '\0';
		k = atomic_fetch_add(&proxy.requests, 1);
		/* Every other request fails, cycling through the faults. */
		if (k % 2 == 0) {
			atomic_fetch_add(&proxy.forwarded, 1);
			ret = forward(fd, req, (size_t)n, resp, REQ_MAX);
		} else if (k % 8 == 1) {
			atomic_fetch_add(&proxy.throttled, 1);
			ret = reply_json(fd, 400, "Bad Request",
					 "{\"__type\":\"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\","
					 "\"message\":\"The level of configured provisioned throughput for the table was exceeded.\"}");
		} else if (k % 8 == 3) {
			atomic_fetch_add(&proxy.server_errors, 1);
			ret = reply_json(fd, 500, "Internal Server Error",
					 "{\"__type\":\"com.amazonaws.dynamodb.v20120810#InternalServerError\","
					 "\"message\":\"Internal server error\"}");
		} else if (k % 8 == 5 && strstr(req, "BatchWriteItem")) {
			atomic_fetch_add(&proxy.unprocessed, 1);
			ret = reply_unprocessed(fd, req + body_off);
		} else {
			atomic_fetch_add(&proxy.dropped, 1);
			ret = -1; /* close without a reply */
		}
		if (ret)
			break;
	}
	free(req);
	free(resp);
	close(fd);
	return NULL;
}

static void *accept_loop(void *arg)
{
	for (;;) {
		int fd = accept(proxy.listen_fd, NULL, NULL);
		pthread_t t;

		if (fd < 0)
			continue;
		if (pthread_create(&t, NULL, serve, (void *)(intptr_t)fd) == 0)
			pthread_detach(t);
		else
			close(fd);
	}
	return NULL;
}

static void proxy_start(void)
{
	pthread_t t;

	proxy.listen_fd = net_listen_loopback(64, &proxy.port);
	REQUIRE(proxy.listen_fd >= 0, "proxy socket: %s",
		strerror(-proxy.listen_fd));
	REQUIRE(pthread_create(&t, NULL, accept_loop, NULL) == 0,
		"proxy thread");
	pthread_detach(t);
}

/* ---------------------------------------------------------------------
 * The test
 * ------------------------------------------------------------------- */

struct check {
	const struct store_record *want;
	size_t n;
};

static int check_record(const struct store_record *r, void *arg)
{
	struct check *c = arg;
	const struct store_record *w = &c->want[c->n];

	REQUIRE(c->n < N_RECORDS, "more records than written");
	REQUIRE(r->start_s == w->start_s && r->count == w->count &&
		r->sum_us == w->sum_us && r->digest_len == w->digest_len &&
		memcmp(r->digest, w->digest, w->digest_len) == 0,
		"record %zu differs from what was written", c->n);
	c->n++;
	return 0;
}

static void read_back(const char *endpoint, const struct store_record *want)
{
	char url[256];
	struct store *st = NULL;
	struct rttq_error err = { 0 };
	struct check c = { .want = want };
	struct store_query q = { .host = NULL, .group = "all", .period_s = 60,
				 .from_s = 0, .to_s = INT64_MAX };
	int ret;

	snprintf(url, sizeof(url), "dynamodb:faults?region=us-east-1&endpoint=%s",
		 endpoint);
	ret = store_open(url, &st, &err);
	REQUIRE(ret == 0, "open %s: %s", url, err.msg);
	ret = store_query(st, &q, check_record, &c, &err);
	REQUIRE(ret == 0, "query via %s: %s", endpoint, err.msg);
	REQUIRE(c.n == N_RECORDS, "%zu of %d records via %s", c.n, N_RECORDS,
		endpoint);
	store_close(st);
}

/*
 * A deadline bounds a call against a dead endpoint (what the agent's
 * writer sets at a stop): retries stop when the next attempt could not
 * start in time, and a call after the deadline fails without sending.
 */
static void test_deadline(void)
{
	const char *body = "{\"TableName\":\"faults\"}";
	struct rttq_error err = { 0 };
	const struct ddb_stats *s;
	struct aws_config cfg;
	struct ddb *ddb = NULL;
	struct timespec ts;
	char endpoint[64];
	uint64_t attempts;
	int ret;

	/* Free a moment ago: nobody listens there, connections are refused. */
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d",
		 free_port());
	REQUIRE(aws_config_load("dynamodb", "us-east-1", endpoint, &cfg,
				&err) == 0, "%s", err.msg);
	REQUIRE(ddb_new(&cfg, &ddb, &err) == 0, "%s", err.msg);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ddb_set_deadline(ddb, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
				      400);
	ret = ddb_call(ddb, "DescribeTable", body, strlen(body), NULL, &err);
	s = ddb_stats(ddb);
	printf("dead endpoint, 400 ms deadline: %d \"%s\"; %" PRIu64
	       " attempts, %" PRIu64 " ms backing off\n", ret, err.msg,
	       s->attempts, s->backoff_ms);
	REQUIRE(ret == -ECONNREFUSED && strstr(err.msg, "deadline reached"),
		"call to a dead endpoint: %d %s", ret, err.msg);
	REQUIRE(s->attempts < DDB_MAX_ATTEMPTS && s->backoff_ms <= 400,
		"%" PRIu64 " attempts, %" PRIu64 " ms of backoff within a 400 ms deadline",
		s->attempts, s->backoff_ms);
	/* Past the deadline nothing is sent. */
	attempts = s->attempts;
	ddb_set_deadline(ddb, 1);
	ret = ddb_call(ddb, "DescribeTable", body, strlen(body), NULL, &err);
	REQUIRE(ret == -ETIMEDOUT && s->attempts == attempts &&
		strstr(err.msg, "deadline"), "call after the deadline: %d %s", ret,
		err.msg);
	ddb_free(ddb);
	aws_config_release(&cfg);
}

int main(int argc, char **argv)
{
	static struct store_record recs[N_RECORDS];
	static uint8_t digests[N_RECORDS][DIGEST_LEN];
	char tmpdir[] = "/tmp/rttq-dynamo-faults-XXXXXX";
	char url[256], proxied[64];
	struct store *st = NULL;
	struct rttq_error err = { 0 };
	struct aws_config cfg;
	struct ddb *ddb = NULL;
	int ret;

	REQUIRE(argc == 2, "usage: %s DYNALITE_DIR", argv[0]);
	REQUIRE(mkdtemp(tmpdir), "mkdtemp");
	dynalite_env(tmpdir);
	test_deadline();
	REQUIRE(dynalite_install(argv[1]) == 0, "dynalite not installed");
	REQUIRE(dynalite_start(&server, argv[1], NULL, NULL) == 0, "dynalite did not start");
	proxy_start();
	snprintf(proxied, sizeof(proxied), "http://127.0.0.1:%d", proxy.port);

	for (int i = 0; i < N_RECORDS; i++) {
		for (int b = 0; b < DIGEST_LEN; b++)
			digests[i][b] = (uint8_t)(i * 31 + b * 7);
		recs[i] = (struct store_record){
			.host = i % 3 ? "flaky-a" : "flaky-b", .group = "all",
			.period_s = 60, .start_s = 1700000040 + i * 60,
			.periods = 1, .periods_total = 1, .count = 1000u + (unsigned)i,
			.sum_us = 12345.5 + i, .min_us = 10, .max_us = 99,
			.digest = digests[i], .digest_len = DIGEST_LEN,
		};
	}
	/* Records of both hosts interleave in time: the fleet query returns
	 * flaky-a's then flaky-b's; order the expectation the same way. */
	static struct store_record want[N_RECORDS];
	size_t nw = 0;
	for (int h = 0; h < 2; h++)
		for (int i = 0; i < N_RECORDS; i++)
			if ((i % 3 != 0) == (h == 0))
				want[nw++] = recs[i];

	snprintf(url, sizeof(url), "dynamodb:faults?region=us-east-1&endpoint=%s",
		 proxied);
	ret = store_open(url, &st, &err);
	REQUIRE(ret == 0, "open through the proxy: %s", err.msg);
	for (int i = 0; i < N_RECORDS; i += 50) {
		ret = store_put(st, &recs[i], 50, &err);
		REQUIRE(ret == 0, "put through the proxy: %s", err.msg);
	}
	store_close(st);

	read_back(server.endpoint, want); /* what reached the table */
	read_back(proxied, want);         /* and reading through faults */

	/* The retry loop's own account of what it did. */
	ret = aws_config_load("dynamodb", "us-east-1", proxied, &cfg, &err);
	REQUIRE(ret == 0, "%s", err.msg);
	ret = ddb_new(&cfg, &ddb, &err);
	REQUIRE(ret == 0, "%s", err.msg);
	for (int i = 0; i < 24; i++) {
		const char *body = "{\"TableName\":\"faults\"}";

		ret = ddb_call(ddb, "DescribeTable", body, strlen(body), NULL,
			       &err);
		REQUIRE(ret == 0, "DescribeTable through the proxy: %s", err.msg);
	}
	const struct ddb_stats *s = ddb_stats(ddb);
	printf("proxy: %u requests, %u forwarded, %u throttled, %u 500, %u dropped, %u unprocessed\n",
	       proxy.requests, proxy.forwarded, proxy.throttled,
	       proxy.server_errors, proxy.dropped, proxy.unprocessed);
	printf("client: %" PRIu64 " calls, %" PRIu64 " attempts, %" PRIu64
	       " throttled, %" PRIu64 " 5xx, %" PRIu64 " transport errors, %" PRIu64
	       " ms backing off\n", s->calls, s->attempts, s->throttled,
	       s->server_errors, s->transport_errors, s->backoff_ms);
	REQUIRE(s->throttled > 0 && s->server_errors > 0 && s->backoff_ms > 0 &&
		s->attempts > s->calls, "no retries seen");
	REQUIRE(proxy.throttled > 0 && proxy.server_errors > 0 &&
		proxy.dropped > 0 && proxy.unprocessed > 0,
		"not every fault was injected");
	ddb_free(ddb);
	aws_config_release(&cfg);
	dynalite_stop(&server);
	rmdir(tmpdir);
	printf("ok faults: %d records intact\n", N_RECORDS);
	return check_report();
}
