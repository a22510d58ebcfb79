// SPDX-License-Identifier: BSD-2-Clause
/*
 * DynamoDB store backend (`dynamodb:TABLE[?region=R&endpoint=URL]`): one
 * table shared by every agent of a fleet and read by the API, spoken to
 * with our own SigV4 + HTTP client (common/aws), never with Scan.
 *
 * Table
 * -----
 * Key: pk (S, partition key) and ts (N, sort key); on-demand billing
 * (PAY_PER_REQUEST); TTL on the attribute "expires".  store_open() creates
 * the table when it is missing and waits until it is ACTIVE, then enables
 * TTL (servers without UpdateTimeToLive, like dynalite, get a warning).
 * In pk, '%' and '#' inside host and group are written %25 and %23, so
 * '#' only ever separates fields and no two series share a partition.
 *
 * Access paths
 *   store_put       BatchWriteItem, 25 items a request, UnprocessedItems
 *                   resubmitted with backoff; registry items first, records
 *                   deduplicated by key (the last one of a key wins).
 *   store_query     host given: Query on d#HOST#GROUP#PERIOD[#METRIC]
 *                   (store_dynamodb_item.c: rtt has no suffix), ts BETWEEN,
 *                   every page (LastEvaluatedKey).  Every host: Query
 *                   h#GROUP#PERIOD[#METRIC] for the hosts, sort them bytewise, then
 *                   one paginated Query per host, in order.  (The planner
 *                   always names the host; its threads read through
 *                   sibling handles, each with its own client.)
 *   store_open_sibling  a new client from this one's settings, no request.
 *   store_series    Query "H" (or take the given host), Query g#HOST for
 *                   its series, then one Limit-1 Query per (group,
 *                   resolution) until a record is found in the range.
 *   store_ping      DescribeTable.
 * Reads are eventually consistent (half the read units; records are
 * written a period before anyone asks for them).  A store_put that fails
 * part-way may have written some records; writes are idempotent, so the
 * caller retries the whole put.
 *
 * Files: this one opens, closes and makes siblings (URL, client, table
 * check); store_dynamodb_item.c holds the item layout and its encoding,
 * store_dynamodb_table.c the table set-up and ping,
 * store_dynamodb_write.c store_put, store_dynamodb_read.c store_query and
 * store_series; store_dynamodb_private.h is what they share.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_config.h"
#include "store_dynamodb_private.h"
#include "strbuf.h"
#include "urlcode.h"

/* ---------------------------------------------------------------------------
 * Opening: URL, client, table
 * ------------------------------------------------------------------------- */

