// SPDX-License-Identifier: BSD-2-Clause
/*
 * Flow-log records on DynamoDB (store_dynamodb_flows.c) against dynalite,
 * beside the same records in SQLite: store_put_flows() in batches past
 * BatchWriteItem's 25, across hour partitions, and store_flows() giving
 * both stores' answers identical, newest first, by host and range, a
 * stop from the callback; a record written twice is one item.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "dynamo-test.h"
#include "store.h"

#define N_FLOWS 90
#define HOUR_MS 3600000

struct seen {
	int n;
	int stop_after; /* return 42 after this many; 0 never */
	char text[N_FLOWS + 1][96];
};

static int collect(const struct store_flow *f, void *arg)
{
	struct seen *s = arg;

	if (s->n <= N_FLOWS)
		snprintf(s->text[s->n], sizeof(s->text[0]), "%s/%s@%lld:%.*s",
			 f->host, f->group, (long long)f->time_ms, (int)f->len,
			 (const char *)f->data);
	s->n++;
	return s->stop_after && s->n == s->stop_after ? 42 : 0;
}

static void read_both(struct store *lite, struct store *dyn,
		      const char *host, int64_t from_ms, int64_t to_ms,
		      int want)
{
	static struct seen a, b;
	struct rttq_error err = { 0 };

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	CHECK_CMP(store_flows(lite, host, from_ms, to_ms, collect, &a, &err),
		  ==, 0);
	REQUIRE(store_flows(dyn, host, from_ms, to_ms, collect, &b, &err) == 0,
		"store_flows: %s", err.msg);
	CHECK_CMP(b.n, ==, want);
	CHECK_CMP(a.n, ==, b.n);
	for (int i = 0; i < a.n && i < b.n && i <= N_FLOWS; i++)
		CHECK_STR(b.text[i], a.text[i]);
}

static void test_flows(const char *dir)
{
	static char data[N_FLOWS][32];
	static struct store_flow f[N_FLOWS];
	struct store *lite = NULL, *dyn = NULL;
	struct rttq_error err = { 0 };
	struct seen s = { 0 };
	/* An hour boundary in the middle of the records. */
	int64_t t0 = 1700006400000 - N_FLOWS / 2 * 60000;
	char path[512];

	(void)dir;
	snprintf(path, sizeof(path), "sqlite:%s/flows.db", dynamo_tmpdir());
	dynamo_open_store(path, &lite);
	dynamo_open_store(dynamo_url("flows"), &dyn);
	for (int i = 0; i < N_FLOWS; i++) {
		snprintf(data[i], sizeof(data[i]), "record %d", i);
		f[i] = (struct store_flow){
			.host = i % 3 ? "web-1" : "db-1",
			.group = i % 2 ? "all" : "raddr:10.0.0.2",
			/* A minute apart, and 7 ms in: never 2 at once. */
			.time_ms = t0 + i * 60000 + 7,
			.data = data[i],
			.len = strlen(data[i]),
		};
	}
	CHECK_CMP(store_put_flows(lite, f, N_FLOWS, &err), ==, 0);
	REQUIRE(store_put_flows(dyn, f, N_FLOWS, &err) == 0,
		"store_put_flows: %s", err.msg);
	/* Again, and twice in one batch: still one item each. */
	REQUIRE(store_put_flows(dyn, f, 2, &err) == 0, "again: %s", err.msg);
	{
		struct store_flow twice[2] = { f[5], f[5] };

		REQUIRE(store_put_flows(dyn, twice, 2, &err) == 0,
			"twice: %s", err.msg);
	}

	read_both(lite, dyn, NULL, t0, t0 + N_FLOWS * 60000, N_FLOWS);
	read_both(lite, dyn, "db-1", t0, t0 + N_FLOWS * 60000, N_FLOWS / 3);
	/* Across the hour boundary only: 10 minutes each side. */
	read_both(lite, dyn, NULL, 1700006400000 - 600000,
		  1700006400000 + 600000 - 1, 20);
	/* A range ending 1 ms before a close leaves it out. */
	read_both(lite, dyn, NULL, t0 + 7, t0 + 60000 + 6, 1);
	read_both(lite, dyn, NULL, t0 - 2 * HOUR_MS, t0, 0);
	read_both(lite, dyn, "nosuch", t0, t0 + N_FLOWS * 60000, 0);

	s.stop_after = 3;
	CHECK_CMP(store_flows(dyn, NULL, t0, t0 + N_FLOWS * 60000, collect, &s,
			      &err), ==, 42);
	CHECK_CMP(s.n, ==, 3);
	CHECK_STR(s.text[0], "web-1/all@1700009040007:record 89");

	store_close(lite);
	store_close(dyn);
	printf("ok flows (%d records over 2 hour partitions, both stores)\n",
	       N_FLOWS);
}

int main(int argc, char **argv)
{
	static const struct dynamo_case cases[] = {
		{ "flows", test_flows },
		{ NULL, NULL },
	};

	return dynamo_test_main(argc, argv, cases);
}
