// SPDX-License-Identifier: BSD-2-Clause
/*
 * The shared part of the DynamoDB store tests (dynamo-test.h): the run's
 * dynalite and scratch directory, comparisons of a SQLite store with the
 * DynamoDB store, synthetic records from a fixed xorshift64 sequence.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dynamo-test.h"
#include "rng.h"

static struct dynalite server;
static char tmpdir[] = "/tmp/rttq-dynamo-XXXXXX";
static uint64_t rng = 0x2545f4914f6cdd1dull;

struct dynalite *dynamo_server(void)
{
	return &server;
}

const char *dynamo_tmpdir(void)
{
	return tmpdir;
}

void dynamo_open_store(const char *url, struct store **st)
{
	struct rttq_error err = { 0 };
	int ret = store_open(url, st, &err);

	REQUIRE(ret == 0, "store_open(%s) = %d: %s", url, ret, err.msg);
}

const char *dynamo_url(const char *table)
{
	static char url[256];

	snprintf(url, sizeof(url), "dynamodb:%s?region=us-east-1&endpoint=%s",
		 table, server.endpoint);
	return url;
}

/* ---------------------------------------------------------------------
 * Records kept as owned copies, to compare two stores field by field
 * ------------------------------------------------------------------- */

int dynamo_collect(const struct store_record *r, void *arg)
{
	struct dynamo_recs *rs = arg;
	struct dynamo_rec *x;

	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 64;
		rs->v = realloc(rs->v, rs->cap * sizeof(*rs->v));
		REQUIRE(rs->v, "out of memory");
	}
	x = &rs->v[rs->n++];
	x->host = strdup(r->host);
	x->group = strdup(r->group);
	x->digest = malloc(r->digest_len);
	REQUIRE(x->host && x->group && x->digest, "out of memory");
	memcpy(x->digest, r->digest, r->digest_len);
	x->r = *r;
	x->r.host = x->host;
	x->r.group = x->group;
	x->r.digest = x->digest;
	return 0;
}

void dynamo_recs_free(struct dynamo_recs *rs)
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

static void compare(const char *what, const struct dynamo_recs *a,
		    const struct dynamo_recs *b)
{
	REQUIRE(a->n == b->n, "%s: %zu records from SQLite, %zu from DynamoDB",
		what, a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct store_record *x = &a->v[i].r, *y = &b->v[i].r;

		REQUIRE(strcmp(x->host, y->host) == 0 &&
				strcmp(x->group, y->group) == 0 &&
				x->period_s == y->period_s &&
				x->start_s == y->start_s,
			"%s: record %zu key differs: %s/%s/%u/%lld vs %s/%s/%u/%lld",
			what, i, x->host, x->group, x->period_s,
			(long long)x->start_s, y->host, y->group, y->period_s,
			(long long)y->start_s);
		REQUIRE(x->periods == y->periods &&
				x->periods_total == y->periods_total &&
				x->count == y->count,
			"%s: record %zu counters differ", what, i);
		REQUIRE(same_double(x->sum_us, y->sum_us) &&
				same_double(x->min_us, y->min_us) &&
				same_double(x->max_us, y->max_us),
			"%s: record %zu sum/min/max differ: %.17g %.17g %.17g vs %.17g %.17g %.17g",
			what, i, x->sum_us, x->min_us, x->max_us, y->sum_us,
			y->min_us, y->max_us);
		REQUIRE(x->digest_len == y->digest_len &&
				memcmp(x->digest, y->digest, x->digest_len) == 0,
			"%s: record %zu digest differs (%zu vs %zu bytes)",
			what, i, x->digest_len, y->digest_len);
	}
}

void dynamo_query_both(struct store *lite, struct store *dyn,
		       const struct store_query *q, size_t *n_out)
{
	struct dynamo_recs a = { 0 }, b = { 0 };
	struct rttq_error err = { 0 };
	char what[512];
	int ret;

	snprintf(what, sizeof(what), "query host=%s group=%s period=%u [%lld, %lld]",
		 q->host ? q->host : "(all)", q->group ? q->group : "(all)",
		 q->period_s, (long long)q->from_s, (long long)q->to_s);
	ret = store_query(lite, q, dynamo_collect, &a, &err);
	REQUIRE(ret == 0, "%s on SQLite: %s", what, err.msg);
	ret = store_query(dyn, q, dynamo_collect, &b, &err);
	REQUIRE(ret == 0, "%s on DynamoDB: %s", what, err.msg);
	compare(what, &a, &b);
	if (n_out)
		*n_out = a.n;
	dynamo_recs_free(&a);
	dynamo_recs_free(&b);
}

struct series_list {
	char buf[16384];
	size_t len;
};

static int collect_series(const char *host, const char *group,
			  const char *metric, uint32_t period_s, void *arg)
{
	struct series_list *l = arg;

	l->len += (size_t)snprintf(l->buf + l->len, sizeof(l->buf) - l->len,
				   "%s|%s|%s|%u\n", host, group, metric,
				   period_s);
	REQUIRE(l->len < sizeof(l->buf), "more series than %zu bytes hold",
		sizeof(l->buf));
	return 0;
}

