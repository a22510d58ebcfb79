// SPDX-License-Identifier: BSD-2-Clause
/*
 * SQLite store against real files in a fresh temporary directory, the
 * files themselves: a reader beside a writer (WAL), sibling handles on
 * one file (and none on an in-memory store), two first opens at once,
 * damaged files and rows, schema versions.  test-store-sqlite.c has the
 * records.
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
#include "sqlite-test.h"
#include "store.h"

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
	struct seen_records s = { 0 };
	unsigned char header[20] = { 0 };
	int fd;

	put_ok(writer, recs, 2);
	reader = open_ok(url);
	CHECK_CMP(query(reader, "w", "all", 60, 0, 1000, &s, NULL), ==, 0);
	CHECK_CMP(s.n, ==, 2);

	CHECK_CMP(store_query(reader, &q, write_while_reading, &w, NULL), ==,
		  0);
	CHECK_CMP(w.put_ret, ==, 0);
	CHECK_CMP(w.put_s, <, 1.0);
	/* The running statement kept its snapshot; a new one sees the write. */
	CHECK_CMP(w.n, ==, 2);
	CHECK_CMP(query(reader, "w", "all", 60, 0, 1000, &s, NULL), ==, 0);
	CHECK_CMP(s.n, ==, 3);

	/* Header bytes 18 and 19 are 2 when the file is in WAL mode. */
	fd = open(url + strlen("sqlite:"), O_RDONLY);
	CHECK_CMP(fd, >=, 0);
	CHECK_CMP(read(fd, header, sizeof(header)), ==, sizeof(header));
	close(fd);
	CHECK_CMP(header[18], ==, 2);
	CHECK_CMP(header[19], ==, 2);
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
	struct seen_records seen = { 0 };

	put_ok(st, &a, 1);
	CHECK_CMP(store_open_sibling(st, &sib, &err), ==, 0);
	CHECK(sib, "is NULL");
	if (!sib)
		return;
	CHECK_CMP(query(sib, "s", "all", 60, 0, 600, &seen, NULL), ==, 0);
	CHECK_CMP(seen.n, ==, 1);
	put_ok(sib, &b, 1);
	CHECK_CMP(query(st, "s", "all", 60, 0, 600, &seen, NULL), ==, 0);
	CHECK_CMP(seen.n, ==, 2);
	CHECK_CMP(query(sib, "", "all", 60, 0, 600, &seen, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, url);
	/* Closing the sibling leaves the first handle working. */
	store_close(sib);
	CHECK_CMP(query(st, "s", "all", 60, 0, 600, &seen, NULL), ==, 0);
	CHECK_CMP(seen.n, ==, 2);

	/* Kept siblings: opened once per index, closed with the store (a
	 * leak here fails the sanitizer build). */
	{
		struct store *k1 = NULL, *again = NULL, *k2 = NULL;

		CHECK_CMP(store_sibling(st, 1, &k1, &err), ==, 0);
		CHECK_CMP(store_sibling(st, 1, &again, &err), ==, 0);
		CHECK_CMP(store_sibling(st, 2, &k2, &err), ==, 0);
		CHECK(k1, "is NULL");
		CHECK(k1 == again, "a second sibling of index 1");
		CHECK(k2, "is NULL");
		CHECK(k2 != k1, "index 2 gave index 1's sibling");
		if (k1) {
			CHECK_CMP(query(k1, "s", "all", 60, 0, 600, &seen, NULL),
				  ==, 0);
			CHECK_CMP(seen.n, ==, 2);
		}
		CHECK_CMP(store_sibling(st, 0, &k1, &err), ==, -EINVAL);
		CHECK(!k1, "is not NULL");
		CHECK_CONTAINS(err.msg, "sibling 0");
		CHECK_CMP(store_sibling(st, STORE_SIBLINGS + 1, &k1, &err), ==,
			  -EINVAL);
	}
	store_close(st);

	/* A sibling never creates the file: it names the one @st opened. */
	url = url_for("gone.db");
	st = open_ok(url);
	CHECK_CMP(unlink(url + strlen("sqlite:")), ==, 0);
	CHECK_CMP(store_open_sibling(st, &sib, &err), <, 0);
	CHECK(!sib, "is not NULL");
	CHECK_CONTAINS(err.msg, url);
	CHECK_CMP(access(url + strlen("sqlite:"), F_OK), !=, 0);
	store_close(st);

	mem = open_ok("sqlite::memory:");
	sib = (struct store *)&seen; /* must be reset */
	CHECK_CMP(store_open_sibling(mem, &sib, &err), ==, -ENOTSUP);
	CHECK(!sib, "is not NULL");
	CHECK_CONTAINS(err.msg, "sqlite::memory:");
	CHECK_CONTAINS(err.msg, "in-memory");
	store_close(mem);
}

