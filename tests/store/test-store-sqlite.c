// SPDX-License-Identifier: BSD-2-Clause
/*
 * SQLite store against real files in a fresh temporary directory, what
 * goes in and comes out: round trips, upserts, ordering and range bounds,
 * the series registry and the migration of a version 1 file to it, URL
 * and record validation.  test-store-files.c has the rest.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "metric-check.h"
#include "sqlite-test.h"
#include "store.h"

static void test_round_trip(void)
{
	struct store *st = open_ok(url_for("round.db"));
	struct store_record r = rec("web-1", "raddr:10.0.0.2,rport:443", 60, 1200);
	struct seen_records s = { 0 };

	r.periods = 3;
	r.periods_total = 60;
	r.count = 18446744073709ULL;
	r.sum_us = 0.1 + 0.2;
	r.min_us = 1e-300;
	r.max_us = INFINITY;
	put_ok(st, &r, 1);

	CHECK_CMP(query(st, "web-1", "raddr:10.0.0.2,rport:443", 60, 0, 10000,
			&s, NULL), ==, 0);
	CHECK_CMP(s.n, ==, 1);
	CHECK_STR(s.key[0], "web-1/raddr:10.0.0.2,rport:443@1200");
	CHECK_CMP(s.first.period_s, ==, 60);
	CHECK_CMP(s.first.start_s, ==, 1200);
	CHECK_CMP(s.first.periods, ==, 3);
	CHECK_CMP(s.first.periods_total, ==, 60);
	CHECK_CMP(s.first.count, ==, 18446744073709ULL);
	CHECK_CMP(s.first.sum_us, ==, 0.1 + 0.2);
	CHECK_CMP(s.first.min_us, ==, 1e-300);
	CHECK_CMP(s.first.max_us, ==, INFINITY);
	CHECK_CMP(s.first.digest_len, ==, sizeof(digest_a));
	CHECK_CMP(memcmp(s.first_digest, digest_a, sizeof(digest_a)), ==, 0);

	/* Other group, other resolution: not returned. */
	CHECK_CMP(query(st, "web-1", "all", 60, 0, 10000, &s, NULL), ==, 0);
	CHECK_CMP(s.n, ==, 0);
	CHECK_CMP(query(st, "web-1", "raddr:10.0.0.2,rport:443", 3600, 0,
			10000, &s, NULL), ==, 0);
	CHECK_CMP(s.n, ==, 0);
	CHECK_CMP(store_ping(st, NULL), ==, 0);
	store_close(st);
}

static void test_upsert_is_idempotent(void)
{
	struct store *st = open_ok(url_for("upsert.db"));
	struct store_record r = rec("h", "all", 3600, 7200);
	struct seen_records s = { 0 };

	r.periods_total = 60;
	put_ok(st, &r, 1);
	put_ok(st, &r, 1);
	r.periods = 2;
	r.count = 5;
	r.max_us = 42;
	r.digest = digest_b;
	r.digest_len = sizeof(digest_b);
	put_ok(st, &r, 1);

	CHECK_CMP(query(st, "h", NULL, 3600, 7200, 7200, &s, NULL), ==, 0);
	CHECK_CMP(s.n, ==, 1);
	CHECK_CMP(s.first.periods, ==, 2);
	CHECK_CMP(s.first.count, ==, 5);
	CHECK_CMP(s.first.max_us, ==, 42);
	CHECK_CMP(s.first.digest_len, ==, sizeof(digest_b));
	CHECK_CMP(memcmp(s.first_digest, digest_b, sizeof(digest_b)), ==, 0);
	store_close(st);
}

