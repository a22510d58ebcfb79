// SPDX-License-Identifier: BSD-2-Clause
/*
 * SQLite store backend (`sqlite:PATH`): the embedded default, for a single
 * machine where rttq-agent writes and rttq-api / `rttq query` read the same
 * file at the same time.
 *
 * File settings
 * -------------
 * journal_mode=WAL (persistent, in the file): readers never block the
 * writer and see every committed transaction; synchronous=NORMAL (a power
 * loss may drop the last commits, never corrupts); a 5 s wait for locks on
 * every connection.  WAL needs the -wal and -shm files beside the database,
 * so every user of the store needs write access to its directory.
 *
 * Schema, version 2 (PRAGMA user_version = 2)
 * -------------------------------------------
 *
 *   CREATE TABLE records (
 *       host          TEXT    NOT NULL,  -- agent's --host
 *       grp           TEXT    NOT NULL,  -- "all", "raddr:10.0.0.2", ...
 *       period_s      INTEGER NOT NULL,  -- resolution: 60, 3600, 86400
 *       start_s       INTEGER NOT NULL,  -- UTC epoch s, multiple of period_s
 *       periods       INTEGER NOT NULL,  -- base periods merged in
 *       periods_total INTEGER NOT NULL,  -- base periods the record spans
 *       count         INTEGER NOT NULL,  -- RTT samples, >= 0
 *       sum_us        REAL    NOT NULL,
 *       min_us        REAL    NOT NULL,
 *       max_us        REAL    NOT NULL,
 *       digest        BLOB    NOT NULL,  -- codec_encode() bytes
 *       PRIMARY KEY (host, grp, period_s, start_s)
 *   ) WITHOUT ROWID;
 *   CREATE INDEX records_by_group ON records (period_s, grp, start_s);
 *   CREATE TABLE series (                -- registry: one row per series
 *       host          TEXT    NOT NULL,  -- and resolution, with the
 *       grp           TEXT    NOT NULL,  -- first and last record start
 *       period_s      INTEGER NOT NULL,
 *       first_start_s INTEGER NOT NULL,
 *       last_start_s  INTEGER NOT NULL,
 *       PRIMARY KEY (host, grp, period_s)
 *   ) WITHOUT ROWID;
 *
 * store_put upserts the registry row of every record it writes in the same
 * transaction, only widening [first_start_s, last_start_s], so the two
 * tables always agree (records are never deleted through the store).
 *
 * Which access path serves which call:
 *   store_query, one host  -> primary key: host, grp, period_s equal, start_s
 *                             range, rows already in start order.
 *   store_query, all hosts -> records_by_group: range scan on start_s, then
 *                             a sort by host of just the rows returned.
 *   store_series           -> the series table (a few rows per series, not
 *                             one per record): a series is listed when its
 *                             first or last start lies in the range, or,
 *                             when the range lies strictly inside them, when
 *                             one primary-key probe finds a record in it
 *                             (a gap in the data can span the range).
 *   store_open_sibling     -> another connection to the same file, without
 *                             the set-up (WAL and schema live in the file);
 *                             none for ":memory:".
 * Hosts and groups compare bytewise (BINARY collation).
 *
 * Version 1 (no series table; a records_by_start index served
 * store_series by scanning every record in the range) is migrated on open:
 * the registry is built from the records and the index dropped, in one
 * transaction.
 *
 * A version 0 file with no tables is initialised; a file with a newer
 * version, or with foreign tables and no version, is refused.  Rows are
 * checked when read (types, ranges, non-empty digest) so a hand-edited or
 * damaged file yields an error naming the record instead of bad numbers;
 * the digest bytes themselves are checked by codec_decode().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "monoclock.h"
#include "store_backend.h"

#define SCHEMA_VERSION 2
#define BUSY_TIMEOUT_MS 5000

#define SERIES_TABLE_SQL \
	"CREATE TABLE series (" \
	" host TEXT NOT NULL, grp TEXT NOT NULL, period_s INTEGER NOT NULL," \
	" first_start_s INTEGER NOT NULL, last_start_s INTEGER NOT NULL," \
	" PRIMARY KEY (host, grp, period_s)" \
	") WITHOUT ROWID;"

static const char schema_sql[] =
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
	SERIES_TABLE_SQL
	"PRAGMA user_version = 2;";

/* Version 1 -> 2: build the registry from the records (one pass over the
 * primary key, already in (host, grp, period_s) order). */
