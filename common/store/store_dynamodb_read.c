// SPDX-License-Identifier: BSD-2-Clause
/*
 * store_query and store_series for DynamoDB (store_dynamodb.c): paginated
 * Query of one partition, records decoded item by item, and the registry
 * partitions listed to find hosts and their series without Scan.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metric.h"
#include "store_dynamodb_private.h"

/* ---------------------------------------------------------------------------
 * Query, every page
 * ------------------------------------------------------------------------- */

int dynamo_query_ordered(struct dynamo_store *s, const char *pk,
			 bool ranged, bool backward, int64_t from_s,
			 int64_t to_s, unsigned int limit, dynamo_item_fn fn,
			 void *ctx, struct rttq_error *err)
{
	char *start_pk = NULL, start_ts[48] = "";
	unsigned int seen = 0;
	bool oom = false;
	int ret = 0;

	do {
		struct json j = { 0 };
		yajl_val reply = NULL, items, last;
		const char *body;
		size_t len;

		ret = json_begin(&j);
		if (ret) {
			oom = true;
			break;
		}
		j_str(&j, "TableName");
		j_str(&j, s->table);
		j_str(&j, "KeyConditionExpression");
		j_str(&j, ranged ? "pk = :pk AND ts BETWEEN :a AND :b" : "pk = :pk");
		j_str(&j, "ExpressionAttributeValues");
		j_open(&j);
		j_attr(&j, ":pk", "S", pk);
		if (ranged) {
			j_attr_int(&j, ":a", from_s);
			j_attr_int(&j, ":b", to_s);
		}
		j_close(&j);
		if (backward) {
			j_str(&j, "ScanIndexForward");
			if (!j.bad && yajl_gen_bool(j.g, 0) != yajl_gen_status_ok)
				j.bad = true;
		}
		if (limit) {
			j_str(&j, "Limit");
			if (!j.bad && yajl_gen_integer(j.g, limit - seen) !=
			    yajl_gen_status_ok)
				j.bad = true;
		}
		if (start_pk) {
			j_str(&j, "ExclusiveStartKey");
			j_open(&j);
			j_attr(&j, "pk", "S", start_pk);
			j_attr(&j, "ts", "N", start_ts);
			j_close(&j);
		}
		ret = json_finish(&j, &body, &len);
		if (ret) {
			json_free(&j);
			oom = true;
			break;
		}
		ret = ddb_call(s->ddb, "Query", body, len, &reply, err);
		json_free(&j);
		free(start_pk);
		start_pk = NULL;
		if (ret)
			return rttq_error_prefix(err, "store %s", s->base.url);

		items = j_get(reply, "Items");
		for (size_t i = 0; !ret && YAJL_IS_ARRAY(items) &&
		     i < items->u.array.len; i++) {
			ret = fn(s, items->u.array.values[i], ctx, err);
			seen++;
		}
		last = j_get(reply, "LastEvaluatedKey");
		if (!ret && YAJL_IS_OBJECT(last) && (!limit || seen < limit)) {
			const char *lpk = attr_get(last, "pk", "S");
			const char *lts = attr_get(last, "ts", "N");

			if (!lpk || !lts || strlen(lts) >= sizeof(start_ts)) {
				ret = store_fail(&s->base, err, -EPROTO,
						 "Query reply has a malformed LastEvaluatedKey");
			} else {
				start_pk = strdup(lpk);
				snprintf(start_ts, sizeof(start_ts), "%s", lts);
				if (!start_pk) {
					ret = -ENOMEM;
					oom = true;
				}
			}
		}
		yajl_tree_free(reply);
	} while (!ret && start_pk);
	free(start_pk);
	/* Other values come from @fn and pass through untouched. */
	if (oom)
		return store_fail(&s->base, err, -ENOMEM, "out of memory");
	return ret;
}

/* ---------------------------------------------------------------------------
 * Items read: records and registry names
 * ------------------------------------------------------------------------- */

int dynamo_record_item(struct dynamo_store *s, yajl_val item, void *ctx,
		       struct rttq_error *err)
{
	struct dynamo_record_ctx *rc = ctx;
	struct store_record r;
	uint8_t *digest;
	int ret;

	ret = dynamo_item_record(s, item, &r, &digest, err);
	if (ret)
		return ret;
	ret = rc->fn(&r, rc->arg);
	free(digest);
	return ret;
}

/* Collected names from a registry partition, sorted bytewise. */
struct names {
	char **v;
	uint32_t *period_s; /* for g#HOST: the resolution of each group */
	char **metric;      /* for g#HOST: the metric of each group */
	size_t n, cap;
};

static void names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++) {
		free(nm->v[i]);
		free(nm->metric[i]);
	}
	free(nm->v);
	free(nm->period_s);
	free(nm->metric);
	memset(nm, 0, sizeof(*nm));
}

