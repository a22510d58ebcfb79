// SPDX-License-Identifier: BSD-2-Clause
/*
 * Records in an SQLite store (store_sqlite.c): the prepared statements,
 * store_put in one transaction with the series registry, and store_query,
 * store_series and store_ping.  Rows are checked when read (types, ranges,
 * non-empty digest) so a hand-edited or damaged file yields an error
 * naming the record instead of bad numbers; the digest bytes themselves
 * are checked by codec_decode().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "metric.h"
#include "store_sqlite_private.h"

/* Registry row t has a record starting in [?2, ?3]. */
#define SERIES_IN_RANGE \
	"t.first_start_s <= ?3 AND t.last_start_s >= ?2" \
	" AND (t.first_start_s >= ?2 OR t.last_start_s <= ?3" \
	" OR EXISTS (SELECT 1 FROM records r WHERE r.host = t.host" \
	" AND r.grp = t.grp AND r.metric = t.metric" \
	" AND r.period_s = t.period_s" \
	" AND r.start_s BETWEEN ?2 AND ?3))"

/* Every resolution of the series (host, group, metric) of registry row s
 * with a record of any resolution in range; ?1 host and ?4 group, NULL:
 * any. */
#define SERIES_LIST \
	"SELECT host, grp, metric, period_s FROM series s" \
	" WHERE (?1 IS NULL OR host = ?1) AND (?4 IS NULL OR grp = ?4)" \
	" AND EXISTS (SELECT 1 FROM series t WHERE t.host = s.host" \
	" AND t.grp = s.grp AND t.metric = s.metric AND " SERIES_IN_RANGE ")" \
	" ORDER BY host, grp, metric, period_s"

static const char *const stmt_sql[STMT_COUNT] = {
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_PUT] =
		"INSERT INTO records (" RECORD_COLUMNS ")"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
		KEY_METRIC ")"
		" ON CONFLICT (host, grp, metric, period_s, start_s) DO UPDATE SET"
		" periods = excluded.periods,"
		" periods_total = excluded.periods_total,"
		" count = excluded.count, sum_us = excluded.sum_us,"
		" min_us = excluded.min_us, max_us = excluded.max_us,"
		" digest = excluded.digest",
	[STMT_GET_DIGEST] =
		"SELECT digest FROM records WHERE host = ?1 AND grp = ?2"
		" AND metric = " KEY_METRIC " AND period_s = ?3"
		" AND start_s = ?4",
	[STMT_QUERY_HOST] =
		"SELECT " RECORD_COLUMNS " FROM records"
		" WHERE host = ?1 AND grp = ?2 AND metric = ?6 AND period_s = ?3"
		" AND start_s BETWEEN ?4 AND ?5 ORDER BY start_s",
	[STMT_QUERY_ALL] =
		"SELECT " RECORD_COLUMNS " FROM records"
		" WHERE grp = ?2 AND metric = ?6 AND period_s = ?3"
		" AND start_s BETWEEN ?4 AND ?5 ORDER BY host, start_s",
	/* Only a widening updates the row: most puts leave it alone. */
	[STMT_PUT_SERIES] =
		"INSERT INTO series (host, grp, metric, period_s,"
		" first_start_s, last_start_s)"
		" VALUES (?1, ?2, " KEY_METRIC ", ?3, ?4, ?4)"
		" ON CONFLICT (host, grp, metric, period_s) DO UPDATE SET"
		" first_start_s = min(first_start_s, excluded.first_start_s),"
		" last_start_s = max(last_start_s, excluded.last_start_s)"
		" WHERE excluded.first_start_s < first_start_s"
		" OR excluded.last_start_s > last_start_s",
	[STMT_SERIES] = SERIES_LIST,
	[STMT_PERIODS] =
		"SELECT DISTINCT period_s FROM series WHERE grp = ?1"
		" AND metric = ?2 ORDER BY period_s",
	[STMT_PING] = "SELECT 1 FROM records LIMIT 1",
};

static int stmt_fail(struct sqlite_store *s, int rc, const char *what,
		     struct rttq_error *err)
{
	return sqlite_db_fail(s->base.url, s->db, rc, what, err);
}

int sqlite_prepare_statements(struct sqlite_store *s, const char *url,
			      struct rttq_error *err)
{
	for (int i = 0; i < STMT_COUNT; i++) {
		int rc;

		/* A schema-2 file's tables are views here: read only (until
		 * sqlite_follow_upgrade() prepares the rest). */
		if (s->stmt[i] ||
		    (s->legacy && (i == STMT_PUT || i == STMT_PUT_SERIES)))
			continue;
		rc = sqlite3_prepare_v3(s->db, stmt_sql[i], -1,
					    SQLITE_PREPARE_PERSISTENT,
					    &s->stmt[i], NULL);
		if (rc != SQLITE_OK)
			return sqlite_db_fail(url, s->db, rc,
					      "cannot prepare statement", err);
	}
	return 0;
}

/* ---------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------- */