static void test_all_hosts_in_order(void)
{
	struct store *st = open_ok(url_for("hosts.db"));
	struct store_record recs[] = {
		rec("c", "all", 60, 120), rec("a", "all", 60, 60),
		rec("b", "all", 60, 0),   rec("a", "all", 60, 0),
		rec("c", "all", 60, 0),   rec("b", "other", 60, 0),
	};
	struct seen_records s = { 0 };

	put_ok(st, recs, sizeof(recs) / sizeof(recs[0]));
	CHECK_CMP(query(st, NULL, "all", 60, 0, 120, &s, NULL), ==, 0);
	CHECK_CMP(s.n, ==, 5);
	CHECK_STR(s.key[0], "a/all@0");
	CHECK_STR(s.key[1], "a/all@60");
	CHECK_STR(s.key[2], "b/all@0");
	CHECK_STR(s.key[3], "c/all@0");
	CHECK_STR(s.key[4], "c/all@120");

	CHECK_CMP(query(st, "b", "all", 60, 0, 120, &s, NULL), ==, 0);
	CHECK_CMP(s.n, ==, 1);
	CHECK_STR(s.key[0], "b/all@0");

	/* A callback's non-zero return stops the query and comes back. */
	s.stop_after = 2;
	CHECK_CMP(query(st, NULL, "all", 60, 0, 120, &s, NULL), ==, 42);
	CHECK_CMP(s.n, ==, 2);
	s.stop_after = 0;
	CHECK_CMP(query(st, NULL, "all", 60, 0, 120, &s, NULL), ==, 0);
	CHECK_CMP(s.n, ==, 5);
	store_close(st);
}

static void test_range_is_inclusive(void)
{
	struct store *st = open_ok(url_for("range.db"));
	struct store_record recs[5];
	struct seen_records s = { 0 };

	for (int i = 0; i < 5; i++)
		recs[i] = rec("h", "all", 60, -120 + 60 * i);
	put_ok(st, recs, 5);

	CHECK_CMP(query(st, "h", "all", 60, -60, 60, &s, NULL), ==, 0);
	CHECK_CMP(s.n, ==, 3);
	CHECK_STR(s.key[0], "h/all@-60");
	CHECK_STR(s.key[2], "h/all@60");
	CHECK_CMP(query(st, "h", "all", 60, -59, 59, &s, NULL), ==, 0);
	CHECK_CMP(s.n, ==, 1);
	CHECK_STR(s.key[0], "h/all@0");
	CHECK_CMP(query(st, NULL, "all", 60, 120, 120, &s, NULL), ==, 0);
	CHECK_CMP(s.n, ==, 1);
	CHECK_CMP(query(st, "h", "all", 60, 60, -60, &s, NULL), ==, 0);
	CHECK_CMP(s.n, ==, 0);
	store_close(st);
}

struct series_seen {
	int n;
	char key[16][96];
	char periods[16][64]; /* "60,3600" */
};

static int collect_series(const char *host, const char *group,
			  const char *metric, uint32_t period_s, void *arg)
{
	struct series_seen *s = arg;
	char key[sizeof(s->key[0])];

	/* One entry per (host, group, metric), its resolutions in
	 * periods[]; rtt's key is "host/group" alone. */
	if (strcmp(metric, "rtt"))
		snprintf(key, sizeof(key), "%s/%s/%s", host, group, metric);
	else
		snprintf(key, sizeof(key), "%s/%s", host, group);
	if (s->n && s->n <= 16 && !strcmp(s->key[s->n - 1], key)) {
		strcat(s->periods[s->n - 1], ",");
	} else {
		if (s->n < 16)
			snprintf(s->key[s->n], sizeof(s->key[0]), "%s", key);
		s->n++;
	}
	if (s->n <= 16)
		snprintf(s->periods[s->n - 1] + strlen(s->periods[s->n - 1]),
			 sizeof(s->periods[0]) - strlen(s->periods[s->n - 1]),
			 "%u", period_s);
	return 0;
}