static const char migrate_v1_sql[] =
	SERIES_TABLE_SQL
	"INSERT INTO series (host, grp, period_s, first_start_s, last_start_s)"
	" SELECT host, grp, period_s, min(start_s), max(start_s)"
	" FROM records GROUP BY host, grp, period_s;"
	"DROP INDEX IF EXISTS records_by_start;"
	"PRAGMA user_version = 2;";

#define RECORD_COLUMNS \
	"host, grp, period_s, start_s, periods, periods_total, count," \
	" sum_us, min_us, max_us, digest"

/* Registry row s has a record starting in [?2, ?3]. */
#define SERIES_IN_RANGE \
	"first_start_s <= ?3 AND last_start_s >= ?2" \
	" AND (first_start_s >= ?2 OR last_start_s <= ?3" \
	" OR EXISTS (SELECT 1 FROM records r WHERE r.host = s.host" \
	" AND r.grp = s.grp AND r.period_s = s.period_s" \
	" AND r.start_s BETWEEN ?2 AND ?3))"

enum stmt_id {
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_PUT,
	STMT_PUT_SERIES,
	STMT_QUERY_HOST,
	STMT_QUERY_ALL,
	STMT_SERIES_HOST,
	STMT_SERIES_ALL,
	STMT_PING,
	STMT_COUNT
};

static const char *const stmt_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_PUT] =
		"INSERT INTO records (" RECORD_COLUMNS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
		" ON CONFLICT (host, grp, period_s, start_s) DO UPDATE SET"
		" periods = excluded.periods,"
		" periods_total = excluded.periods_total,"
		" count = excluded.count, sum_us = excluded.sum_us,"
		" min_us = excluded.min_us, max_us = excluded.max_us,"
		" digest = excluded.digest",
	[STMT_QUERY_HOST] =
		"SELECT " RECORD_COLUMNS " FROM records"
		" WHERE host = ?1 AND grp = ?2 AND period_s = ?3"
		" AND start_s BETWEEN ?4 AND ?5 ORDER BY start_s",
	[STMT_QUERY_ALL] =
		"SELECT " RECORD_COLUMNS " FROM records"
		" WHERE grp = ?2 AND period_s = ?3"
		" AND start_s BETWEEN ?4 AND ?5 ORDER BY host, start_s",
	/* Only a widening updates the row: most puts leave it alone. */
	[STMT_PUT_SERIES] =
		"INSERT INTO series (host, grp, period_s, first_start_s,"
		" last_start_s) VALUES (?1, ?2, ?3, ?4, ?4)"
		" ON CONFLICT (host, grp, period_s) DO UPDATE SET"
		" first_start_s = min(first_start_s, excluded.first_start_s),"
		" last_start_s = max(last_start_s, excluded.last_start_s)"
		" WHERE excluded.first_start_s < first_start_s"
		" OR excluded.last_start_s > last_start_s",
	[STMT_SERIES_HOST] =
		"SELECT DISTINCT host, grp FROM series s"
		" WHERE host = ?1 AND " SERIES_IN_RANGE " ORDER BY host, grp",
	[STMT_SERIES_ALL] =
		"SELECT DISTINCT host, grp FROM series s"
		" WHERE " SERIES_IN_RANGE " ORDER BY host, grp",
	[STMT_PING] = "SELECT 1 FROM records LIMIT 1",
};

struct sqlite_store {
	struct store base; /* first: store.c sees a struct store */
	char *path;        /* the file (or ":memory:"), for siblings */
	sqlite3 *db;
	sqlite3_stmt *stmt[STMT_COUNT];
	_Atomic int64_t deadline_ms; /* store_set_deadline(); 0: none */
	int64_t busy_since_ms;       /* start of the current wait for a lock */
};

static struct sqlite_store *to_sqlite(struct store *st)
{
	return (struct sqlite_store *)st;
}

/* ---------------------------------------------------------------------------
 * Errors: SQLite result codes to negative errno, messages naming the file
 * ------------------------------------------------------------------------- */

