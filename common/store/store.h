/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The store: where per-period digests live.  One logical record per
 * (host, group, metric, resolution, period start); records of different
 * metrics never mix (metric.h: distributions hold a digest, METRIC_COUNTERS
 * a counter set).  Backends sit behind one
 * interface and are chosen by URL: `sqlite:PATH` (embedded default) and
 * `dynamodb:TABLE[?region=R&endpoint=URL]` (a fleet).
 *
 * Writes are idempotent upserts on the key: writing the same record twice
 * leaves one record, and a newer write of a key replaces the older one
 * (rollups are rewritten as they cover more base periods).
 */
#ifndef RTTQ_STORE_H
#define RTTQ_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define STORE_URL_DEFAULT "sqlite:/var/lib/rttq/rttq.db"
#define STORE_HOST_MAX 256  /* bytes, with the NUL */
#define STORE_GROUP_MAX 512 /* bytes, with the NUL */

/*
 * Fleet records (`rttq rollup`, planner_fleet.c): host STORE_FLEET_HOST
 * holds, per group, the merge of every host's records for a whole 5-minute,
 * hour or day span (period_s 300, 3600, 86400).  Host names starting with
 * STORE_RESERVED_PREFIX are the store's own: store_put() refuses them, the
 * registry of series never holds them, and store_series() / store_query()
 * without a host never list them, so a fleet record is never counted as a
 * host (ask for them by name).
 *
 * A built fleet record is complete: periods == periods_total == 1 + the
 * hosts merged into it.  A stale mark is a fleet record with periods 0 and
 * a random token as its digest: store_put() writes one over every fleet
 * span a late record falls in (one that ended STORE_LATE_S or more before
 * the wall clock, so `rttq rollup` may have built it already), and the
 * planner reads hosts' records for the span until the next rollup rebuilds
 * it.
 */
#define STORE_FLEET_HOST "*"
#define STORE_RESERVED_PREFIX '*'
#define STORE_LATE_S 60
#define STORE_MARK_TOKEN_LEN 16 /* bytes of a stale mark's digest */

/** store_host_reserved() - whether @host is the store's own (fleet). */
static inline int store_host_reserved(const char *host)
{
	return host[0] == STORE_RESERVED_PREFIX;
}

struct store;

struct store_record {
	const char *host;       /* agent's --host */
	const char *group;      /* "all", "raddr:10.0.0.2", ... */
	const char *metric;     /* metric.h: NULL or "" is METRIC_RTT; for
				 * METRIC_COUNTERS the digest holds a
				 * counter set (counter_set.h) and count the
				 * number of counters in it */
	uint32_t period_s;      /* resolution: base period (60), 3600, 86400 */
	int64_t start_s;        /* period start, UTC epoch seconds */
	uint32_t periods;       /* base periods merged into this record */
	uint32_t periods_total; /* base periods the resolution spans; the
				 * record is complete when periods equals it */
	uint64_t count;         /* samples (METRIC_COUNTERS: counters in
				 * the set) */
	double sum_us;          /* sum of the samples, microseconds */
	double min_us;          /* smallest sample, microseconds */
	double max_us;          /* largest sample, microseconds */
	const uint8_t *digest;  /* codec_encode() bytes */
	size_t digest_len;      /* their length */
};

struct store_query {
	const char *host;  /* NULL: every host */
	const char *group; /* NULL: "all" */
	const char *metric; /* NULL or "": METRIC_RTT */
	uint32_t period_s; /* resolution to read */
	int64_t from_s;    /* records whose start lies in [from_s, to_s] */
	int64_t to_s;
};

/* Called once per record; the record (strings and digest included) is only
 * valid during the call.  A non-zero return stops the query and is returned
 * by store_query() without touching its @err.  The callback must not call
 * into the same store handle (statements are shared); another handle on the
 * same URL is fine. */
typedef int (*store_record_fn)(const struct store_record *rec, void *arg);