/* Processes racing to create, switch to WAL and write one fresh file: the
 * agent and the API starting together.  Each must succeed (busy waits, not
 * errors) and every record must land. */
static void test_concurrent_first_open(void)
{
	const char *url = url_for("race.db");
	enum { WRITERS = 8, RECORDS = 50 };
	struct seen_records s = { 0 };
	int ok = 0;

	for (int w = 0; w < WRITERS; w++) {
		pid_t pid = fork();

		CHECK_CMP(pid, >=, 0);
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
	CHECK_CMP(ok, ==, WRITERS);

	struct store *st = open_ok(url);

	for (int w = 0; w < WRITERS; w++) {
		char host[16];

		snprintf(host, sizeof(host), "w%d", w);
		CHECK_CMP(query(st, host, "all", 60, 0, 60 * RECORDS, &s, NULL),
			  ==, 0);
		CHECK_CMP(s.n, ==, RECORDS);
	}
	store_close(st);
}

static void overwrite(const char *path, off_t from, off_t len)
{
	unsigned char junk[4096];
	int fd = open(path, O_WRONLY);

	CHECK_CMP(fd, >=, 0);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 131 + 7);
	for (off_t off = from; off < from + len; off += sizeof(junk))
		CHECK_CMP(pwrite(fd, junk, sizeof(junk), off), ==,
			  sizeof(junk));
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
	CHECK_CMP(stat(path, &sb), ==, 0);
	return sb.st_size;
}

static void test_damaged_file(void)
{
	const char *url = url_for("damaged.db");
	const char *path = url + strlen("sqlite:");
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	struct seen_records s = { 0 };
	off_t size;
	int ret;

	/* Garbage over everything: refused at open. */
	size = fill_and_close(url, path);
	CHECK_CMP(size, >, 100000);
	overwrite(path, 0, size);
	ret = store_open(url, &st, &err);
	CHECK_CMP(ret, ==, -EIO);
	CHECK(!st, "is not NULL");
	CHECK_CONTAINS(err.msg, url);

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
	CHECK_CMP(ret, ==, -EIO);
	CHECK_CONTAINS(err.msg, url);
	CHECK_CONTAINS(err.msg, "damaged");
}

static void expect_damaged_row(const char *url, const char *sql,
			       const char *needle)
{
	struct store *st = open_ok(url);
	struct rttq_error err = { 0 };
	struct seen_records s = { 0 };
	int ret;

	exec_raw(url + strlen("sqlite:"), sql);
	ret = query(st, "h", "all", 60, 0, 1000, &s, &err);
	CHECK(ret == -EBADMSG && strstr(err.msg, "h/all start_s 120") &&
	      strstr(err.msg, needle), "%s: got %d \"%s\"", sql, ret, err.msg);
	store_close(st);
}

