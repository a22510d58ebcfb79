// SPDX-License-Identifier: BSD-2-Clause
/*
 * Who may do what to the DynamoDB table, and what an error may be taken
 * for, through the proxy of ddb-proxy.c:
 *  - readonly: rttq-api in front of an endpoint that refuses every write
 *    action (as an IAM policy with only DescribeTable and Query would)
 *    starts and answers /quantiles exactly as the planner does straight
 *    from the table; store_open() through it, which sets the table up, is
 *    refused.
 *  - merge: rttq-agent's writer restarting within a period meets
 *    malformed replies (past the client's retries) while it reads the
 *    earlier run's partial record; that is a protocol fault (-EPROTO), not
 *    a damaged record (-EBADMSG), so it retries instead of writing over
 *    it, and the stored record ends up holding both runs.
 * Usage: test-dynamo-roles DYNALITE_DIR CASE (RTTQ_API in the environment)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "answer_json.h"
#include "check.h"
#include "codec.h"
#include "ddb-proxy.h"
#include "dynamo-test.h"
#include "fill.h"
#include "net.h"
#include "planner.h"
#include "store.h"
#include "tdigest.h"
#include "wait.h"
#include "writer.h"

/* 2023-11-15T00:00:00Z */
#define D1 INT64_C(1700006400)

static struct ddb_proxy proxy;

/* ---------------------------------------------------------------------
 * readonly
 * ------------------------------------------------------------------- */

static const char *const write_ops[] = {
	"CreateTable", "UpdateTable", "DeleteTable", "UpdateTimeToLive",
	"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", NULL,
};

static enum ddb_proxy_action refuse_writes(const char *op, unsigned int k,
					   void *arg)
{
	for (size_t i = 0; write_ops[i]; i++)
		if (!strcmp(op, write_ops[i]))
			return PROXY_DENY;
	return PROXY_FORWARD;
}

/* The body of GET @path from 127.0.0.1:@port (Connection: close). */
static char *http_get(int port, const char *path)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap), *body;
	ssize_t n;
	int fd;

	if (!buf)
		abort(); /* out of memory; said plainly for the compiler */
	fd = net_connect_loopback(port);
	REQUIRE(fd >= 0, "connect to rttq-api: %s", strerror(-fd));
	n = snprintf(buf, cap, "GET %s HTTP/1.1\r\nHost: x\r\n"
		     "Connection: close\r\n\r\n", path);
	REQUIRE(write(fd, buf, (size_t)n) == n, "send the request");
	while ((n = read(fd, buf + len, cap - len - 1)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	REQUIRE(strstr(buf, "HTTP/1.1 200 "), "rttq-api answered: %s", buf);
	body = strstr(buf, "\r\n\r\n");
	REQUIRE(body, "no body: %s", buf);
	body = strdup(body + 4);
	free(buf);
	return body;
}

/* rttq-api on @url; its pid, and its port in @port. */
static pid_t start_api(const char *url, const char *log, int *port)
{
	const char *api = getenv("RTTQ_API");
	char text[512], *at;
	pid_t pid;

	REQUIRE(api, "RTTQ_API is not set");
	fflush(stdout); /* or the child writes the parent's buffer again */
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		REQUIRE(freopen(log, "w", stdout) && dup2(1, 2) == 2,
			"redirect rttq-api's output");
		execl(api, api, "--store", url, "--listen", "127.0.0.1:0",
		      (char *)NULL);
		_exit(127);
	}
	*port = 0;
	if (wait_for_text(log, "listening on 127.0.0.1:", pid, 10)) {
		read_text(log, text, sizeof(text));
		at = strstr(text, "listening on 127.0.0.1:");
		*port = (int)strtol(at + strlen("listening on 127.0.0.1:"),
				    NULL, 10);
	}
	REQUIRE(*port > 0, "rttq-api did not start (see %s)", log);
	return pid;
}

static void run_readonly(const char *dynalite_dir)
{
	struct fill_spec fill = {
		.url = dynamo_url("roles"),
		.host = "h1",
		.extra_group = "raddr:10.0.0.2",
		.period_s = 60,
		.start_s = D1,
		.end_s = D1 + 3 * 3600 + 600,
		.samples = 20,
		.seed = 7,
	};
	struct planner_request req = {
		.period_s = 60, .from_s = D1 + 1800, .to_s = D1 + 3 * 3600,
	};
	struct answer_quantiles qs;
	struct planner_answer ans = { 0 };
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	char url[256], log[256], path[128], *want = NULL, *got;
	uint64_t fed = 0;
	int port, status;
	pid_t api;

	/* The writer's side: the agent (here, fill) sets the table up. */
	REQUIRE(fill_store(&fill, &fed) == 0, "fill the table");
	ddb_proxy_start(&proxy, dynamo_server()->port, refuse_writes, NULL);
	snprintf(url, sizeof(url),
		 "dynamodb:roles?region=us-east-1&endpoint=http://127.0.0.1:%d",
		 proxy.port);

	check_section("writes are refused through the read-only endpoint");
	CHECK_CMP(store_open(url, &st, &err), ==, -EACCES);
	CHECK_CONTAINS(err.msg, "AccessDenied");

	check_section("the read side opens and answers through it");
	REQUIRE(store_open_read(url, &st, &err) == 0, "%s", err.msg);
	REQUIRE(answer_quantiles_parse(NULL, &qs, &err) == 0, "%s", err.msg);
	REQUIRE(planner_run(st, &req, &ans, &err) == 0, "%s", err.msg);
	REQUIRE(answer_quantiles_json(&ans, &req, &qs, &want, NULL) == 0,
		"json");
	CHECK(ans.count > 0, "no samples in the range");
	planner_answer_clear(&ans);
	store_close(st);

	snprintf(log, sizeof(log), "%s/api.log", dynamo_tmpdir());
	api = start_api(url, log, &port);
	snprintf(path, sizeof(path), "/quantiles?from=%lld&to=%lld",
		 (long long)req.from_s, (long long)req.to_s);
	got = http_get(port, path);
	CHECK_STR(got, want);
	free(got);
	got = http_get(port, "/hosts?from=1700006400&to=1700020000");
	CHECK_STR(got, "{\"hosts\":[\"h1\"],\"metrics\":{\"h1\":[\"rtt\"]}}\n");
	free(got);
	kill(api, SIGTERM);
	waitpid(api, &status, 0);
	printf("proxy: %u requests, %u refused writes (rttq-api tried none: "
	       "%s)\n", proxy.requests, proxy.done[PROXY_DENY],
	       proxy.done[PROXY_DENY] == 1 ? "yes" : "no");
	/* The one refusal is the store_open() above. */
	CHECK_CMP(proxy.done[PROXY_DENY], ==, 1);
	free(want);
}

