// SPDX-License-Identifier: BSD-2-Clause
/*
 * DynamoDB store against a real dynalite: table bootstrap, the same answers
 * as the SQLite store for the same records, pagination past 1 MB, fleet
 * queries through the series registry, https with certificate checks,
 * and clear errors.
 * Usage: test-dynamo DYNALITE_DIR CASE   (CASE: bootstrap, roundtrip,
 * pagination, errors, tls, credentials)
 */
#undef NDEBUG
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aws_config.h"
#include "dynalite.h"
#include "dynamodb.h"
#include "http_client.h"
#include "store.h"

#define SECRET "rttq-test-secret-NEVER-IN-LOGS"

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
			exit(1);                                           \
		}                                                          \
	} while (0)

static struct dynalite server;
static char tmpdir[] = "/tmp/rttq-dynamo-XXXXXX";

static void open_store(const char *url, struct store **st)
{
	struct rttq_error err = { 0 };
	int ret = store_open(url, st, &err);

	CHECK(ret == 0, "store_open(%s) = %d: %s", url, ret, err.msg);
}

static char *dynamo_url(const char *table)
{
	static char url[256];

	snprintf(url, sizeof(url), "dynamodb:%s?region=us-east-1&endpoint=%s",
		 table, server.endpoint);
	return url;
}

/* ---------------------------------------------------------------------
 * Records kept as owned copies, to compare two stores field by field
 * ------------------------------------------------------------------- */

struct rec {
	char *host, *group;
	struct store_record r;
	uint8_t *digest;
};

struct recs {
	struct rec *v;
	size_t n, cap;
};

static int collect(const struct store_record *r, void *arg)
{
	struct recs *rs = arg;
	struct rec *x;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 64;
		rs->v = realloc(rs->v, rs->cap * sizeof(*rs->v));
		assert(rs->v);
	}
	x = &rs->v[rs->n++];
	x->host = strdup(r->host);
	x->group = strdup(r->group);
	x->digest = malloc(r->digest_len);
	assert(x->host && x->group && x->digest);
	memcpy(x->digest, r->digest, r->digest_len);
	x->r = *r;
	x->r.host = x->host;
	x->r.group = x->group;
	x->r.digest = x->digest;
	return 0;
}

static void recs_free(struct recs *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->v[i].host);
		free(rs->v[i].group);
		free(rs->v[i].digest);
	}
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

