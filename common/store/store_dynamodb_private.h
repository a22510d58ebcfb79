/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to the DynamoDB store backend (store_dynamodb*.c): the handle,
 * the units a put writes, the small JSON helpers every request uses
 * (static inline, so each file has them without exporting short names
 * from the library) and what one file of the backend calls in another.
 */
#ifndef RTTQ_STORE_DYNAMODB_PRIVATE_H
#define RTTQ_STORE_DYNAMODB_PRIVATE_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "dynamodb.h"
#include "store_backend.h"

#define TTL_ATTRIBUTE "expires" /* the attribute DynamoDB expires items by */

/* ---------------------------------------------------------------------------
 * The handle
 * ------------------------------------------------------------------------- */

struct registry_seen {
	uint64_t key;      /* H(pk "\n" ts) */
	int64_t written_s; /* when this process last wrote it */
};

struct dynamo_store {
	struct store base; /* first: store.c sees a struct store */
	struct ddb *ddb;
	char *table;
	struct registry_seen *seen;
	size_t n_seen, cap_seen;
};

static inline struct dynamo_store *to_dynamo(struct store *st)
{
	return (struct dynamo_store *)st;
}

/* ---------------------------------------------------------------------------
 * JSON generation (yajl_gen), every helper a no-op after an error
 * ------------------------------------------------------------------------- */

struct json {
	yajl_gen g;
	bool bad;
};

static inline void j_str(struct json *j, const char *s)
{
	if (!j->bad && yajl_gen_string(j->g, (const unsigned char *)s,
				       strlen(s)) != yajl_gen_status_ok)
		j->bad = true;
}

static inline void j_open(struct json *j)
{
	if (!j->bad && yajl_gen_map_open(j->g) != yajl_gen_status_ok)
		j->bad = true;
}

static inline void j_close(struct json *j)
{
	if (!j->bad && yajl_gen_map_close(j->g) != yajl_gen_status_ok)
		j->bad = true;
}

static inline void j_array_open(struct json *j)
{
	if (!j->bad && yajl_gen_array_open(j->g) != yajl_gen_status_ok)
		j->bad = true;
}

static inline void j_array_close(struct json *j)
{
	if (!j->bad && yajl_gen_array_close(j->g) != yajl_gen_status_ok)
		j->bad = true;
}

/* "name": {"TYPE": "value"} */
static inline void j_attr(struct json *j, const char *name, const char *type,
			  const char *value)
{
	j_str(j, name);
	j_open(j);
	j_str(j, type);
	j_str(j, value);
	j_close(j);
}

static inline void j_attr_int(struct json *j, const char *name, int64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRId64, v);
	j_attr(j, name, "N", num);
}

static inline int json_begin(struct json *j)
{
	j->bad = false;
	j->g = yajl_gen_alloc(NULL);
	if (!j->g)
		return -ENOMEM;
	j_open(j);
	return 0;
}

/* Closes the top-level object; @body points into the generator. */
static inline int json_finish(struct json *j, const char **body, size_t *len)
{
	const unsigned char *buf;

	j_close(j);
	if (j->bad || yajl_gen_get_buf(j->g, &buf, len) != yajl_gen_status_ok)
		return -ENOMEM;
	*body = (const char *)buf;
	return 0;
}

static inline void json_free(struct json *j)
{
	if (j->g)
		yajl_gen_free(j->g);
	j->g = NULL;
}

/* ---------------------------------------------------------------------------
 * JSON replies (yajl_tree)
 * ------------------------------------------------------------------------- */

static inline yajl_val j_get(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };

	return yajl_tree_get(obj, path, yajl_t_any);
}

/* Attribute @name of @item if it has type @type ("S", "N", "B"). */
static inline const char *attr_get(yajl_val item, const char *name,
				   const char *type)
{
	const char *path[] = { name, type, NULL };

	return YAJL_GET_STRING(yajl_tree_get(item, path, yajl_t_string));
}