/* Called once per resolution of a (host, group, metric) series (its base
 * period and its rollups, smallest first); same rules as above. */
typedef int (*store_series_fn)(const char *host, const char *group,
			       const char *metric, uint32_t period_s,
			       void *arg);

/**
 * store_open() - open (creating when needed) the store named by @url.
 * @url: "sqlite:PATH" (or a bare path ending in .db; "sqlite::memory:"
 *       for a private in-memory store).  SQLite creates the parent
 *       directories and the file, and switches the file to WAL.
 * @out: receives the store; NULL on failure.
 * @err: receives a message naming the URL and the problem; may be NULL.
 *
 * @return 0, -EINVAL for an empty, malformed or unknown URL or a file that
 *         is not an rttq store, -ENOTSUP for a newer schema version,
 *         -EACCES / -ENOENT / -ENOTDIR (the errno of the failing directory
 *         or file), -EBUSY when locked for over 5 s, -EIO for a damaged
 *         file or an I/O error, -ENOMEM.
 */
RTTQ_API int store_open(const char *url, struct store **out,
			struct rttq_error *err);

/**
 * store_open_read() - open the store named by @url for reading only: it
 * never creates, migrates or configures anything, so the query side
 * (rttq-api, rttq query) needs no more than read permissions (on
 * DynamoDB: DescribeTable and Query).
 * @url: as for store_open().
 * @out: receives the store; NULL on failure.
 * @err: receives a message naming the URL and the problem, and who sets
 *       the store up when it is missing; may be NULL.
 *
 * @return 0; -ENOENT for a store not set up yet (no SQLite file, no
 *         table); -ENOTSUP for a schema this build does not read (newer,
 *         or older and not migrated yet); the other errors of
 *         store_open().
 */
RTTQ_API int store_open_read(const char *url, struct store **out,
			     struct rttq_error *err);

/**
 * store_open_sibling() - another handle on the store @st is open on, for
 * another thread (a handle is used by one thread at a time): SQLite opens
 * a second connection to the same file (WAL lets readers run side by
 * side), DynamoDB a second client with @st's region, endpoint and
 * credentials (without the table checks store_open() made).
 * @st: an open store; nothing else may use it during the call, as its
 *      settings are read.
 * @out: receives the new handle, closed with store_close(); NULL on
 *       failure.
 * @err: receives a message naming the URL and the problem; may be NULL.
 *
 * @return 0, -ENOTSUP for "sqlite::memory:" (another connection would see
 *         another, empty database), the errors of store_open() for the
 *         backend, -ENOMEM.
 */
RTTQ_API int store_open_sibling(struct store *st, struct store **out,
				struct rttq_error *err);

/**
 * store_set_deadline() - bound every later call on @st: a call gives up
 * (returning its last error, or -ETIMEDOUT when it could not start) rather
 * than wait or retry past @deadline_ms.  DynamoDB stops retrying and cuts
 * attempt timeouts to the time left; SQLite stops waiting for a lock.
 * May be called from another thread while a call runs on @st: that call
 * gives up at its next retry or lock wait (an attempt already sent runs
 * to its own timeout).  Used by rttq-agent to stop within its deadline.
 * @st: the store.
 * @deadline_ms: CLOCK_MONOTONIC milliseconds (monoclock_ms()); 0 removes
 *       the bound.
 */
RTTQ_API void store_set_deadline(struct store *st, int64_t deadline_ms);

#define STORE_SIBLINGS 8 /* store_sibling() indexes 1 .. STORE_SIBLINGS */

/**
 * store_sibling() - the @i-th sibling of @st (as store_open_sibling()),
 * opened on first use and kept until store_close(@st) closes it, so a
 * long-lived handle (rttq-api's) keeps its siblings' connections from one
 * fleet query to the next.
 * @st: an open store; nothing else may use it during the call.
 * @i: 1 .. STORE_SIBLINGS.
 * @out: receives the sibling; the caller must not close it.
 * @err: as for store_open_sibling().
 *
 * @return 0, -EINVAL for @i out of range, or store_open_sibling()'s error.
 */
