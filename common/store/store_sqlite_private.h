/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to the SQLite store backend (store_sqlite*.c): the handle with
 * its prepared statements, and what one file of the backend calls in
 * another.
 */
#ifndef RTTQ_STORE_SQLITE_PRIVATE_H
#define RTTQ_STORE_SQLITE_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store_backend.h"

#define BUSY_TIMEOUT_MS 5000 /* lock waits, set-up retries included */

/* A record's columns, in the order sqlite_record_row() reads them. */
#define RECORD_COLUMNS \
	"host, grp, period_s, start_s, periods, periods_total, count," \
	" sum_us, min_us, max_us, digest, metric"

/* The metric is parameter 12 of every statement bind_key() binds: after
 * the record's other columns, so their numbers stay RECORD_COLUMNS'. */
#define KEY_METRIC "?12"

/* The statements every connection prepares (store_sqlite_records.c). */
enum stmt_id {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_PUT,
	STMT_PUT_SERIES,
	STMT_GET_DIGEST,
	STMT_QUERY_HOST,
	STMT_QUERY_ALL,
	STMT_SERIES,
	STMT_PERIODS,
	STMT_PING,
	STMT_COUNT
};

struct sqlite_store {
	struct store base; /* first: store.c sees a struct store */
	char *path;        /* the file (or ":memory:"), for siblings */
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT_COUNT];
	_Atomic int64_t deadline_ms; /* store_set_deadline(); 0: none */
	int64_t busy_since_ms;       /* start of the current wait for a lock */
	bool legacy; /* a schema-2 file read as it is: no write statements */
};

static inline struct sqlite_store *to_sqlite(struct store *st)
{
	return (struct sqlite_store *)st;
}

/**
 * sqlite_db_errno() - the negative errno for an SQLite result code.
 * @db: the connection, for the system errno behind SQLITE_CANTOPEN; may
 * be NULL.
 * @rc: the SQLite result code (extended codes too).
 *
 * @return -ENOMEM, -EBUSY, -EACCES, -ENOSPC, the system errno for a file
 * that cannot be opened, else -EIO (a damaged file among them: the store
 * itself failed, no record of ours).
 */
int sqlite_db_errno(sqlite3 *db, int rc);

/**
 * sqlite_db_fail() - fail with "store URL: WHAT: sqlite message", plus the
 * system error or a hint for a damaged file where they help.
 * @url: the store URL.
 * @db: the connection; may be NULL (the message is then sqlite3_errstr()).
 * @rc: the SQLite result code.
 * @what: the step that failed ("cannot open database").
 * @err: receives the message; may be NULL.
 *
 * @return sqlite_db_errno(@db, @rc).
 */
int sqlite_db_fail(const char *url, sqlite3 *db, int rc, const char *what,
		   struct rttq_error *err);

/**
 * sqlite_setup_file() - make the file of a first handle an rttq store:
 * WAL, synchronous=NORMAL, schema created or migrated
 * (store_sqlite_schema.c).
 * @s: the handle, connected.
 * @url: the store URL, for messages.
 * @err: receives the message; may be NULL.
 *
 * @return 0; -EINVAL (not an rttq store), -ENOTSUP (a newer schema), -EIO
 * (no WAL), or sqlite_db_fail()'s code.
 */
int sqlite_setup_file(struct sqlite_store *s, const char *url,
		      struct rttq_error *err);

/**
 * sqlite_check_file() - for a reader (store_open_read()): check that the
 * file holds an rttq store of the schema this build reads, changing
 * nothing.
 * @s: the store, connected.
 * @url: the store URL, for messages.
 * @err: receives the message; may be NULL.
 *
 * A schema-2 file is read as it is (sqlite_read_legacy()).
 *
 * @return 0; -ENOENT (an empty file: not set up yet), -EINVAL (not an rttq
 * store), -ENOTSUP (a schema-1 file not migrated yet, or a newer one), or
 * sqlite_db_fail()'s code.
 */
int sqlite_check_file(struct sqlite_store *s, const char *url,
		      struct rttq_error *err);

/**
 * sqlite_follow_upgrade() - when @s reads a schema-2 file through
 * sqlite_read_legacy()'s views and a writer has since migrated the file,
 * drop the views and read the file as it is now (and allow writes), so a
 * long-lived reader (rttq-api) need not be restarted after the agent's
 * upgrade.  Called before each read; does nothing otherwise.
 *
 * @return 0, or sqlite_db_fail()'s code.
 */
int sqlite_follow_upgrade(struct sqlite_store *s, struct rttq_error *err);

