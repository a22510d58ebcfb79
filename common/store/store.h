/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The store: where per-period digests live.  One logical record per
 * (host, group, resolution, period start).  Backends sit behind one
 * interface and are chosen by URL: `sqlite:PATH` (embedded default) and,
 * later, `dynamodb:TABLE[?region=R&endpoint=URL]`.
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

struct store;

struct store_record {
	const char *host;       /* agent's --host */
	const char *group;      /* "all", "raddr:10.0.0.2", ... */
	uint32_t period_s;      /* resolution: base period (60), 3600, 86400 */
	int64_t start_s;        /* period start, UTC epoch seconds */
	uint32_t periods;       /* base periods merged into this record */
	uint32_t periods_total; /* base periods the resolution spans; the
				 * record is complete when periods equals it */
	uint64_t count;         /* RTT samples */
	double sum_us;          /* sum of the samples, microseconds */
	double min_us;          /* smallest sample, microseconds */
	double max_us;          /* largest sample, microseconds */
	const uint8_t *digest;  /* codec_encode() bytes */
	size_t digest_len;      /* their length */
};

struct store_query {
	const char *host;  /* NULL: every host */
	const char *group; /* NULL: "all" */
	uint32_t period_s; /* resolution to read */
	int64_t from_s;    /* records whose start lies in [from_s, to_s] */
	int64_t to_s;
};

/* Called once per record; the record is only valid during the call.
 * A non-zero return stops the query and is returned by store_query(). */
typedef int (*store_record_fn)(const struct store_record *rec, void *arg);

/* Called once per distinct (host, group) series. */
typedef int (*store_series_fn)(const char *host, const char *group,
			       void *arg);

/**
 * store_open() - open (creating when needed) the store named by @url.
 * @url: "sqlite:PATH" (or a bare path ending in .db).
 * @out: receives the store.
 * @err: receives a message naming the URL and the problem; may be NULL.
 *
 * @return 0, -EINVAL for a malformed or unknown URL, -EACCES / -EIO /
 *         -ENOENT when the backend cannot be opened, -ENOMEM.
 */
RTTQ_API int store_open(const char *url, struct store **out,
			struct rttq_error *err);

/** store_close() - flush and release @st; NULL does nothing. */
RTTQ_API void store_close(struct store *st);

/**
 * store_put() - write @n records atomically (all or none for SQLite).
 *
 * @return 0, -EINVAL for a record with empty host/group or zero period,
 *         -EIO when the backend refused the write.
 */
RTTQ_API int store_put(struct store *st, const struct store_record *recs,
		       size_t n, struct rttq_error *err);

/**
 * store_query() - call @fn for every record matching @q, ordered by host
 * then start time.
 *
 * @return 0, the first non-zero value returned by @fn, -EIO.
 */
RTTQ_API int store_query(struct store *st, const struct store_query *q,
			 store_record_fn fn, void *arg, struct rttq_error *err);

/**
 * store_series() - call @fn for every (host, group) with a record of any
 * resolution starting in [from_s, to_s]; @host NULL lists every host.
 *
 * @return 0, the first non-zero value returned by @fn, -EIO.
 */
RTTQ_API int store_series(struct store *st, const char *host, int64_t from_s,
			  int64_t to_s, store_series_fn fn, void *arg,
			  struct rttq_error *err);

/**
 * store_ping() - check that the store answers.
 *
 * @return 0, -EIO.
 */
RTTQ_API int store_ping(struct store *st, struct rttq_error *err);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_STORE_H */
