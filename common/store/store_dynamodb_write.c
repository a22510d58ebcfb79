// SPDX-License-Identifier: BSD-2-Clause
/*
 * store_put for DynamoDB (store_dynamodb.c): records and the registry
 * items not written lately become units, deduplicated by key, and go out
 * in BatchWriteItem requests of 25 until none is left unprocessed.  The
 * seen-cache remembers which registry items this process wrote and when.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "store_dynamodb_private.h"
#include "strbuf.h"

#define BATCH_MAX 25             /* BatchWriteItem's limit */
#define UNPROCESSED_ROUNDS 12    /* resubmissions before giving up */
#define REGISTRY_REFRESH_S 86400 /* rewrite registry items this often */

/* ---------------------------------------------------------------------------
 * The seen-cache of registry items
 * ------------------------------------------------------------------------- */

/* s->seen is kept sorted by key: an agent with many groups checks a few
 * thousand registry keys on every put. */
static size_t seen_slot(const struct dynamo_store *s, uint64_t key)
{
	size_t lo = 0, hi = s->n_seen;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->seen[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool seen_recently(struct dynamo_store *s, uint64_t key, int64_t now)
{
	size_t i = seen_slot(s, key);

	return i < s->n_seen && s->seen[i].key == key &&
	       now - s->seen[i].written_s < REGISTRY_REFRESH_S;
}

static void mark_seen(struct dynamo_store *s, uint64_t key, int64_t now)
{
	size_t i = seen_slot(s, key);
	struct registry_seen *n;

	if (i < s->n_seen && s->seen[i].key == key) {
		s->seen[i].written_s = now;
		return;
	}
	if (s->n_seen == s->cap_seen) {
		size_t cap = s->cap_seen ? s->cap_seen * 2 : 64;

		n = realloc(s->seen, cap * sizeof(*n));
		if (!n)
			return; /* only costs a rewrite next time */
		s->seen = n;
		s->cap_seen = cap;
	}
	memmove(&s->seen[i + 1], &s->seen[i], (s->n_seen - i) * sizeof(*s->seen));
	s->seen[i] = (struct registry_seen){ key, now };
	s->n_seen++;
}

uint64_t dynamo_name_hash(const char *s)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	uint64_t h = 0;

	EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 8; i++)
		h = h << 8 | md[i];
	return h >> 1;
}

static uint64_t registry_key(const char *pk, const char *ts)
{
	struct strbuf b = STRBUF_INIT;
	uint64_t h;

	strbuf_adds(&b, pk);
	strbuf_addc(&b, '\n');
	strbuf_adds(&b, ts);
	h = b.oom ? 0 : dynamo_name_hash(b.buf);
	strbuf_release(&b);
	return h;
}

/* ---------------------------------------------------------------------------
 * Units: what one put writes
 * ------------------------------------------------------------------------- */

static int unit_cmp(const void *a, const void *b)
{
	const struct unit *x = a, *y = b;
	int c;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	c = strcmp(x->pk, y->pk);
	if (!c)
		c = strcmp(x->ts, y->ts);
	if (!c)
		c = x->order < y->order ? -1 : x->order > y->order;
	return c;
}

static int add_unit(struct unit *u, size_t *n, enum unit_kind kind,
		    const struct store_record *r, size_t order)
{
	struct unit *x = &u[*n];
	struct strbuf sub = STRBUF_INIT;

	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->r = r;
	x->order = order;
	switch (kind) {
	case UNIT_RECORD:
		x->pk = dynamo_record_pk(r->host, r->group, r->metric,
					 r->period_s);
		snprintf(x->ts, sizeof(x->ts), "%" PRId64, r->start_s);
		break;
	case UNIT_MIRROR:
		x->pk = dynamo_mirror_pk(r->group, r->metric, r->start_s);
		dynamo_mirror_ts(r, x->ts, sizeof(x->ts));
		break;
	case UNIT_HOSTS:
		x->pk = dynamo_hosts_pk(r->group, r->metric, r->period_s);
		snprintf(x->ts, sizeof(x->ts), "%" PRIu64,
			 dynamo_name_hash(r->host));
		break;
	case UNIT_GROUPS:
		x->pk = dynamo_groups_pk(r->host);
		strbuf_addf(&sub, "%s#%" PRIu32, r->group, r->period_s);
		dynamo_add_metric(&sub, r->metric);
		if (sub.oom) {
			free(x->pk);
			x->pk = NULL;
		} else {
			snprintf(x->ts, sizeof(x->ts), "%" PRIu64,
				 dynamo_name_hash(sub.buf));
		}
		strbuf_release(&sub);
		break;
	case UNIT_PERIODS:
		x->pk = dynamo_periods_pk(r->group, r->metric);
		snprintf(x->ts, sizeof(x->ts), "%" PRIu32, r->period_s);
		break;
	case UNIT_FLOW: /* store_dynamodb_flows.c makes its own units */
		break;
	case UNIT_ALL_HOSTS:
		x->pk = strdup("H");
		snprintf(x->ts, sizeof(x->ts), "%" PRIu64,
			 dynamo_name_hash(r->host));
		break;
	}
	if (!x->pk)
		return -ENOMEM;
	if (kind < UNIT_RECORD)
		x->seen_key = registry_key(x->pk, x->ts);
	(*n)++;
	return 0;
}

