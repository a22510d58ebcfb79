// SPDX-License-Identifier: BSD-2-Clause
/*
 * The mirror on DynamoDB (store_fine_records() in store.h): store_put
 * writes each base record and each 5-minute record a second time, in the
 * same BatchWriteItem, into an hour partition of its group, so the parts
 * of a fleet query no fleet record covers (the minutes before now, the
 * partial span at its start, stale spans) are a Query per hour they touch
 * for any number of hosts, instead of a listing of the hosts and a few
 * Queries per host.
 *
 *   pk      S  "b#GROUP#HOUR_START[#METRIC]"  every host's base and
 *                                        5-minute records of the metric
 *                                        starting in that UTC hour; rtt's
 *                                        key has no "#METRIC", like every
 *                                        other key (store_dynamodb_item.c)
 *   ts      N  (start_s - HOUR_START) << 51 | H51(host "#" period_s):
 *              in start order, so a Query reads [from, to] of the hour
 *              only; H51: the top 51 bits of dynamo_name_hash()
 *   start_s N  the record's start; then the attributes of a record item,
 *              its TTL included: the mirror holds what the hosts' base
 *              partitions hold
 *
 * Two hosts of a group whose H51 collide (chance ~n^2/2^52: 2e-8 for
 * 10,000 hosts) would share an item; a fleet answer would then miss one
 * host's records of the spans read here.
 *
 * Pages: a Query returns at most 1 MB.  A 60 s host writes 72 records of
 * about 370 B per hour and group, so a whole hour partition of 200 hosts
 * is ~5 MB, of 10,000 hosts ~270 MB: a read costs a request per MB of the
 * records it returns, not requests per host; the few minutes a fleet
 * query reads here are ~0.3 MB per 100 hosts.  A group's writes go to one
 * partition at a time: ~200 items/s at 10,000 60 s hosts, within one
 * partition's 1,000 write units per second; 10 s periods at that size
 * would reach it.
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

static int64_t bucket_of(int64_t start_s)
{
	int64_t r = start_s % BUCKET_S;

	return r < 0 ? start_s - r - BUCKET_S : start_s - r;
}

bool dynamo_mirror_wanted(const struct store_record *r)
{
	return (r->periods_total == 1 || r->period_s == 300) &&
	       !store_host_reserved(r->host);
}

char *dynamo_mirror_pk(const char *group, const char *metric,
		       int64_t start_s)
{
	char *g = dynamo_periods_pk(group, NULL); /* "p#GROUP", escaped */
	struct strbuf b = STRBUF_INIT;

	if (!g)
		return NULL;
	strbuf_adds(&b, "b#");
	strbuf_adds(&b, g + 2);
	strbuf_addf(&b, "#%" PRId64, bucket_of(start_s));
	dynamo_add_metric(&b, metric);
	free(g);
	return strbuf_detach(&b, NULL);
}

void dynamo_mirror_ts(const struct store_record *r, char *ts, size_t len)
{
	char sub[STORE_HOST_MAX + 16];
	uint64_t off = (uint64_t)(r->start_s - bucket_of(r->start_s));

	snprintf(sub, sizeof(sub), "%s#%" PRIu32, r->host, r->period_s);
	snprintf(ts, len, "%" PRIu64, off << OFFSET_SHIFT |
		 dynamo_name_hash(sub) >> (63 - OFFSET_SHIFT));
}

int dynamo_fine_records(struct store *st, const char *group,
			const char *metric, int64_t from_s, int64_t to_s,
			store_record_fn fn, void *arg, struct rttq_error *err)
{
	struct dynamo_store *s = to_dynamo(st);
	struct dynamo_record_ctx c = { fn, arg };
	int ret = 0;

	/* One Query per hour partition, paged; ts orders by start. */
	for (int64_t h = bucket_of(from_s); !ret && h <= to_s; h += BUCKET_S) {
		uint64_t lo = (uint64_t)(from_s > h ? from_s - h : 0);
		uint64_t hi = (uint64_t)(to_s < h + BUCKET_S ? to_s - h :
							       BUCKET_S - 1);
		char *pk = dynamo_mirror_pk(group, metric, h);

		if (!pk)
			return store_fail(st, err, -ENOMEM, "out of memory");
		ret = dynamo_query_partition(s, pk, true,
					     (int64_t)(lo << OFFSET_SHIFT),
					     (int64_t)(hi << OFFSET_SHIFT |
						       HASH_MASK),
					     0, dynamo_record_item, &c, err);
		free(pk);
	}
	return ret;
}