RTTQ_API int store_sibling(struct store *st, unsigned int i,
			   struct store **out, struct rttq_error *err);

/** store_close() - flush and release @st (and its siblings); NULL does
 * nothing. */
RTTQ_API void store_close(struct store *st);

/**
 * store_put() - write @n records atomically (all or none for SQLite).
 * @st: the store.
 * @recs: records; each replaces any stored record with the same key.
 * @n: how many; 0 does nothing.
 * @err: receives a message naming the store and the record; may be NULL.
 *
 * Every record is checked before anything is written: non-empty host and
 * group within STORE_HOST_MAX / STORE_GROUP_MAX, period_s > 0, start_s a
 * multiple of period_s, 0 < periods_total, periods <= periods_total,
 * count <= INT64_MAX, no NaN in sum/min/max, a non-empty digest, a host
 * not starting with STORE_RESERVED_PREFIX, a metric metric_name_valid()
 * accepts (NULL or "": rtt) and, for METRIC_COUNTERS, a digest that
 * counter_set_decode() reads.
 *
 * Records of a span that ended STORE_LATE_S or more ago are late: after
 * they are written, a second write marks the fleet spans they fall in
 * stale (see STORE_FLEET_HOST).  A failure of either write is returned,
 * so a caller that retries the whole put (the agent's spool) never leaves
 * a late record unmarked.
 *
 * @return 0, -EINVAL for a record failing those checks (nothing written),
 *         -EBUSY when the store stayed locked, -ENOSPC, -EIO when the
 *         backend refused the write, and for DynamoDB the errors of
 *         ddb_call().
 */
RTTQ_API int store_put(struct store *st, const struct store_record *recs,
		       size_t n, struct rttq_error *err);

/**
 * store_put_fleet() - write one fleet record if the stored one is still
 * what the caller read before building it: absent, or the stale mark with
 * digest @expect.  A span marked again while it was being rebuilt thus
 * stays marked.
 * @st: the store.
 * @rec: the record; host STORE_FLEET_HOST, period_s 300, 3600 or 86400,
 *       otherwise checked as by store_put().
 * @expect: digest bytes of the stale mark read; NULL: no record was there.
 * @expect_len: their length.
 * @err: receives a message; may be NULL.
 *
 * @return 0; -ESTALE when the stored record is not the one expected (the
 *         span was marked again, or another run wrote it first): nothing
 *         written; -EINVAL for a record failing the checks; the write
 *         errors of store_put().
 */
RTTQ_API int store_put_fleet(struct store *st, const struct store_record *rec,
			     const uint8_t *expect, size_t expect_len,
			     struct rttq_error *err);

/**
 * store_query() - call @fn for every record matching @q, ordered by host
 * (bytewise) then start time.  Without a host, records of reserved hosts
 * (STORE_FLEET_HOST) are left out; ask for them by name.
 * @st: the store.
 * @q: what to read; an empty range (from_s > to_s) matches nothing.
 * @fn: called per record.
 * @arg: passed to @fn.
 * @err: receives a message; may be NULL.
 *
 * @return 0, the first non-zero value returned by @fn, -EINVAL for an empty
 *         host/group, an invalid metric name or a zero period_s, -EBADMSG for a stored record
 *         with impossible values (message names host/group/start), -EIO
 *         for a damaged file or an I/O error, -EBUSY, and for DynamoDB the transport and
 *         protocol errors of ddb_call() (-ETIMEDOUT, -EPROTO, ...).
 */
RTTQ_API int store_query(struct store *st, const struct store_query *q,
			 store_record_fn fn, void *arg, struct rttq_error *err);

