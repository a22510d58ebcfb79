// SPDX-License-Identifier: BSD-2-Clause
/*
 * Recent records on DynamoDB (store_recent() in store.h): store_put writes
 * each base record a second time into an hour partition of its group, so
 * the tail of a fleet query that no fleet record covers yet is a Query or
 * two for any number of hosts, instead of a listing of hosts and a few
 * Queries per host.
 *
 *   pk      S  "r#GROUP#HOUR_START"      every host's base records whose
 *                                        start lies in that UTC hour
 *   ts      N  (start_s - HOUR_START) << 51 | H51(host "#" period_s)
 *              in start order, so a Query reads [from, to] of the hour
 *              only; H51: the top 51 bits of name_hash()
 *   start_s N  the record's start; then the attributes of a record item
 *   expires N  start_s + period_s + STORE_RECENT_S + 1 h: the copy only
 *              has to outlive the reads store_recent() allows
 *
 * Two hosts of a group whose H51 collide (chance ~n^2/2^52: 2e-8 for
 * 10,000 hosts) would share a copy; the fleet answer would then miss one
 * host's records of the last hours.
 *
 * Pages: a Query returns at most 1 MB.  A 60 s host writes 60 records of
 * a few hundred bytes per hour and group, so an hour partition of 200
 * hosts is ~4 MB and one of 10,000 hosts ~200 MB: the requests of a
 * recent read grow with bytes read (one per MB), not with a fixed number
 * per host.  The writes of a group go to one partition at a time: at
 * 10,000 60 s hosts that is ~170 writes/s, within the 1,000 write units
 * per second of one DynamoDB partition; 10 s base periods at that fleet
 * size would reach it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "store_dynamodb_private.h"
#include "strbuf.h"

#define BUCKET_S 3600
#define OFFSET_SHIFT 51 /* 12 bits of offset (< 3600) above 51 of hash */
#define HASH_MASK ((UINT64_C(1) << OFFSET_SHIFT) - 1)
#define KEEP_S (STORE_RECENT_S + 3600)

static int64_t bucket_of(int64_t start_s)
{
	int64_t r = start_s % BUCKET_S;

	return r < 0 ? start_s - r - BUCKET_S : start_s - r;
}

bool dynamo_recent_wanted(const struct store_record *r, int64_t now)
{
	/* Base records only, and none the store would never read back. */
	return r->periods_total == 1 && !store_host_reserved(r->host) &&
	       dynamo_recent_expires(r) > now;
}

int64_t dynamo_recent_expires(const struct store_record *r)
{
	return r->start_s + (int64_t)r->period_s + KEEP_S;
}

char *dynamo_recent_pk(const char *group, int64_t start_s)
{
	char *g = dynamo_periods_pk(group); /* "p#GROUP", escaped */
	struct strbuf b = STRBUF_INIT;

	if (!g)
		return NULL;
	strbuf_adds(&b, "r#");
	strbuf_adds(&b, g + 2);
	strbuf_addf(&b, "#%" PRId64, bucket_of(start_s));
	free(g);
	return strbuf_detach(&b, NULL);
}

void dynamo_recent_ts(const struct store_record *r, char *ts, size_t len)
{
	char sub[STORE_HOST_MAX + 16];
	uint64_t off = (uint64_t)(r->start_s - bucket_of(r->start_s));

	snprintf(sub, sizeof(sub), "%s#%" PRIu32, r->host, r->period_s);
	snprintf(ts, len, "%" PRIu64, off << OFFSET_SHIFT |
		 dynamo_name_hash(sub) >> (63 - OFFSET_SHIFT));
}

/* Keeps base records of the period asked for (0: any). */
struct recent_ctx {
	struct dynamo_record_ctx rc;
	uint32_t period_s;
};

static int recent_item(struct dynamo_store *s, yajl_val item, void *ctx,
		       struct rttq_error *err)
{
	struct recent_ctx *c = ctx;
	struct store_record r;
	uint8_t *digest;
	int ret;

	ret = dynamo_item_record(s, item, &r, &digest, err);
	if (ret)
		return ret;
	if (!c->period_s || r.period_s == c->period_s)
		ret = c->rc.fn(&r, c->rc.arg);
	free(digest);
	return ret;
}

int dynamo_recent(struct store *st, const char *group, uint32_t period_s,
		  int64_t from_s, int64_t to_s, store_record_fn fn, void *arg,
		  struct rttq_error *err)
{
	struct dynamo_store *s = to_dynamo(st);
	struct recent_ctx c = { { fn, arg }, period_s };
	int ret = 0;

	/* One Query per hour partition, paged; ts orders by start. */
	for (int64_t h = bucket_of(from_s); !ret && h <= to_s; h += BUCKET_S) {
		int64_t lo = from_s > h ? from_s - h : 0;
		int64_t hi = to_s < h + BUCKET_S ? to_s - h : BUCKET_S - 1;
		char *pk = dynamo_recent_pk(group, h);

		if (!pk)
			return store_fail(st, err, -ENOMEM, "out of memory");
		ret = dynamo_query_partition(s, pk, true,
					     (int64_t)((uint64_t)lo << OFFSET_SHIFT),
					     (int64_t)((uint64_t)hi << OFFSET_SHIFT |
						       HASH_MASK),
					     0, recent_item, &c, err);
		free(pk);
	}
	return ret;
}