static int errno_from_sqlite(sqlite3 *db, int rc)
{
	int sys = db ? sqlite3_system_errno(db) : 0;

	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_PERM:
	case SQLITE_READONLY:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_CANTOPEN:
		return sys > 0 ? -sys : -EIO;
	default:
		return -EIO;
	}
}

/* "store URL: WHAT: sqlite message (system error)" */
static int db_fail(const char *url, sqlite3 *db, int rc, const char *what,
		   struct rttq_error *err)
{
	int code = errno_from_sqlite(db, rc);
	int sys = db ? sqlite3_system_errno(db) : 0;
	const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);

	if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
		return rttq_fail(err, code,
				 "store %s: %s: %s (the file is damaged or not an rttq store; move it aside)",
				 url, what, msg);
	if (sys > 0 && ((rc & 0xff) == SQLITE_CANTOPEN ||
			(rc & 0xff) == SQLITE_IOERR))
		return rttq_fail(err, code, "store %s: %s: %s (%s)", url, what,
				 msg, strerror(sys));
	return rttq_fail(err, code, "store %s: %s: %s", url, what, msg);
}

static int stmt_fail(struct sqlite_store *s, int rc, const char *what,
		     struct rttq_error *err)
{
	return db_fail(s->base.url, s->db, rc, what, err);
}

/* ---------------------------------------------------------------------------
 * Opening: directory, connection settings, schema, statements
 * ------------------------------------------------------------------------- */

/* mkdir -p of everything before the last '/' of @path. */
static int make_parent_dirs(const char *url, const char *path,
			    struct rttq_error *err)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	size_t len;

	if (!slash || slash == path)
		return 0;
	len = (size_t)(slash - path);
	if (len >= sizeof(dir))
		return rttq_fail(err, -ENAMETOOLONG,
				 "store %s: directory name too long", url);
	memcpy(dir, path, len);
	dir[len] = '\0';

	for (char *p = dir + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			int e = errno;

			return rttq_fail(err, -e,
					 "store %s: cannot create directory %s: %s",
					 url, dir, strerror(e));
		}
		*p = c;
		if (c == '\0')
			return 0;
	}
}

/* SQLite silently falls back to read-only, then fails later with a vaguer
 * message; the agent needs write access and WAL readers need it for the
 * -shm file, so ask for it up front and report the real errno. */
static int check_writable(const char *url, const char *path,
			  struct rttq_error *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		int e = errno;

		return rttq_fail(err, -e, "store %s: cannot open %s for writing: %s",
				 url, path, strerror(e));
	}
	close(fd);
	return 0;
}

/* One-row, one-column statement (a PRAGMA or a count) as an integer. */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *q = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(q);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(q, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(q);
	return rc;
}

/* Switching a fresh file to WAL needs an exclusive lock, and SQLite does
 * not call the busy handler for it (two shared-lock holders could wait on
 * each other forever): when several processes open a new store at once,
 * all but one get SQLITE_BUSY at once.  Retry until the busy timeout. */
static int step_retrying_busy(sqlite3_stmt *q)
{
	const struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	int rc;

	for (int waited_ms = 0;; waited_ms += 10) {
		rc = sqlite3_step(q);
		if ((rc & 0xff) != SQLITE_BUSY || waited_ms >= BUSY_TIMEOUT_MS)
			return rc;
		sqlite3_reset(q);
		nanosleep(&pause, NULL);
	}
}

static int enable_wal(const char *url, sqlite3 *db, struct rttq_error *err)
{
	sqlite3_stmt *q = NULL;
	const char *mode;
	int rc, ret = 0;

	rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = step_retrying_busy(q);
	if (rc != SQLITE_ROW) {
		ret = db_fail(url, db, rc, "cannot enable WAL journal", err);
		goto done;
	}
	/* In-memory databases answer "memory"; they have no other readers. */
	mode = (const char *)sqlite3_column_text(q, 0);
	if (!mode || (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0))
		ret = rttq_fail(err, -EIO,
				"store %s: journal mode is \"%s\", not WAL (filesystem without shared memory?)",
				url, mode ? mode : "?");
done:
	sqlite3_finalize(q);
	return ret;
}