static int names_grow(struct names *nm)
{
	size_t cap = nm->cap ? nm->cap * 2 : 32;
	char **v = realloc(nm->v, cap * sizeof(*v));
	char **m;
	uint32_t *p;

	if (!v)
		return -ENOMEM;
	nm->v = v;
	p = realloc(nm->period_s, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	nm->period_s = p;
	m = realloc(nm->metric, cap * sizeof(*m));
	if (!m)
		return -ENOMEM;
	nm->metric = m;
	nm->cap = cap;
	return 0;
}

static int names_add(struct names *nm, const char *name, const char *metric,
		     uint32_t period_s)
{
	if (nm->n == nm->cap && names_grow(nm))
		return -ENOMEM;
	nm->v[nm->n] = strdup(name);
	nm->metric[nm->n] = strdup(metric);
	if (!nm->v[nm->n] || !nm->metric[nm->n]) {
		free(nm->v[nm->n]);
		free(nm->metric[nm->n]);
		return -ENOMEM;
	}
	nm->period_s[nm->n++] = period_s;
	return 0;
}

static int host_item(struct dynamo_store *s, yajl_val item, void *ctx,
		     struct rttq_error *err)
{
	const char *host = attr_get(item, "host", "S");

	if (!host || !*host)
		return dynamo_bad_item(s, item, "host", err);
	return names_add(ctx, host, METRIC_RTT, 0);
}

static int group_item(struct dynamo_store *s, yajl_val item, void *ctx,
		      struct rttq_error *err)
{
	const char *group = attr_get(item, "grp", "S");
	const char *metric = dynamo_item_metric(item);
	int64_t period_s;

	if (!group || !*group)
		return dynamo_bad_item(s, item, "grp", err);
	if (!metric_name_valid(metric))
		return dynamo_bad_item(s, item, "metric", err);
	if (parse_int(attr_get(item, "period_s", "N"), 1, UINT32_MAX, &period_s))
		return dynamo_bad_item(s, item, "period_s", err);
	return names_add(ctx, group, metric, (uint32_t)period_s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every name in registry partition @pk, sorted (periods dropped). */
static int list_names(struct dynamo_store *s, const char *pk,
		      dynamo_item_fn fn, struct names *out,
		      struct rttq_error *err)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = dynamo_query_partition(s, pk, false, 0, 0, 0, fn, out, err);
	if (ret == -ENOMEM)
		ret = store_fail(&s->base, err, ret, "out of memory");
	if (ret) {
		names_free(out);
		return ret;
	}
	return 0;
}

/* ---------------------------------------------------------------------------
 * store_query
 * ------------------------------------------------------------------------- */

static int query_host(struct dynamo_store *s, const char *host,
		      const struct store_query *q, struct dynamo_record_ctx *rc,
		      struct rttq_error *err)
{
	char *pk = dynamo_record_pk(host, q->group, q->metric, q->period_s);
	int ret;

	if (!pk)
		return store_fail(&s->base, err, -ENOMEM, "out of memory");
	ret = dynamo_query_partition(s, pk, true, q->from_s, q->to_s, 0,
				     dynamo_record_item, rc, err);
	free(pk);
	return ret;
}

int dynamo_query(struct store *st, const struct store_query *q,
		 store_record_fn fn, void *arg, struct rttq_error *err)
{
	struct dynamo_store *s = to_dynamo(st);
	struct dynamo_record_ctx rc = { .fn = fn, .arg = arg };
	struct names hosts;
	char *pk;
	int ret;

	/* BETWEEN with a > b is a ValidationException, not an empty set. */
	if (q->from_s > q->to_s)
		return 0;
	if (q->host)
		return query_host(s, q->host, q, &rc, err);

	pk = dynamo_hosts_pk(q->group, q->metric, q->period_s);
	if (!pk)
		return store_fail(st, err, -ENOMEM, "out of memory");
	ret = list_names(s, pk, host_item, &hosts, err);
	free(pk);
	if (ret)
		return ret;
	qsort(hosts.v, hosts.n, sizeof(*hosts.v), cmp_str);
	/* One host after the other: the planner, which reads fleets, names
	 * each host and runs them on threads with sibling handles. */
	for (size_t i = 0; !ret && i < hosts.n; i++)
		ret = query_host(s, hosts.v[i], q, &rc, err);
	names_free(&hosts);
	return ret;
}

/* ---------------------------------------------------------------------------
 * store_series
 * ------------------------------------------------------------------------- */

static int found_item(struct dynamo_store *s, yajl_val item, void *ctx,
		      struct rttq_error *err)
{
	*(bool *)ctx = true;
	return 0;
}

/* Does (host, group, metric, period_s) have a record starting in
 * [from_s, to_s]? */
static int series_has_record(struct dynamo_store *s, const char *host,
			     const char *group, const char *metric,
			     uint32_t period_s, int64_t from_s, int64_t to_s,
			     bool *found, struct rttq_error *err)
{
	char *pk = dynamo_record_pk(host, group, metric, period_s);
	int ret;

	*found = false;
	if (!pk)
		return store_fail(&s->base, err, -ENOMEM, "out of memory");
	ret = dynamo_query_partition(s, pk, true, from_s, to_s, 1, found_item,
				     found, err);
	free(pk);
	return ret;
}

struct group_period {
	const char *group;
	const char *metric;
	uint32_t period_s;
};

/* The order of store_series(): group, metric, resolution. */
static int cmp_group_period(const void *a, const void *b)
{
	const struct group_period *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	if (!c)
		c = strcmp(x->metric, y->metric);
	if (c)
		return c;
	return x->period_s < y->period_s ? -1 : x->period_s > y->period_s;
}

static bool same_series(const struct group_period *x,
			const struct group_period *y)
{
	return !strcmp(x->group, y->group) && !strcmp(x->metric, y->metric);
}

static int series_of_host(struct dynamo_store *s, const char *host,
			  const char *group, int64_t from_s, int64_t to_s,
			  store_series_fn fn, void *arg, struct rttq_error *err)
{
	struct group_period *gp = NULL;
	struct names groups;
	char *pk = dynamo_groups_pk(host);
	int ret;

	if (!pk)
		return store_fail(&s->base, err, -ENOMEM, "out of memory");
	ret = list_names(s, pk, group_item, &groups, err);
	free(pk);
	if (ret)
		return ret;
	gp = calloc(groups.n ? groups.n : 1, sizeof(*gp));
	if (!gp) {
		names_free(&groups);
		return store_fail(&s->base, err, -ENOMEM, "out of memory");
	}
	size_t n = 0;

	for (size_t i = 0; i < groups.n; i++)
		if (!group || strcmp(groups.v[i], group) == 0)
			gp[n++] = (struct group_period){ groups.v[i],
							 groups.metric[i],
							 groups.period_s[i] };
	qsort(gp, n, sizeof(*gp), cmp_group_period);
	for (size_t i = 0, end; !ret && i < n; i = end) {
		bool found = false;

		for (end = i; end < n && same_series(&gp[end], &gp[i]); end++)
			;
		/* Any resolution of this series with a record in range. */
		for (size_t k = i; !ret && !found && k < end; k++)
			ret = series_has_record(s, host, gp[k].group,
						gp[k].metric, gp[k].period_s,
						from_s, to_s, &found, err);
		/* g#HOST holds one item per (group, metric, period_s). */
		for (size_t k = i; !ret && found && k < end; k++)
			ret = fn(host, gp[k].group, gp[k].metric,
				 gp[k].period_s, arg);
	}
	free(gp);
	names_free(&groups);
	return ret;
}

static int period_item(struct dynamo_store *s, yajl_val item, void *ctx,
		       struct rttq_error *err)
{
	int64_t period_s;

	if (parse_int(attr_get(item, "ts", "N"), 1, UINT32_MAX, &period_s))
		return dynamo_bad_item(s, item, "ts", err);
	store_period_list_add(ctx, (uint32_t)period_s);
	return 0;
}

int dynamo_periods(struct store *st, const char *group, const char *metric,
		   uint32_t *periods, size_t max, size_t *n,
		   struct rttq_error *err)
{
	struct dynamo_store *s = to_dynamo(st);
	struct store_period_list list = { periods, max, 0 };
	char *pk = dynamo_periods_pk(group, metric);
	int ret;

	if (!pk)
		return store_fail(&s->base, err, -ENOMEM, "out of memory");
	/* ts is the period, so the items come in order: a few per group,
	 * one request. */
	ret = dynamo_query_partition(s, pk, false, 0, 0, 0, period_item, &list,
				     err);
	free(pk);
	*n = ret ? 0 : list.n;
	return ret;
}

int dynamo_series(struct store *st, const char *host, const char *group,
		  int64_t from_s, int64_t to_s, store_series_fn fn, void *arg,
		  struct rttq_error *err)
{
	struct dynamo_store *s = to_dynamo(st);
	struct names hosts;
	int ret;

	if (from_s > to_s)
		return 0;
	if (host)
		return series_of_host(s, host, group, from_s, to_s, fn, arg,
				      err);
	ret = list_names(s, "H", host_item, &hosts, err);
	if (ret)
		return ret;
	qsort(hosts.v, hosts.n, sizeof(*hosts.v), cmp_str);
	for (size_t i = 0; !ret && i < hosts.n; i++)
		ret = series_of_host(s, hosts.v[i], group, from_s, to_s, fn,
				     arg, err);
	names_free(&hosts);
	return ret;
}
