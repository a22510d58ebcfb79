// SPDX-License-Identifier: BSD-2-Clause
/*
 * SQLite store against real files in a fresh temporary directory: round
 * trips, upserts, ordering and range bounds, URL and record validation,
 * a reader beside a writer (WAL), sibling handles on one file (and none
 * on an in-memory store), damaged files and rows, the series registry and
 * the migration of a version 1 file to it.
 */
#undef NDEBUG
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"

static int failures;

#define expect(cond)                                                       \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "%s:%d: %s: expected %s\n", __FILE__, \
				__LINE__, __func__, #cond);                \
			failures++;                                        \
		}                                                          \
	} while (0)

#define expect_int(got, want)                                              \
	do {                                                               \
		long long got_ = (got), want_ = (want);                    \
		if (got_ != want_) {                                       \
			fprintf(stderr, "%s:%d: %s: %s is %lld, expected %lld\n", \
				__FILE__, __LINE__, __func__, #got, got_,  \
				want_);                                    \
			failures++;                                        \
		}                                                          \
	} while (0)

static char tmpdir[64];

/* A fresh "sqlite:DIR/NAME" URL; returns a static buffer per slot. */
static const char *url_for(const char *name)
{
	static char bufs[4][512];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "sqlite:%s/%s", tmpdir, name);
	return b;
}

static struct store *open_ok(const char *url)
{
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	int ret = store_open(url, &st, &err);

	if (ret) {
		fprintf(stderr, "store_open(%s): %d %s\n", url, ret, err.msg);
		exit(1);
	}
	return st;
}

static const uint8_t digest_a[] = { 1, 2, 3, 4, 5 };
static const uint8_t digest_b[] = { 9, 8, 7 };