static void test_series(void)
{
	struct store *st = open_ok(url_for("series.db"));
	struct store_record recs[] = {
		rec("b", "all", 60, 60),      rec("b", "all", 60, 120),
		rec("a", "rport:443", 60, 60), rec("a", "all", 3600, 0),
		rec("a", "all", 60, 60),      rec("c", "all", 60, 6000),
	};
	struct series_seen s = { 0 };

	put_ok(st, recs, sizeof(recs) / sizeof(recs[0]));
	CHECK_CMP(store_series(st, NULL, NULL, 0, 120, collect_series, &s,
			       NULL), ==, 0);
	CHECK_CMP(s.n, ==, 3);
	CHECK_STR(s.key[0], "a/all");
	CHECK_STR(s.periods[0], "60,3600"); /* every resolution, smallest first */
	CHECK_STR(s.key[1], "a/rport:443");
	CHECK_STR(s.periods[1], "60");
	CHECK_STR(s.key[2], "b/all");

	/* A resolution without a record in range is still listed: the
	 * series has one. */
	memset(&s, 0, sizeof(s));
	CHECK_CMP(store_series(st, "a", NULL, 60, 6000, collect_series, &s,
			       NULL), ==, 0);
	CHECK_CMP(s.n, ==, 2);
	CHECK_STR(s.key[0], "a/all");
	CHECK_STR(s.periods[0], "60,3600");
	CHECK_STR(s.key[1], "a/rport:443");

	memset(&s, 0, sizeof(s));
	CHECK_CMP(store_series(st, NULL, "all", 0, 120, collect_series, &s,
			       NULL), ==, 0);
	CHECK_CMP(s.n, ==, 2);
	CHECK_STR(s.key[0], "a/all");
	CHECK_STR(s.key[1], "b/all");

	memset(&s, 0, sizeof(s));
	CHECK_CMP(store_series(st, NULL, NULL, 6000, 6000, collect_series, &s,
			       NULL), ==, 0);
	CHECK_CMP(s.n, ==, 1);
	CHECK_STR(s.key[0], "c/all");
	store_close(st);
}

static const char *series_list(struct store *st, const char *host,
			       int64_t from_s, int64_t to_s)
{
	static char buf[512];
	struct series_seen s = { 0 };
	size_t len = 0;

	CHECK_CMP(store_series(st, host, NULL, from_s, to_s, collect_series,
			       &s, NULL), ==, 0);
	buf[0] = '\0';
	for (int i = 0; i < s.n && i < 16; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
					i ? "," : "", s.key[i]);
	return buf;
}

/* The series listed in [@from, @to], as "host/group,...". */
#define expect_series(st, host, from, to, want)                            \
	CHECK_STR(series_list(st, host, from, to), want)

/* The registry keeps first/last starts per series; ranges that fall in a
 * gap between them must still list nothing, edges are inclusive, and a
 * later record before the first one widens the registry. */
static void test_series_registry(void)
{
	struct store *st = open_ok(url_for("registry.db"));
	struct store_record recs[] = {
		rec("h", "all", 60, 60),  rec("h", "all", 60, 6000),
		rec("h", "rport:443", 60, 120), rec("g", "all", 60, 3000),
	};

	put_ok(st, recs, 4);
	expect_series(st, NULL, 0, 10000, "g/all,h/all,h/rport:443");
	expect_series(st, NULL, 121, 2999, "");      /* inside h/all's gap */
	expect_series(st, NULL, 121, 3000, "g/all");
	expect_series(st, "h", 60, 60, "h/all");
	expect_series(st, "h", 6000, 9000, "h/all");
	expect_series(st, "h", 6001, 9000, "");
	expect_series(st, "h", 61, 5999, "h/rport:443");
	expect_series(st, "nobody", 0, 10000, "");

	/* Another resolution fills the gap; rewriting records never narrows. */
	recs[0] = rec("h", "all", 3600, 3600);
	put_ok(st, recs, 1);
	expect_series(st, NULL, 121, 2999, "");
	expect_series(st, NULL, 3001, 3600, "h/all");
	recs[0] = rec("h", "all", 60, -600);
	put_ok(st, recs, 2);
	expect_series(st, "h", -600, -600, "h/all");
	expect_series(st, "h", 6000, 6000, "h/all");
	expect_series(st, "h", -599, 59, "");
	store_close(st);
}

/* A version 1 file (records, records_by_start, no registry) opens as
 * version 2 with the registry built from its records. */