static bool same_double(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

static void compare(const char *what, const struct recs *a, const struct recs *b)
{
	CHECK(a->n == b->n, "%s: %zu records from SQLite, %zu from DynamoDB",
	      what, a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct store_record *x = &a->v[i].r, *y = &b->v[i].r;

		CHECK(strcmp(x->host, y->host) == 0 && strcmp(x->group, y->group) == 0 &&
		      x->period_s == y->period_s && x->start_s == y->start_s,
		      "%s: record %zu key differs: %s/%s/%u/%lld vs %s/%s/%u/%lld",
		      what, i, x->host, x->group, x->period_s, (long long)x->start_s,
		      y->host, y->group, y->period_s, (long long)y->start_s);
		CHECK(x->periods == y->periods && x->periods_total == y->periods_total &&
		      x->count == y->count, "%s: record %zu counters differ", what, i);
		CHECK(same_double(x->sum_us, y->sum_us) &&
		      same_double(x->min_us, y->min_us) &&
		      same_double(x->max_us, y->max_us),
		      "%s: record %zu sum/min/max differ: %.17g %.17g %.17g vs %.17g %.17g %.17g",
		      what, i, x->sum_us, x->min_us, x->max_us, y->sum_us,
		      y->min_us, y->max_us);
		CHECK(x->digest_len == y->digest_len &&
		      memcmp(x->digest, y->digest, x->digest_len) == 0,
		      "%s: record %zu digest differs (%zu vs %zu bytes)", what, i,
		      x->digest_len, y->digest_len);
	}
}

static void query_both(struct store *lite, struct store *dyn,
		       const struct store_query *q, size_t *n_out)
{
	struct recs a = { 0 }, b = { 0 };
	struct rttq_error err = { 0 };
	char what[512];
	int ret;

	snprintf(what, sizeof(what), "query host=%s group=%s period=%u [%lld, %lld]",
		 q->host ? q->host : "(all)", q->group ? q->group : "(all)",
		 q->period_s, (long long)q->from_s, (long long)q->to_s);
	ret = store_query(lite, q, collect, &a, &err);
	CHECK(ret == 0, "%s on SQLite: %s", what, err.msg);
	ret = store_query(dyn, q, collect, &b, &err);
	CHECK(ret == 0, "%s on DynamoDB: %s", what, err.msg);
	compare(what, &a, &b);
	if (n_out)
		*n_out = a.n;
	recs_free(&a);
	recs_free(&b);
}

struct series_list {
	char buf[16384];
	size_t len;
};

static int collect_series(const char *host, const char *group, void *arg)
{
	struct series_list *l = arg;

	l->len += (size_t)snprintf(l->buf + l->len, sizeof(l->buf) - l->len,
				   "%s|%s\n", host, group);
	assert(l->len < sizeof(l->buf));
	return 0;
}

static void series_both(struct store *lite, struct store *dyn,
			const char *host, int64_t from_s, int64_t to_s)
{
	struct series_list a = { .len = 0 }, b = { .len = 0 };
	struct rttq_error err = { 0 };
	int ret;

	ret = store_series(lite, host, from_s, to_s, collect_series, &a, &err);
	CHECK(ret == 0, "series on SQLite: %s", err.msg);
	ret = store_series(dyn, host, from_s, to_s, collect_series, &b, &err);
	CHECK(ret == 0, "series on DynamoDB: %s", err.msg);
	a.buf[a.len] = b.buf[b.len] = '\0';
	CHECK(strcmp(a.buf, b.buf) == 0,
	      "series host=%s [%lld, %lld] differ:\nSQLite:\n%sDynamoDB:\n%s",
	      host ? host : "(all)", (long long)from_s, (long long)to_s,
	      a.buf, b.buf);
}

/* ---------------------------------------------------------------------
 * Synthetic records
 * ------------------------------------------------------------------- */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct batch {
	struct store_record *r;
	uint8_t **digests;
	size_t n, cap;
};

static void add_record(struct batch *b, const char *host, const char *group,
		       uint32_t period_s, int64_t start_s, size_t digest_len)
{
	struct store_record *r;
	uint8_t *d;

	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->r = realloc(b->r, b->cap * sizeof(*b->r));
		b->digests = realloc(b->digests, b->cap * sizeof(*b->digests));
		assert(b->r && b->digests);
	}
	d = malloc(digest_len);
	assert(d);
	for (size_t i = 0; i < digest_len; i++)
		d[i] = (uint8_t)next_rand();
	b->digests[b->n] = d;
	r = &b->r[b->n++];
	memset(r, 0, sizeof(*r));
	r->host = host;
	r->group = group;
	r->period_s = period_s;
	r->start_s = start_s;
	r->periods_total = period_s >= 3600 ? period_s / 60 : 1;
	r->periods = (uint32_t)(next_rand() % (r->periods_total + 1));
	r->count = next_rand() % 1000000;
	r->sum_us = (double)(next_rand() % 100000000) / 7.0;
	r->min_us = (double)(next_rand() % 1000) / 3.0;
	r->max_us = r->min_us * 1000.5;
	r->digest = d;
	r->digest_len = digest_len;
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->digests[i]);
	free(b->r);
	free(b->digests);
	memset(b, 0, sizeof(*b));
}

static void put_both(struct store *lite, struct store *dyn,
		     const struct store_record *r, size_t n)
{
	struct rttq_error err = { 0 };
	int ret;

	ret = store_put(lite, r, n, &err);
	CHECK(ret == 0, "SQLite put: %s", err.msg);
	ret = store_put(dyn, r, n, &err);
	CHECK(ret == 0, "DynamoDB put of %zu records: %s", n, err.msg);
}

/* ---------------------------------------------------------------------
 * Cases
 * ------------------------------------------------------------------- */

/* Missing table created (ACTIVE), existing one reused, foreign key schema
 * refused with a message naming the table. */
