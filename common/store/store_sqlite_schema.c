// SPDX-License-Identifier: BSD-2-Clause
/*
 * Setting up an SQLite store file (store_sqlite.c): WAL, then the schema
 * created in a fresh file or migrated from an older version, once, by the
 * first handle on the file.
 *
 * Schema, version 4 (PRAGMA user_version = 4)
 * -------------------------------------------
 *
 *   CREATE TABLE records (
 *       host          TEXT    NOT NULL,  -- agent's --host
 *       grp           TEXT    NOT NULL,  -- "all", "raddr:10.0.0.2", ...
 *       metric        TEXT    NOT NULL,  -- "rtt", "jitter", "counters"...
 *       period_s      INTEGER NOT NULL,  -- resolution: 60, 3600, 86400
 *       start_s       INTEGER NOT NULL,  -- UTC epoch s, multiple of period_s
 *       periods       INTEGER NOT NULL,  -- base periods merged in
 *       periods_total INTEGER NOT NULL,  -- base periods the record spans
 *       count         INTEGER NOT NULL,  -- samples (counters: how many), >= 0
 *       sum_us        REAL    NOT NULL,
 *       min_us        REAL    NOT NULL,
 *       max_us        REAL    NOT NULL,
 *       digest        BLOB    NOT NULL,  -- codec_encode() or counter set
 *       PRIMARY KEY (host, grp, metric, period_s, start_s)
 *   ) WITHOUT ROWID;
 *   CREATE INDEX records_by_group ON records (period_s, grp, metric, start_s);
 *   CREATE TABLE series (                -- registry: one row per series
 *       host          TEXT    NOT NULL,  -- and resolution, with the
 *       grp           TEXT    NOT NULL,  -- first and last record start
 *       metric        TEXT    NOT NULL,
 *       period_s      INTEGER NOT NULL,
 *       first_start_s INTEGER NOT NULL,
 *       last_start_s  INTEGER NOT NULL,
 *       PRIMARY KEY (host, grp, metric, period_s)
 *   ) WITHOUT ROWID;
 *   CREATE TABLE flows (                 -- store_put_flows(): sampled
 *       host          TEXT    NOT NULL,  -- closed-flow records, kept
 *       time_ms       INTEGER NOT NULL,  -- as the agent read them
 *       grp           TEXT    NOT NULL,
 *       record        BLOB    NOT NULL   -- struct flow_record
 *   );
 *   CREATE INDEX flows_by_time ON flows (time_ms);
 *   CREATE INDEX flows_by_host ON flows (host, time_ms);
 *
 * store_put upserts the registry row of every record it writes in the same
 * transaction, only widening [first_start_s, last_start_s], so the two
 * tables always agree (records are never deleted through the store).
 *
 * Older versions are migrated by store_open(), in one transaction:
 *   1 (no series table; a records_by_start index served store_series by
 *     scanning every record in the range): the registry is built from the
 *     records and the index dropped, giving version 2;
 *   2 (no metric column: every record is rtt): both tables are copied into
 *     version 3 ones with metric 'rtt';
 *   3 (no flows table): the table is created, giving version 4.
 * store_open_read() changes nothing: it reads a version 2 file as it is,
 * through temporary views (sqlite_read_legacy()) that give every row
 * metric 'rtt', so the statements are the same for both versions, and a
 * version 3 file as it is (store_sqlite_flows.c reads no flow records
 * from a file without the table).
 *
 * A version 0 file with no tables is initialised; a file with a newer
 * version, or with foreign tables and no version, is refused.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "store_sqlite_private.h"

#define SCHEMA_VERSION 4
#define FLOWLESS_VERSION 3 /* read as it is, without flow records */
#define LEGACY_VERSION 2 /* what store_open_read() also reads, as rtt */

#define RECORDS_TABLE_SQL \
	"CREATE TABLE records (" \
	" host TEXT NOT NULL, grp TEXT NOT NULL, metric TEXT NOT NULL," \
	" period_s INTEGER NOT NULL, start_s INTEGER NOT NULL," \
	" periods INTEGER NOT NULL, periods_total INTEGER NOT NULL," \
	" count INTEGER NOT NULL," \
	" sum_us REAL NOT NULL, min_us REAL NOT NULL, max_us REAL NOT NULL," \
	" digest BLOB NOT NULL," \
	" PRIMARY KEY (host, grp, metric, period_s, start_s)" \
	") WITHOUT ROWID;" \
	"CREATE INDEX records_by_group ON records" \
	" (period_s, grp, metric, start_s);"