static void test_migration_from_v1(void)
{
	const char *url = url_for("v1.db");
	const char *path = url + strlen("sqlite:");
	struct store_record more[] = { rec("b", "all", 60, 9000) };
	struct store *st;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;

	exec_raw(path,
		 OLD_RECORDS_SQL
		 "CREATE INDEX records_by_start ON records (start_s);"
		 "INSERT INTO records VALUES"
		 " ('a', 'all', 60, 60, 1, 1, 5, 1.0, 1.0, 1.0, x'01'),"
		 " ('a', 'all', 60, 600, 1, 1, 5, 1.0, 1.0, 1.0, x'01'),"
		 " ('a', 'all', 3600, 0, 1, 60, 5, 1.0, 1.0, 1.0, x'01'),"
		 " ('a', 'raddr:10.0.0.1', 60, 120, 1, 1, 5, 1.0, 1.0, 1.0, x'01'),"
		 " ('b', 'all', 60, 6000, 1, 1, 5, 1.0, 1.0, 1.0, x'01');"
		 "PRAGMA user_version = 1;");

	st = open_ok(url);
	expect_series(st, NULL, 0, 10000, "a/all,a/raddr:10.0.0.1,b/all");
	expect_series(st, NULL, 61, 119, "");
	expect_series(st, NULL, 600, 6000, "a/all,b/all");
	expect_series(st, "a", 0, 0, "a/all");
	put_ok(st, more, 1);
	expect_series(st, NULL, 6001, 9000, "b/all");
	store_close(st);
	/* Opening again leaves a version 4 file alone. */
	st = open_ok(url);
	expect_series(st, "b", 0, 10000, "b/all");
	store_close(st);

	CHECK_CMP(sqlite3_open(path, &db), ==, SQLITE_OK);
	CHECK_CMP(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL),
		  ==, SQLITE_OK);
	CHECK_CMP(sqlite3_step(q), ==, SQLITE_ROW);
	CHECK_CMP(sqlite3_column_int(q, 0), ==, 4);
	sqlite3_finalize(q);
	CHECK_CMP(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master"
				     " WHERE name = 'records_by_start'", -1,
				     &q, NULL), ==, SQLITE_OK);
	CHECK_CMP(sqlite3_step(q), ==, SQLITE_ROW);
	CHECK_CMP(sqlite3_column_int(q, 0), ==, 0);
	sqlite3_finalize(q);
	CHECK_CMP(sqlite3_prepare_v2(db, "SELECT first_start_s, last_start_s "
				     "FROM series WHERE host = 'b' AND "
				     "grp = 'all' AND period_s = 60", -1, &q,
				     NULL), ==, SQLITE_OK);
	CHECK_CMP(sqlite3_step(q), ==, SQLITE_ROW);
	CHECK_CMP(sqlite3_column_int64(q, 0), ==, 6000);
	CHECK_CMP(sqlite3_column_int64(q, 1), ==, 9000);
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static void expect_open_fails(const char *url, int want)
{
	struct rttq_error err = { 0 };
	struct store *st = (struct store *)&err; /* must be reset to NULL */
	int ret = store_open(url, &st, &err);

	CHECK(ret == want && st == NULL && err.code == ret &&
	      strstr(err.msg, url),
	      "store_open(\"%s\") = %d (want %d): \"%s\"", url, ret, want,
	      err.msg);
}

static void test_bad_urls(void)
{
	char path[512];
	int fd;

	expect_open_fails("", -EINVAL);
	expect_open_fails("sqlite:", -EINVAL);
	expect_open_fails("nosuch:x", -EINVAL);
	expect_open_fails("/var/lib/rttq/rttq", -EINVAL);
	expect_open_fails("/proc/x/y.db", -ENOENT);
	expect_open_fails("sqlite:/proc/x/y.db", -ENOENT);

	/* A regular file where a directory should be. */
	snprintf(path, sizeof(path), "%s/plain", sqlite_test_dir());
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	CHECK_CMP(fd, >=, 0);
	close(fd);
	expect_open_fails(url_for("plain/x.db"), -ENOTDIR);

	/* root ignores directory permissions, so only a user can see EACCES. */
	if (geteuid() != 0) {
		struct rttq_error err = { 0 };
		struct store *st = NULL;
		char want[600];

		snprintf(path, sizeof(path), "%s/ro", sqlite_test_dir());
		CHECK_CMP(mkdir(path, 0500), ==, 0);
		CHECK_CMP(store_open(url_for("ro/sub/x.db"), &st, &err), ==,
			  -EACCES);
		snprintf(want, sizeof(want),
			 "cannot create directory %s/ro/sub: Permission denied",
			 sqlite_test_dir());
		CHECK_CONTAINS(err.msg, want);
		CHECK_CMP(store_open(url_for("ro/x.db"), &st, &err), ==,
			  -EACCES);
		CHECK_CONTAINS(err.msg, "for writing: Permission denied");
	}
	/* A directory where the file should be. */
	snprintf(path, sizeof(path), "%s/dir", sqlite_test_dir());
	CHECK_CMP(mkdir(path, 0755), ==, 0);
	expect_open_fails(url_for("dir"), -EISDIR);
}