/* Records plus the registry items not written lately, sorted, one unit per
 * key (the caller's last record of a key wins). */
static int plan_units(struct dynamo_store *s, const struct store_record *recs,
		      size_t n, int64_t now, struct unit **out, size_t *n_out)
{
	struct unit *u;
	size_t nu = 0, kept = 0;
	int ret = 0;

	/* A record, its mirror item and its registry items. */
	u = calloc(6 * n, sizeof(*u));
	if (!u)
		return -ENOMEM;
	for (size_t i = 0; !ret && i < n; i++) {
		ret = add_unit(u, &nu, UNIT_RECORD, &recs[i], i);
		/* In the same BatchWriteItem: write units, not requests. */
		if (!ret && dynamo_mirror_wanted(&recs[i]))
			ret = add_unit(u, &nu, UNIT_MIRROR, &recs[i], i);
		/* The fleet's records are read by name, never listed. */
		if (store_host_reserved(recs[i].host))
			continue;
		for (int k = UNIT_ALL_HOSTS; !ret && k <= UNIT_PERIODS; k++) {
			ret = add_unit(u, &nu, k, &recs[i], i);
			if (!ret && seen_recently(s, u[nu - 1].seen_key, now))
				free(u[--nu].pk);
		}
	}
	if (ret) {
		for (size_t i = 0; i < nu; i++)
			free(u[i].pk);
		free(u);
		return ret;
	}
	qsort(u, nu, sizeof(*u), unit_cmp);
	for (size_t i = 0; i < nu; i++) {
		bool last_of_key = i + 1 == nu || u[i + 1].kind != u[i].kind ||
				   strcmp(u[i + 1].pk, u[i].pk) != 0 ||
				   strcmp(u[i + 1].ts, u[i].ts) != 0;

		if (last_of_key)
			u[kept++] = u[i];
		else
			free(u[i].pk);
	}
	*out = u;
	*n_out = kept;
	return 0;
}

/* ---------------------------------------------------------------------------
 * BatchWriteItem
 * ------------------------------------------------------------------------- */

/* Marks done the units of @batch that are not in the reply's
 * UnprocessedItems; returns how many are left. */
static size_t mark_processed(struct dynamo_store *s, yajl_val reply,
			     struct unit **batch, size_t n)
{
	const char *path[] = { "UnprocessedItems", s->table, NULL };
	yajl_val left = yajl_tree_get(reply, path, yajl_t_array);
	size_t n_left = 0;

	for (size_t i = 0; i < n; i++)
		batch[i]->done = true;
	if (!left)
		return 0;
	for (size_t k = 0; k < left->u.array.len; k++) {
		const char *ipath[] = { "PutRequest", "Item", NULL };
		yajl_val item = yajl_tree_get(left->u.array.values[k], ipath,
					      yajl_t_object);
		const char *pk = attr_get(item, "pk", "S");
		const char *ts = attr_get(item, "ts", "N");

		for (size_t i = 0; pk && ts && i < n; i++) {
			if (batch[i]->done && strcmp(batch[i]->pk, pk) == 0 &&
			    strcmp(batch[i]->ts, ts) == 0) {
				batch[i]->done = false;
				n_left++;
				break;
			}
		}
	}
	return n_left;
}

