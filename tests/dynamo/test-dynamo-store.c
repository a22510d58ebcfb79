// SPDX-License-Identifier: BSD-2-Clause
/*
 * DynamoDB store against a real dynalite, the store itself: table
 * bootstrap, the same answers as the SQLite store for the same records,
 * fleet queries through the series registry, pagination past 1 MB.
 * Usage: test-dynamo-store DYNALITE_DIR CASE   (CASE: bootstrap,
 * roundtrip, pagination)
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_config.h"
#include "check.h"
#include "dynamo-test.h"
#include "dynamodb.h"
#include "metric-check.h"
#include "http_client.h"

/* Missing table created (ACTIVE), existing one reused, foreign key schema
 * refused with a message naming the table. */
static void test_bootstrap(const char *dir)
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

	dynamo_open_store(dynamo_url("rttq-boot"), &st);
	ret = store_ping(st, &err);
	REQUIRE(ret == 0, "ping: %s", err.msg);
	dynamo_open_store(dynamo_url("rttq-boot"), &again);
	store_close(again);
	store_close(st);

	ret = aws_config_load("dynamodb", "us-east-1", dynamo_server()->endpoint, &cfg, &err);
	REQUIRE(ret == 0, "aws_config_load: %s", err.msg);
	ret = ddb_new(&cfg, &ddb, &err);
	REQUIRE(ret == 0, "ddb_new: %s", err.msg);
	ret = ddb_call(ddb, "ListTables", "{}", 2, &reply, &err);
	REQUIRE(ret == 0, "ListTables: %s", err.msg);
	const char *path[] = { "TableNames", NULL };
	yajl_val names = yajl_tree_get(reply, path, yajl_t_array);
	const char *first = names && names->u.array.len == 1 ?
			    YAJL_GET_STRING(names->u.array.values[0]) : NULL;
	REQUIRE(first && strcmp(first, "rttq-boot") == 0,
		"expected exactly table rttq-boot");
	yajl_tree_free(reply);
	ret = ddb_call(ddb, "CreateTable", other, strlen(other), NULL, &err);
	REQUIRE(ret == 0, "CreateTable other: %s", err.msg);
	/* A validation error is returned at once, with DynamoDB's type. */
	const char *bad = "{\"TableName\":\"x\"}";
	ret = ddb_call(ddb, "CreateTable", bad, strlen(bad), NULL, &err);
	REQUIRE(ret == -EREMOTEIO && strstr(err.msg, "ValidationException"),
		"bad CreateTable: %d %s", ret, err.msg);
	REQUIRE(ddb_stats(ddb)->attempts == ddb_stats(ddb)->calls,
		"a validation error was retried");
	ddb_free(ddb);
	aws_config_release(&cfg);

	ret = store_open(dynamo_url("other"), &st, &err);
	REQUIRE(ret == -EINVAL && strstr(err.msg, "another key schema"),
		"foreign table: %d %s", ret, err.msg);

	/* The server goes away under an open store: ping says so. */
	dynamo_open_store(dynamo_url("rttq-boot"), &st);
	dynalite_stop(dynamo_server());
	ret = store_ping(st, &err);
	REQUIRE(ret == -ECONNREFUSED && strstr(err.msg, "Connection refused") &&
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
static void test_roundtrip(const char *dir)
{
	static const char *const hosts[] = { "web-1", "db#2", "cache%3", "api-4" };
	static const char *const groups[] = { "all", "raddr:10.0.0.2",
					      "raddr:10.0.0.2,rport:443", "g#x" };
	char path[512];
	struct store *lite = NULL, *dyn = NULL;
	struct dynamo_batch b = { 0 };
	size_t n;

	snprintf(path, sizeof(path), "sqlite:%s/ref.db", dynamo_tmpdir());
	dynamo_open_store(path, &lite);
	dynamo_open_store(dynamo_url("rttq-rt"), &dyn);

	/* 1m records over two hours, hour rollups, a day rollup; api-4
	 * only has "all", so fleet queries see a host missing some groups. */
	for (size_t h = 0; h < 4; h++) {
		for (size_t g = 0; g < (h == 3 ? 1 : 4); g++) {
			for (int64_t t = 0; t < 120; t++)
				dynamo_add_record(&b, hosts[h], groups[g], 60,
					   1700000000 / 60 * 60 + t * 60,
					   10 + dynamo_rand() % 500);
			for (int64_t t = 0; t < 3; t++)
				dynamo_add_record(&b, hosts[h], groups[g], 3600,
					   1700000000 / 3600 * 3600 + t * 3600, 900);
			dynamo_add_record(&b, hosts[h], groups[g], 86400,
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
	dynamo_put_both(lite, dyn, b.r, b.n);

	/* Same key twice in one put: the last wins; and a later rewrite. */
	struct store_record twice[2] = { b.r[5], b.r[5] };
	twice[1].count = 42;
	twice[1].periods = 0;
	dynamo_put_both(lite, dyn, twice, 2);
	b.r[6].count = 4242;
	dynamo_put_both(lite, dyn, &b.r[6], 1);

	int64_t t0 = 1700000000 / 60 * 60;
	for (size_t h = 0; h < 5; h++) {
		for (size_t g = 0; g < 4; g++) {
			struct store_query q = {
				.host = h < 4 ? hosts[h] : NULL,
				.group = groups[g], .period_s = 60,
				.from_s = t0, .to_s = t0 + 119 * 60,
			};

			dynamo_query_both(lite, dyn, &q, &n);
			REQUIRE(n == (h == 4 ? (g ? 3 : 4) * 120u :
				      (h == 3 && g ? 0 : 120u)),
				"host %zu group %zu: %zu records", h, g, n);
			q.from_s = t0 + 600;
			q.to_s = t0 + 1200;
			dynamo_query_both(lite, dyn, &q, &n);
			q.from_s = t0 + 601; /* not aligned: starts in range */
			q.to_s = t0 + 601;
			dynamo_query_both(lite, dyn, &q, &n);
			REQUIRE(n == 0, "unaligned point query found %zu", n);
			q.period_s = 3600;
			q.from_s = 0;
			q.to_s = INT64_MAX;
			dynamo_query_both(lite, dyn, &q, &n);
			q.period_s = 86400;
			dynamo_query_both(lite, dyn, &q, &n);
			q.from_s = 10;
			q.to_s = 5; /* empty range */
			dynamo_query_both(lite, dyn, &q, &n);
			REQUIRE(n == 0, "empty range found %zu", n);
		}
	}
	struct store_query none = { .host = "nobody", .period_s = 60,
				    .from_s = 0, .to_s = INT64_MAX };
	dynamo_query_both(lite, dyn, &none, &n);
	REQUIRE(n == 0, "unknown host found %zu", n);

	/* A callback's non-zero return stops a fleet query and comes back
	 * as is, with the error left alone. */
	struct store_query fleet = { .group = "all", .period_s = 60,
				     .from_s = 0, .to_s = INT64_MAX };
	struct rttq_error untouched = { .code = 12345, .msg = "untouched" };
	int calls = 0;
	int ret = store_query(dyn, &fleet, stop_after_3, &calls, &untouched);
	REQUIRE(ret == 77 && calls == 3 && untouched.code == 12345 &&
		strcmp(untouched.msg, "untouched") == 0,
		"stopped fleet query: ret %d after %d calls, err %s", ret, calls,
		untouched.msg);

	dynamo_series_both(lite, dyn, NULL, 0, INT64_MAX);
	dynamo_series_both(lite, dyn, NULL, t0 + 7200, t0 + 7200); /* hour rollups only */
	dynamo_series_both(lite, dyn, "db#2", 0, INT64_MAX);
	dynamo_series_both(lite, dyn, "api-4", t0, t0 + 60);
	dynamo_series_both(lite, dyn, NULL, 0, 1000); /* nothing */

	store_close(lite);
	store_close(dyn);
	dynamo_batch_free(&b);
	printf("ok roundtrip\n");
}

/* More than 1 MB in one partition: every page is read, in order. */
static void test_pagination(const char *dir)
{
	char path[512];
	struct store *lite = NULL, *dyn = NULL;
	struct dynamo_batch b = { 0 };
	struct dynamo_recs got = { 0 };
	struct rttq_error err = { 0 };
	int64_t t0 = 1700000000 / 60 * 60;
	size_t n;
	int ret;

	snprintf(path, sizeof(path), "sqlite:%s/page.db", dynamo_tmpdir());
	dynamo_open_store(path, &lite);
	dynamo_open_store(dynamo_url("rttq-page"), &dyn);
	for (int64_t i = 0; i < 2000; i++)
		dynamo_add_record(&b, "big-host", "all", 60, t0 + i * 60, 700);
	for (int64_t i = 0; i < 10; i++)
		dynamo_add_record(&b, "small-host", "all", 60, t0 + i * 60, 700);
	dynamo_put_both(lite, dyn, b.r, b.n);

	struct store_query q = { .host = "big-host", .period_s = 60,
				 .from_s = t0, .to_s = t0 + 2000 * 60 };
	dynamo_query_both(lite, dyn, &q, &n);
	REQUIRE(n == 2000, "big-host: %zu records", n);
	q.host = NULL;
	dynamo_query_both(lite, dyn, &q, &n);
	REQUIRE(n == 2010, "fleet: %zu records", n);
	ret = store_query(dyn, &q, dynamo_collect, &got, &err);
	REQUIRE(ret == 0, "%s", err.msg);
	for (size_t i = 1; i < got.n; i++)
		REQUIRE(strcmp(got.v[i - 1].host, got.v[i].host) < 0 ||
			(strcmp(got.v[i - 1].host, got.v[i].host) == 0 &&
			 got.v[i - 1].r.start_s < got.v[i].r.start_s),
			"order broken at %zu", i);
	dynamo_recs_free(&got);
	store_close(lite);
	store_close(dyn);
	dynamo_batch_free(&b);
	printf("ok pagination (2010 records of 700-byte digests, > 1 MB)\n");
}

/* Metrics apart on both backends, and listed alike by both registries
 * (rtt items keep the keys they had before metrics: metric-check.c reads
 * them back through the same code paths). */
static void test_metrics(const char *dir)
{
	struct store *lite = NULL, *dyn = NULL;
	char path[512];

	snprintf(path, sizeof(path), "sqlite:%s/metrics.db", dynamo_tmpdir());
	dynamo_open_store(path, &lite);
	dynamo_open_store(dynamo_url("rttq-metrics"), &dyn);
	metric_check_store(lite);
	metric_check_store(dyn);
	dynamo_series_both(lite, dyn, NULL, 0, INT64_MAX);
	dynamo_series_both(lite, dyn, "m1", 0, INT64_MAX);
	store_close(lite);
	store_close(dyn);
	printf("ok metrics\n");
}

int main(int argc, char **argv)
{
	static const struct dynamo_case cases[] = {
		{ "bootstrap", test_bootstrap },
		{ "roundtrip", test_roundtrip },
		{ "pagination", test_pagination },
		{ "metrics", test_metrics },
		{ NULL, NULL },
	};

	return dynamo_test_main(argc, argv, cases);
}
