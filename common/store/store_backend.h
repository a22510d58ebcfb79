/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to common/store: the ops table a backend fills in, and the base
 * struct every backend's handle starts with.  store.c parses the URL,
 * validates arguments once for all backends, then dispatches here.
 */
#ifndef RTTQ_STORE_BACKEND_H
#define RTTQ_STORE_BACKEND_H

#include <stdbool.h>

#include "store.h"

struct store_ops {
	const char *scheme; /* URL prefix before ':' ("sqlite") */

	/* @location is the URL after "scheme:"; store.c then sets ops, url.
	 * @setup: create and upgrade what is missing (store_open()), else
	 * only check that a store is there (store_open_read()). */
	int (*open)(const char *url, const char *location, bool setup,
		    struct store **out,
		    struct rttq_error *err);
	/* Another handle on @st's store; store.c then sets ops, url. */
	int (*sibling)(struct store *st, struct store **out,
		       struct rttq_error *err);
	void (*close)(struct store *st);
	/* Records and queries arrive already validated by store.c. */
	int (*put)(struct store *st, const struct store_record *recs, size_t n,
		   struct rttq_error *err);
	/* store_put_fleet(): write @rec if the stored record is absent
	 * (@expect NULL) or has digest @expect; else -ESTALE, without a
	 * message (store.c writes it). */
	int (*put_if)(struct store *st, const struct store_record *rec,
		      const uint8_t *expect, size_t expect_len,
		      struct rttq_error *err);
	int (*query)(struct store *st, const struct store_query *q,
		     store_record_fn fn, void *arg, struct rttq_error *err);
	int (*series)(struct store *st, const char *host, const char *group,
		      int64_t from_s, int64_t to_s, store_series_fn fn,
		      void *arg, struct rttq_error *err);
	/* store_fine_records(): reserved hosts left out by the backend;
	 * @metric is never NULL. */
	int (*fine_records)(struct store *st, const char *group,
			    const char *metric, int64_t from_s, int64_t to_s, store_record_fn fn,
			    void *arg, struct rttq_error *err);
	/* store_periods(): @metric is never NULL (store_period_list). */
	int (*periods)(struct store *st, const char *group,
		       const char *metric, uint32_t *periods, size_t max,
		       size_t *n, struct rttq_error *err);
	/* store_put_flows() / store_flows(). */
	int (*put_flows)(struct store *st, const struct store_flow *flows,
			 size_t n, struct rttq_error *err);
	int (*flows)(struct store *st, const char *host, int64_t from_ms,
		     int64_t to_ms, store_flow_fn fn, void *arg,
		     struct rttq_error *err);
	int (*ping)(struct store *st, struct rttq_error *err);
	/* store_set_deadline(): any thread, during any other call. */
	void (*set_deadline)(struct store *st, int64_t deadline_ms);
};

/* First member of every backend's handle, so a struct store * is both. */
/*
 * What a backend's periods op fills: the first @max periods into @v, and
 * how many there are in @n.
 */
struct store_period_list {
	uint32_t *v;
	size_t max;
	size_t n;
};

static inline void store_period_list_add(struct store_period_list *l,
					 uint32_t period_s)
{
	if (l->n < l->max)
		l->v[l->n] = period_s;
	l->n++;
}

struct store {
	const struct store_ops *ops;
	char *url; /* as the user wrote it, for messages; owned */
	struct store *siblings[STORE_SIBLINGS]; /* store_sibling(); owned */
};

extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_dynamodb_ops;

/**
 * store_fleet_marks() - the stale marks of the late records among @recs
 * (store_fleet.c): one per (group, metric, resolution, span start), each a fleet
 * record with periods 0 and @token as its digest.
 * @recs: records about to be written (checked).
 * @n: how many.
 * @now_s: the wall clock, UTC epoch seconds.
 * @token: STORE_MARK_TOKEN_LEN random bytes, shared by every mark.
 * @out: receives the malloc()ed marks (group pointers into @recs), NULL
 *       when there are none.
 * @n_out: receives how many.
 *
 * @return 0, -ENOMEM.
 */
int store_fleet_marks(const struct store_record *recs, size_t n,
		      int64_t now_s, const uint8_t *token,
		      struct store_record **out, size_t *n_out);

/* rttq_fail() with "store URL: " in front of the message. */
int store_fail(const struct store *st, struct rttq_error *err, int code,
	       const char *fmt, ...) RTTQ_PRINTF(4, 5);

#endif /* RTTQ_STORE_BACKEND_H */