int sqlite_run(sqlite3_stmt *q)
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
	if (!rc)
		rc = sqlite3_bind_text(q, 12, metric_or_rtt(r->metric), -1,
				       SQLITE_STATIC);
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
		rc = sqlite_run(q);
	sqlite3_clear_bindings(q);
	return rc;
}

/* Write @recs inside the open transaction; on failure roll back and
 * return the error. */
static int put_in_transaction(struct sqlite_store *s,
			      const struct store_record *recs, size_t n,
			      struct rttq_error *err)
{
	sqlite3_stmt *put = s->stmt[STMT_PUT];
	int rc;

	for (size_t i = 0; i < n; i++) {
		rc = bind_record(put, &recs[i]);
		if (rc == SQLITE_OK)
			rc = sqlite_run(put);
		sqlite3_clear_bindings(put);
		/* The fleet's records are read by name, never listed. */
		if (rc == SQLITE_OK && !store_host_reserved(recs[i].host))
			rc = put_series(s->stmt[STMT_PUT_SERIES], &recs[i]);
		if (rc != SQLITE_OK) {
			/* Record the message first: ROLLBACK replaces it. */
			int ret = store_fail(&s->base, err,
					     sqlite_db_errno(s->db, rc),
					     "cannot write record %s/%s start_s %lld: %s",
					     recs[i].host, recs[i].group,
					     (long long)recs[i].start_s,
					     sqlite3_errmsg(s->db));

			sqlite_run(s->stmt[STMT_ROLLBACK]);
			return ret;
		}
	}
	rc = sqlite_run(s->stmt[STMT_COMMIT]);
	if (rc != SQLITE_OK) {
		int ret = stmt_fail(s, rc, "cannot commit", err);

		if (sqlite3_get_autocommit(s->db) == 0)
			sqlite_run(s->stmt[STMT_ROLLBACK]);
		return ret;
	}
	return 0;
}

/* A reader of a schema-2 file writes nothing: store_open() upgrades it. */
static int refuse_legacy(struct sqlite_store *s, struct rttq_error *err)
{
	return store_fail(&s->base, err, -EROFS, "schema version 2 opened "
			  "for reading: writing needs store_open(), which "
			  "migrates it to version 4");
}

int sqlite_put(struct store *st, const struct store_record *recs,
	       size_t n, struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);
	int rc;

	if (s->legacy)
		return refuse_legacy(s, err);
	rc = sqlite_run(s->stmt[STMT_BEGIN]);
	if (rc != SQLITE_OK)
		return stmt_fail(s, rc, "cannot begin write", err);
	return put_in_transaction(s, recs, n, err);
}

/* Whether the stored record of @rec's key is the one expected: absent
 * for a NULL @expect, else holding digest @expect. */