static void test_damaged_rows(void)
{
	const char *url = url_for("rows.db");
	const char *cols = "INSERT OR REPLACE INTO records VALUES ('h', 'all', 'rtt', 60, 120, ";
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
	exec_raw(url + strlen("sqlite:"), "PRAGMA user_version = 5");
	CHECK_CMP(store_open(url, &st, &err), ==, -ENOTSUP);
	CHECK_CONTAINS(err.msg, "schema version 5");

	url = url_for("foreign.db");
	exec_raw(url + strlen("sqlite:"), "CREATE TABLE mine (x)");
	CHECK_CMP(store_open(url, &st, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "not an rttq store");
	CHECK(!st, "is not NULL");
}

/* A schema-2 file as the code before metrics made it: records and the
 * registry without a metric column, user_version 2. */
static void make_schema2(const char *path)
{
	exec_raw(path,
		 OLD_RECORDS_SQL
		 "CREATE TABLE series ("
		 " host TEXT NOT NULL, grp TEXT NOT NULL, period_s INTEGER NOT NULL,"
		 " first_start_s INTEGER NOT NULL, last_start_s INTEGER NOT NULL,"
		 " PRIMARY KEY (host, grp, period_s)"
		 ") WITHOUT ROWID;"
		 "INSERT INTO records VALUES"
		 " ('a', 'all', 60, 60, 1, 1, 5, 1.0, 1.0, 1.0, x'01'),"
		 " ('a', 'all', 60, 120, 1, 1, 6, 1.0, 1.0, 1.0, x'02'),"
		 " ('b', 'all', 60, 60, 1, 1, 7, 1.0, 1.0, 1.0, x'03');"
		 "INSERT INTO series VALUES ('a', 'all', 60, 60, 120),"
		 " ('b', 'all', 60, 60, 60);"
		 "PRAGMA journal_mode = WAL;"
		 "PRAGMA user_version = 2;");
}

static int64_t user_version(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int64_t v = -1;

	if (sqlite3_open(path, &db) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) ==
		    SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return v;
}

static int count_series(const char *host, const char *group,
			const char *metric, uint32_t period_s, void *arg)
{
	CHECK_STR(metric, "rtt");
	(*(int *)arg)++;
	return 0;
}

/* The records of a schema-2 file, every one rtt: a, b with counts. */
static void expect_v2_records(struct store *st)
{
	struct store_query q = { .group = "all", .period_s = 60, .from_s = 0,
				 .to_s = 1000 };
	struct seen_records s = { 0 };
	struct rttq_error err = { 0 };
	int n = 0;

	CHECK_CMP(query(st, NULL, "all", 60, 0, 1000, &s, &err), ==, 0);
	CHECK_CMP(s.n, ==, 3);
	CHECK_STR(s.key[0], "a/all@60");
	CHECK_STR(s.key[2], "b/all@60");
	CHECK_STR(s.first_metric, "rtt");
	CHECK_CMP(s.first.count, ==, 5);
	/* Nothing of another metric. */
	q.metric = "jitter";
	s.n = 0;
	CHECK_CMP(store_query(st, &q, collect, &s, &err), ==, 0);
	CHECK_CMP(s.n, ==, 0);
	n = 0;
	CHECK_CMP(store_series(st, NULL, NULL, 0, 1000, count_series, &n,
			       &err), ==, 0);
	CHECK_CMP(n, ==, 2);
	/* Every host's fine records at once (a fleet query's edges): the
	 * statement filters by metric through the view too. */
	s.n = 0;
	CHECK_CMP(store_fine_records(st, "all", NULL, 0, 1000, collect, &s,
				     &err), ==, 0);
	CHECK_CMP(s.n, ==, 3);
	s.n = 0;
	CHECK_CMP(store_fine_records(st, "all", "jitter", 0, 1000, collect, &s,
				     &err), ==, 0);
	CHECK_CMP(s.n, ==, 0);
}

static void test_schema2(void)
{
	const char *url = url_for("v2.db");
	const char *path = url + strlen("sqlite:");
	struct store_record r = rec("c", "all", 60, 60);
	struct rttq_error err = { 0 };
	struct store *st = NULL, *sib = NULL;

	make_schema2(path);
	/* Read as it is: nothing changes in the file. */
	REQUIRE(store_open_read(url, &st, &err) == 0, "open_read: %s",
		err.msg);
	expect_v2_records(st);
	CHECK_CMP(store_put(st, &r, 1, &err), ==, -EROFS);
	CHECK_CONTAINS(err.msg, "schema version 2");
	REQUIRE(store_open_sibling(st, &sib, &err) == 0, "sibling: %s",
		err.msg);
	expect_v2_records(sib);
	store_close(sib);
	CHECK_CMP(user_version(path), ==, 2);

	/* The writer migrates it in place; the reader opened before follows
	 * (never other metrics as rtt), and so does a new one. */
	sib = open_ok(url);
	CHECK_CMP(user_version(path), ==, 4);
	expect_v2_records(sib);
	r.metric = "jitter";
	put_ok(sib, &r, 1);
	{
		struct store_query q = { .group = "all", .metric = "jitter",
					 .period_s = 60, .from_s = 0,
					 .to_s = 1000 };
		struct seen_records s = { 0 };

		CHECK_CMP(query(st, NULL, "all", 60, 0, 1000, &s, &err), ==, 0);
		CHECK_CMP(s.n, ==, 3);
		CHECK_STR(s.first_metric, "rtt");
		s.n = 0;
		CHECK_CMP(store_query(st, &q, collect, &s, &err), ==, 0);
		CHECK_CMP(s.n, ==, 1);
		/* Writable now that the file is of this build's schema. */
		r.host = "d";
		put_ok(st, &r, 1);
	}
	store_close(st);
	/* A new reader reads schema 3: the old records as rtt, the new one
	 * as jitter. */
	REQUIRE(store_open_read(url, &st, &err) == 0, "open_read: %s",
		err.msg);
	{
		struct store_query q = { .group = "all", .metric = "jitter",
					 .period_s = 60, .from_s = 0,
					 .to_s = 1000 };
		struct seen_records s = { 0 };

		CHECK_CMP(query(st, NULL, "all", 60, 0, 1000, &s, &err), ==, 0);
		CHECK_CMP(s.n, ==, 3);
		CHECK_CMP(s.first.count, ==, 5);
		s.n = 0;
		CHECK_CMP(store_query(st, &q, collect, &s, &err), ==, 0);
		CHECK_CMP(s.n, ==, 2);
		CHECK_STR(s.key[0], "c/all@60");
	}
	store_close(st);
	store_close(sib);
}

int main(void)
{
	sqlite_test_start();
	test_reader_beside_writer();
	test_siblings();
	test_concurrent_first_open();
	test_damaged_file();
	test_damaged_rows();
	test_schema_versions();
	test_schema2();
	return sqlite_test_finish();
}