int dynamo_write_units(struct dynamo_store *s, struct unit *u, size_t n,
		       int64_t now, struct rttq_error *err)
{
	struct unit *batch[BATCH_MAX];
	unsigned int rounds = 0;
	size_t next = 0;

	for (;;) {
		struct json j = { 0 };
		yajl_val reply = NULL;
		const char *body;
		size_t nb = 0, len, left;
		int ret;

		/* Undone units first (resubmits), then fresh ones. */
		for (size_t i = 0; i < next && nb < BATCH_MAX; i++)
			if (!u[i].done)
				batch[nb++] = &u[i];
		while (nb < BATCH_MAX && next < n)
			batch[nb++] = &u[next++];
		if (nb == 0)
			return 0;

		ret = json_begin(&j);
		if (ret)
			return store_fail(&s->base, err, ret, "out of memory");
		j_str(&j, "RequestItems");
		j_open(&j);
		j_str(&j, s->table);
		j_array_open(&j);
		for (size_t i = 0; i < nb; i++) {
			j_open(&j);
			j_str(&j, "PutRequest");
			j_open(&j);
			j_str(&j, "Item");
			dynamo_gen_item(&j, batch[i], now);
			j_close(&j);
			j_close(&j);
		}
		j_array_close(&j);
		j_close(&j);
		ret = json_finish(&j, &body, &len);
		if (ret) {
			json_free(&j);
			return store_fail(&s->base, err, ret, "out of memory");
		}
		ret = ddb_call(s->ddb, "BatchWriteItem", body, len, &reply, err);
		json_free(&j);
		if (ret && !batch[0]->r) {
			const struct store_flow *f = batch[0]->f;

			return rttq_error_prefix(err, "store %s: cannot write %zu flow items (first of %s at %lld ms)",
						 s->base.url, nb, f->host,
						 (long long)f->time_ms);
		}
		if (ret) {
			const struct store_record *r = batch[0]->r;

			return rttq_error_prefix(err, "store %s: cannot write %zu items (first %s/%s start_s %lld)",
						 s->base.url, nb, r->host,
						 r->group, (long long)r->start_s);
		}
		left = mark_processed(s, reply, batch, nb);
		yajl_tree_free(reply);
		if (left == 0) {
			rounds = 0;
			continue;
		}
		/* The table is throttling part of the batch: back off. */
		if (++rounds > UNPROCESSED_ROUNDS)
			return store_fail(&s->base, err, -EBUSY,
					  "%zu items still unprocessed after %u resubmissions (table throttled)",
					  left, UNPROCESSED_ROUNDS);
		ddb_backoff(s->ddb, rounds - 1, true);
	}
}

int dynamo_put(struct store *st, const struct store_record *recs,
	       size_t n, struct rttq_error *err)
{
	struct dynamo_store *s = to_dynamo(st);
	int64_t now = time(NULL);
	struct unit *u = NULL;
	size_t nu = 0;
	int ret;

	ret = plan_units(s, recs, n, now, &u, &nu);
	if (ret)
		return store_fail(st, err, ret, "out of memory");
	ret = dynamo_write_units(s, u, nu, now, err);
	for (size_t i = 0; i < nu; i++) {
		if (!ret && u[i].kind < UNIT_RECORD)
			mark_seen(s, u[i].seen_key, now);
		free(u[i].pk);
	}
	free(u);
	return ret;
}

int dynamo_put_if(struct store *st, const struct store_record *rec,
		  const uint8_t *expect, size_t expect_len,
		  struct rttq_error *err)
{
	struct dynamo_store *s = to_dynamo(st);
	struct unit u = { .kind = UNIT_RECORD, .r = rec };
	struct json j = { 0 };
	yajl_val reply = NULL;
	const char *body;
	size_t len;
	int ret;

	u.pk = dynamo_record_pk(rec->host, rec->group, rec->metric,
				rec->period_s);
	snprintf(u.ts, sizeof(u.ts), "%" PRId64, rec->start_s);
	ret = u.pk ? json_begin(&j) : -ENOMEM;
	if (ret) {
		free(u.pk);
		return store_fail(st, err, ret, "out of memory");
	}
	j_str(&j, "TableName");
	j_str(&j, s->table);
	j_str(&j, "Item");
	dynamo_gen_item(&j, &u, time(NULL));
	j_str(&j, "ConditionExpression");
	j_str(&j, expect ? "d = :d" : "attribute_not_exists(pk)");
	if (expect) {
		j_str(&j, "ExpressionAttributeValues");
		j_open(&j);
		dynamo_attr_binary(&j, ":d", expect, expect_len);
		j_close(&j);
	}
	ret = json_finish(&j, &body, &len);
	if (ret == 0)
		ret = ddb_call(s->ddb, "PutItem", body, len, &reply, err);
	else
		store_fail(st, err, ret, "out of memory");
	json_free(&j);
	yajl_tree_free(reply);
	free(u.pk);
	/* ddb_call()'s -EEXIST: ConditionalCheckFailedException;
	 * store_put_fleet() says what. */
	if (ret == -EEXIST)
		return -ESTALE;
	if (ret && ret != -ENOMEM)
		rttq_error_prefix(err, "store %s: cannot write fleet record "
				  "%s %u s at %lld", s->base.url, rec->group,
				  rec->period_s, (long long)rec->start_s);
	return ret;
}
