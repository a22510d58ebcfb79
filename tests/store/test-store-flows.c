// SPDX-License-Identifier: BSD-2-Clause
/*
 * Flow records in the SQLite store (store_put_flows() / store_flows()) on
 * real files: what goes in comes out newest first, by host and time
 * range, a stop from the callback, checks before writing, retention, and
 * a version 3 file (before the flows table) read as it is: no records, no
 * error, then migrated by the writer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "sqlite-test.h"
#include "store.h"

struct seen_flows {
	int n;
	int stop_after; /* return 42 after this many; 0 never */
	char key[16][64]; /* "host/group@time_ms:data" */
};

static int collect_flow(const struct store_flow *f, void *arg)
{
	struct seen_flows *s = arg;

	if (s->n < 16)
		snprintf(s->key[s->n], sizeof(s->key[0]), "%s/%s@%lld:%.*s",
			 f->host, f->group, (long long)f->time_ms, (int)f->len,
			 (const char *)f->data);
	s->n++;
	return s->stop_after && s->n == s->stop_after ? 42 : 0;
}

static struct store_flow flow(const char *host, int64_t time_ms,
			      const char *data)
{
	return (struct store_flow){ .host = host, .group = "all",
				    .time_ms = time_ms, .data = data,
				    .len = strlen(data) };
}

static void test_round_trip(void)
{
	const char *url = url_for("flows.db");
	struct store *st = open_ok(url), *reader;
	struct store_flow f[] = { flow("a", 1000, "one"), flow("b", 3000, "two"),
				  flow("a", 2000, "three"),
				  flow("a", 5000, "four") };
	struct rttq_error err = { 0 };
	struct seen_flows s = { 0 };

	CHECK_CMP(store_put_flows(st, f, 4, &err), ==, 0);
	CHECK_CMP(store_put_flows(st, f, 0, &err), ==, 0);
	reader = NULL;
	REQUIRE(store_open_read(url, &reader, &err) == 0, "open_read: %s",
		err.msg);

	CHECK_CMP(store_flows(reader, NULL, 0, 10000, collect_flow, &s, &err),
		  ==, 0);
	CHECK_CMP(s.n, ==, 4);
	CHECK_STR(s.key[0], "a/all@5000:four");
	CHECK_STR(s.key[1], "b/all@3000:two");
	CHECK_STR(s.key[2], "a/all@2000:three");
	CHECK_STR(s.key[3], "a/all@1000:one");

	memset(&s, 0, sizeof(s));
	CHECK_CMP(store_flows(reader, "a", 1000, 2000, collect_flow, &s, &err),
		  ==, 0);
	CHECK_CMP(s.n, ==, 2);
	CHECK_STR(s.key[0], "a/all@2000:three");
	CHECK_STR(s.key[1], "a/all@1000:one");

	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	CHECK_CMP(store_flows(reader, NULL, 0, 10000, collect_flow, &s, &err),
		  ==, 42);
	CHECK_CMP(s.n, ==, 2);

	memset(&s, 0, sizeof(s));
	CHECK_CMP(store_flows(reader, NULL, 5001, 5000, collect_flow, &s,
			      &err), ==, 0);
	CHECK_CMP(s.n, ==, 0);
	store_close(reader);
	store_close(st);
}

static void test_checks(void)
{
	struct store *st = open_ok(url_for("flow-checks.db"));
	struct rttq_error err = { 0 };
	struct seen_flows s = { 0 };
	char big[STORE_FLOW_MAX + 2];
	struct store_flow f[2] = { flow("ok", 1, "x"), flow("", 1, "x") };

	CHECK_CMP(store_put_flows(st, f, 2, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "empty flow host");
	f[1] = flow("*", 1, "x");
	CHECK_CMP(store_put_flows(st, f, 2, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "reserved");
	f[1] = flow("h", -1, "x");
	CHECK_CMP(store_put_flows(st, f, 2, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "before 1970");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	f[1] = flow("h", 1, big);
	CHECK_CMP(store_put_flows(st, f, 2, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "bytes of data");
	f[1].group = "";
	CHECK_CMP(store_put_flows(st, f, 2, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "empty flow group");
	/* Nothing of a refused batch was written. */
	CHECK_CMP(store_flows(st, NULL, 0, 100, collect_flow, &s, &err), ==, 0);
	CHECK_CMP(s.n, ==, 0);
	CHECK_CMP(store_flows(st, "", 0, 100, collect_flow, &s, &err), ==,
		  -EINVAL);
	store_close(st);
}

/* A batch deletes what closed STORE_FLOW_RETENTION_S before its newest
 * record, and nothing younger: the file does not grow for ever. */
static void test_retention(void)
{
	const int64_t keep_ms = (int64_t)STORE_FLOW_RETENTION_S * 1000;
	struct store *st = open_ok(url_for("flow-retention.db"));
	struct store_flow old[] = { flow("a", 1000, "old"),
				    flow("a", 2000, "kept") };
	struct store_flow young = flow("a", 1500 + keep_ms, "young");
	struct rttq_error err = { 0 };
	struct seen_flows s = { 0 };

	CHECK_CMP(store_put_flows(st, old, 2, &err), ==, 0);
	CHECK_CMP(store_put_flows(st, &young, 1, &err), ==, 0);
	CHECK_CMP(store_flows(st, NULL, 0, 2 * keep_ms, collect_flow, &s,
			      &err), ==, 0);
	CHECK_CMP(s.n, ==, 2);
	CHECK_STR(s.key[0], "a/all@1209601500:young");
	CHECK_STR(s.key[1], "a/all@2000:kept");
	store_close(st);
}

static void test_version3_file(void)
{
	const char *url = url_for("v3.db");
	const char *path = url + strlen("sqlite:");
	struct store *reader = NULL, *st;
	struct store_flow f = flow("a", 7, "seven");
	struct rttq_error err = { 0 };
	struct seen_flows s = { 0 };

	/* A version 3 file: a store of today without the flows table. */
	store_close(open_ok(url));
	exec_raw(path, "DROP TABLE flows; PRAGMA user_version = 3;");
	REQUIRE(store_open_read(url, &reader, &err) == 0, "open_read v3: %s",
		err.msg);
	CHECK_CMP(store_flows(reader, NULL, 0, 100, collect_flow, &s, &err),
		  ==, 0);
	CHECK_CMP(s.n, ==, 0);

	/* The writer migrates it; the reader opened before then sees it. */
	st = open_ok(url);
	CHECK_CMP(store_put_flows(st, &f, 1, &err), ==, 0);
	CHECK_CMP(store_flows(reader, NULL, 0, 100, collect_flow, &s, &err),
		  ==, 0);
	CHECK_CMP(s.n, ==, 1);
	CHECK_STR(s.key[0], "a/all@7:seven");
	store_close(st);
	store_close(reader);
}

int main(void)
{
	sqlite_test_start();
	test_round_trip();
	test_checks();
	test_retention();
	test_version3_file();
	return sqlite_test_finish();
}