static int stored_is(struct sqlite_store *s, const struct store_record *rec,
		     const uint8_t *expect, size_t expect_len, bool *same)
{
	sqlite3_stmt *q = s->stmt[STMT_GET_DIGEST];
	int rc = bind_key(q, rec);

	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	if (rc == SQLITE_DONE) {
		*same = !expect;
		rc = SQLITE_OK;
	} else if (rc == SQLITE_ROW) {
		const void *d = sqlite3_column_blob(q, 0);
		int len = sqlite3_column_bytes(q, 0);

		*same = expect && d && (size_t)len == expect_len &&
			memcmp(d, expect, expect_len) == 0;
		rc = SQLITE_OK;
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc;
}

int sqlite_put_if(struct store *st, const struct store_record *rec,
		  const uint8_t *expect, size_t expect_len,
		  struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);
	bool same = false;
	int rc;

	if (s->legacy)
		return refuse_legacy(s, err);
	rc = sqlite_run(s->stmt[STMT_BEGIN]);
	if (rc != SQLITE_OK)
		return stmt_fail(s, rc, "cannot begin write", err);
	rc = stored_is(s, rec, expect, expect_len, &same);
	if (rc != SQLITE_OK) {
		int ret = stmt_fail(s, rc, "cannot read fleet record", err);

		sqlite_run(s->stmt[STMT_ROLLBACK]);
		return ret;
	}
	if (!same) {
		sqlite_run(s->stmt[STMT_ROLLBACK]);
		return -ESTALE; /* store_put_fleet() says what */
	}
	return put_in_transaction(s, rec, 1, err);
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
	return store_fail(&s->base, err, -EBADMSG,
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
	else if (!metric_name_valid((const char *)sqlite3_column_text(q, 11)))
		bad = "metric";
	if (bad)
		return bad_record(s, err, host, group, start_s,
				  "%s is missing or out of range", bad);

	r->host = host;
	r->group = group;
	r->metric = (const char *)sqlite3_column_text(q, 11);
	r->period_s = (uint32_t)period_s;
	r->start_s = start_s;
	r->periods = (uint32_t)periods;
	r->periods_total = (uint32_t)total;
	r->count = (uint64_t)count;
	r->digest = sqlite3_column_blob(q, 10);
	r->digest_len = (size_t)sqlite3_column_bytes(q, 10);
	return 0;
}

int sqlite_each_row(struct sqlite_store *s, sqlite3_stmt *q,
		    int (*row)(struct sqlite_store *s, sqlite3_stmt *q,
			       void *ctx, struct rttq_error *err),
		    void *ctx, const char *what, struct rttq_error *err)
{
	int rc, ret;

	ret = sqlite_follow_upgrade(s, err);
	if (ret) {
		sqlite3_clear_bindings(q);
		return ret;
	}
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

int sqlite_record_row(struct sqlite_store *s, sqlite3_stmt *q, void *ctx,
		      struct rttq_error *err)
{
	struct sqlite_record_cb *cb = ctx;
	struct store_record rec = { 0 };
	int ret;

	ret = read_record(s, q, &rec, err);
	if (ret)
		return ret;
	return cb->fn(&rec, cb->arg);
}

int sqlite_query(struct store *st, const struct store_query *qr,
		 store_record_fn fn, void *arg, struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);
	struct sqlite_record_cb cb = { .fn = fn, .arg = arg };
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
	if (!rc)
		rc = sqlite3_bind_text(q, 6, metric_or_rtt(qr->metric), -1,
				       SQLITE_STATIC);
	if (rc) {
		sqlite3_clear_bindings(q);
		return stmt_fail(s, rc, "cannot bind query", err);
	}
	return sqlite_each_row(s, q, sqlite_record_row, &cb,
			       "cannot read records", err);
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
	const char *metric = (const char *)sqlite3_column_text(q, 2);
	int64_t period_s = sqlite3_column_int64(q, 3);

	if (!host || !group || !*host || !*group)
		return store_fail(&s->base, err, -EBADMSG,
				  "damaged registry: empty host or group");
	if (!metric_name_valid(metric))
		return store_fail(&s->base, err, -EBADMSG,
				  "damaged registry: series host '%s' group "
				  "'%s' has metric \"%s\"", host, group,
				  metric ? metric : "(null)");
	if (period_s <= 0 || period_s > UINT32_MAX)
		return store_fail(&s->base, err, -EBADMSG,
				  "damaged registry: series host '%s' group "
				  "'%s' has period_s %lld", host, group,
				  (long long)period_s);
	return cb->fn(host, group, metric, (uint32_t)period_s, cb->arg);
}

int sqlite_series(struct store *st, const char *host, const char *group,
		  int64_t from_s, int64_t to_s, store_series_fn fn, void *arg,
		  struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);
	struct series_cb cb = { .fn = fn, .arg = arg };
	sqlite3_stmt *q = s->stmt[STMT_SERIES];
	int rc;

	/* Unbound parameters are NULL (sqlite_each_row() clears the
	 * bindings after every use): no host or group filter. */
	rc = host ? sqlite3_bind_text(q, 1, host, -1, SQLITE_STATIC) : 0;
	if (!rc && group)
		rc = sqlite3_bind_text(q, 4, group, -1, SQLITE_STATIC);
	if (!rc)
		rc = sqlite3_bind_int64(q, 2, from_s);
	if (!rc)
		rc = sqlite3_bind_int64(q, 3, to_s);
	if (rc) {
		sqlite3_clear_bindings(q);
		return stmt_fail(s, rc, "cannot bind query", err);
	}
	return sqlite_each_row(s, q, series_row, &cb, "cannot list series", err);
}

static int period_row(struct sqlite_store *s, sqlite3_stmt *q, void *ctx,
		      struct rttq_error *err)
{
	int64_t period_s = sqlite3_column_int64(q, 0);

	if (period_s < 1 || period_s > UINT32_MAX)
		return store_fail(&s->base, err, -EBADMSG,
				  "damaged registry: period_s %lld",
				  (long long)period_s);
	store_period_list_add(ctx, (uint32_t)period_s);
	return 0;
}

int sqlite_periods(struct store *st, const char *group, const char *metric,
		   uint32_t *periods, size_t max, size_t *n,
		   struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = s->stmt[STMT_PERIODS];
	struct store_period_list list = { periods, max, 0 };
	int rc = sqlite3_bind_text(q, 1, group, -1, SQLITE_STATIC);

	if (!rc)
		rc = sqlite3_bind_text(q, 2, metric, -1, SQLITE_STATIC);
	if (rc)
		return stmt_fail(s, rc, "cannot bind query", err);
	rc = sqlite_each_row(s, q, period_row, &list,
			     "cannot read the registry", err);
	*n = rc ? 0 : list.n;
	return rc;
}

static int ping_row(struct sqlite_store *s, sqlite3_stmt *q, void *ctx,
		    struct rttq_error *err)
{
	return 0;
}

int sqlite_ping(struct store *st, struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);

	return sqlite_each_row(s, s->stmt[STMT_PING], ping_row, NULL,
			"does not answer", err);
}
