// SPDX-License-Identifier: BSD-2-Clause
/*
 * The DynamoDB store's table (store_dynamodb.c): created on first open
 * with the key schema rttq needs, waited for until ACTIVE, checked, and
 * given TTL on "expires"; DescribeTable is also the ping.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store_dynamodb_private.h"

#define TABLE_WAIT_S 120         /* CreateTable -> ACTIVE */

static int table_request(struct dynamo_store *s, const char *op,
			 yajl_val *reply, struct rttq_error *err)
{
	struct json j = { 0 };
	const char *body;
	size_t len;
	int ret;

	ret = json_begin(&j);
	if (!ret) {
		j_str(&j, "TableName");
		j_str(&j, s->table);
		ret = json_finish(&j, &body, &len);
	}
	if (!ret)
		ret = ddb_call(s->ddb, op, body, len, reply, err);
	else
		ret = rttq_fail(err, ret, "out of memory");
	json_free(&j);
	return ret;
}

static int create_table(struct dynamo_store *s, struct rttq_error *err)
{
	struct json j = { 0 };
	const char *body;
	size_t len;
	int ret;

	ret = json_begin(&j);
	if (ret)
		return rttq_fail(err, ret, "out of memory");
	j_str(&j, "TableName");
	j_str(&j, s->table);
	j_str(&j, "BillingMode");
	j_str(&j, "PAY_PER_REQUEST");
	j_str(&j, "AttributeDefinitions");
	j_array_open(&j);
	j_open(&j);
	j_str(&j, "AttributeName"); j_str(&j, "pk");
	j_str(&j, "AttributeType"); j_str(&j, "S");
	j_close(&j);
	j_open(&j);
	j_str(&j, "AttributeName"); j_str(&j, "ts");
	j_str(&j, "AttributeType"); j_str(&j, "N");
	j_close(&j);
	j_array_close(&j);
	j_str(&j, "KeySchema");
	j_array_open(&j);
	j_open(&j);
	j_str(&j, "AttributeName"); j_str(&j, "pk");
	j_str(&j, "KeyType"); j_str(&j, "HASH");
	j_close(&j);
	j_open(&j);
	j_str(&j, "AttributeName"); j_str(&j, "ts");
	j_str(&j, "KeyType"); j_str(&j, "RANGE");
	j_close(&j);
	j_array_close(&j);
	ret = json_finish(&j, &body, &len);
	if (ret)
		ret = rttq_fail(err, ret, "out of memory");
	else
		ret = ddb_call(s->ddb, "CreateTable", body, len, NULL, err);
	json_free(&j);
	/* Another agent created it first: fine, wait for it like ours. */
	return ret == -EEXIST ? 0 : ret;
}

/* The key schema we read and write: pk HASH, ts RANGE. */
static bool key_schema_ok(yajl_val table)
{
	yajl_val ks = j_get(table, "KeySchema");
	bool pk = false, ts = false;

	if (!YAJL_IS_ARRAY(ks) || ks->u.array.len != 2)
		return false;
	for (size_t i = 0; i < 2; i++) {
		const char *name = YAJL_GET_STRING(j_get(ks->u.array.values[i], "AttributeName"));
		const char *type = YAJL_GET_STRING(j_get(ks->u.array.values[i], "KeyType"));

		if (!name || !type)
			return false;
		pk |= strcmp(name, "pk") == 0 && strcmp(type, "HASH") == 0;
		ts |= strcmp(name, "ts") == 0 && strcmp(type, "RANGE") == 0;
	}
	return pk && ts;
}

/* DescribeTable until ACTIVE; creates the table when @create and missing. */
int dynamo_wait_active(struct dynamo_store *s, bool create,
		       struct rttq_error *err)
{
	const struct timespec pause = { .tv_nsec = 250 * 1000 * 1000 };
	time_t deadline = time(NULL) + TABLE_WAIT_S;
	const char *status = NULL;

	for (;;) {
		yajl_val reply = NULL, table;
		int ret;

		ret = table_request(s, "DescribeTable", &reply, err);
		if (ret == -ENOENT && create) {
			create = false;
			ret = create_table(s, err);
			if (ret)
				return ret;
			continue;
		}
		if (ret == -ENOENT)
			return rttq_fail(err, ret, "table %s does not exist: "
					 "rttq-agent creates it, or `rttq "
					 "store init URL`", s->table);
		if (ret)
			return ret;
		table = j_get(reply, "Table");
		status = YAJL_GET_STRING(j_get(table, "TableStatus"));
		if (!key_schema_ok(table)) {
			yajl_tree_free(reply);
			return rttq_fail(err, -EINVAL,
					 "table %s exists with another key schema (rttq needs pk S HASH, ts N RANGE)",
					 s->table);
		}
		if (status && strcmp(status, "ACTIVE") == 0) {
			yajl_tree_free(reply);
			return 0;
		}
		yajl_tree_free(reply);
		if (time(NULL) > deadline)
			return rttq_fail(err, -ETIMEDOUT,
					 "table %s not ACTIVE after %d s", s->table,
					 TABLE_WAIT_S);
		nanosleep(&pause, NULL);
	}
}

/* Turn TTL on for "expires" unless it is on; warn when unsupported. */
int dynamo_ensure_ttl(struct dynamo_store *s, const char *url,
		      struct rttq_error *err)
{
	yajl_val reply = NULL;
	const char *path[] = { "TimeToLiveDescription", "TimeToLiveStatus", NULL };
	const char *status;
	struct json j = { 0 };
	const char *body;
	size_t len;
	int ret;

	ret = table_request(s, "DescribeTimeToLive", &reply, err);
	if (ret == -EOPNOTSUPP)
		goto unsupported;
	if (ret)
		return ret;
	status = YAJL_GET_STRING(yajl_tree_get(reply, path, yajl_t_string));
	if (status && (strcmp(status, "ENABLED") == 0 ||
		       strcmp(status, "ENABLING") == 0)) {
		yajl_tree_free(reply);
		return 0;
	}
	yajl_tree_free(reply);

	ret = json_begin(&j);
	if (ret)
		return rttq_fail(err, ret, "out of memory");
	j_str(&j, "TableName");
	j_str(&j, s->table);
	j_str(&j, "TimeToLiveSpecification");
	j_open(&j);
	j_str(&j, "Enabled");
	if (!j.bad && yajl_gen_bool(j.g, 1) != yajl_gen_status_ok)
		j.bad = true;
	j_str(&j, "AttributeName");
	j_str(&j, TTL_ATTRIBUTE);
	j_close(&j);
	ret = json_finish(&j, &body, &len);
	if (ret)
		ret = rttq_fail(err, ret, "out of memory");
	else
		ret = ddb_call(s->ddb, "UpdateTimeToLive", body, len, NULL, err);
	json_free(&j);
	if (ret != -EOPNOTSUPP)
		return ret;
unsupported:
	fprintf(stderr,
		"rttq: store %s: warning: %s has no TTL support; records will not expire\n",
		url, ddb_endpoint(s->ddb));
	return 0;
}

int dynamo_ping(struct store *st, struct rttq_error *err)
{
	struct dynamo_store *s = to_dynamo(st);
	yajl_val reply = NULL;
	int ret;

	ret = table_request(s, "DescribeTable", &reply, err);
	yajl_tree_free(reply);
	if (ret)
		return rttq_error_prefix(err, "store %s", st->url);
	return 0;
}
