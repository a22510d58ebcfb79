// SPDX-License-Identifier: BSD-2-Clause
/*
 * store_put_flows() / store_flows() for DynamoDB (store_dynamodb.c): the
 * flow log in the store's table, under its own key prefix, one partition
 * per UTC hour of close time, so a time range is a Query per hour it
 * touches, newest first, whatever the number of hosts.
 *
 *   pk  S  "f#HOUR_START" (UTC epoch s)
 *   ts  N  (close_ms - HOUR_START * 1000) << 41 | H41(host "\n" record):
 *          in close order, so a Query reads [from, to] of the hour only;
 *          H41: the top 41 bits of dynamo_name_hash() over the host and
 *          the record's bytes in hex, so writing a record again (the
 *          writer retrying a batch) puts the same item, not a second one
 *   then host, grp, tms, d and expires (store_dynamodb_item.c)
 *
 * Two different records of one millisecond whose H41 collide (chance
 * ~n^2/2^42 for n records closing in the same millisecond) share an item:
 * one of them is lost.  A fleet writes every flow record of an hour to
 * one partition: at 1,000 write units a second that is ~1,000 kept closes
 * a second across the fleet (1% of 100,000 closes a second).  A range
 * with no records still costs a Query per hour (30 days: 720).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "store_dynamodb_private.h"
#include "strbuf.h"

#define BUCKET_MS 3600000
#define OFFSET_SHIFT 41 /* 22 bits of offset (< 3,600,000) above 41 of hash */
#define HASH_MASK ((INT64_C(1) << OFFSET_SHIFT) - 1)

static int64_t bucket_of(int64_t ms)
{
	return ms - ms % BUCKET_MS; /* ms >= 0: store.c checked */
}

static char *flow_pk(int64_t bucket_ms)
{
	char *pk = malloc(32);

	if (pk)
		snprintf(pk, 32, "f#%" PRId64, bucket_ms / 1000);
	return pk;
}

static int flow_ts(const struct store_flow *f, char *ts, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *d = f->data;
	struct strbuf b = STRBUF_INIT;
	uint64_t h;

	strbuf_adds(&b, f->host);
	strbuf_addc(&b, '\n');
	for (size_t i = 0; i < f->len; i++) {
		strbuf_addc(&b, hex[d[i] >> 4]);
		strbuf_addc(&b, hex[d[i] & 15]);
	}
	if (b.oom) {
		strbuf_release(&b);
		return -ENOMEM;
	}
	h = dynamo_name_hash(b.buf) >> (63 - OFFSET_SHIFT);
	strbuf_release(&b);
	snprintf(ts, len, "%" PRId64,
		 (f->time_ms - bucket_of(f->time_ms)) << OFFSET_SHIFT |
			 (int64_t)h);
	return 0;
}

static int unit_key_cmp(const void *a, const void *b)
{
	const struct unit *x = a, *y = b;
	int c = strcmp(x->pk, y->pk);

	return c ? c : strcmp(x->ts, y->ts);
}

int dynamo_put_flows(struct store *st, const struct store_flow *flows,
		     size_t n, struct rttq_error *err)
{
	struct dynamo_store *s = to_dynamo(st);
	struct unit *u = calloc(n, sizeof(*u));
	size_t kept = 0;
	int ret = 0;

	if (!u)
		return store_fail(st, err, -ENOMEM, "out of memory");
	for (size_t i = 0; !ret && i < n; i++) {
		u[i].kind = UNIT_FLOW;
		u[i].f = &flows[i];
		u[i].order = i;
		u[i].pk = flow_pk(bucket_of(flows[i].time_ms));
		if (!u[i].pk || flow_ts(&flows[i], u[i].ts, sizeof(u[i].ts)))
			ret = -ENOMEM;
	}
	if (!ret) {
		/* BatchWriteItem refuses a key twice in one request: the
		 * same record given twice is one item anyway. */
		qsort(u, n, sizeof(*u), unit_key_cmp);
		for (size_t i = 0; i < n; i++) {
			if (kept && unit_key_cmp(&u[kept - 1], &u[i]) == 0)
				free(u[i].pk);
			else
				u[kept++] = u[i];
		}
		ret = dynamo_write_units(s, u, kept, (int64_t)time(NULL), err);
		n = kept;
	} else {
		ret = store_fail(st, err, -ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		free(u[i].pk);
	free(u);
	return ret;
}

struct flows_ctx {
	const char *host;
	store_flow_fn fn;
	void *arg;
};

static int flow_item(struct dynamo_store *s, yajl_val item, void *ctx,
		     struct rttq_error *err)
{
	struct flows_ctx *c = ctx;
	struct store_flow f;
	uint8_t *data;
	int ret;

	ret = dynamo_item_flow(s, item, &f, &data, err);
	if (ret)
		return ret;
	if (!c->host || strcmp(c->host, f.host) == 0)
		ret = c->fn(&f, c->arg);
	free(data);
	return ret;
}

int dynamo_flows(struct store *st, const char *host, int64_t from_ms,
		 int64_t to_ms, store_flow_fn fn, void *arg,
		 struct rttq_error *err)
{
	struct dynamo_store *s = to_dynamo(st);
	struct flows_ctx c = { host, fn, arg };
	int ret = 0;

	if (to_ms < 0)
		return 0;
	if (from_ms < 0)
		from_ms = 0;
	/* Newest hour first, each read backwards. */
	for (int64_t h = bucket_of(to_ms); !ret && h + BUCKET_MS > from_ms;
	     h -= BUCKET_MS) {
		int64_t lo = from_ms > h ? from_ms - h : 0;
		int64_t hi = to_ms < h + BUCKET_MS ? to_ms - h : BUCKET_MS - 1;
		char *pk = flow_pk(h);

		if (!pk)
			return store_fail(st, err, -ENOMEM, "out of memory");
		ret = dynamo_query_ordered(s, pk, true, true,
					   lo << OFFSET_SHIFT,
					   hi << OFFSET_SHIFT | HASH_MASK, 0,
					   flow_item, &c, err);
		free(pk);
		if (h == 0)
			break;
	}
	return ret;
}