static void test_bootstrap(void)
{
	const char *other = "{\"TableName\":\"other\",\"BillingMode\":\"PAY_PER_REQUEST\","
		"\"AttributeDefinitions\":[{\"AttributeName\":\"id\",\"AttributeType\":\"S\"}],"
		"\"KeySchema\":[{\"AttributeName\":\"id\",\"KeyType\":\"HASH\"}]}";
	struct aws_config cfg;
	struct rttq_error err = { 0 };
	struct store *st = NULL, *again = NULL;
	struct ddb *ddb = NULL;
	yajl_val reply = NULL;
	int ret;

	/* Destructors take NULL, as everywhere in librttq. */
	http_client_free(NULL);
	http_response_release(NULL);
	ddb_free(NULL);
	aws_config_release(NULL);

	open_store(dynamo_url("rttq-boot"), &st);
	ret = store_ping(st, &err);
	CHECK(ret == 0, "ping: %s", err.msg);
	open_store(dynamo_url("rttq-boot"), &again);
	store_close(again);
	store_close(st);

	ret = aws_config_load("dynamodb", "us-east-1", server.endpoint, &cfg, &err);
	CHECK(ret == 0, "aws_config_load: %s", err.msg);
	ret = ddb_new(&cfg, &ddb, &err);
	CHECK(ret == 0, "ddb_new: %s", err.msg);
	ret = ddb_call(ddb, "ListTables", "{}", 2, &reply, &err);
	CHECK(ret == 0, "ListTables: %s", err.msg);
	const char *path[] = { "TableNames", NULL };
	yajl_val names = yajl_tree_get(reply, path, yajl_t_array);
	const char *first = names && names->u.array.len == 1 ?
			    YAJL_GET_STRING(names->u.array.values[0]) : NULL;
	CHECK(first && strcmp(first, "rttq-boot") == 0,
	      "expected exactly table rttq-boot");
	yajl_tree_free(reply);
	ret = ddb_call(ddb, "CreateTable", other, strlen(other), NULL, &err);
	CHECK(ret == 0, "CreateTable other: %s", err.msg);
	/* A validation error is returned at once, with DynamoDB's type. */
	const char *bad = "{\"TableName\":\"x\"}";
	ret = ddb_call(ddb, "CreateTable", bad, strlen(bad), NULL, &err);
	CHECK(ret == -EINVAL && strstr(err.msg, "ValidationException"),
	      "bad CreateTable: %d %s", ret, err.msg);
	CHECK(ddb_stats(ddb)->attempts == ddb_stats(ddb)->calls,
	      "a validation error was retried");
	ddb_free(ddb);
	aws_config_release(&cfg);

	ret = store_open(dynamo_url("other"), &st, &err);
	CHECK(ret == -EINVAL && strstr(err.msg, "another key schema"),
	      "foreign table: %d %s", ret, err.msg);

	/* The server goes away under an open store: ping says so. */
	open_store(dynamo_url("rttq-boot"), &st);
	dynalite_stop(&server);
	ret = store_ping(st, &err);
	CHECK(ret == -ECONNREFUSED && strstr(err.msg, "Connection refused") &&
	      strstr(err.msg, "store dynamodb:rttq-boot"),
	      "ping without a server: %d %s", ret, err.msg);
	store_close(st);
	printf("ok bootstrap (ping without a server: %s)\n", err.msg);
}

static int stop_after_3(const struct store_record *r, void *arg)
{
	return ++*(int *)arg == 3 ? 77 : 0;
}

