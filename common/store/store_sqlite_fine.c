// SPDX-License-Identifier: BSD-2-Clause
/*
 * store_fine_records() for SQLite (store_sqlite.c): every host's records
 * of a group finer than an hour in a range, in one statement over the
 * records table.  The file holds them all already; what a fleet query
 * saves here is the listing of hosts and statements per host.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "store_sqlite_private.h"
#include "strbuf.h"

/*
 * records_by_group (period_s, grp, metric, start_s) serves the range once
 * per period: the IN list names each base period an agent may use (the
 * divisors of an hour, 300 among them), so SQLite seeks to each and never
 * scans other groups', metrics' or older records.  A schema-2 file read as
 * it is goes through a view giving every row metric 'rtt'
 * (store_sqlite_schema.c); its index (period_s, grp, start_s) still
 * seeks.  periods_total tells base records (1) and 5-minute rollups from
 * the 3600 s rollups of a 60 s host; the fleet's own records start with
 * '*'.
 */
static char *fine_sql(void)
{
	struct strbuf b = STRBUF_INIT;
	const char *sep = "";

	strbuf_adds(&b, "SELECT " RECORD_COLUMNS " FROM records"
		    " WHERE period_s IN (");
	for (uint32_t p = 1; p <= 3600; p++) {
		if (3600 % p)
			continue;
		strbuf_addf(&b, "%s%" PRIu32, sep, p);
		sep = ",";
	}
	strbuf_adds(&b, ") AND grp = ?1 AND metric = ?4"
		    " AND start_s BETWEEN ?2 AND ?3"
		    " AND (periods_total = 1 OR period_s = 300)"
		    " AND substr(host, 1, 1) <> '" STORE_FLEET_HOST "'");
	return strbuf_detach(&b, NULL);
}

int sqlite_fine_records(struct store *st, const char *group,
			const char *metric, int64_t from_s, int64_t to_s,
			store_record_fn fn, void *arg, struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);
	struct sqlite_record_cb cb = { .fn = fn, .arg = arg };
	char *sql = fine_sql();
	sqlite3_stmt *q = NULL;
	int rc, ret;

	if (!sql)
		return store_fail(st, err, -ENOMEM, "out of memory");
	/* Prepared per call: a fleet query makes one or two. */
	rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
	free(sql);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(q, 1, group, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(q, 2, from_s);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(q, 3, to_s);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(q, 4, metric, -1, SQLITE_STATIC);
	if (rc != SQLITE_OK) {
		ret = sqlite_db_fail(st->url, s->db, rc,
				     "cannot read fine records", err);
		sqlite3_finalize(q);
		return ret;
	}
	ret = sqlite_each_row(s, q, sqlite_record_row, &cb,
			      "cannot read fine records", err);
	sqlite3_finalize(q);
	return ret;
}