static int read_version(const char *url, sqlite3 *db, int64_t *version,
			int64_t *tables, struct rttq_error *err)
{
	int rc;

	rc = query_int(db, "PRAGMA user_version", version);
	if (rc == SQLITE_OK)
		rc = query_int(db,
			       "SELECT count(*) FROM sqlite_master"
			       " WHERE name NOT LIKE 'sqlite_%'",
			       tables);
	if (rc != SQLITE_OK)
		return db_fail(url, db, rc, "cannot read schema", err);
	return 0;
}

/* Create the schema in a fresh file, or migrate an older version; under
 * BEGIN IMMEDIATE, reading the version again inside, so an agent and an
 * API server starting together do not both try. */
static int upgrade_schema(const char *url, sqlite3 *db, int64_t *version,
			  int64_t *tables, struct rttq_error *err)
{
	int rc, ret;

	rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_fail(url, db, rc, "cannot create schema", err);
	ret = read_version(url, db, version, tables, err);
	if (!ret && (*version == 1 || (*version == 0 && *tables == 0))) {
		const char *what = *version ? "cannot migrate schema 1 to 2"
					    : "cannot create schema";

		rc = sqlite3_exec(db, *version ? migrate_v1_sql : schema_sql,
				  NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			ret = db_fail(url, db, rc, what, err);
		else
			*version = SCHEMA_VERSION;
	}
	if (sqlite3_get_autocommit(db) == 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return ret;
}

static int ensure_schema(const char *url, sqlite3 *db, struct rttq_error *err)
{
	int64_t version = 0, tables = 0;
	int ret;

	ret = read_version(url, db, &version, &tables, err);
	if (ret)
		return ret;
	/* The two reads are separate snapshots (another process may create
	 * the schema between them), so only the reads inside the
	 * transaction decide. */
	if (version < SCHEMA_VERSION) {
		ret = upgrade_schema(url, db, &version, &tables, err);
		if (ret)
			return ret;
	}
	if (version == SCHEMA_VERSION)
		return 0;
	if (version == 0)
		return rttq_fail(err, -EINVAL,
				 "store %s: not an rttq store (has %lld other tables and no schema version)",
				 url, (long long)tables);
	return rttq_fail(err, -ENOTSUP,
			 "store %s: schema version %lld, this rttq reads version %d",
			 url, (long long)version, SCHEMA_VERSION);
}

static int prepare_statements(struct sqlite_store *s, const char *url,
			      struct rttq_error *err)
{
	for (int i = 0; i < STMT_COUNT; i++) {
		int rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
					    SQLITE_PREPARE_PERSISTENT,
					    &s->stmt[i], NULL);

		if (rc != SQLITE_OK)
			return db_fail(url, s->db, rc, "cannot prepare statement",
				       err);
	}
	return 0;
}

static void sqlite_close(struct store *st)
{
	struct sqlite_store *s = to_sqlite(st);

	for (int i = 0; i < STMT_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	/* The last connection to close checkpoints and removes the WAL. */
	sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}

/* What only the first handle on a file does: make it an rttq store in WAL
 * mode (a sibling finds it so; journal mode and schema live in the file). */
static int setup_file(struct sqlite_store *s, const char *url,
		      struct rttq_error *err)
{
	int rc, ret;

	/* Opening is lazy: this first read is where a garbage file fails. */
	rc = query_int(s->db, "PRAGMA schema_version", &(int64_t){ 0 });
	if (rc != SQLITE_OK)
		return db_fail(url, s->db, rc, "cannot read database", err);
	ret = enable_wal(url, s->db, err);
	if (ret)
		return ret;
	rc = sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL,
			  NULL);
	if (rc != SQLITE_OK)
		return db_fail(url, s->db, rc, "cannot set synchronous", err);
	return ensure_schema(url, s->db, err);
}

/*
 * Busy handler: wait for another connection's lock up to BUSY_TIMEOUT_MS
 * (sqlite3_busy_timeout() would, too), but never past the deadline of
 * store_set_deadline(), which another thread may set during the wait.
 * Short sleeps first: most locks are held for a single commit.
 */
static int wait_for_lock(void *arg, int count)
{
	struct sqlite_store *s = arg;
	int64_t now = monoclock_ms(), deadline = atomic_load(&s->deadline_ms);

	if (count == 0)
		s->busy_since_ms = now;
	if (now - s->busy_since_ms >= BUSY_TIMEOUT_MS ||
	    (deadline && now >= deadline))
		return 0;
	monoclock_sleep_ms(count < 4 ? 1 << count : 10);
	return 1;
}

static void sqlite_set_deadline(struct store *st, int64_t deadline_ms)
{
	atomic_store(&to_sqlite(st)->deadline_ms, deadline_ms);
}

/* A connection to @path with the busy handler and every statement;
 * @setup: also create and set the file up (setup_file()); else the file
 * must exist. */
static int connect_store(const char *url, const char *path, bool setup,
			 struct store **out, struct rttq_error *err)
{
	struct sqlite_store *s;
	int rc, ret = 0;

	s = calloc(1, sizeof(*s));
	if (s)
		s->path = strdup(path);
	if (!s || !s->path) {
		free(s);
		return rttq_fail(err, -ENOMEM, "store %s: out of memory", url);
	}
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE |
				     (setup ? SQLITE_OPEN_CREATE : 0), NULL);
	if (rc != SQLITE_OK)
		ret = db_fail(url, s->db, rc, "cannot open database", err);
	else
		sqlite3_busy_handler(s->db, wait_for_lock, s);
	if (!ret && setup)
		ret = setup_file(s, url, err);
	if (!ret)
		ret = prepare_statements(s, url, err);
	if (ret) {
		sqlite_close(&s->base);
		return ret;
	}
	*out = &s->base;
	return 0;
}