/* The same records through both stores give identical answers. */
static void test_roundtrip(void)
{
	static const char *const hosts[] = { "web-1", "db#2", "cache%3", "api-4" };
	static const char *const groups[] = { "all", "raddr:10.0.0.2",
					      "raddr:10.0.0.2,rport:443", "g#x" };
	char path[512];
	struct store *lite = NULL, *dyn = NULL;
	struct batch b = { 0 };
	size_t n;

	snprintf(path, sizeof(path), "sqlite:%s/ref.db", tmpdir);
	open_store(path, &lite);
	open_store(dynamo_url("rttq-rt"), &dyn);

	/* 1m records over two hours, hour rollups, a day rollup; api-4
	 * only has "all", so fleet queries see a host missing some groups. */
	for (size_t h = 0; h < 4; h++) {
		for (size_t g = 0; g < (h == 3 ? 1 : 4); g++) {
			for (int64_t t = 0; t < 120; t++)
				add_record(&b, hosts[h], groups[g], 60,
					   1700000000 / 60 * 60 + t * 60,
					   10 + next_rand() % 500);
			for (int64_t t = 0; t < 3; t++)
				add_record(&b, hosts[h], groups[g], 3600,
					   1700000000 / 3600 * 3600 + t * 3600, 900);
			add_record(&b, hosts[h], groups[g], 86400,
				   1700000000 / 86400 * 86400, 1200);
		}
	}
	/* Values DynamoDB's N type cannot hold go through as strings. */
	b.r[0].min_us = INFINITY;
	b.r[0].max_us = -INFINITY;
	b.r[1].sum_us = 1e300;
	b.r[2].min_us = 5e-300;
	b.r[3].sum_us = 0.1 + 0.2;
	b.r[4].count = INT64_MAX;
	put_both(lite, dyn, b.r, b.n);

	/* Same key twice in one put: the last wins; and a later rewrite. */
	struct store_record twice[2] = { b.r[5], b.r[5] };
	twice[1].count = 42;
	twice[1].periods = 0;
	put_both(lite, dyn, twice, 2);
	b.r[6].count = 4242;
	put_both(lite, dyn, &b.r[6], 1);

	int64_t t0 = 1700000000 / 60 * 60;
	for (size_t h = 0; h < 5; h++) {
		for (size_t g = 0; g < 4; g++) {
			struct store_query q = {
				.host = h < 4 ? hosts[h] : NULL,
				.group = groups[g], .period_s = 60,
				.from_s = t0, .to_s = t0 + 119 * 60,
			};

			query_both(lite, dyn, &q, &n);
			CHECK(n == (h == 4 ? (g ? 3 : 4) * 120u :
				    (h == 3 && g ? 0 : 120u)),
			      "host %zu group %zu: %zu records", h, g, n);
			q.from_s = t0 + 600;
			q.to_s = t0 + 1200;
			query_both(lite, dyn, &q, &n);
			q.from_s = t0 + 601; /* not aligned: starts in range */
			q.to_s = t0 + 601;
			query_both(lite, dyn, &q, &n);
			CHECK(n == 0, "unaligned point query found %zu", n);
			q.period_s = 3600;
			q.from_s = 0;
			q.to_s = INT64_MAX;
			query_both(lite, dyn, &q, &n);
			q.period_s = 86400;
			query_both(lite, dyn, &q, &n);
			q.from_s = 10;
			q.to_s = 5; /* empty range */
			query_both(lite, dyn, &q, &n);
			CHECK(n == 0, "empty range found %zu", n);
		}
	}
	struct store_query none = { .host = "nobody", .period_s = 60,
				    .from_s = 0, .to_s = INT64_MAX };
	query_both(lite, dyn, &none, &n);
	CHECK(n == 0, "unknown host found %zu", n);

	/* A callback's non-zero return stops a fleet query and comes back
	 * as is, with the error left alone. */
	struct store_query fleet = { .group = "all", .period_s = 60,
				     .from_s = 0, .to_s = INT64_MAX };
	struct rttq_error untouched = { .code = 12345, .msg = "untouched" };
	int calls = 0;
	int ret = store_query(dyn, &fleet, stop_after_3, &calls, &untouched);
	CHECK(ret == 77 && calls == 3 && untouched.code == 12345 &&
	      strcmp(untouched.msg, "untouched") == 0,
	      "stopped fleet query: ret %d after %d calls, err %s", ret, calls,
	      untouched.msg);

	series_both(lite, dyn, NULL, 0, INT64_MAX);
	series_both(lite, dyn, NULL, t0 + 7200, t0 + 7200); /* hour rollups only */
	series_both(lite, dyn, "db#2", 0, INT64_MAX);
	series_both(lite, dyn, "api-4", t0, t0 + 60);
	series_both(lite, dyn, NULL, 0, 1000); /* nothing */

	store_close(lite);
	store_close(dyn);
	batch_free(&b);
	printf("ok roundtrip\n");
}

/* More than 1 MB in one partition: every page is read, in order. */
static void test_pagination(void)
{
	char path[512];
	struct store *lite = NULL, *dyn = NULL;
	struct batch b = { 0 };
	struct recs got = { 0 };
	struct rttq_error err = { 0 };
	int64_t t0 = 1700000000 / 60 * 60;
	size_t n;
	int ret;

	snprintf(path, sizeof(path), "sqlite:%s/page.db", tmpdir);
	open_store(path, &lite);
	open_store(dynamo_url("rttq-page"), &dyn);
	for (int64_t i = 0; i < 2000; i++)
		add_record(&b, "big-host", "all", 60, t0 + i * 60, 700);
	for (int64_t i = 0; i < 10; i++)
		add_record(&b, "small-host", "all", 60, t0 + i * 60, 700);
	put_both(lite, dyn, b.r, b.n);

	struct store_query q = { .host = "big-host", .period_s = 60,
				 .from_s = t0, .to_s = t0 + 2000 * 60 };
	query_both(lite, dyn, &q, &n);
	CHECK(n == 2000, "big-host: %zu records", n);
	q.host = NULL;
	query_both(lite, dyn, &q, &n);
	CHECK(n == 2010, "fleet: %zu records", n);
	ret = store_query(dyn, &q, collect, &got, &err);
	CHECK(ret == 0, "%s", err.msg);
	for (size_t i = 1; i < got.n; i++)
		CHECK(strcmp(got.v[i - 1].host, got.v[i].host) < 0 ||
		      (strcmp(got.v[i - 1].host, got.v[i].host) == 0 &&
		       got.v[i - 1].r.start_s < got.v[i].r.start_s),
		      "order broken at %zu", i);
	recs_free(&got);
	store_close(lite);
	store_close(dyn);
	batch_free(&b);
	printf("ok pagination (2010 records of 700-byte digests, > 1 MB)\n");
}

