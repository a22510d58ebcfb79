// SPDX-License-Identifier: BSD-2-Clause
/*
 * The shared part of the SQLite store tests (sqlite-test.h).
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "check.h"
#include "sqlite-test.h"

static char tmpdir[64];

void sqlite_test_start(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/rttq-store-XXXXXX");
	REQUIRE(mkdtemp(tmpdir), "mkdtemp");
}

const char *sqlite_test_dir(void)
{
	return tmpdir;
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

int sqlite_test_finish(void)
{
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return check_report();
}

/* A fresh "sqlite:DIR/NAME" URL; returns a static buffer per slot. */
const char *url_for(const char *name)
{
	static char bufs[4][512];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "sqlite:%s/%s", tmpdir, name);
	return b;
}

struct store *open_ok(const char *url)
{
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	int ret = store_open(url, &st, &err);

	REQUIRE(ret == 0, "store_open(%s): %d %s", url, ret, err.msg);
	return st;
}

const uint8_t digest_a[5] = { 1, 2, 3, 4, 5 };
const uint8_t digest_b[3] = { 9, 8, 7 };

struct store_record rec(const char *host, const char *group,
			       uint32_t period_s, int64_t start_s)
{
	return (struct store_record){
		.host = host,
		.group = group,
		.period_s = period_s,
		.start_s = start_s,
		.periods = 1,
		.periods_total = 1,
		.count = 1000 + (uint64_t)start_s,
		.sum_us = 123456.25,
		.min_us = 17.5,
		.max_us = 9001.75,
		.digest = digest_a,
		.digest_len = sizeof(digest_a),
	};
}

void put_ok(struct store *st, const struct store_record *recs, size_t n)
{
	struct rttq_error err = { 0 };
	int ret = store_put(st, recs, n, &err);

	CHECK(ret == 0, "store_put: %d %s", ret, err.msg);
}

int collect(const struct store_record *r, void *arg)
{
	struct seen_records *s = arg;

	if (s->n == 0) {
		s->first = *r;
		memcpy(s->first_digest, r->digest,
		       r->digest_len < 16 ? r->digest_len : 16);
		snprintf(s->first_metric, sizeof(s->first_metric), "%s",
			 r->metric ? r->metric : "(null)");
		s->first.host = NULL;
		s->first.group = NULL;
		s->first.metric = NULL;
		s->first.digest = NULL;
	}
	if (s->n < 32)
		snprintf(s->key[s->n], sizeof(s->key[0]), "%s/%s@%lld", r->host,
			 r->group, (long long)r->start_s);
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 42 : 0;
}

int query(struct store *st, const char *host, const char *group,
		 uint32_t period_s, int64_t from_s, int64_t to_s,
		 struct seen_records *out, struct rttq_error *err)
{
	struct store_query q = {
		.host = host, .group = group, .period_s = period_s,
		.from_s = from_s, .to_s = to_s,
	};
	int stop = out->stop_after;

	memset(out, 0, sizeof(*out));
	out->stop_after = stop;
	return store_query(st, &q, collect, out, err);
}

void exec_raw(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	CHECK_CMP(sqlite3_open(path, &db), ==, SQLITE_OK);
	CHECK(sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK, "%s: %s",
	      sql, msg);
	sqlite3_free(msg);
	sqlite3_close(db);
}