static int sqlite_open(const char *url, const char *path, struct store **out,
		       struct rttq_error *err)
{
	int ret;

	if (strcmp(path, ":memory:") != 0) {
		ret = make_parent_dirs(url, path, err);
		if (!ret)
			ret = check_writable(url, path, err);
		if (ret)
			return ret;
	}
	return connect_store(url, path, true, out, err);
}

static int sqlite_sibling(struct store *st, struct store **out,
			  struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);

	if (strcmp(s->path, ":memory:") == 0)
		return store_fail(st, err, -ENOTSUP,
				  "an in-memory store has no second connection");
	return connect_store(st->url, s->path, false, out, err);
}

/* ---------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------- */

static int run(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Parameters 1..4 of both write statements: the record's key. */
static int bind_key(sqlite3_stmt *q, const struct store_record *r)
{
	int rc;

	rc = sqlite3_bind_text(q, 1, r->host, -1, SQLITE_STATIC);
	if (!rc)
		rc = sqlite3_bind_text(q, 2, r->group, -1, SQLITE_STATIC);
	if (!rc)
		rc = sqlite3_bind_int64(q, 3, r->period_s);
	if (!rc)
		rc = sqlite3_bind_int64(q, 4, r->start_s);
	return rc;
}

static int bind_record(sqlite3_stmt *q, const struct store_record *r)
{
	int rc;

	rc = bind_key(q, r);
	if (!rc)
		rc = sqlite3_bind_int64(q, 5, r->periods);
	if (!rc)
		rc = sqlite3_bind_int64(q, 6, r->periods_total);
	if (!rc)
		rc = sqlite3_bind_int64(q, 7, (sqlite3_int64)r->count);
	if (!rc)
		rc = sqlite3_bind_double(q, 8, r->sum_us);
	if (!rc)
		rc = sqlite3_bind_double(q, 9, r->min_us);
	if (!rc)
		rc = sqlite3_bind_double(q, 10, r->max_us);
	if (!rc)
		rc = sqlite3_bind_blob64(q, 11, r->digest, r->digest_len,
					 SQLITE_STATIC);
	return rc;
}

/* Widen the registry row of @r's series to include its start. */
static int put_series(sqlite3_stmt *q, const struct store_record *r)
{
	int rc;

	rc = bind_key(q, r);
	if (!rc)
		rc = run(q);
	sqlite3_clear_bindings(q);
	return rc;
}

static int sqlite_put(struct store *st, const struct store_record *recs,
		      size_t n, struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *put = s->stmt[STMT_PUT];
	int rc;

	rc = run(s->stmt[STMT_BEGIN]);
	if (rc != SQLITE_OK)
		return stmt_fail(s, rc, "cannot begin write", err);
	for (size_t i = 0; i < n; i++) {
		rc = bind_record(put, &recs[i]);
		if (rc == SQLITE_OK)
			rc = run(put);
		sqlite3_clear_bindings(put);
		if (rc == SQLITE_OK)
			rc = put_series(s->stmt[STMT_PUT_SERIES], &recs[i]);
		if (rc != SQLITE_OK) {
			/* Record the message first: ROLLBACK replaces it. */
			int ret = store_fail(st, err, errno_from_sqlite(s->db, rc),
					     "cannot write record %s/%s start_s %lld: %s",
					     recs[i].host, recs[i].group,
					     (long long)recs[i].start_s,
					     sqlite3_errmsg(s->db));

			run(s->stmt[STMT_ROLLBACK]);
			return ret;
		}
	}
	rc = run(s->stmt[STMT_COMMIT]);
	if (rc != SQLITE_OK) {
		int ret = stmt_fail(s, rc, "cannot commit", err);

		if (sqlite3_get_autocommit(s->db) == 0)
			run(s->stmt[STMT_ROLLBACK]);
		return ret;
	}
	return 0;
}

/* ---------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------- */

static int bad_record(struct sqlite_store *s, struct rttq_error *err,
		      const char *host, const char *group, int64_t start_s,
		      const char *fmt, ...) RTTQ_PRINTF(6, 7);

static int bad_record(struct sqlite_store *s, struct rttq_error *err,
		      const char *host, const char *group, int64_t start_s,
		      const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return store_fail(&s->base, err, -EIO,
			  "damaged record %s/%s start_s %lld: %s", host, group,
			  (long long)start_s, why);
}

/* Integer column in [lo, hi]: 0, else -1. */
static int int_column(sqlite3_stmt *q, int col, int64_t lo, int64_t hi,
		      int64_t *out)
{
	if (sqlite3_column_type(q, col) != SQLITE_INTEGER)
		return -1;
	*out = sqlite3_column_int64(q, col);
	return *out < lo || *out > hi ? -1 : 0;
}

static int real_column(sqlite3_stmt *q, int col, double *out)
{
	int type = sqlite3_column_type(q, col);

	if (type != SQLITE_FLOAT && type != SQLITE_INTEGER)
		return -1;
	*out = sqlite3_column_double(q, col);
	return 0;
}

/* Column order is RECORD_COLUMNS. */
static int read_record(struct sqlite_store *s, sqlite3_stmt *q,
		       struct store_record *r, struct rttq_error *err)
{
	const char *host = (const char *)sqlite3_column_text(q, 0);
	const char *group = (const char *)sqlite3_column_text(q, 1);
	int64_t period_s, start_s, periods, total, count;
	const char *bad = NULL;

	start_s = sqlite3_column_int64(q, 3);
	if (!host || !group || !*host || !*group)
		return bad_record(s, err, host ? host : "(null)",
				  group ? group : "(null)", start_s,
				  "empty host or group");
	if (int_column(q, 2, 1, UINT32_MAX, &period_s))
		bad = "period_s";
	else if (int_column(q, 3, INT64_MIN, INT64_MAX, &start_s) ||
		 start_s % period_s != 0)
		bad = "start_s";
	else if (int_column(q, 5, 1, UINT32_MAX, &total))
		bad = "periods_total";
	else if (int_column(q, 4, 0, total, &periods))
		bad = "periods";
	else if (int_column(q, 6, 0, INT64_MAX, &count))
		bad = "count";
	else if (real_column(q, 7, &r->sum_us))
		bad = "sum_us";
	else if (real_column(q, 8, &r->min_us))
		bad = "min_us";
	else if (real_column(q, 9, &r->max_us))
		bad = "max_us";
	else if (sqlite3_column_type(q, 10) != SQLITE_BLOB ||
		 sqlite3_column_bytes(q, 10) <= 0)
		bad = "digest";
	if (bad)
		return bad_record(s, err, host, group, start_s,
				  "%s is missing or out of range", bad);

	r->host = host;
	r->group = group;
	r->period_s = (uint32_t)period_s;
	r->start_s = start_s;
	r->periods = (uint32_t)periods;
	r->periods_total = (uint32_t)total;
	r->count = (uint64_t)count;
	r->digest = sqlite3_column_blob(q, 10);
	r->digest_len = (size_t)sqlite3_column_bytes(q, 10);
	return 0;
}

/* Steps @q to the end or until @row returns non-zero; always resets @q. */
static int each_row(struct sqlite_store *s, sqlite3_stmt *q,
		    int (*row)(struct sqlite_store *s, sqlite3_stmt *q,
			       void *ctx, struct rttq_error *err),
		    void *ctx, const char *what, struct rttq_error *err)
{
	int rc, ret = 0;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		ret = row(s, q, ctx, err);
		if (ret)
			break;
	}
	if (!ret && rc != SQLITE_DONE)
		ret = stmt_fail(s, rc, what, err);
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return ret;
}