void dynamo_series_both(struct store *lite, struct store *dyn,
			const char *host, int64_t from_s, int64_t to_s)
{
	struct series_list a = { .len = 0 }, b = { .len = 0 };
	struct rttq_error err = { 0 };
	int ret;

	ret = store_series(lite, host, NULL, from_s, to_s, collect_series, &a,
			   &err);
	REQUIRE(ret == 0, "series on SQLite: %s", err.msg);
	ret = store_series(dyn, host, NULL, from_s, to_s, collect_series, &b,
			   &err);
	REQUIRE(ret == 0, "series on DynamoDB: %s", err.msg);
	a.buf[a.len] = b.buf[b.len] = '\0';
	REQUIRE(strcmp(a.buf, b.buf) == 0,
		"series host=%s [%lld, %lld] differ:\nSQLite:\n%sDynamoDB:\n%s",
		host ? host : "(all)", (long long)from_s, (long long)to_s,
		a.buf, b.buf);
	/* The finest period of "all" over every host: the registry's. */
	{
		uint32_t pa = 0, pb = 0;

		REQUIRE(store_finest_period(lite, "all", NULL, &pa, &err) == 0,
			"finest period on SQLite: %s", err.msg);
		REQUIRE(store_finest_period(dyn, "all", NULL, &pb, &err) == 0,
			"finest period on DynamoDB: %s", err.msg);
		REQUIRE(pa == pb, "finest period of 'all': SQLite %u s, "
			"DynamoDB %u s", pa, pb);
	}
}

/* ---------------------------------------------------------------------
 * Synthetic records
 * ------------------------------------------------------------------- */

uint64_t dynamo_rand(void)
{
	return rng_xorshift64(&rng);
}

void dynamo_add_record(struct dynamo_batch *b, const char *host,
		       const char *group, uint32_t period_s, int64_t start_s,
		       size_t digest_len)
{
	struct store_record *r;
	uint8_t *d;

	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->r = realloc(b->r, b->cap * sizeof(*b->r));
		b->digests = realloc(b->digests, b->cap * sizeof(*b->digests));
		REQUIRE(b->r && b->digests, "out of memory");
	}
	d = malloc(digest_len);
	REQUIRE(d, "out of memory");
	for (size_t i = 0; i < digest_len; i++)
		d[i] = (uint8_t)dynamo_rand();
	b->digests[b->n] = d;
	r = &b->r[b->n++];
	memset(r, 0, sizeof(*r));
	r->host = host;
	r->group = group;
	r->period_s = period_s;
	r->start_s = start_s;
	r->periods_total = period_s >= 3600 ? period_s / 60 : 1;
	r->periods = (uint32_t)(dynamo_rand() % (r->periods_total + 1));
	r->count = dynamo_rand() % 1000000;
	r->sum_us = (double)(dynamo_rand() % 100000000) / 7.0;
	r->min_us = (double)(dynamo_rand() % 1000) / 3.0;
	r->max_us = r->min_us * 1000.5;
	r->digest = d;
	r->digest_len = digest_len;
}

void dynamo_batch_free(struct dynamo_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->digests[i]);
	free(b->r);
	free(b->digests);
	memset(b, 0, sizeof(*b));
}

void dynamo_put_both(struct store *lite, struct store *dyn,
		     const struct store_record *r, size_t n)
{
	struct rttq_error err = { 0 };
	int ret;

	ret = store_put(lite, r, n, &err);
	REQUIRE(ret == 0, "SQLite put: %s", err.msg);
	ret = store_put(dyn, r, n, &err);
	REQUIRE(ret == 0, "DynamoDB put of %zu records: %s", n, err.msg);
}

void dynamo_expect_open_error(const char *url, int code, const char *needle)
{
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	int ret = store_open(url, &st, &err);

	REQUIRE(ret == code && st == NULL && strstr(err.msg, needle),
		"store_open(%s) = %d (want %d) \"%s\" (want \"%s\")", url, ret,
		code, err.msg, needle);
	REQUIRE(!strstr(err.msg, SECRET), "secret in message: %s", err.msg);
	printf("ok error: %s\n", err.msg);
}

/* ---------------------------------------------------------------------
 * main()
 * ------------------------------------------------------------------- */

int dynamo_test_main(int argc, char **argv, const struct dynamo_case *cases)
{
	const struct dynamo_case *c;
	const char *dir;
	char cmd[600];

	if (argc != 3) {
		fprintf(stderr, "usage: %s DYNALITE_DIR CASE (", argv[0]);
		for (c = cases; c->name; c++)
			fprintf(stderr, "%s%s", c == cases ? "" : ", ",
				c->name);
		fprintf(stderr, ")\n");
		return 2;
	}
	dir = argv[1];
	for (c = cases; c->name && strcmp(c->name, argv[2]); c++)
		;
	REQUIRE(c->name, "unknown case %s", argv[2]);
	REQUIRE(mkdtemp(tmpdir), "mkdtemp");
	dynalite_env(tmpdir);
	REQUIRE(dynalite_install(dir) == 0, "dynalite not installed");
	REQUIRE(dynalite_start(&server, dir, NULL, NULL) == 0,
		"dynalite did not start");

	c->run(dir);

	dynalite_stop(&server);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return check_report();
}