/* A whole decimal integer in [@lo, @hi]: 0, else -1 (NULL included). */
static inline int parse_int(const char *s, int64_t lo, int64_t hi,
			    int64_t *out)
{
	char *end;
	long long v;

	if (!s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* ---------------------------------------------------------------------------
 * Items (store_dynamodb_item.c)
 * ------------------------------------------------------------------------- */

enum unit_kind {
	UNIT_ALL_HOSTS, /* registry first: a record is never unlisted */
	UNIT_GROUPS,
	UNIT_HOSTS,
	UNIT_PERIODS,
	UNIT_RECORD,
	UNIT_MIRROR,    /* a record's mirror (store_dynamodb_mirror.c) */
	UNIT_FLOW,      /* a flow-log record (store_dynamodb_flows.c) */
};

/* One item to put. */
struct unit {
	enum unit_kind kind;
	size_t order;                  /* position in the caller's batch */
	const struct store_record *r;  /* NULL for UNIT_FLOW */
	const struct store_flow *f;    /* UNIT_FLOW only */
	char *pk;
	char ts[24];
	uint64_t seen_key;             /* registry: H(pk "\n" ts) */
	bool done;
};

/**
 * dynamo_record_pk() - pk of a series' records,
 * "d#HOST#GROUP#PERIOD_S[#METRIC]", with '%' and '#' in host and group
 * escaped.
 * @host: the host.
 * @group: the group.
 * @metric: the metric; NULL, "" or "rtt" adds nothing.
 * @period_s: the resolution.
 *
 * @return the malloc()ed key, or NULL when out of memory.
 */
char *dynamo_record_pk(const char *host, const char *group,
		       const char *metric, uint32_t period_s);

struct strbuf;

/**
 * dynamo_add_metric() - append "#METRIC" to a key for any metric but rtt,
 * so rtt keys stay those written before metrics existed.
 * @b: the key being built.
 * @metric: the metric; NULL or "": rtt (nothing appended).
 */
void dynamo_add_metric(struct strbuf *b, const char *metric);

/**
 * dynamo_item_metric() - the metric of a record or g# registry item: its
 * "metric" attribute, METRIC_RTT when it has none (pointing into @item or
 * static).
 */
const char *dynamo_item_metric(yajl_val item);

/**
 * dynamo_periods_pk() - pk of the registry of a group's resolutions of a
 * metric over every host, "p#GROUP[#METRIC]" (ts: the period), whose
 * first item is the finest base period any host of the group has.
 * @group: the group.
 * @metric: the metric, as for dynamo_record_pk().
 *
 * @return the malloc()ed key, or NULL when out of memory.
 */
char *dynamo_periods_pk(const char *group, const char *metric);

/**
 * dynamo_hosts_pk() - pk of the registry of hosts of a series kind,
 * "h#GROUP#PERIOD_S[#METRIC]".
 * @group: the group.
 * @metric: the metric, as for dynamo_record_pk().
 * @period_s: the resolution.
 *
 * @return the malloc()ed key, or NULL when out of memory.
 */
char *dynamo_hosts_pk(const char *group, const char *metric,
		      uint32_t period_s);

/**
 * dynamo_groups_pk() - pk of the registry of a host's series, "g#HOST".
 * @host: the host.
 *
 * @return the malloc()ed key, or NULL when out of memory.
 */
char *dynamo_groups_pk(const char *host);

/**
 * dynamo_name_hash() - the first 63 bits of SHA-256(@s) as an integer: a
 * sort key that names a string (store_dynamodb_write.c).
 * @s: the string.
 *
 * @return the hash.
 */
uint64_t dynamo_name_hash(const char *s);

/* ---------------------------------------------------------------------------
 * The mirror of base records (store_dynamodb_mirror.c)
 * ------------------------------------------------------------------------- */

/**
 * dynamo_mirror_wanted() - whether a put of @r also writes its mirror
 * item: a base record (periods_total 1) or a 5-minute record of a host
 * not reserved.
 * @r: the record, checked.
 */
bool dynamo_mirror_wanted(const struct store_record *r);

/**
 * dynamo_mirror_pk() - pk of the mirror of @group's records of @metric
 * starting in the UTC hour of @start_s: "b#GROUP#HOUR_START[#METRIC]".
 * @group: the group.
 * @metric: the metric; NULL or "": METRIC_RTT, whose key has no suffix.
 * @start_s: a record's start.
 *
 * @return the malloc()ed key, or NULL when out of memory.
 */
char *dynamo_mirror_pk(const char *group, const char *metric,
		       int64_t start_s);

/**
 * dynamo_mirror_ts() - sort key of @r's mirror item, as decimal text.
 * @r: the record.
 * @ts: receives the text.
 * @len: its size (24 is enough).
 */
void dynamo_mirror_ts(const struct store_record *r, char *ts, size_t len);

/** dynamo_fine_records() - the ops table's fine_records: a Query per
 * hour partition of the mirror. */
int dynamo_fine_records(struct store *st, const char *group,
			const char *metric, int64_t from_s, int64_t to_s,
			store_record_fn fn, void *arg, struct rttq_error *err);

/**
 * dynamo_gen_item() - write the item of @u (a record or a registry entry)
 * as a DynamoDB JSON object.
 * @j: the generator; its bad flag reports a failure.
 * @u: the unit, with its pk and ts.
 * @now: the time registry items' TTL counts from, UTC epoch s.
 */
void dynamo_gen_item(struct json *j, const struct unit *u, int64_t now);

/**
 * dynamo_attr_binary() - "name": {"B": base64 of @data}.
 * @j: the generator; its bad flag reports a failure.
 * @name: the attribute name (or ":value" placeholder).
 * @data: the bytes.
 * @len: their length.
 */
void dynamo_attr_binary(struct json *j, const char *name,
			const uint8_t *data, size_t len);

/**
 * dynamo_bad_item() - fail naming a damaged item by its pk and ts.
 * @s: the store, for the message's URL.
 * @item: the item read.
 * @what: the attribute that is missing or out of range.
 * @err: receives the message; may be NULL.
 *
 * @return -EBADMSG.
 */
int dynamo_bad_item(struct dynamo_store *s, yajl_val item, const char *what,
		    struct rttq_error *err);

/**
 * dynamo_item_record() - a record item's attributes, checked, into @r.
 * @s: the store, for messages.
 * @item: the item read; @r's host and group point into it.
 * @r: receives the record.
 * @digest: receives the malloc()ed digest bytes @r points to, for the
 * caller to free() (NULL on failure).
 * @err: receives the message; may be NULL.
 *
 * @return 0, or -EBADMSG (dynamo_bad_item()) when an attribute is missing
 * or out of range.
 */
int dynamo_item_record(struct dynamo_store *s, yajl_val item,
		       struct store_record *r, uint8_t **digest,
		       struct rttq_error *err);

/* ---------------------------------------------------------------------------
 * Table (store_dynamodb_table.c)
 * ------------------------------------------------------------------------- */

/**
 * dynamo_wait_active() - DescribeTable until the table is ACTIVE, checking
 * its key schema.
 * @s: the store.
 * @create: create the table when it is missing (CreateTable, on-demand).
 * @err: receives the message; may be NULL.
 *
 * @return 0, -ENOENT (no table, and not @create), -EINVAL (another key
 * schema), -ETIMEDOUT (not ACTIVE in time), -ENOMEM, or what ddb_call()
 * returns.
 */
int dynamo_wait_active(struct dynamo_store *s, bool create,
		       struct rttq_error *err);

/**
 * dynamo_ensure_ttl() - turn TTL on for "expires" unless it is on; a
 * server without TTL support gets a warning on stderr, not an error.
 * @s: the store.
 * @url: the store URL, for the warning.
 * @err: receives the message; may be NULL.
 *
 * @return 0, -ENOMEM, or what ddb_call() returns.
 */
int dynamo_ensure_ttl(struct dynamo_store *s, const char *url,
		      struct rttq_error *err);

/** dynamo_ping() - the ops table's ping: DescribeTable. */
int dynamo_ping(struct store *st, struct rttq_error *err);

/* ---------------------------------------------------------------------------
 * store_put (store_dynamodb_write.c), store_query and store_series
 * (store_dynamodb_read.c)
 * ------------------------------------------------------------------------- */

/* Called per item a Query returns; a non-zero return stops the Query. */
typedef int (*dynamo_item_fn)(struct dynamo_store *s, yajl_val item,
			      void *ctx, struct rttq_error *err);

/**
 * dynamo_query_ordered() - Query partition @pk, every page, in ts order,
 * or newest first when @backward (store_dynamodb_read.c); the other
 * parameters as for dynamo_query_partition().
 */
int dynamo_query_ordered(struct dynamo_store *s, const char *pk,
			 bool ranged, bool backward, int64_t from_s,
			 int64_t to_s, unsigned int limit, dynamo_item_fn fn,
			 void *ctx, struct rttq_error *err);

/**
 * dynamo_query_partition() - Query partition @pk, every page, in ts order
 * (store_dynamodb_read.c).
 * @s: the store.
 * @pk: the partition.
 * @ranged: only items with ts in [@from_s, @to_s].
 * @from_s: lowest ts.
 * @to_s: highest ts.
 * @limit: > 0: stop after that many items.
 * @fn: called per item.
 * @ctx: passed to @fn.
 * @err: receives the message; may be NULL.
 *
 * @return 0, @fn's value, -ENOMEM, -EPROTO for a malformed reply, or what
 * ddb_call() returns.
 */
static inline int dynamo_query_partition(struct dynamo_store *s,
					 const char *pk, bool ranged,
					 int64_t from_s, int64_t to_s,
					 unsigned int limit,
					 dynamo_item_fn fn, void *ctx,
					 struct rttq_error *err)
{
	return dynamo_query_ordered(s, pk, ranged, false, from_s, to_s, limit,
				    fn, ctx, err);
}

/* What a Query of records calls per record (store_query()'s callback). */
struct dynamo_record_ctx {
	store_record_fn fn;
	void *arg;
};

/**
 * dynamo_record_item() - a dynamo_item_fn for record items: checks @item
 * (dynamo_item_record()) and calls the struct dynamo_record_ctx at @ctx.
 *
 * @return 0, the callback's value, or dynamo_item_record()'s error.
 */
int dynamo_record_item(struct dynamo_store *s, yajl_val item, void *ctx,
		       struct rttq_error *err);

/**
 * dynamo_write_units() - put the @n items of @u with BatchWriteItem, 25 at
 * a time, resubmitting unprocessed ones with backoff
 * (store_dynamodb_write.c).  No two units may share a key.
 * @s: the store.
 * @u: the items.
 * @n: how many.
 * @now: the time registry items' TTL counts from, UTC epoch s.
 * @err: receives the message; may be NULL.
 *
 * @return 0, -ENOMEM, -EBUSY (still throttled after the resubmissions), or
 *         what ddb_call() returns.
 */
int dynamo_write_units(struct dynamo_store *s, struct unit *u, size_t n,
		       int64_t now, struct rttq_error *err);

/**
 * dynamo_item_flow() - a flow-log item read back (store_dynamodb_item.c).
 * @s: the store.
 * @item: the item.
 * @f: receives the record; host and group point into @item, data into
 *     @data.
 * @data: receives the malloc()ed record bytes (the caller frees them).
 * @err: receives the message; may be NULL.
 *
 * @return 0, -EBADMSG for a missing or malformed attribute, -ENOMEM.
 */
int dynamo_item_flow(struct dynamo_store *s, yajl_val item,
		     struct store_flow *f, uint8_t **data,
		     struct rttq_error *err);

/** dynamo_put_flows() - the ops table's put_flows (store_dynamodb_flows.c). */
int dynamo_put_flows(struct store *st, const struct store_flow *flows,
		     size_t n, struct rttq_error *err);

/** dynamo_flows() - the ops table's flows (store_dynamodb_flows.c): a
 * Query per hour partition, newest hour first. */
int dynamo_flows(struct store *st, const char *host, int64_t from_ms,
		 int64_t to_ms, store_flow_fn fn, void *arg,
		 struct rttq_error *err);

/** dynamo_put() - the ops table's put: BatchWriteItem, registry first. */
int dynamo_put(struct store *st, const struct store_record *recs, size_t n,
	       struct rttq_error *err);

/** dynamo_put_if() - the ops table's put_if: PutItem of the record item
 * alone, with a condition on the stored item (no registry items: fleet
 * records are read by name). */
int dynamo_put_if(struct store *st, const struct store_record *rec,
		  const uint8_t *expect, size_t expect_len,
		  struct rttq_error *err);

/** dynamo_query() - the ops table's query: paginated Query per host. */
int dynamo_query(struct store *st, const struct store_query *q,
		 store_record_fn fn, void *arg, struct rttq_error *err);

/** dynamo_periods() - the ops table's periods: the items of p#GROUP
 * (one per resolution, ts the period, so in order). */
int dynamo_periods(struct store *st, const char *group, const char *metric,
		   uint32_t *periods, size_t max, size_t *n,
		   struct rttq_error *err);

/** dynamo_series() - the ops table's series: the registry, then Limit-1
 * Query probes for a record in the range. */
int dynamo_series(struct store *st, const char *host, const char *group,
		  int64_t from_s, int64_t to_s, store_series_fn fn, void *arg,
		  struct rttq_error *err);

#endif /* RTTQ_STORE_DYNAMODB_PRIVATE_H */