static void test_open_variants(void)
{
	char bare[512];
	struct store *st;

	/* Missing parents are created. */
	st = open_ok(url_for("a/b/c/nested.db"));
	store_close(st);
	/* A bare path ending in .db means SQLite. */
	snprintf(bare, sizeof(bare), "%s/bare.db", sqlite_test_dir());
	st = open_ok(bare);
	CHECK_CMP(store_ping(st, NULL), ==, 0);
	store_close(st);
	st = open_ok("sqlite::memory:");
	CHECK_CMP(store_ping(st, NULL), ==, 0);
	store_close(st);
	store_close(NULL);
}

static void expect_put_fails(struct store *st, struct store_record r,
			     const char *needle)
{
	struct rttq_error err = { 0 };
	int ret = store_put(st, &r, 1, &err);

	CHECK(ret == -EINVAL && strstr(err.msg, needle) &&
	      strstr(err.msg, "sqlite:"),
	      "store_put: %d \"%s\", want -EINVAL and \"%s\"", ret, err.msg,
	      needle);
}

static void test_bad_records(void)
{
	struct store *st = open_ok(url_for("bad.db"));
	struct store_query q = { .host = "", .period_s = 60 };
	struct store_record r, batch[2];
	struct rttq_error err = { 0 };
	struct seen_records s = { 0 };
	char long_host[STORE_HOST_MAX + 1];

	r = rec("", "all", 60, 0);
	expect_put_fails(st, r, "empty host");
	r = rec("h", "", 60, 0);
	expect_put_fails(st, r, "empty group");
	r = rec(NULL, "all", 60, 0);
	expect_put_fails(st, r, "empty host");
	memset(long_host, 'x', sizeof(long_host) - 1);
	long_host[sizeof(long_host) - 1] = '\0';
	r = rec(long_host, "all", 60, 0);
	expect_put_fails(st, r, "host longer than");
	r = rec("h", "all", 0, 0);
	expect_put_fails(st, r, "period_s is 0");
	r = rec("h", "all", 60, 90);
	expect_put_fails(st, r, "start_s 90 is not a multiple of period_s 60");
	r = rec("h", "all", 60, -30);
	expect_put_fails(st, r, "not a multiple");
	r = rec("h", "all", 60, 0);
	r.periods = 2;
	expect_put_fails(st, r, "periods 2 out of");
	r = rec("h", "all", 60, 0);
	r.sum_us = NAN;
	expect_put_fails(st, r, "NaN");
	r = rec("h", "all", 60, 0);
	r.digest = NULL;
	expect_put_fails(st, r, "empty digest");

	/* One bad record in a batch: nothing is written. */
	batch[0] = rec("h", "all", 60, 0);
	batch[1] = rec("h", "all", 60, 1);
	CHECK_CMP(store_put(st, batch, 2, NULL), ==, -EINVAL);
	CHECK_CMP(query(st, NULL, "all", 60, -1000, 1000, &s, NULL), ==, 0);
	CHECK_CMP(s.n, ==, 0);

	CHECK_CMP(store_query(st, &q, collect, &s, &err), ==, -EINVAL);
	q.host = NULL;
	q.period_s = 0;
	CHECK_CMP(store_query(st, &q, collect, &s, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "period_s is 0");
	store_close(st);
}

static void test_metrics(void)
{
	struct store *st = open_ok(url_for("metrics.db"));

	metric_check_store(st);
	store_close(st);
}

int main(void)
{
	sqlite_test_start();
	test_round_trip();
	test_upsert_is_idempotent();
	test_all_hosts_in_order();
	test_range_is_inclusive();
	test_series();
	test_bad_urls();
	test_open_variants();
	test_bad_records();
	test_series_registry();
	test_migration_from_v1();
	test_metrics();
	return sqlite_test_finish();
}