#define SERIES_TABLE_SQL \
	"CREATE TABLE series (" \
	" host TEXT NOT NULL, grp TEXT NOT NULL, metric TEXT NOT NULL," \
	" period_s INTEGER NOT NULL," \
	" first_start_s INTEGER NOT NULL, last_start_s INTEGER NOT NULL," \
	" PRIMARY KEY (host, grp, metric, period_s)" \
	") WITHOUT ROWID;"

#define FLOWS_TABLE_SQL \
	"CREATE TABLE flows (" \
	" host TEXT NOT NULL, time_ms INTEGER NOT NULL, grp TEXT NOT NULL," \
	" record BLOB NOT NULL);" \
	"CREATE INDEX flows_by_time ON flows (time_ms);" \
	"CREATE INDEX flows_by_host ON flows (host, time_ms);"

static const char schema_sql[] =
	RECORDS_TABLE_SQL
	SERIES_TABLE_SQL
	FLOWS_TABLE_SQL
	"PRAGMA user_version = 4;";

/* Version 1 -> 2: build the registry from the records (one pass over the
 * primary key, already in (host, grp, period_s) order).  Version 2 -> 3
 * follows in the same transaction. */
static const char migrate_v1_sql[] =
	"CREATE TABLE series ("
	" host TEXT NOT NULL, grp TEXT NOT NULL, period_s INTEGER NOT NULL,"
	" first_start_s INTEGER NOT NULL, last_start_s INTEGER NOT NULL,"
	" PRIMARY KEY (host, grp, period_s)"
	") WITHOUT ROWID;"
	"INSERT INTO series (host, grp, period_s, first_start_s, last_start_s)"
	" SELECT host, grp, period_s, min(start_s), max(start_s)"
	" FROM records GROUP BY host, grp, period_s;"
	"DROP INDEX IF EXISTS records_by_start;";

/* Version 2 -> 3: the metric joins both keys, so the tables are rebuilt
 * (SQLite cannot change a primary key in place); every row is rtt. */
static const char migrate_v2_sql[] =
	"DROP INDEX records_by_group;"
	"ALTER TABLE records RENAME TO records_v2;"
	"ALTER TABLE series RENAME TO series_v2;"
	RECORDS_TABLE_SQL
	SERIES_TABLE_SQL
	"INSERT INTO records (host, grp, metric, period_s, start_s, periods,"
	" periods_total, count, sum_us, min_us, max_us, digest)"
	" SELECT host, grp, 'rtt', period_s, start_s, periods, periods_total,"
	" count, sum_us, min_us, max_us, digest FROM records_v2;"
	"INSERT INTO series (host, grp, metric, period_s, first_start_s,"
	" last_start_s) SELECT host, grp, 'rtt', period_s, first_start_s,"
	" last_start_s FROM series_v2;"
	"DROP TABLE records_v2;"
	"DROP TABLE series_v2;";

/* Version 3 -> 4: the flow records' table, nothing else changes. */
static const char migrate_v3_sql[] =
	FLOWS_TABLE_SQL
	"PRAGMA user_version = 4;";

/*
 * A version 2 file read as it is: temporary views (this connection only;
 * SQLite resolves unqualified names in temp first) with the version 3
 * columns.  Each view reads nothing once the file is migrated under a
 * running reader, rather than listing jitter or counters as rtt.
 */
