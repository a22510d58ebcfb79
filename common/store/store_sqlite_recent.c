// SPDX-License-Identifier: BSD-2-Clause
/*
 * store_recent() for SQLite (store_sqlite.c): every host's base records
 * of a group in a range, in one statement over the records table.  The
 * file holds them all already; what a fleet query saves here is the
 * listing of hosts and a statement per host.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "store_sqlite_private.h"
#include "strbuf.h"

/*
 * records_by_group (period_s, grp, start_s) serves the range once per
 * period: the IN list names each base period an agent may use (the
 * divisors of an hour), so SQLite seeks to each and never scans other
 * groups' or older records.  periods_total 1 keeps base records and drops
 * the rollups some of those periods also hold (a 60 s host's 300 s and
 * 3600 s records); the fleet's own records start with '*'.
 */
static char *recent_sql(uint32_t period_s)
{
	struct strbuf b = STRBUF_INIT;
	const char *sep = "";

	strbuf_adds(&b, "SELECT " RECORD_COLUMNS " FROM records"
		    " WHERE period_s IN (");
	for (uint32_t p = 1; p <= 3600; p++) {
		if (3600 % p || (period_s && p != period_s))
			continue;
		strbuf_addf(&b, "%s%" PRIu32, sep, p);
		sep = ",";
	}
	/* A period that divides no hour: nothing matches, still valid SQL. */
	if (!*sep)
		strbuf_adds(&b, "0");
	strbuf_adds(&b, ") AND grp = ?1 AND start_s BETWEEN ?2 AND ?3"
		    " AND periods_total = 1 AND substr(host, 1, 1) <> '"
		    STORE_FLEET_HOST "'");
	return strbuf_detach(&b, NULL);
}

int sqlite_recent(struct store *st, const char *group, uint32_t period_s,
		  int64_t from_s, int64_t to_s, store_record_fn fn, void *arg,
		  struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);
	struct sqlite_record_cb cb = { .fn = fn, .arg = arg };
	char *sql = recent_sql(period_s);
	sqlite3_stmt *q = NULL;
	int rc, ret;

	if (!sql)
		return store_fail(st, err, -ENOMEM, "out of memory");
	/* Prepared per call: a fleet query makes one. */
	rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
	free(sql);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(q, 1, group, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(q, 2, from_s);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(q, 3, to_s);
	if (rc != SQLITE_OK) {
		ret = sqlite_db_fail(st->url, s->db, rc,
				     "cannot read recent records", err);
		sqlite3_finalize(q);
		return ret;
	}
	ret = sqlite_each_row(s, q, sqlite_record_row, &cb,
			      "cannot read recent records", err);
	sqlite3_finalize(q);
	return ret;
}