/**
 * store_fine_records() - call @fn for every host's records of @metric of
 * @group finer than an hour starting in [@from_s, @to_s]: base records
 * (periods_total 1) and 5-minute records (a host's rollups, periods_total
 * 300 / its base period), in no particular order, in a few requests
 * however many hosts there are.  A fleet query reads the parts of its
 * range no fleet record covers here (the minutes before now, the partial
 * span at its start, stale spans).  Reserved hosts (STORE_FLEET_HOST) are
 * never included.  SQLite reads its records table across hosts; DynamoDB
 * keeps a mirror of those records, partitioned by group and hour, with
 * the records' own TTL (store_dynamodb_mirror.c).
 * @st: the store.
 * @group: the group.
 * @metric: the metric; NULL or "": METRIC_RTT.
 * @from_s: first start, UTC epoch seconds, inclusive.
 * @to_s: last start, inclusive; an empty range matches nothing.
 * @fn: called per record (the rules of store_query()'s callback).
 * @arg: passed to @fn.
 * @err: receives a message; may be NULL.
 *
 * On DynamoDB, only records written through store_put() by this version
 * or later are mirrored: records older agents wrote are not returned.
 *
 * @return 0, the first non-zero value returned by @fn, -EINVAL for an
 *         empty group or an invalid metric name, and the errors of
 *         store_query().
 */
RTTQ_API int store_fine_records(struct store *st, const char *group,
				const char *metric, int64_t from_s, int64_t to_s,
				store_record_fn fn, void *arg,
				struct rttq_error *err);

/**
 * store_series() - call @fn for every resolution stored for each (host,
 * group, metric) with a record of any resolution starting in [from_s,
 * to_s], ordered by host, group, metric, then resolution.  The registry knows each
 * series' resolutions, so the query side learns the agents' base periods
 * here instead of assuming them.  Without @host, reserved hosts
 * (STORE_FLEET_HOST) are not listed.
 * @st: the store.
 * @host: only this host; NULL lists every host.
 * @group: only this group; NULL lists every group.
 * @from_s: first start, UTC epoch seconds, inclusive.
 * @to_s: last start, inclusive.
 * @fn: called per series.
 * @arg: passed to @fn.
 * @err: receives a message; may be NULL.
 *
 * @return 0, the first non-zero value returned by @fn, -EINVAL for an empty
 *         host or group, -EIO, -EBUSY, and for DynamoDB the errors of
 *         store_query().
 */
RTTQ_API int store_series(struct store *st, const char *host,
			  const char *group, int64_t from_s, int64_t to_s,
			  store_series_fn fn, void *arg,
			  struct rttq_error *err);

/**
 * store_finest_period() - the smallest resolution any host has stored for
 * @metric of @group, from the registry: the finest base period among the
 * hosts, so a fleet-wide reader knows how far its last period reaches
 * without listing every host.
 * @st: the store.
 * @group: the group.
 * @metric: the metric; NULL or "": METRIC_RTT.
 * @out: receives seconds; 0 when the registry cannot say (no series of
 *       the group and metric, or a DynamoDB table written before it kept
 *       this).
 * @err: receives a message; may be NULL.
 *
 * @return 0, -EINVAL for an empty group or an invalid metric name, the
 *         errors of store_series().
 */
RTTQ_API int store_finest_period(struct store *st, const char *group,
				 const char *metric, uint32_t *out,
				 struct rttq_error *err);

/**
 * store_periods() - every resolution the registry holds for @metric of
 * @group over all hosts, ascending: the hosts' base periods and the
 * rollups built from them, each once.  A reader that must know whether
 * every host has one base period (fleet records merge them all) looks at
 * what else is there.
 * @st: the store.
 * @group: the group.
 * @metric: the metric; NULL or "": METRIC_RTT.
 * @periods: receives the first @max, in seconds.
 * @max: room in @periods.
 * @n: receives how many there are, which may exceed @max; 0 when the
 *     registry cannot say (as for store_finest_period()).
 * @err: receives a message; may be NULL.
 *
 * @return as store_finest_period().
 */