struct record_cb {
	store_record_fn fn;
	void *arg;
};

static int record_row(struct sqlite_store *s, sqlite3_stmt *q, void *ctx,
		      struct rttq_error *err)
{
	struct record_cb *cb = ctx;
	struct store_record rec;
	int ret;

	ret = read_record(s, q, &rec, err);
	if (ret)
		return ret;
	return cb->fn(&rec, cb->arg);
}

static int sqlite_query(struct store *st, const struct store_query *qr,
			store_record_fn fn, void *arg, struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);
	struct record_cb cb = { .fn = fn, .arg = arg };
	sqlite3_stmt *q;
	int rc = SQLITE_OK;

	q = s->stmt[qr->host ? STMT_QUERY_HOST : STMT_QUERY_ALL];
	if (qr->host)
		rc = sqlite3_bind_text(q, 1, qr->host, -1, SQLITE_STATIC);
	if (!rc)
		rc = sqlite3_bind_text(q, 2, qr->group, -1, SQLITE_STATIC);
	if (!rc)
		rc = sqlite3_bind_int64(q, 3, qr->period_s);
	if (!rc)
		rc = sqlite3_bind_int64(q, 4, qr->from_s);
	if (!rc)
		rc = sqlite3_bind_int64(q, 5, qr->to_s);
	if (rc) {
		sqlite3_clear_bindings(q);
		return stmt_fail(s, rc, "cannot bind query", err);
	}
	return each_row(s, q, record_row, &cb, "cannot read records", err);
}