static const char legacy_views_sql[] =
	"CREATE TEMP VIEW records AS SELECT host, grp, 'rtt' AS metric,"
	" period_s, start_s, periods, periods_total, count, sum_us, min_us,"
	" max_us, digest FROM main.records"
	" WHERE (SELECT user_version FROM pragma_user_version) = 2;"
	"CREATE TEMP VIEW series AS SELECT host, grp, 'rtt' AS metric,"
	" period_s, first_start_s, last_start_s FROM main.series"
	" WHERE (SELECT user_version FROM pragma_user_version) = 2;";

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
		ret = sqlite_db_fail(url, db, rc, "cannot enable WAL journal",
				     err);
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
		return sqlite_db_fail(url, db, rc, "cannot read schema", err);
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
		return sqlite_db_fail(url, db, rc, "cannot create schema", err);
	ret = read_version(url, db, version, tables, err);
	if (!ret && ((*version >= 1 && *version < SCHEMA_VERSION) ||
		     (*version == 0 && *tables == 0))) {
		const char *what = *version ? "cannot migrate the schema to version 4"
					    : "cannot create schema";

		rc = SQLITE_OK;
		if (*version == 0)
			rc = sqlite3_exec(db, schema_sql, NULL, NULL, NULL);
		if (*version == 1)
			rc = sqlite3_exec(db, migrate_v1_sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK && (*version == 1 || *version == 2))
			rc = sqlite3_exec(db, migrate_v2_sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK && *version)
			rc = sqlite3_exec(db, migrate_v3_sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			ret = sqlite_db_fail(url, db, rc, what, err);
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

int sqlite_read_legacy(struct sqlite_store *s, const char *url,
		       struct rttq_error *err)
{
	int64_t version = 0;
	int rc;

	rc = query_int(s->db, "PRAGMA user_version", &version);
	if (rc != SQLITE_OK)
		return sqlite_db_fail(url, s->db, rc, "cannot read schema", err);
	if (version != LEGACY_VERSION)
		return 0;
	rc = sqlite3_exec(s->db, legacy_views_sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sqlite_db_fail(url, s->db, rc,
				      "cannot read schema version 2", err);
	s->legacy = true;
	return 0;
}

int sqlite_follow_upgrade(struct sqlite_store *s, struct rttq_error *err)
{
	int64_t version = 0;
	int rc;

	if (!s->legacy)
		return 0;
	rc = query_int(s->db, "PRAGMA user_version", &version);
	if (rc != SQLITE_OK)
		return sqlite_db_fail(s->path, s->db, rc, "cannot read schema",
				      err);
	if (version == LEGACY_VERSION)
		return 0;
	/* Statements on the views recompile on their next step, against
	 * the file's own tables. */
	rc = sqlite3_exec(s->db, "DROP VIEW temp.records;"
			  " DROP VIEW temp.series;", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return sqlite_db_fail(s->path, s->db, rc,
				      "cannot leave schema version 2", err);
	s->legacy = false;
	return sqlite_prepare_statements(s, s->path, err);
}

int sqlite_check_file(struct sqlite_store *s, const char *url,
		      struct rttq_error *err)
{
	int64_t version = 0, tables = 0;
	int ret;

	ret = read_version(url, s->db, &version, &tables, err);
	if (ret)
		return ret;
	if (version == SCHEMA_VERSION || version == FLOWLESS_VERSION)
		return 0;
	if (version == LEGACY_VERSION)
		return sqlite_read_legacy(s, url, err);
	if (version == 0 && tables == 0)
		return rttq_fail(err, -ENOENT,
				 "store %s: an empty file, not set up yet (rttq-agent sets it up, or `rttq store init %s`)",
				 url, url);
	if (version == 0)
		return rttq_fail(err, -EINVAL,
				 "store %s: not an rttq store (has %lld other tables and no schema version)",
				 url, (long long)tables);
	if (version < SCHEMA_VERSION)
		return rttq_fail(err, -ENOTSUP,
				 "store %s: schema version %lld, this rttq reads version %d (and %d, %d) once rttq-agent (or `rttq store init %s`) has migrated it",
				 url, (long long)version, SCHEMA_VERSION,
				 FLOWLESS_VERSION, LEGACY_VERSION, url);
	return rttq_fail(err, -ENOTSUP,
			 "store %s: schema version %lld, this rttq reads version %d",
			 url, (long long)version, SCHEMA_VERSION);
}

/* What only the first handle on a file does: make it an rttq store in WAL
 * mode (a sibling finds it so; journal mode and schema live in the file). */
int sqlite_setup_file(struct sqlite_store *s, const char *url,
		      struct rttq_error *err)
{
	int rc, ret;

	/* Opening is lazy: this first read is where a garbage file fails. */
	rc = query_int(s->db, "PRAGMA schema_version", &(int64_t){ 0 });
	if (rc != SQLITE_OK)
		return sqlite_db_fail(url, s->db, rc, "cannot read database",
				      err);
	ret = enable_wal(url, s->db, err);
	if (ret)
		return ret;
	rc = sqlite3_exec(s->db, "PRAGMA synchronous = NORMAL", NULL, NULL,
			  NULL);
	if (rc != SQLITE_OK)
		return sqlite_db_fail(url, s->db, rc, "cannot set synchronous",
				      err);
	return ensure_schema(url, s->db, err);
}