static struct store_record rec(const char *host, const char *group,
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

static void put_ok(struct store *st, const struct store_record *recs, size_t n)
{
	struct rttq_error err = { 0 };
	int ret = store_put(st, recs, n, &err);

	if (ret)
		fprintf(stderr, "store_put: %d %s\n", ret, err.msg);
	expect_int(ret, 0);
}

/* Collected copies of what a query returned. */
struct seen {
	int n;
	char key[32][96];  /* "host/group@start" */
	struct store_record first;
	uint8_t first_digest[16];
	int stop_after;    /* return 42 after this many; 0 never */
};

static int collect(const struct store_record *r, void *arg)
{
	struct seen *s = arg;

	if (s->n == 0) {
		s->first = *r;
		memcpy(s->first_digest, r->digest,
		       r->digest_len < 16 ? r->digest_len : 16);
		s->first.host = NULL;
		s->first.group = NULL;
		s->first.digest = NULL;
	}
	if (s->n < 32)
		snprintf(s->key[s->n], sizeof(s->key[0]), "%s/%s@%lld", r->host,
			 r->group, (long long)r->start_s);
	s->n++;
	return s->stop_after && s->n >= s->stop_after ? 42 : 0;
}

static int query(struct store *st, const char *host, const char *group,
		 uint32_t period_s, int64_t from_s, int64_t to_s,
		 struct seen *out, struct rttq_error *err)
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

static void test_round_trip(void)
{
	struct store *st = open_ok(url_for("round.db"));
	struct store_record r = rec("web-1", "raddr:10.0.0.2,rport:443", 60, 1200);
	struct seen s = { 0 };

	r.periods = 3;
	r.periods_total = 60;
	r.count = 18446744073709ULL;
	r.sum_us = 0.1 + 0.2;
	r.min_us = 1e-300;
	r.max_us = INFINITY;
	put_ok(st, &r, 1);

	expect_int(query(st, "web-1", "raddr:10.0.0.2,rport:443", 60, 0, 10000,
			 &s, NULL), 0);
	expect_int(s.n, 1);
	expect(strcmp(s.key[0], "web-1/raddr:10.0.0.2,rport:443@1200") == 0);
	expect_int(s.first.period_s, 60);
	expect_int(s.first.start_s, 1200);
	expect_int(s.first.periods, 3);
	expect_int(s.first.periods_total, 60);
	expect(s.first.count == 18446744073709ULL);
	expect(s.first.sum_us == 0.1 + 0.2);
	expect(s.first.min_us == 1e-300);
	expect(s.first.max_us == INFINITY);
	expect_int(s.first.digest_len, sizeof(digest_a));
	expect(memcmp(s.first_digest, digest_a, sizeof(digest_a)) == 0);

	/* Other group, other resolution: not returned. */
	expect_int(query(st, "web-1", "all", 60, 0, 10000, &s, NULL), 0);
	expect_int(s.n, 0);
	expect_int(query(st, "web-1", "raddr:10.0.0.2,rport:443", 3600, 0,
			 10000, &s, NULL), 0);
	expect_int(s.n, 0);
	expect_int(store_ping(st, NULL), 0);
	store_close(st);
}

static void test_upsert_is_idempotent(void)
{
	struct store *st = open_ok(url_for("upsert.db"));
	struct store_record r = rec("h", "all", 3600, 7200);
	struct seen s = { 0 };

	r.periods_total = 60;
	put_ok(st, &r, 1);
	put_ok(st, &r, 1);
	r.periods = 2;
	r.count = 5;
	r.max_us = 42;
	r.digest = digest_b;
	r.digest_len = sizeof(digest_b);
	put_ok(st, &r, 1);

	expect_int(query(st, "h", NULL, 3600, 7200, 7200, &s, NULL), 0);
	expect_int(s.n, 1);
	expect_int(s.first.periods, 2);
	expect_int(s.first.count, 5);
	expect(s.first.max_us == 42);
	expect_int(s.first.digest_len, sizeof(digest_b));
	expect(memcmp(s.first_digest, digest_b, sizeof(digest_b)) == 0);
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
	struct seen s = { 0 };

	put_ok(st, recs, sizeof(recs) / sizeof(recs[0]));
	expect_int(query(st, NULL, "all", 60, 0, 120, &s, NULL), 0);
	expect_int(s.n, 5);
	expect(strcmp(s.key[0], "a/all@0") == 0);
	expect(strcmp(s.key[1], "a/all@60") == 0);
	expect(strcmp(s.key[2], "b/all@0") == 0);
	expect(strcmp(s.key[3], "c/all@0") == 0);
	expect(strcmp(s.key[4], "c/all@120") == 0);

	expect_int(query(st, "b", "all", 60, 0, 120, &s, NULL), 0);
	expect_int(s.n, 1);
	expect(strcmp(s.key[0], "b/all@0") == 0);

	/* A callback's non-zero return stops the query and comes back. */
	s.stop_after = 2;
	expect_int(query(st, NULL, "all", 60, 0, 120, &s, NULL), 42);
	expect_int(s.n, 2);
	s.stop_after = 0;
	expect_int(query(st, NULL, "all", 60, 0, 120, &s, NULL), 0);
	expect_int(s.n, 5);
	store_close(st);
}

static void test_range_is_inclusive(void)
{
	struct store *st = open_ok(url_for("range.db"));
	struct store_record recs[5];
	struct seen s = { 0 };

	for (int i = 0; i < 5; i++)
		recs[i] = rec("h", "all", 60, -120 + 60 * i);
	put_ok(st, recs, 5);

	expect_int(query(st, "h", "all", 60, -60, 60, &s, NULL), 0);
	expect_int(s.n, 3);
	expect(strcmp(s.key[0], "h/all@-60") == 0);
	expect(strcmp(s.key[2], "h/all@60") == 0);
	expect_int(query(st, "h", "all", 60, -59, 59, &s, NULL), 0);
	expect_int(s.n, 1);
	expect(strcmp(s.key[0], "h/all@0") == 0);
	expect_int(query(st, NULL, "all", 60, 120, 120, &s, NULL), 0);
	expect_int(s.n, 1);
	expect_int(query(st, "h", "all", 60, 60, -60, &s, NULL), 0);
	expect_int(s.n, 0);
	store_close(st);
}

struct series_seen {
	int n;
	char key[16][96];
};

static int collect_series(const char *host, const char *group, void *arg)
{
	struct series_seen *s = arg;

	if (s->n < 16)
		snprintf(s->key[s->n], sizeof(s->key[0]), "%s/%s", host, group);
	s->n++;
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
	expect_int(store_series(st, NULL, 0, 120, collect_series, &s, NULL), 0);
	expect_int(s.n, 3);
	expect(strcmp(s.key[0], "a/all") == 0);
	expect(strcmp(s.key[1], "a/rport:443") == 0);
	expect(strcmp(s.key[2], "b/all") == 0);

	memset(&s, 0, sizeof(s));
	expect_int(store_series(st, "a", 60, 6000, collect_series, &s, NULL), 0);
	expect_int(s.n, 2);
	expect(strcmp(s.key[0], "a/all") == 0);
	expect(strcmp(s.key[1], "a/rport:443") == 0);

	memset(&s, 0, sizeof(s));
	expect_int(store_series(st, NULL, 6000, 6000, collect_series, &s, NULL),
		   0);
	expect_int(s.n, 1);
	expect(strcmp(s.key[0], "c/all") == 0);
	store_close(st);
}

static void exec_raw(const char *path, const char *sql);

/* "a/all,b/all" style list of what store_series() returned. */
static const char *series_list(struct store *st, const char *host,
			       int64_t from_s, int64_t to_s)
{
	static char buf[512];
	struct series_seen s = { 0 };
	size_t len = 0;

	expect_int(store_series(st, host, from_s, to_s, collect_series, &s,
				NULL), 0);
	buf[0] = '\0';
	for (int i = 0; i < s.n && i < 16; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
					i ? "," : "", s.key[i]);
	return buf;
}

#define expect_series(st, host, from, to, want)                            \
	do {                                                               \
		const char *got_ = series_list(st, host, from, to);        \
		if (strcmp(got_, want) != 0) {                             \
			fprintf(stderr, "%s:%d: series [%lld, %lld]: \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, (long long)(from),     \
				(long long)(to), got_, want);              \
			failures++;                                        \
		}                                                          \
	} while (0)

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
		 "CREATE TABLE records ("
		 " host TEXT NOT NULL, grp TEXT NOT NULL,"
		 " period_s INTEGER NOT NULL, start_s INTEGER NOT NULL,"
		 " periods INTEGER NOT NULL, periods_total INTEGER NOT NULL,"
		 " count INTEGER NOT NULL,"
		 " sum_us REAL NOT NULL, min_us REAL NOT NULL, max_us REAL NOT NULL,"
		 " digest BLOB NOT NULL,"
		 " PRIMARY KEY (host, grp, period_s, start_s)"
		 ") WITHOUT ROWID;"
		 "CREATE INDEX records_by_group ON records (period_s, grp, start_s);"
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
	/* Opening again leaves a version 2 file alone. */
	st = open_ok(url);
	expect_series(st, "b", 0, 10000, "b/all");
	store_close(st);

	expect_int(sqlite3_open(path, &db), SQLITE_OK);
	expect_int(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL),
		   SQLITE_OK);
	expect_int(sqlite3_step(q), SQLITE_ROW);
	expect_int(sqlite3_column_int(q, 0), 2);
	sqlite3_finalize(q);
	expect_int(sqlite3_prepare_v2(db,
				      "SELECT count(*) FROM sqlite_master"
				      " WHERE name = 'records_by_start'",
				      -1, &q, NULL),
		   SQLITE_OK);
	expect_int(sqlite3_step(q), SQLITE_ROW);
	expect_int(sqlite3_column_int(q, 0), 0);
	sqlite3_finalize(q);
	expect_int(sqlite3_prepare_v2(db,
				      "SELECT first_start_s, last_start_s FROM series"
				      " WHERE host = 'b' AND grp = 'all' AND period_s = 60",
				      -1, &q, NULL),
		   SQLITE_OK);
	expect_int(sqlite3_step(q), SQLITE_ROW);
	expect_int(sqlite3_column_int64(q, 0), 6000);
	expect_int(sqlite3_column_int64(q, 1), 9000);
	sqlite3_finalize(q);
	sqlite3_close(db);
}

static void expect_open_fails(const char *url, int want)
{
	struct rttq_error err = { 0 };
	struct store *st = (struct store *)&err; /* must be reset to NULL */
	int ret = store_open(url, &st, &err);

	if (ret != want || st != NULL || err.code != ret ||
	    !strstr(err.msg, url)) {
		fprintf(stderr, "store_open(\"%s\") = %d (want %d): \"%s\"\n",
			url, ret, want, err.msg);
		failures++;
	}
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
	snprintf(path, sizeof(path), "%s/plain", tmpdir);
	fd = open(path, O_CREAT | O_WRONLY, 0644);
	expect(fd >= 0);
	close(fd);
	expect_open_fails(url_for("plain/x.db"), -ENOTDIR);

	/* root ignores directory permissions, so only a user can see EACCES. */
	if (geteuid() != 0) {
		struct rttq_error err = { 0 };
		struct store *st = NULL;
		char want[600];

		snprintf(path, sizeof(path), "%s/ro", tmpdir);
		expect(mkdir(path, 0500) == 0);
		expect_int(store_open(url_for("ro/sub/x.db"), &st, &err),
			   -EACCES);
		snprintf(want, sizeof(want),
			 "cannot create directory %s/ro/sub: Permission denied",
			 tmpdir);
		expect(strstr(err.msg, want) != NULL);
		expect_int(store_open(url_for("ro/x.db"), &st, &err), -EACCES);
		expect(strstr(err.msg, "for writing: Permission denied") != NULL);
	}
	/* A directory where the file should be. */
	snprintf(path, sizeof(path), "%s/dir", tmpdir);
	expect(mkdir(path, 0755) == 0);
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
	snprintf(bare, sizeof(bare), "%s/bare.db", tmpdir);
	st = open_ok(bare);
	expect_int(store_ping(st, NULL), 0);
	store_close(st);
	st = open_ok("sqlite::memory:");
	expect_int(store_ping(st, NULL), 0);
	store_close(st);
	store_close(NULL);
}

static void expect_put_fails(struct store *st, struct store_record r,
			     const char *needle)
{
	struct rttq_error err = { 0 };
	int ret = store_put(st, &r, 1, &err);

	if (ret != -EINVAL || !strstr(err.msg, needle) ||
	    !strstr(err.msg, "sqlite:")) {
		fprintf(stderr, "store_put: %d \"%s\", want -EINVAL and \"%s\"\n",
			ret, err.msg, needle);
		failures++;
	}
}

static void test_bad_records(void)
{
	struct store *st = open_ok(url_for("bad.db"));
	struct store_query q = { .host = "", .period_s = 60 };
	struct store_record r, batch[2];
	struct rttq_error err = { 0 };
	struct seen s = { 0 };
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
	expect_int(store_put(st, batch, 2, NULL), -EINVAL);
	expect_int(query(st, NULL, "all", 60, -1000, 1000, &s, NULL), 0);
	expect_int(s.n, 0);

	expect_int(store_query(st, &q, collect, &s, &err), -EINVAL);
	q.host = NULL;
	q.period_s = 0;
	expect_int(store_query(st, &q, collect, &s, &err), -EINVAL);
	expect(strstr(err.msg, "period_s is 0") != NULL);
	store_close(st);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct writer_during_read {
	struct store *writer;
	int n;
	int put_ret;
	double put_s;
};

/* The reader is mid-statement here; in WAL the writer must not wait. */
static int write_while_reading(const struct store_record *r, void *arg)
{
	struct writer_during_read *w = arg;

	if (w->n++ == 0) {
		struct store_record next = rec("w", "all", 60, 600);
		double t0 = now_s();

		w->put_ret = store_put(w->writer, &next, 1, NULL);
		w->put_s = now_s() - t0;
	}
	return 0;
}

static void test_reader_beside_writer(void)
{
	const char *url = url_for("wal.db");
	struct store *writer = open_ok(url);
	struct store_record recs[] = { rec("w", "all", 60, 0),
				       rec("w", "all", 60, 60) };
	struct writer_during_read w = { .writer = writer, .put_ret = -1 };
	struct store_query q = { .host = "w", .period_s = 60, .to_s = 1000 };
	struct store *reader;
	struct seen s = { 0 };
	unsigned char header[20] = { 0 };
	int fd;

	put_ok(writer, recs, 2);
	reader = open_ok(url);
	expect_int(query(reader, "w", "all", 60, 0, 1000, &s, NULL), 0);
	expect_int(s.n, 2);

	expect_int(store_query(reader, &q, write_while_reading, &w, NULL), 0);
	expect_int(w.put_ret, 0);
	expect(w.put_s < 1.0);
	/* The running statement kept its snapshot; a new one sees the write. */
	expect_int(w.n, 2);
	expect_int(query(reader, "w", "all", 60, 0, 1000, &s, NULL), 0);
	expect_int(s.n, 3);

	/* Header bytes 18 and 19 are 2 when the file is in WAL mode. */
	fd = open(url + strlen("sqlite:"), O_RDONLY);
	expect(fd >= 0);
	expect_int(read(fd, header, sizeof(header)), sizeof(header));
	close(fd);
	expect_int(header[18], 2);
	expect_int(header[19], 2);
	store_close(reader);
	store_close(writer);
}

/* A sibling is another connection to the same file: each sees what the
 * other wrote, and its messages name the same URL.  An in-memory store
 * has none (a second connection would be another, empty database). */
static void test_siblings(void)
{
	const char *url = url_for("sibling.db");
	struct store *st = open_ok(url), *sib = NULL, *mem;
	struct store_record a = rec("s", "all", 60, 0);
	struct store_record b = rec("s", "all", 60, 60);
	struct rttq_error err = { 0 };
	struct seen seen = { 0 };

	put_ok(st, &a, 1);
	expect_int(store_open_sibling(st, &sib, &err), 0);
	expect(sib != NULL);
	if (!sib)
		return;
	expect_int(query(sib, "s", "all", 60, 0, 600, &seen, NULL), 0);
	expect_int(seen.n, 1);
	put_ok(sib, &b, 1);
	expect_int(query(st, "s", "all", 60, 0, 600, &seen, NULL), 0);
	expect_int(seen.n, 2);
	expect_int(query(sib, "", "all", 60, 0, 600, &seen, &err), -EINVAL);
	expect(strstr(err.msg, url) != NULL);
	/* Closing the sibling leaves the first handle working. */
	store_close(sib);
	expect_int(query(st, "s", "all", 60, 0, 600, &seen, NULL), 0);
	expect_int(seen.n, 2);

	/* Kept siblings: opened once per index, closed with the store (a
	 * leak here fails the sanitizer build). */
	{
		struct store *k1 = NULL, *again = NULL, *k2 = NULL;

		expect_int(store_sibling(st, 1, &k1, &err), 0);
		expect_int(store_sibling(st, 1, &again, &err), 0);
		expect_int(store_sibling(st, 2, &k2, &err), 0);
		expect(k1 != NULL && k1 == again && k2 != NULL && k2 != k1);
		if (k1) {
			expect_int(query(k1, "s", "all", 60, 0, 600, &seen,
					 NULL), 0);
			expect_int(seen.n, 2);
		}
		expect_int(store_sibling(st, 0, &k1, &err), -EINVAL);
		expect(k1 == NULL && strstr(err.msg, "sibling 0"));
		expect_int(store_sibling(st, STORE_SIBLINGS + 1, &k1, &err),
			   -EINVAL);
	}
	store_close(st);

	/* A sibling never creates the file: it names the one @st opened. */
	url = url_for("gone.db");
	st = open_ok(url);
	expect(unlink(url + strlen("sqlite:")) == 0);
	expect(store_open_sibling(st, &sib, &err) < 0 && sib == NULL);
	expect(strstr(err.msg, url) != NULL);
	expect(access(url + strlen("sqlite:"), F_OK) != 0);
	store_close(st);

	mem = open_ok("sqlite::memory:");
	sib = (struct store *)&seen; /* must be reset */
	expect_int(store_open_sibling(mem, &sib, &err), -ENOTSUP);
	expect(sib == NULL);
	expect(strstr(err.msg, "sqlite::memory:") &&
	       strstr(err.msg, "in-memory"));
	store_close(mem);
}

/* Processes racing to create, switch to WAL and write one fresh file: the
 * agent and the API starting together.  Each must succeed (busy waits, not
 * errors) and every record must land. */
static void test_concurrent_first_open(void)
{
	const char *url = url_for("race.db");
	enum { WRITERS = 8, RECORDS = 50 };
	struct seen s = { 0 };
	int ok = 0;

	for (int w = 0; w < WRITERS; w++) {
		pid_t pid = fork();

		expect(pid >= 0);
		if (pid == 0) {
			struct store_record recs[RECORDS];
			struct rttq_error err = { 0 };
			struct store *st = NULL;
			char host[16];
			int ret;

			snprintf(host, sizeof(host), "w%d", w);
			for (int i = 0; i < RECORDS; i++)
				recs[i] = rec(host, "all", 60, 60 * i);
			ret = store_open(url, &st, &err);
			for (int i = 0; !ret && i < RECORDS; i++)
				ret = store_put(st, &recs[i], 1, &err);
			if (ret)
				fprintf(stderr, "writer %d: %d %s\n", w, ret,
					err.msg);
			store_close(st);
			_exit(ret ? 1 : 0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int status = 0;

		if (wait(&status) > 0 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			ok++;
	}
	expect_int(ok, WRITERS);

	struct store *st = open_ok(url);

	for (int w = 0; w < WRITERS; w++) {
		char host[16];

		snprintf(host, sizeof(host), "w%d", w);
		expect_int(query(st, host, "all", 60, 0, 60 * RECORDS, &s, NULL),
			   0);
		expect_int(s.n, RECORDS);
	}
	store_close(st);
}

static void overwrite(const char *path, off_t from, off_t len)
{
	unsigned char junk[4096];
	int fd = open(path, O_WRONLY);

	expect(fd >= 0);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 131 + 7);
	for (off_t off = from; off < from + len; off += sizeof(junk))
		expect(pwrite(fd, junk, sizeof(junk), off) == sizeof(junk));
	close(fd);
}

static off_t fill_and_close(const char *url, const char *path)
{
	struct store *st = open_ok(url);
	struct store_record recs[500];
	uint8_t digest[300];
	struct stat sb;

	memset(digest, 0xab, sizeof(digest));
	for (int i = 0; i < 500; i++) {
		recs[i] = rec(i % 2 ? "x" : "y", "all", 60, 60 * i);
		recs[i].digest = digest;
		recs[i].digest_len = sizeof(digest);
	}
	put_ok(st, recs, 500);
	store_close(st); /* checkpoints the WAL into the main file */
	expect(stat(path, &sb) == 0);
	return sb.st_size;
}

static void test_damaged_file(void)
{
	const char *url = url_for("damaged.db");
	const char *path = url + strlen("sqlite:");
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	struct seen s = { 0 };
	off_t size;
	int ret;

	/* Garbage over everything: refused at open. */
	size = fill_and_close(url, path);
	expect(size > 100000);
	overwrite(path, 0, size);
	ret = store_open(url, &st, &err);
	expect_int(ret, -EIO);
	expect(st == NULL);
	expect(strstr(err.msg, url) != NULL);

	/* Garbage after the schema page: open or read fails, cleanly. */
	url = url_for("damaged2.db");
	path = url + strlen("sqlite:");
	size = fill_and_close(url, path);
	overwrite(path, 8192, size - 8192);
	ret = store_open(url, &st, &err);
	if (ret == 0) {
		ret = query(st, NULL, "all", 60, 0, 60 * 500, &s, &err);
		store_close(st);
	}
	expect_int(ret, -EIO);
	expect(strstr(err.msg, url) != NULL);
	expect(strstr(err.msg, "damaged") != NULL);
}

static void exec_raw(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *msg = NULL;

	expect_int(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, msg);
		failures++;
	}
	sqlite3_free(msg);
	sqlite3_close(db);
}

static void expect_damaged_row(const char *url, const char *sql,
			       const char *needle)
{
	struct store *st = open_ok(url);
	struct rttq_error err = { 0 };
	struct seen s = { 0 };
	int ret;

	exec_raw(url + strlen("sqlite:"), sql);
	ret = query(st, "h", "all", 60, 0, 1000, &s, &err);
	if (ret != -EBADMSG || !strstr(err.msg, "h/all start_s 120") ||
	    !strstr(err.msg, needle)) {
		fprintf(stderr, "%s: got %d \"%s\"\n", sql, ret, err.msg);
		failures++;
	}
	store_close(st);
}

static void test_damaged_rows(void)
{
	const char *url = url_for("rows.db");
	const char *cols = "INSERT OR REPLACE INTO records VALUES ('h', 'all', 60, 120, ";
	char sql[256];

	store_close(open_ok(url));

	snprintf(sql, sizeof(sql), "%s1, 1, -5, 1.0, 1.0, 1.0, x'01')", cols);
	expect_damaged_row(url, sql, "count");
	snprintf(sql, sizeof(sql), "%s1, 1, 5, 1.0, 1.0, 1.0, 'text')", cols);
	expect_damaged_row(url, sql, "digest");
	snprintf(sql, sizeof(sql), "%s1, 1, 5, 1.0, 1.0, 1.0, x'')", cols);
	expect_damaged_row(url, sql, "digest");
	snprintf(sql, sizeof(sql), "%s3, 2, 5, 1.0, 1.0, 1.0, x'01')", cols);
	expect_damaged_row(url, sql, "periods");
	snprintf(sql, sizeof(sql), "%s1, 1, 5, 'abc', 1.0, 1.0, x'01')", cols);
	expect_damaged_row(url, sql, "sum_us");
	snprintf(sql, sizeof(sql), "%s1, 1, 2.5, 1.0, 1.0, 1.0, x'01')", cols);
	expect_damaged_row(url, sql, "count");
}

static void test_schema_versions(void)
{
	const char *url = url_for("future.db");
	struct rttq_error err = { 0 };
	struct store *st = NULL;

	store_close(open_ok(url));
	exec_raw(url + strlen("sqlite:"), "PRAGMA user_version = 3");
	expect_int(store_open(url, &st, &err), -ENOTSUP);
	expect(strstr(err.msg, "schema version 3") != NULL);

	url = url_for("foreign.db");
	exec_raw(url + strlen("sqlite:"), "CREATE TABLE mine (x)");
	expect_int(store_open(url, &st, &err), -EINVAL);
	expect(strstr(err.msg, "not an rttq store") != NULL);
	expect(st == NULL);
}

static int remove_entry(const char *path, const struct stat *sb, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/rttq-store-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}

	test_round_trip();
	test_upsert_is_idempotent();
	test_all_hosts_in_order();
	test_range_is_inclusive();
	test_series();
	test_bad_urls();
	test_open_variants();
	test_bad_records();
	test_reader_beside_writer();
	test_siblings();
	test_concurrent_first_open();
	test_damaged_file();
	test_damaged_rows();
	test_schema_versions();
	test_series_registry();
	test_migration_from_v1();

	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