RTTQ_API int store_periods(struct store *st, const char *group,
			   const char *metric, uint32_t *periods, size_t max,
			   size_t *n, struct rttq_error *err);

/*
 * Closed-flow records (`rttq-agent --flow-log RATE`): the sampled share of
 * connections' close records, kept apart from the digests.  The store does
 * not read a record: it keeps its bytes (a struct flow_record,
 * kernel/flow_record.h, as the agent read it) with the columns a query
 * selects on, so the store needs no kernel headers and the API formats
 * the fields with common/flows/flow_format.c.
 */
#define STORE_FLOW_MAX 512 /* bytes of one record's data, at most */

struct store_flow {
	const char *host;   /* agent's --host */
	const char *group;  /* the connection's group ("all", ...) */
	int64_t time_ms;    /* when it closed, UTC epoch milliseconds */
	const void *data;   /* the record's bytes */
	size_t len;         /* their length, 1 .. STORE_FLOW_MAX */
};

/* Called once per flow record, newest first; the record is only valid
 * during the call.  A non-zero return stops the read and is returned by
 * store_flows() (so a caller stops once it has enough). */
typedef int (*store_flow_fn)(const struct store_flow *flow, void *arg);

/* How long a flow record is kept after its close: 14 days. */
#define STORE_FLOW_RETENTION_S (14 * 86400)

/**
 * store_put_flows() - write @n flow records atomically (all or none for
 * SQLite).  Each is checked first: a host as store_put() wants it, a
 * non-empty group within STORE_GROUP_MAX, time_ms >= 0, 1 .. STORE_FLOW_MAX
 * bytes of data.
 * @st: the store.
 * @flows: the records.
 * @n: how many; 0 does nothing.
 * @err: receives a message naming the store and the record; may be NULL.
 *
 * SQLite keeps them in the table flows, DynamoDB in the store's table
 * under their own keys (store_dynamodb_flows.c), each for
 * STORE_FLOW_RETENTION_S after its close like base records: DynamoDB by
 * TTL, SQLite by deleting, in the same transaction, the ones that closed
 * that long before the newest of the batch.  Writing the same record again is one
 * item on DynamoDB, a second row on SQLite (the agent writes a batch in
 * one transaction, so a retry never half-repeats it).
 *
 * @return 0, -EINVAL for a record failing the checks (nothing written),
 *         -EBUSY, -ENOSPC, -EIO as for store_put(), and for DynamoDB the
 *         errors of ddb_call().
 */
RTTQ_API int store_put_flows(struct store *st, const struct store_flow *flows,
			     size_t n, struct rttq_error *err);

/**
 * store_flows() - call @fn for every flow record that closed in
 * [@from_ms, @to_ms], newest first.  A store written before flow records
 * existed (an SQLite file of schema version 3, opened read-only) has none:
 * no call, 0.  On DynamoDB a range costs a Query per UTC hour it touches, records or
 * not (rttq-api bounds it with --max-range).
 * @st: the store.
 * @host: only this host; NULL: every host.
 * @from_ms: UTC epoch milliseconds, inclusive.
 * @to_ms: inclusive; an empty range matches nothing.
 * @fn: called per record.
 * @arg: passed to @fn.
 * @err: receives a message; may be NULL.
 *
 * @return 0, the first non-zero value of @fn, -EINVAL for an empty or too
 *         long host, -EBADMSG for a damaged stored item, -EBUSY, -EIO,
 *         and for DynamoDB the errors of ddb_call().
 */
RTTQ_API int store_flows(struct store *st, const char *host, int64_t from_ms,
			 int64_t to_ms, store_flow_fn fn, void *arg,
			 struct rttq_error *err);

/**
 * store_ping() - check that the store answers (reads its records table).
 * @st: the store.
 * @err: receives a message; may be NULL.
 *
 * @return 0, -EIO, -EBUSY.
 */
RTTQ_API int store_ping(struct store *st, struct rttq_error *err);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_STORE_H */
