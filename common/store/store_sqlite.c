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
 * Which access path serves which call:
 *   store_query, one host  -> primary key: host, grp, metric, period_s equal, start_s
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
 * Files: this one opens connections (directory, write access, busy
 * handler) and maps SQLite errors; store_sqlite_schema.c sets a new file
 * up (WAL, schema creation and migration); store_sqlite_records.c holds
 * the statements and reads and writes records; store_sqlite_private.h is
 * what they share.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monoclock.h"
#include "store_sqlite_private.h"

/* ---------------------------------------------------------------------------
 * Errors: SQLite result codes to negative errno, messages naming the file
 * ------------------------------------------------------------------------- */

int sqlite_db_errno(sqlite3 *db, int rc)
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
int sqlite_db_fail(const char *url, sqlite3 *db, int rc, const char *what,
		   struct rttq_error *err)
{
	int code = sqlite_db_errno(db, rc);
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

/* ---------------------------------------------------------------------------
 * Opening: directory, busy handler, connection
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
 * @setup: also create and set the file up (sqlite_setup_file()); else the
 * file must exist. */
/* How a connection starts on the file. */
enum connect_how {
	CONNECT_SETUP,   /* create and upgrade (store_open()) */
	CONNECT_READ,    /* check an rttq store is there (store_open_read()) */
	CONNECT_SIBLING, /* another handle: the first one checked the file */
};

/*
 * SQLite's memory statistics take one process-wide mutex on every
 * allocation; with a dozen query threads that mutex is the hottest lock
 * in rttq-api, and a thread preempted while holding it stalls every other
 * connection.  rttq reads none of those statistics.  Must run before
 * SQLite initialises itself (the first open); later calls change nothing.
 */
static void no_memstatus(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static int connect_store(const char *url, const char *path,
			 enum connect_how how, struct store **out,
			 struct rttq_error *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct sqlite_store *s;
	int rc, ret = 0;

	pthread_once(&once, no_memstatus);

	s = calloc(1, sizeof(*s));
	if (s)
		s->path = strdup(path);
	if (!s || !s->path) {
		free(s);
		return rttq_fail(err, -ENOMEM, "store %s: out of memory", url);
	}
	rc = sqlite3_open_v2(path, &s->db,
			     SQLITE_OPEN_READWRITE |
				     (how == CONNECT_SETUP ? SQLITE_OPEN_CREATE :
							     0), NULL);
	if (rc != SQLITE_OK)
		ret = sqlite_db_fail(url, s->db, rc, "cannot open database",
				     err);
	else
		sqlite3_busy_handler(s->db, wait_for_lock, s);
	if (!ret && how == CONNECT_SETUP)
		ret = sqlite_setup_file(s, url, err);
	else if (!ret && how == CONNECT_READ)
		ret = sqlite_check_file(s, url, err);
	else if (!ret)
		ret = sqlite_read_legacy(s, url, err);
	if (!ret)
		ret = sqlite_prepare_statements(s, url, err);
	if (ret) {
		sqlite_close(&s->base);
		return ret;
	}
	*out = &s->base;
	return 0;
}

static int sqlite_open(const char *url, const char *path, bool setup,
		       struct store **out, struct rttq_error *err)
{
	bool memory = strcmp(path, ":memory:") == 0;
	int ret;

	if (!setup && !memory && access(path, F_OK) != 0)
		return rttq_fail(err, -errno, "store %s: %s: %s (rttq-agent "
				 "creates the store, or `rttq store init %s`)",
				 url, path, strerror(errno), url);
	if (setup && !memory) {
		ret = make_parent_dirs(url, path, err);
		if (!ret)
			ret = check_writable(url, path, err);
		if (ret)
			return ret;
	}
	/* A new in-memory store has nothing to read until it is set up. */
	return connect_store(url, path, setup || memory ? CONNECT_SETUP :
			     CONNECT_READ, out, err);
}

static int sqlite_sibling(struct store *st, struct store **out,
			  struct rttq_error *err)
{
	struct sqlite_store *s = to_sqlite(st);

	if (strcmp(s->path, ":memory:") == 0)
		return store_fail(st, err, -ENOTSUP,
				  "an in-memory store has no second connection");
	return connect_store(st->url, s->path, CONNECT_SIBLING, out, err);
}

const struct store_ops store_sqlite_ops = {
	.scheme = "sqlite",
	.open = sqlite_open,
	.sibling = sqlite_sibling,
	.close = sqlite_close,
	.put = sqlite_put,
	.put_if = sqlite_put_if,
	.query = sqlite_query,
	.series = sqlite_series,
	.periods = sqlite_periods,
	.fine_records = sqlite_fine_records,
	.put_flows = sqlite_put_flows,
	.flows = sqlite_flows,
	.ping = sqlite_ping,
	.set_deadline = sqlite_set_deadline,
};
