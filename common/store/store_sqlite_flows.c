// SPDX-License-Identifier: BSD-2-Clause
/*
 * store_put_flows() / store_flows() for SQLite (store_sqlite.c): the
 * sampled closed-flow records in their own table, flows (schema version
 * 4, store_sqlite_schema.c).  A file of version 3 opened read-only has no
 * such table, and reads as no records rather than an error, so rttq-api
 * serves /flows before any agent has migrated the file.  The statements
 * are prepared per call, as the table may appear under a running reader.
 */
#include <errno.h>

#include "store_sqlite_private.h"

static int flows_fail(struct sqlite_store *s, sqlite3_stmt *q, int rc,
		      const char *what, struct rttq_error *err)
{
	int ret = sqlite_db_fail(s->base.url, s->db, rc, what, err);

	sqlite3_finalize(q);
	return ret;
}

static int bind_flow(sqlite3_stmt *q, const struct store_flow *f)
{
	int rc;

	rc = sqlite3_bind_text(q, 1, f->host, -1, SQLITE_STATIC);
	if (!rc)
		rc = sqlite3_bind_int64(q, 2, f->time_ms);
	if (!rc)
		rc = sqlite3_bind_text(q, 3, f->group, -1, SQLITE_STATIC);
	if (!rc)
		rc = sqlite3_bind_blob64(q, 4, f->data, f->len, SQLITE_STATIC);
	return rc;
}

/*
 * Delete the records that closed before @before_ms.  Measured from the
 * batch rather than the clock, as the agent writes closes of the last few
 * seconds: on flows_by_time, a probe that finds nothing when there is
 * nothing to delete, so every batch can afford it.
 */
static int prune(struct sqlite_store *s, int64_t before_ms)
{
	sqlite3_stmt *q = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "DELETE FROM flows WHERE time_ms < ?1",
				-1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(q, 1, before_ms);
	if (rc == SQLITE_OK)
		rc = sqlite_run(q);
	sqlite3_finalize(q);
	return rc;
}

int sqlite_put_flows(struct store *st, const struct store_flow *flows,
		     size_t n, struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);
	sqlite3_stmt *q = NULL;
	int64_t newest_ms = 0;
	int rc;

	if (s->legacy)
		return store_fail(st, err, -EROFS, "schema version 2 opened "
				  "for reading: writing needs store_open()");
	rc = sqlite3_prepare_v2(s->db,
				"INSERT INTO flows (host, time_ms, grp, record)"
				" VALUES (?1, ?2, ?3, ?4)", -1, &q, NULL);
	if (rc != SQLITE_OK)
		return flows_fail(s, q, rc, "cannot prepare the flow write",
				  err);
	rc = sqlite_run(s->stmt[STMT_BEGIN]);
	if (rc != SQLITE_OK)
		return flows_fail(s, q, rc, "cannot begin write", err);
	for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
		rc = bind_flow(q, &flows[i]);
		if (rc == SQLITE_OK)
			rc = sqlite_run(q);
		sqlite3_clear_bindings(q);
		if (flows[i].time_ms > newest_ms)
			newest_ms = flows[i].time_ms;
	}
	if (rc == SQLITE_OK)
		rc = prune(s, newest_ms - (int64_t)STORE_FLOW_RETENTION_S * 1000);
	if (rc == SQLITE_OK)
		rc = sqlite_run(s->stmt[STMT_COMMIT]);
	if (rc != SQLITE_OK) {
		/* The message first: ROLLBACK replaces it. */
		int ret = flows_fail(s, q, rc, "cannot write flow records",
				     err);

		if (sqlite3_get_autocommit(s->db) == 0)
			sqlite_run(s->stmt[STMT_ROLLBACK]);
		return ret;
	}
	sqlite3_finalize(q);
	return 0;
}

/* Whether the file has the flows table (version 4 and later). */
static int has_flows_table(struct sqlite_store *s, bool *out,
			   struct rttq_error *err)
{
	sqlite3_stmt *q = NULL;
	int rc;

	rc = sqlite3_prepare_v2(s->db,
				"SELECT 1 FROM main.sqlite_master"
				" WHERE type = 'table' AND name = 'flows'",
				-1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(q);
	*out = rc == SQLITE_ROW;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return flows_fail(s, q, rc, "cannot read schema", err);
	sqlite3_finalize(q);
	return 0;
}

struct flow_cb {
	store_flow_fn fn;
	void *arg;
};

static int flow_row(struct sqlite_store *s, sqlite3_stmt *q, void *ctx,
		    struct rttq_error *err)
{
	struct flow_cb *cb = ctx;
	struct store_flow f = {
		.host = (const char *)sqlite3_column_text(q, 0),
		.time_ms = sqlite3_column_int64(q, 1),
		.group = (const char *)sqlite3_column_text(q, 2),
		.data = sqlite3_column_blob(q, 3),
		.len = (size_t)sqlite3_column_bytes(q, 3),
	};

	if (!f.host || !f.group || !f.data)
		return store_fail(&s->base, err, -EBADMSG,
				  "a flow record at %lld without host, group or data",
				  (long long)f.time_ms);
	return cb->fn(&f, cb->arg);
}

int sqlite_flows(struct store *st, const char *host, int64_t from_ms,
		 int64_t to_ms, store_flow_fn fn, void *arg,
		 struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);
	struct flow_cb cb = { .fn = fn, .arg = arg };
	sqlite3_stmt *q = NULL;
	bool present;
	int rc, ret;

	ret = has_flows_table(s, &present, err);
	if (ret || !present)
		return ret;
	/* flows_by_host or flows_by_time serves the range, newest first. */
	rc = sqlite3_prepare_v2(s->db,
				"SELECT host, time_ms, grp, record FROM main.flows"
				" WHERE time_ms BETWEEN ?1 AND ?2"
				" AND (?3 IS NULL OR host = ?3)"
				" ORDER BY time_ms DESC, rowid DESC",
				-1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(q, 1, from_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(q, 2, to_ms);
	if (rc == SQLITE_OK && host)
		rc = sqlite3_bind_text(q, 3, host, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK)
		return flows_fail(s, q, rc, "cannot read flow records", err);
	ret = sqlite_each_row(s, q, flow_row, &cb, "cannot read flow records",
			      err);
	sqlite3_finalize(q);
	return ret;
}