static int check_table_name(const char *url, const char *name,
			    struct rttq_error *err)
{
	size_t n = strlen(name);
	size_t ok = strspn(name, "abcdefghijklmnopqrstuvwxyz"
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

	if (n < 3 || n > 255 || ok != n)
		return rttq_fail(err, -EINVAL,
				 "store %s: table name must be 3-255 characters of A-Z a-z 0-9 _ . -",
				 url);
	return 0;
}

/* "TABLE[?region=R&endpoint=URL]" */
static int parse_location(const char *url, const char *location, char **table,
			  char **region, char **endpoint, struct rttq_error *err)
{
	const char *q = strchr(location, '?');
	size_t tlen = q ? (size_t)(q - location) : strlen(location);
	int ret;

	*table = strndup(location, tlen);
	if (!*table)
		return rttq_fail(err, -ENOMEM, "store %s: out of memory", url);
	ret = check_table_name(url, *table, err);
	if (ret || !q)
		return ret;
	for (const char *p = q + 1; *p;) {
		size_t len = strcspn(p, "&");
		const char *eq = memchr(p, '=', len);
		struct strbuf value = STRBUF_INIT;
		char **dst = NULL;

		if (eq && (size_t)(eq - p) == 6 && strncmp(p, "region", 6) == 0)
			dst = region;
		else if (eq && (size_t)(eq - p) == 8 &&
			 strncmp(p, "endpoint", 8) == 0)
			dst = endpoint;
		if (!dst)
			return rttq_fail(err, -EINVAL,
					 "store %s: unknown parameter \"%.*s\" (expected region= or endpoint=)",
					 url, (int)(eq ? (size_t)(eq - p) : len), p);
		free(*dst);
		*dst = NULL;
		if (urlcode_decode(&value, eq + 1, len - (size_t)(eq + 1 - p),
				   URLCODE_PLUS_SPACE | URLCODE_STRICT)) {
			strbuf_release(&value);
			return rttq_fail(err, -EINVAL,
					 "store %s: bad %%-escape in parameter", url);
		}
		*dst = strbuf_detach(&value, NULL);
		if (!*dst)
			return rttq_fail(err, -ENOMEM, "store %s: out of memory",
					 url);
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

/* "store URL: " in front of the message, with any user:password@ in the
 * endpoint shown as "***@". */
static void prefix_redacted(struct rttq_error *err, const char *url)
{
	const char *auth = strstr(url, "://");
	const char *at = NULL;

	if (auth) {
		auth += 3;
		at = memrchr(auth, '@', strcspn(auth, "/?&#"));
	}
	if (at)
		rttq_error_prefix(err, "store %.*s***%s", (int)(auth - url),
				  url, at);
	else
		rttq_error_prefix(err, "store %s", url);
}

static void dynamo_close(struct store *st)
{
	struct dynamo_store *s = to_dynamo(st);

	ddb_free(s->ddb);
	free(s->table);
	free(s->seen);
	free(s);
}

static int dynamo_open(const char *url, const char *location, bool setup,
		       struct store **out, struct rttq_error *err)
{
	char *region = NULL, *endpoint = NULL;
	struct aws_config cfg = { 0 };
	struct dynamo_store *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s)
		return rttq_fail(err, -ENOMEM, "store %s: out of memory", url);
	ret = parse_location(url, location, &s->table, &region, &endpoint, err);
	if (ret)
		goto cleanup;
	ret = aws_config_load("dynamodb", region, endpoint, &cfg, err);
	if (!ret)
		ret = ddb_new(&cfg, &s->ddb, err);
	/* Only the writers set the table up: readers need no CreateTable
	 * or UpdateTimeToLive permission. */
	if (!ret)
		ret = dynamo_wait_active(s, setup, err);
	if (!ret && setup)
		ret = dynamo_ensure_ttl(s, url, err);
	if (ret) {
		prefix_redacted(err, url);
		goto cleanup;
	}
	*out = &s->base;
	s = NULL;
cleanup:
	aws_config_release(&cfg);
	free(region);
	free(endpoint);
	if (s)
		dynamo_close(&s->base);
	return ret;
}

/* The table was checked when @st was opened: a sibling is a new client
 * with the same settings (and credentials as last refreshed), no request. */
static int dynamo_sibling(struct store *st, struct store **out,
			  struct rttq_error *err)
{
	struct dynamo_store *s = to_dynamo(st);
	struct dynamo_store *sib = calloc(1, sizeof(*sib));
	int ret;

	if (sib)
		sib->table = strdup(s->table);
	if (!sib || !sib->table) {
		free(sib);
		return store_fail(st, err, -ENOMEM, "out of memory");
	}
	ret = ddb_new(ddb_config(s->ddb), &sib->ddb, err);
	if (ret) {
		prefix_redacted(err, st->url);
		dynamo_close(&sib->base);
		return ret;
	}
	*out = &sib->base;
	return 0;
}

static void dynamo_set_deadline(struct store *st, int64_t deadline_ms)
{
	ddb_set_deadline(to_dynamo(st)->ddb, deadline_ms);
}

const struct store_ops store_dynamodb_ops = {
	.scheme = "dynamodb",
	.open = dynamo_open,
	.sibling = dynamo_sibling,
	.close = dynamo_close,
	.put = dynamo_put,
	.put_if = dynamo_put_if,
	.query = dynamo_query,
	.series = dynamo_series,
	.periods = dynamo_periods,
	.fine_records = dynamo_fine_records,
	.put_flows = dynamo_put_flows,
	.flows = dynamo_flows,
	.ping = dynamo_ping,
	.set_deadline = dynamo_set_deadline,
};
