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
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws_config.h"
#include "check.h"
#include "ddb-proxy.h"
#include "dynalite.h"
#include "dynamodb.h"
#include "store.h"

#define N_RECORDS 300
#define DIGEST_LEN 4000 /* 300 x 4 KB: the query needs two pages */

static struct dynalite server;

static struct ddb_proxy proxy;

/* Every other request fails, cycling through the faults. */
static enum ddb_proxy_action faults(const char *op, unsigned int k, void *arg)
{
	if (k % 2 == 0)
		return PROXY_FORWARD;
	if (k % 8 == 1)
		return PROXY_THROTTLE;
	if (k % 8 == 3)
		return PROXY_SERVER_ERROR;
	if (k % 8 == 5 && !strcmp(op, "BatchWriteItem"))
		return PROXY_UNPROCESSED;
	return PROXY_DROP;
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
	ddb_proxy_start(&proxy, server.port, faults, NULL);
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
	       proxy.requests, proxy.done[PROXY_FORWARD],
	       proxy.done[PROXY_THROTTLE], proxy.done[PROXY_SERVER_ERROR],
	       proxy.done[PROXY_DROP], proxy.done[PROXY_UNPROCESSED]);
	printf("client: %" PRIu64 " calls, %" PRIu64 " attempts, %" PRIu64
	       " throttled, %" PRIu64 " 5xx, %" PRIu64 " transport errors, %" PRIu64
	       " ms backing off\n", s->calls, s->attempts, s->throttled,
	       s->server_errors, s->transport_errors, s->backoff_ms);
	REQUIRE(s->throttled > 0 && s->server_errors > 0 && s->backoff_ms > 0 &&
		s->attempts > s->calls, "no retries seen");
	REQUIRE(proxy.done[PROXY_THROTTLE] > 0 &&
		proxy.done[PROXY_SERVER_ERROR] > 0 &&
		proxy.done[PROXY_DROP] > 0 && proxy.done[PROXY_UNPROCESSED] > 0,
		"not every fault was injected");
	ddb_free(ddb);
	aws_config_release(&cfg);
	dynalite_stop(&server);
	rmdir(tmpdir);
	printf("ok faults: %d records intact\n", N_RECORDS);
	return check_report();
}