/**
 * sqlite_read_legacy() - when the file is still schema 2, give this
 * connection temporary views with schema 3's columns (every row rtt) and
 * set @s->legacy, so it reads through the same statements and never
 * writes; a schema-3 file is left alone.
 * @s: the handle, connected, statements not prepared yet.
 * @url: the store URL, for messages.
 * @err: receives the message; may be NULL.
 *
 * @return 0, or sqlite_db_fail()'s code.
 */
int sqlite_read_legacy(struct sqlite_store *s, const char *url,
		       struct rttq_error *err);

/**
 * sqlite_prepare_statements() - prepare every statement of enum stmt_id
 * into @s->stmt (store_sqlite_records.c).
 * @s: the handle, connected to a set-up file.
 * @url: the store URL, for messages.
 * @err: receives the message; may be NULL.
 *
 * @return 0, or sqlite_db_fail()'s code.
 */
int sqlite_prepare_statements(struct sqlite_store *s, const char *url,
			      struct rttq_error *err);

/**
 * sqlite_each_row() - step @q to the end or until @row returns non-zero;
 * always resets @q and clears its bindings.
 * @s: the store.
 * @q: a bound statement.
 * @row: called per row; a non-zero return stops and is returned.
 * @ctx: passed to @row.
 * @what: the step, for the message when stepping fails.
 * @err: receives the message; may be NULL.
 *
 * @return 0, @row's value, or sqlite_db_fail()'s code.
 */
int sqlite_each_row(struct sqlite_store *s, sqlite3_stmt *q,
		    int (*row)(struct sqlite_store *s, sqlite3_stmt *q,
			       void *ctx, struct rttq_error *err),
		    void *ctx, const char *what, struct rttq_error *err);

/* What sqlite_record_row() calls. */
struct sqlite_record_cb {
	store_record_fn fn;
	void *arg;
};

/**
 * sqlite_record_row() - sqlite_each_row()'s @row for statements selecting
 * a record's columns (RECORD_COLUMNS, in that order): checks the row
 * and calls the struct sqlite_record_cb at @ctx.
 *
 * @return 0, the callback's value, -EBADMSG for a row with impossible
 * values.
 */
int sqlite_record_row(struct sqlite_store *s, sqlite3_stmt *q, void *ctx,
		      struct rttq_error *err);

/** sqlite_fine_records() - the ops table's fine_records
 * (store_sqlite_fine.c): one statement over the records table across
 * hosts. */
int sqlite_fine_records(struct store *st, const char *group,
			const char *metric, int64_t from_s, int64_t to_s,
			store_record_fn fn, void *arg, struct rttq_error *err);

/** sqlite_run() - step a statement that returns no rows, then reset it:
 * SQLITE_OK when it ran to the end, else SQLite's code. */
int sqlite_run(sqlite3_stmt *q);

/** sqlite_put_flows() - the ops table's put_flows (store_sqlite_flows.c):
 * one transaction. */
int sqlite_put_flows(struct store *st, const struct store_flow *flows,
		     size_t n, struct rttq_error *err);

/** sqlite_flows() - the ops table's flows (store_sqlite_flows.c): none
 * from a file without the flows table. */
int sqlite_flows(struct store *st, const char *host, int64_t from_ms,
		 int64_t to_ms, store_flow_fn fn, void *arg,
		 struct rttq_error *err);

/** sqlite_put() - the ops table's put: one transaction, registry too. */
int sqlite_put(struct store *st, const struct store_record *recs, size_t n,
	       struct rttq_error *err);

/** sqlite_put_if() - the ops table's put_if: read the stored digest,
 * compare and write in one transaction. */
int sqlite_put_if(struct store *st, const struct store_record *rec,
		  const uint8_t *expect, size_t expect_len,
		  struct rttq_error *err);

/** sqlite_query() - the ops table's query. */
int sqlite_query(struct store *st, const struct store_query *qr,
		 store_record_fn fn, void *arg, struct rttq_error *err);

/** sqlite_series() - the ops table's series, from the registry. */
int sqlite_series(struct store *st, const char *host, const char *group,
		  int64_t from_s, int64_t to_s, store_series_fn fn, void *arg,
		  struct rttq_error *err);

/** sqlite_periods() - the ops table's periods, from the registry. */
int sqlite_periods(struct store *st, const char *group, const char *metric,
		   uint32_t *periods, size_t max, size_t *n,
		   struct rttq_error *err);

/** sqlite_ping() - the ops table's ping: one read of the records table. */
int sqlite_ping(struct store *st, struct rttq_error *err);

#endif /* RTTQ_STORE_SQLITE_PRIVATE_H */