struct series_cb {
	store_series_fn fn;
	void *arg;
};

static int series_row(struct sqlite_store *s, sqlite3_stmt *q, void *ctx,
		      struct rttq_error *err)
{
	struct series_cb *cb = ctx;
	const char *host = (const char *)sqlite3_column_text(q, 0);
	const char *group = (const char *)sqlite3_column_text(q, 1);

	if (!host || !group || !*host || !*group)
		return store_fail(&s->base, err, -EIO,
				  "damaged record: empty host or group");
	return cb->fn(host, group, cb->arg);
}

static int sqlite_series(struct store *st, const char *host, int64_t from_s,
			 int64_t to_s, store_series_fn fn, void *arg,
			 struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);
	struct series_cb cb = { .fn = fn, .arg = arg };
	sqlite3_stmt *q;
	int rc = SQLITE_OK;

	q = s->stmt[host ? STMT_SERIES_HOST : STMT_SERIES_ALL];
	if (host)
		rc = sqlite3_bind_text(q, 1, host, -1, SQLITE_STATIC);
	if (!rc)
		rc = sqlite3_bind_int64(q, 2, from_s);
	if (!rc)
		rc = sqlite3_bind_int64(q, 3, to_s);
	if (rc) {
		sqlite3_clear_bindings(q);
		return stmt_fail(s, rc, "cannot bind query", err);
	}
	return each_row(s, q, series_row, &cb, "cannot list series", err);
}

static int ping_row(struct sqlite_store *s, sqlite3_stmt *q, void *ctx,
		    struct rttq_error *err)
{
	return 0;
}

static int sqlite_ping(struct store *st, struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);

	return each_row(s, s->stmt[STMT_PING], ping_row, NULL,
			"does not answer", err);
}

const struct store_ops store_sqlite_ops = {
	.scheme = "sqlite",
	.open = sqlite_open,
	.sibling = sqlite_sibling,
	.close = sqlite_close,
	.put = sqlite_put,
	.query = sqlite_query,
	.series = sqlite_series,
	.ping = sqlite_ping,
	.set_deadline = sqlite_set_deadline,
};