static void expect_open_error(const char *url, int code, const char *needle)
{
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	int ret = store_open(url, &st, &err);

	CHECK(ret == code && st == NULL && strstr(err.msg, needle),
	      "store_open(%s) = %d (want %d) \"%s\" (want \"%s\")", url, ret,
	      code, err.msg, needle);
	CHECK(!strstr(err.msg, SECRET), "secret in message: %s", err.msg);
	printf("ok error: %s\n", err.msg);
}

/* Accepts connections and resets them (SO_LINGER 0) after a short read. */
static void *reset_server(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	for (;;) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		char buf[4096];
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		if (read(fd, buf, sizeof(buf)) < 0)
			fprintf(stderr, "reset server: read failed\n");
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
	return NULL;
}

/* A server resetting the connection mid-body: an error, not SIGPIPE. */
static void test_reset_mid_body(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	struct http_client *hc = NULL;
	struct http_response resp;
	struct rttq_error err = { 0 };
	size_t body_len = 16u << 20;
	char *body = calloc(1, body_len), url[64];
	pthread_t t;
	int lfd, ret;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(body && lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	      listen(lfd, 4) == 0 &&
	      getsockname(lfd, (struct sockaddr *)&a, &len) == 0, "listener");
	CHECK(pthread_create(&t, NULL, reset_server, (void *)(intptr_t)lfd) == 0,
	      "thread");
	pthread_detach(t);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	CHECK(http_client_new(url, NULL, &hc, &err) == 0, "%s", err.msg);
	ret = http_client_request(hc, "POST", "/", NULL, 0, body, body_len, 5000,
				  &resp, &err);
	CHECK(ret == -ECONNRESET || ret == -EPIPE,
	      "reset mid-body: %d %s", ret, err.msg);
	http_client_free(hc);
	free(body);
	printf("ok error: %s\n", err.msg);
}