/* ---------------------------------------------------------------------
 * merge
 * ------------------------------------------------------------------- */

#define MERGE_START (D1 + 600)
/* More than one read's retries (ddb_call() gives up after its last
 * attempt), so the writer itself sees the fault. */
#define GARBLED_QUERIES 12

static enum ddb_proxy_action garble_queries(const char *op, unsigned int k,
					    void *arg)
{
	atomic_uint *queries = arg;

	if (strcmp(op, "Query"))
		return PROXY_FORWARD;
	return atomic_fetch_add(queries, 1) < GARBLED_QUERIES ? PROXY_GARBLE :
								PROXY_FORWARD;
}

/* A partial base record of @count samples around @base_us (µs). */
static void partial_record(struct store_record *r, uint8_t **digest,
			   uint64_t count, double base_us)
{
	struct tdigest *td = NULL;
	size_t len = 0;

	REQUIRE(tdigest_new(100, &td) == 0, "tdigest_new");
	for (uint64_t i = 0; i < count; i++)
		tdigest_add(td, base_us + (double)i, 1);
	REQUIRE(codec_encode(td, digest, &len) == 0, "codec_encode");
	*r = (struct store_record){
		.host = "h", .group = "all", .period_s = 60,
		.start_s = MERGE_START, .periods = 0, .periods_total = 1,
		.count = count, .sum_us = tdigest_sum(td),
		.min_us = tdigest_min(td), .max_us = tdigest_max(td),
		.digest = *digest, .digest_len = len,
	};
	tdigest_free(td);
}

static int take_one(const struct store_record *r, void *arg)
{
	*(uint64_t *)arg = r->count;
	return 0;
}

static void run_merge(const char *dynalite_dir)
{
	struct store_query q = {
		.host = "h", .group = "all", .period_s = 60,
		.from_s = MERGE_START, .to_s = MERGE_START,
	};
	struct store_record earlier, ours;
	uint8_t *d_earlier = NULL, *d_ours = NULL;
	struct rttq_error err = { 0 };
	struct store *direct = NULL, *proxied = NULL;
	struct writer_config cfg = {
		.host = "h", .retry_ms = 100, .first_start_s = MERGE_START,
	};
	struct writer *w = NULL;
	atomic_uint queries = 0;
	uint64_t stored = 0;
	char url[256];

	dynamo_open_store(dynamo_url("merge"), &direct);
	partial_record(&earlier, &d_earlier, 100, 1000);
	REQUIRE(store_put(direct, &earlier, 1, &err) == 0, "%s", err.msg);

	ddb_proxy_start(&proxy, dynamo_server()->port, garble_queries,
			&queries);
	snprintf(url, sizeof(url),
		 "dynamodb:merge?region=us-east-1&endpoint=http://127.0.0.1:%d",
		 proxy.port);
	dynamo_open_store(url, &proxied);
	cfg.store = proxied;
	REQUIRE(writer_start(&cfg, &w, &err) == 0, "%s", err.msg);
	partial_record(&ours, &d_ours, 50, 5000);
	REQUIRE(writer_submit(w, &ours, 1) == 0, "writer_submit");
	CHECK_CMP(writer_stop(w, 60000), ==, WRITER_ALL_WRITTEN);
	writer_free(w);
	store_close(proxied);

	check_section("a garbled reply during the restart merge keeps the "
		      "earlier run's samples");
	CHECK_CMP(proxy.done[PROXY_GARBLE], ==, GARBLED_QUERIES);
	REQUIRE(store_query(direct, &q, take_one, &stored, &err) == 0, "%s",
		err.msg);
	printf("stored partial record: %llu samples (earlier run 100, this "
	       "run 50), after %u garbled Query replies\n",
	       (unsigned long long)stored, proxy.done[PROXY_GARBLE]);
	CHECK_CMP(stored, ==, 150);
	store_close(direct);
	free(d_earlier);
	free(d_ours);
}

int main(int argc, char **argv)
{
	static const struct dynamo_case cases[] = {
		{ "readonly", run_readonly },
		{ "merge", run_merge },
		{ NULL, NULL },
	};

	return dynamo_test_main(argc, argv, cases);
}
