/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the SQLite store tests (test-store-sqlite.c, test-store-files.c)
 * share: a fresh temporary directory per run, URLs and records in it,
 * queries collected into copies, raw SQL on a store's file.
 */
#ifndef RTTQ_TESTS_SQLITE_TEST_H
#define RTTQ_TESTS_SQLITE_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Collected copies of what a query returned. */
struct seen_records {
	int n;
	char key[32][96];  /* "host/group@start" */
	struct store_record first;
	uint8_t first_digest[16];
	char first_metric[64];
	int stop_after;    /* return 42 after this many; 0 never */
};

/* The records table and index of schema versions 1 and 2 (before the
 * metric column), for files made the way older code made them. */
#define OLD_RECORDS_SQL \
	"CREATE TABLE records (" \
	" host TEXT NOT NULL, grp TEXT NOT NULL," \
	" period_s INTEGER NOT NULL, start_s INTEGER NOT NULL," \
	" periods INTEGER NOT NULL, periods_total INTEGER NOT NULL," \
	" count INTEGER NOT NULL," \
	" sum_us REAL NOT NULL, min_us REAL NOT NULL, max_us REAL NOT NULL," \
	" digest BLOB NOT NULL," \
	" PRIMARY KEY (host, grp, period_s, start_s)" \
	") WITHOUT ROWID;" \
	"CREATE INDEX records_by_group ON records (period_s, grp, start_s);"

/** sqlite_test_start() - make the run's temporary directory. */
void sqlite_test_start(void);

/** sqlite_test_dir() - the run's temporary directory. */
const char *sqlite_test_dir(void);

/**
 * sqlite_test_finish() - remove the directory and report.
 *
 * @return main()'s exit status (check_report()).
 */
int sqlite_test_finish(void);

/** url_for() - "sqlite:DIR/@name" in one of four buffers used in turn. */
const char *url_for(const char *name);

/** open_ok() - store_open(@url), or end the test saying why. */
struct store *open_ok(const char *url);

/* Two digests the records point to. */
extern const uint8_t digest_a[5];
extern const uint8_t digest_b[3];

/** rec() - a record of @host/@group at @start_s with digest_a. */
struct store_record rec(const char *host, const char *group,
			uint32_t period_s, int64_t start_s);

/** put_ok() - store_put() that must succeed (a failed check if not). */
void put_ok(struct store *st, const struct store_record *recs, size_t n);

/** collect() - store_record_fn filling a struct seen_records (@arg).
 * @return 42 once stop_after records came, else 0. */
int collect(const struct store_record *r, void *arg);

/**
 * query() - store_query() into @out (emptied first; its stop_after kept).
 * @return what store_query() returns.
 */
int query(struct store *st, const char *host, const char *group,
	  uint32_t period_s, int64_t from_s, int64_t to_s,
	  struct seen_records *out, struct rttq_error *err);

/** exec_raw() - run @sql on the SQLite file @path behind the store's
 * back (a failed check if it fails). */
void exec_raw(const char *path, const char *sql);

#endif /* RTTQ_TESTS_SQLITE_TEST_H */