static void test_errors(void)
{
	test_reset_mid_body();

	char url[256];
	int port = free_port();

	/* Nothing listens: retried, then a message naming the endpoint. */
	snprintf(url, sizeof(url),
		 "dynamodb:rttq?region=us-east-1&endpoint=http://127.0.0.1:%d", port);
	expect_open_error(url, -ECONNREFUSED, "Connection refused");
	expect_open_error("dynamodb:rttq?region=us-east-1&endpoint=ftp://x",
			  -EINVAL, "expected http://HOST");
	expect_open_error("dynamodb:rttq?region=us-east-1&endpoint=http://u:" SECRET "@h/",
			  -EINVAL, "user information");
	expect_open_error("dynamodb:rttq?colour=blue", -EINVAL,
			  "unknown parameter \"colour\"");
	expect_open_error("dynamodb:a?region=us-east-1", -EINVAL, "table name");
	expect_open_error("dynamodb:rttq?region=US_EAST", -EINVAL,
			  "not a region name");
	expect_open_error("dynamodb:rttq", -ENOENT, "no AWS region");

	unsetenv("AWS_ACCESS_KEY_ID");
	expect_open_error(dynamo_url("rttq"), -EINVAL,
			  "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	expect_open_error(dynamo_url("rttq"), -ENOKEY, "no AWS credentials");

	/* Credentials and region from a profile in the shared files. */
	char file[512];
	FILE *f;

	snprintf(file, sizeof(file), "%s/.aws", tmpdir);
	CHECK(mkdir(file, 0700) == 0 || errno == EEXIST, "mkdir %s", file);
	snprintf(file, sizeof(file), "%s/.aws/credentials", tmpdir);
	f = fopen(file, "w");
	CHECK(f, "cannot write %s", file);
	fprintf(f, "[default]\naws_access_key_id = WRONG\n\n[rttq]\n"
		"aws_access_key_id = AKIDPROFILE\naws_secret_access_key = %s\n",
		SECRET);
	fclose(f);
	snprintf(file, sizeof(file), "%s/.aws/config", tmpdir);
	f = fopen(file, "w");
	CHECK(f, "cannot write %s", file);
	fprintf(f, "[default]\nregion = eu-west-1\n[profile rttq]\nregion = eu-north-1\n"
		"s3 =\n  region = nowhere\n");
	fclose(f);
	setenv("AWS_PROFILE", "rttq", 1);
	setenv("AWS_ENDPOINT_URL_DYNAMODB", server.endpoint, 1);

	struct aws_config cfg;
	struct rttq_error err = { 0 };
	int ret = aws_config_load("dynamodb", NULL, NULL, &cfg, &err);

	CHECK(ret == 0, "profile config: %s", err.msg);
	CHECK(strcmp(cfg.region, "eu-north-1") == 0, "region %s", cfg.region);
	CHECK(strcmp(cfg.access_key_id, "AKIDPROFILE") == 0, "key id from profile");
	CHECK(strcmp(cfg.endpoint, server.endpoint) == 0, "endpoint %s", cfg.endpoint);
	aws_config_release(&cfg);
	unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
	ret = aws_config_load("dynamodb", NULL, NULL, &cfg, &err);
	CHECK(ret == 0 && strcmp(cfg.endpoint,
				 "https://dynamodb.eu-north-1.amazonaws.com") == 0,
	      "default endpoint %s", cfg.endpoint);
	aws_config_release(&cfg);

	struct store *st = NULL;
	snprintf(url, sizeof(url), "dynamodb:rttq-profile?endpoint=%s",
		 server.endpoint);
	open_store(url, &st);
	store_close(st);
	printf("ok profile credentials\n");
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	CHECK(f && buf, "cannot read %s", path);
	n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* https: the certificate chain and the host name are checked; a failed
 * check is reported at once (not retried) and says which check failed. */
static void test_tls(const char *dir)
{
	char cmd[2048], key[512], crt[512], url[512];
	char *key_pem, *crt_pem, *key_arg, *crt_arg;
	struct dynalite tls;
	struct store *st = NULL;
	struct rttq_error err = { 0 };
	struct recs got = { 0 };
	struct batch b = { 0 };
	int ret;

	snprintf(key, sizeof(key), "%s/tls.key", tmpdir);
	snprintf(crt, sizeof(crt), "%s/tls.crt", tmpdir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
		 "-nodes -days 2 -subj /CN=rttq.test "
		 "-addext subjectAltName=DNS:rttq.test,IP:127.0.0.1 "
		 "-keyout %s -out %s 2>/dev/null", key, crt);
	CHECK(system(cmd) == 0, "openssl req failed: %s", cmd);
	key_pem = read_file(key);
	crt_pem = read_file(crt);
	CHECK(asprintf(&key_arg, "--key=%s", key_pem) > 0 &&
	      asprintf(&crt_arg, "--cert=%s", crt_pem) > 0, "asprintf");
	char *extra[] = { "--ssl", key_arg, crt_arg, NULL };
	CHECK(dynalite_start(&tls, dir, NULL, extra) == 0,
	      "dynalite --ssl did not start");

	/* Trusted through AWS_CA_BUNDLE, address in the certificate. */
	setenv("AWS_CA_BUNDLE", crt, 1);
	snprintf(url, sizeof(url),
		 "dynamodb:rttq-tls?region=us-east-1&endpoint=https://127.0.0.1:%d",
		 tls.port);
	open_store(url, &st);
	add_record(&b, "tls-host", "all", 60, 1700000040, 300);
	ret = store_put(st, b.r, 1, &err);
	CHECK(ret == 0, "put over TLS: %s", err.msg);
	struct store_query q = { .host = "tls-host", .period_s = 60,
				 .from_s = 0, .to_s = INT64_MAX };
	ret = store_query(st, &q, collect, &got, &err);
	CHECK(ret == 0 && got.n == 1 && got.v[0].r.digest_len == 300 &&
	      memcmp(got.v[0].digest, b.digests[0], 300) == 0,
	      "query over TLS: %d %zu %s", ret, got.n, err.msg);
	store_close(st);
	recs_free(&got);
	batch_free(&b);
	printf("ok TLS with a trusted certificate\n");

	/* Name not in the certificate. */
	snprintf(url, sizeof(url),
		 "dynamodb:rttq-tls?region=us-east-1&endpoint=https://localhost:%d",
		 tls.port);
	expect_open_error(url, -EKEYREJECTED, "hostname mismatch");
	/* Not trusted: the system store does not know this certificate. */
	unsetenv("AWS_CA_BUNDLE");
	snprintf(url, sizeof(url),
		 "dynamodb:rttq-tls?region=us-east-1&endpoint=https://127.0.0.1:%d",
		 tls.port);
	expect_open_error(url, -EKEYREJECTED, "TLS certificate verification failed");
	setenv("AWS_CA_BUNDLE", "/nonexistent/ca.pem", 1);
	expect_open_error(url, -EIO, "cannot load CA certificates from /nonexistent/ca.pem");
	unsetenv("AWS_CA_BUNDLE");

	dynalite_stop(&tls);
	free(key_pem);
	free(crt_pem);
	free(key_arg);
	free(crt_arg);
}

/* ---------------------------------------------------------------------
 * A metadata service: container credentials at /creds (token checked)
 * and EC2 IMDSv2 (session token, role name, role keys).
 * ------------------------------------------------------------------- */

struct metadata {
	int fd;
	int port;
	atomic_uint creds_served;
	atomic_llong expires_s;
};

static struct metadata meta;

static void iso8601(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void meta_reply(int fd, int status, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, strlen(body));

	if (write(fd, head, (size_t)n) != n ||
	    write(fd, body, strlen(body)) != (ssize_t)strlen(body))
		return;
}

static void *meta_serve(void *arg)
{
	for (;;) {
		char req[8192], body[512], exp[32];
		size_t len = 0;
		int fd = accept(meta.fd, NULL, NULL);

		if (fd < 0)
			continue;
		while (len < sizeof(req) - 1) {
			ssize_t r = read(fd, req + len, sizeof(req) - 1 - len);

			if (r <= 0)
				break;
			len += (size_t)r;
			req[len] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[len] = '\0';
		iso8601(atomic_load(&meta.expires_s), exp);
		if (strncmp(req, "GET /creds ", 11) == 0) {
			if (!strstr(req, "\r\nAuthorization: container-token-1\r\n")) {
				meta_reply(fd, 401, "no token");
			} else {
				atomic_fetch_add(&meta.creds_served, 1);
				snprintf(body, sizeof(body),
					 "{\"AccessKeyId\":\"ASIACONTAINER\",\"SecretAccessKey\":\"%s\","
					 "\"Token\":\"session-token-c\",\"Expiration\":\"%s\"}",
					 SECRET, exp);
				meta_reply(fd, 200, body);
			}
		} else if (strncmp(req, "PUT /latest/api/token ", 22) == 0) {
			meta_reply(fd, strstr(req, "X-aws-ec2-metadata-token-ttl-seconds: 21600") ?
				   200 : 400, "imds-token-1");
		} else if (!strstr(req, "\r\nX-aws-ec2-metadata-token: imds-token-1\r\n")) {
			meta_reply(fd, 401, "");
		} else if (strncmp(req, "GET /latest/meta-data/iam/security-credentials/ ", 48) == 0) {
			meta_reply(fd, 200, "rttq-role\n");
		} else if (strncmp(req, "GET /latest/meta-data/iam/security-credentials/rttq-role ", 57) == 0) {
			atomic_fetch_add(&meta.creds_served, 1);
			snprintf(body, sizeof(body),
				 "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAINSTANCE\","
				 "\"SecretAccessKey\":\"%s\",\"Token\":\"session-token-i\",\"Expiration\":\"%s\"}",
				 SECRET, exp);
			meta_reply(fd, 200, body);
		} else {
			meta_reply(fd, 404, "");
		}
		close(fd);
	}
	return NULL;
}

static void meta_start(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	pthread_t t;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	meta.fd = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(meta.fd >= 0 && bind(meta.fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	      listen(meta.fd, 16) == 0 &&
	      getsockname(meta.fd, (struct sockaddr *)&a, &len) == 0,
	      "metadata socket: %s", strerror(errno));
	meta.port = ntohs(a.sin_port);
	CHECK(pthread_create(&t, NULL, meta_serve, NULL) == 0, "metadata thread");
	pthread_detach(t);
}

static void describe_n(struct ddb *ddb, int n)
{
	const char *body = "{\"TableName\":\"rttq-creds\"}";
	struct rttq_error err = { 0 };

	for (int i = 0; i < n; i++) {
		int ret = ddb_call(ddb, "DescribeTable", body, strlen(body), NULL, &err);

		CHECK(ret == 0, "DescribeTable: %s", err.msg);
	}
}

/* Container and instance credentials, fetched again before they expire. */
static void test_credentials(void)
{
	char url[256];
	struct aws_config cfg;
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	struct ddb *ddb = NULL;
	int64_t now = time(NULL);
	int ret;

	meta_start();
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");

	/* Container: token checked, keys used for a real store. */
	atomic_store(&meta.expires_s, now + 3600);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/creds", meta.port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token-1", 1);
	ret = aws_config_load("dynamodb", "us-east-1", server.endpoint, &cfg, &err);
	CHECK(ret == 0, "container credentials: %s", err.msg);
	CHECK(cfg.source == AWS_CREDS_CONTAINER &&
	      strcmp(cfg.access_key_id, "ASIACONTAINER") == 0 &&
	      strcmp(cfg.session_token, "session-token-c") == 0 &&
	      cfg.expires_s == now + 3600, "container credentials parsed wrong");
	aws_config_release(&cfg);
	open_store(dynamo_url("rttq-creds"), &st);
	store_close(st);
	CHECK(atomic_load(&meta.creds_served) == 2, "served %u times",
	      atomic_load(&meta.creds_served));

	/* Expiring within 5 minutes: every signing fetches new keys. */
	atomic_store(&meta.expires_s, now + 120);
	ret = aws_config_load("dynamodb", "us-east-1", server.endpoint, &cfg, &err);
	CHECK(ret == 0, "%s", err.msg);
	ret = ddb_new(&cfg, &ddb, &err);
	CHECK(ret == 0, "%s", err.msg);
	describe_n(ddb, 3);
	CHECK(atomic_load(&meta.creds_served) == 6, "refresh: served %u times",
	      atomic_load(&meta.creds_served));
	/* Fresh for an hour again: no more fetches. */
	atomic_store(&meta.expires_s, now + 3600);
	describe_n(ddb, 3);
	CHECK(atomic_load(&meta.creds_served) == 7, "after refresh: served %u times",
	      atomic_load(&meta.creds_served));
	ddb_free(ddb);
	aws_config_release(&cfg);

	/* A wrong token is a clear error. */
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong", 1);
	ret = aws_config_load("dynamodb", "us-east-1", server.endpoint, &cfg, &err);
	CHECK(ret == -EIO && strstr(err.msg, "container credentials: HTTP status 401"),
	      "wrong token: %d %s", ret, err.msg);
	aws_config_release(&cfg);
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");

	/* EC2 instance metadata, IMDSv2. */
	unsetenv("AWS_EC2_METADATA_DISABLED");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", meta.port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	ret = aws_config_load("dynamodb", "us-east-1", server.endpoint, &cfg, &err);
	CHECK(ret == 0, "instance credentials: %s", err.msg);
	CHECK(cfg.source == AWS_CREDS_INSTANCE &&
	      strcmp(cfg.access_key_id, "ASIAINSTANCE") == 0 &&
	      strcmp(cfg.session_token, "session-token-i") == 0,
	      "instance credentials parsed wrong");
	aws_config_release(&cfg);
	open_store(dynamo_url("rttq-creds"), &st);
	store_close(st);

	/* No metadata service answers: the usual "no credentials". */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", free_port());
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	expect_open_error(dynamo_url("rttq-creds"), -ENOKEY, "no AWS credentials");
	printf("ok container and instance credentials, refreshed before expiry\n");
}

int main(int argc, char **argv)
{
	const char *dir, *name;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DYNALITE_DIR bootstrap|roundtrip|pagination|errors|tls|credentials\n",
			argv[0]);
		return 2;
	}
	dir = argv[1];
	name = argv[2];
	CHECK(mkdtemp(tmpdir), "mkdtemp");
	dynalite_env(tmpdir);
	CHECK(dynalite_install(dir) == 0, "dynalite not installed");
	CHECK(dynalite_start(&server, dir, NULL, NULL) == 0, "dynalite did not start");

	if (strcmp(name, "bootstrap") == 0)
		test_bootstrap();
	else if (strcmp(name, "roundtrip") == 0)
		test_roundtrip();
	else if (strcmp(name, "pagination") == 0)
		test_pagination();
	else if (strcmp(name, "errors") == 0)
		test_errors();
	else if (strcmp(name, "tls") == 0)
		test_tls(dir);
	else if (strcmp(name, "credentials") == 0)
		test_credentials();
	else
		CHECK(0, "unknown case %s", name);

	dynalite_stop(&server);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return 0;
}
