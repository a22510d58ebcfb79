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
 * Items
 * -----
 * Record, one per (host, group, resolution, period start):
 *   pk      S  "d#HOST#GROUP#PERIOD_S"   one partition per series
 *   ts      N  start_s (UTC epoch s)      Query: ts BETWEEN from AND to
 *   host S, grp S, period_s N            the key fields, unescaped
 *   periods N, periods_total N, count N
 *   sum_us, min_us, max_us               N ("%.17g", exact); S ("%a") when
 *                                        DynamoDB's N cannot hold the value
 *                                        (infinities, |x| > 9e125 or < 1e-129)
 *   d       B  codec_encode() digest
 *   expires N  start_s + period_s + retention by period length: under
 *              5 min (base records) 14 d; 5 min up to 1 h (5 min rollups)
 *              35 d, so a "last 30 days" range keeps 5-minute edges
 *              after its base records expired; 1 h 90 d; 1 d 2 y
 *
 * Registry, so a fleet query finds every host without Scan (written with
 * the first record of a series a process writes, and again every 24 h so
 * it outlives its TTL while the series is alive):
 *   pk "h#GROUP#PERIOD_S", ts H(host)             host S      hosts of a series kind
 *   pk "g#HOST",           ts H(group#period_s)   grp S, period_s N  series of a host
 *   pk "H",                ts H(host)             host S      every host
 * H() is the first 63 bits of SHA-256 as an integer: distinct names map to
 * distinct sort keys unless SHA-256 collides in 63 bits (chance ~n^2/2^64).
 * Registry items expire like the longest-kept records of their series.
 *
 * Access paths
 *   store_put       BatchWriteItem, 25 items a request, UnprocessedItems
 *                   resubmitted with backoff; registry items first, records
 *                   deduplicated by key (the last one of a key wins).
 *   store_query     host given: Query on d#HOST#GROUP#PERIOD, ts BETWEEN,
 *                   every page (LastEvaluatedKey).  Every host: Query
 *                   h#GROUP#PERIOD for the hosts, sort them bytewise, then
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
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "aws_config.h"
#include "dynamodb.h"
#include "store_backend.h"
#include "strbuf.h"
#include "urlcode.h"

#define BATCH_MAX 25             /* BatchWriteItem's limit */
#define UNPROCESSED_ROUNDS 12    /* resubmissions before giving up */
#define TABLE_WAIT_S 120         /* CreateTable -> ACTIVE */
#define REGISTRY_REFRESH_S 86400 /* rewrite registry items this often */
#define TTL_ATTRIBUTE "expires"
#define DAY_S 86400

#define RETENTION_BASE_S (14 * DAY_S)
#define RETENTION_5MIN_S (35 * DAY_S)
#define RETENTION_HOUR_S (90 * DAY_S)
#define RETENTION_DAY_S (730 * DAY_S)

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

static struct dynamo_store *to_dynamo(struct store *st)
{
	return (struct dynamo_store *)st;
}

/* ---------------------------------------------------------------------------
 * Keys and values
 * ------------------------------------------------------------------------- */

static int64_t retention_s(uint32_t period_s)
{
	if (period_s < 300)
		return RETENTION_BASE_S;
	if (period_s < 3600)
		return RETENTION_5MIN_S;
	if (period_s < DAY_S)
		return RETENTION_HOUR_S;
	return RETENTION_DAY_S;
}

/* First 63 bits of SHA-256(@s): a sort key that names a string. */
static uint64_t name_hash(const char *s)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	uint64_t h = 0;

	EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 8; i++)
		h = h << 8 | md[i];
	return h >> 1;
}

/* Appends @s with '%' and '#' written %25 and %23. */
static void add_escaped(struct strbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '%')
			strbuf_adds(b, "%25");
		else if (*s == '#')
			strbuf_adds(b, "%23");
		else
			strbuf_addc(b, *s);
	}
}

/* pk of a series' records: "d#HOST#GROUP#PERIOD_S" (malloc()ed). */
static char *record_pk(const char *host, const char *group, uint32_t period_s)
{
	struct strbuf b = STRBUF_INIT;

	strbuf_adds(&b, "d#");
	add_escaped(&b, host);
	strbuf_addc(&b, '#');
	add_escaped(&b, group);
	strbuf_addf(&b, "#%" PRIu32, period_s);
	return strbuf_detach(&b, NULL);
}

static char *hosts_pk(const char *group, uint32_t period_s)
{
	struct strbuf b = STRBUF_INIT;

	strbuf_adds(&b, "h#");
	add_escaped(&b, group);
	strbuf_addf(&b, "#%" PRIu32, period_s);
	return strbuf_detach(&b, NULL);
}

static char *groups_pk(const char *host)
{
	struct strbuf b = STRBUF_INIT;

	strbuf_adds(&b, "g#");
	add_escaped(&b, host);
	return strbuf_detach(&b, NULL);
}

/* DynamoDB's N holds 38 digits with exponents 1e-130..9.99e125; anything
 * else (infinities included) goes in an S as a C99 hex float. */
static bool fits_number(double v)
{
	double a = fabs(v);

	return isfinite(v) && (a == 0 || (a >= 1e-129 && a <= 9e125));
}

/* ---------------------------------------------------------------------------
 * JSON generation (yajl_gen), every helper a no-op after an error
 * ------------------------------------------------------------------------- */

struct json {
	yajl_gen g;
	bool bad;
};

static void j_str(struct json *j, const char *s)
{
	if (!j->bad && yajl_gen_string(j->g, (const unsigned char *)s,
				       strlen(s)) != yajl_gen_status_ok)
		j->bad = true;
}

static void j_open(struct json *j)
{
	if (!j->bad && yajl_gen_map_open(j->g) != yajl_gen_status_ok)
		j->bad = true;
}

static void j_close(struct json *j)
{
	if (!j->bad && yajl_gen_map_close(j->g) != yajl_gen_status_ok)
		j->bad = true;
}

static void j_array_open(struct json *j)
{
	if (!j->bad && yajl_gen_array_open(j->g) != yajl_gen_status_ok)
		j->bad = true;
}

static void j_array_close(struct json *j)
{
	if (!j->bad && yajl_gen_array_close(j->g) != yajl_gen_status_ok)
		j->bad = true;
}

/* "name": {"TYPE": "value"} */
static void j_attr(struct json *j, const char *name, const char *type,
		   const char *value)
{
	j_str(j, name);
	j_open(j);
	j_str(j, type);
	j_str(j, value);
	j_close(j);
}

static void j_attr_int(struct json *j, const char *name, int64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRId64, v);
	j_attr(j, name, "N", num);
}

static void j_attr_uint(struct json *j, const char *name, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	j_attr(j, name, "N", num);
}

static void j_attr_double(struct json *j, const char *name, double v)
{
	char num[40];

	if (fits_number(v)) {
		snprintf(num, sizeof(num), "%.17g", v);
		j_attr(j, name, "N", num);
	} else {
		snprintf(num, sizeof(num), "%a", v);
		j_attr(j, name, "S", num);
	}
}

static void j_attr_binary(struct json *j, const char *name,
			  const uint8_t *data, size_t len)
{
	size_t out_len = 4 * ((len + 2) / 3) + 1;
	unsigned char *b64;

	if (j->bad)
		return;
	b64 = malloc(out_len);
	if (!b64 || len > INT32_MAX) {
		free(b64);
		j->bad = true;
		return;
	}
	EVP_EncodeBlock(b64, data, (int)len);
	j_attr(j, name, "B", (const char *)b64);
	free(b64);
}

static int json_begin(struct json *j)
{
	j->bad = false;
	j->g = yajl_gen_alloc(NULL);
	if (!j->g)
		return -ENOMEM;
	j_open(j);
	return 0;
}

/* Closes the top-level object; @body points into the generator. */
static int json_finish(struct json *j, const char **body, size_t *len)
{
	const unsigned char *buf;

	j_close(j);
	if (j->bad || yajl_gen_get_buf(j->g, &buf, len) != yajl_gen_status_ok)
		return -ENOMEM;
	*body = (const char *)buf;
	return 0;
}

static void json_free(struct json *j)
{
	if (j->g)
		yajl_gen_free(j->g);
	j->g = NULL;
}

/* ---------------------------------------------------------------------------
 * JSON replies (yajl_tree)
 * ------------------------------------------------------------------------- */

static yajl_val j_get(yajl_val obj, const char *key)
{
	const char *path[] = { key, NULL };

	return yajl_tree_get(obj, path, yajl_t_any);
}

/* Attribute @name of @item if it has type @type ("S", "N", "B"). */
static const char *attr_get(yajl_val item, const char *name, const char *type)
{
	const char *path[] = { name, type, NULL };

	return YAJL_GET_STRING(yajl_tree_get(item, path, yajl_t_string));
}

static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
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

static int parse_double_attr(yajl_val item, const char *name, double *out)
{
	const char *s = attr_get(item, name, "N");
	char *end;

	if (!s)
		s = attr_get(item, name, "S");
	if (!s)
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	if (end == s || *end || isnan(*out))
		return -1;
	return 0;
}

/* Base64 of a B attribute into a malloc()ed buffer. */
static int decode_binary(const char *b64, uint8_t **out, size_t *out_len)
{
	size_t n = strlen(b64), pad = 0;
	int len;

	if (n == 0 || n % 4 || n > INT32_MAX)
		return -1;
	pad = (b64[n - 1] == '=') + (b64[n - 2] == '=');
	*out = malloc(n / 4 * 3 + 1);
	if (!*out)
		return -1;
	len = EVP_DecodeBlock(*out, (const unsigned char *)b64, (int)n);
	if (len < 0 || (size_t)len < pad || (size_t)len - pad == 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	*out_len = (size_t)len - pad;
	return 0;
}

/* ---------------------------------------------------------------------------
 * Opening: URL, table bootstrap, TTL
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
static int wait_active(struct dynamo_store *s, bool create,
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
static int ensure_ttl(struct dynamo_store *s, const char *url,
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

static int dynamo_open(const char *url, const char *location,
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
	if (!ret)
		ret = wait_active(s, true, err);
	if (!ret)
		ret = ensure_ttl(s, url, err);
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

/* ---------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------- */

enum unit_kind {
	UNIT_ALL_HOSTS, /* registry first: a record is never unlisted */
	UNIT_GROUPS,
	UNIT_HOSTS,
	UNIT_RECORD,
};

/* One item to put. */
struct unit {
	enum unit_kind kind;
	size_t order;                  /* position in the caller's batch */
	const struct store_record *r;
	char *pk;
	char ts[24];
	uint64_t seen_key;             /* registry: H(pk "\n" ts) */
	bool done;
};

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

static uint64_t registry_key(const char *pk, const char *ts)
{
	struct strbuf b = STRBUF_INIT;
	uint64_t h;

	strbuf_adds(&b, pk);
	strbuf_addc(&b, '\n');
	strbuf_adds(&b, ts);
	h = b.oom ? 0 : name_hash(b.buf);
	strbuf_release(&b);
	return h;
}

static int add_unit(struct unit *u, size_t *n, enum unit_kind kind,
		    const struct store_record *r, size_t order)
{
	struct unit *x = &u[*n];
	char sub[STORE_GROUP_MAX + 16];

	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->r = r;
	x->order = order;
	switch (kind) {
	case UNIT_RECORD:
		x->pk = record_pk(r->host, r->group, r->period_s);
		snprintf(x->ts, sizeof(x->ts), "%" PRId64, r->start_s);
		break;
	case UNIT_HOSTS:
		x->pk = hosts_pk(r->group, r->period_s);
		snprintf(x->ts, sizeof(x->ts), "%" PRIu64, name_hash(r->host));
		break;
	case UNIT_GROUPS:
		x->pk = groups_pk(r->host);
		snprintf(sub, sizeof(sub), "%s#%" PRIu32, r->group, r->period_s);
		snprintf(x->ts, sizeof(x->ts), "%" PRIu64, name_hash(sub));
		break;
	case UNIT_ALL_HOSTS:
		x->pk = strdup("H");
		snprintf(x->ts, sizeof(x->ts), "%" PRIu64, name_hash(r->host));
		break;
	}
	if (!x->pk)
		return -ENOMEM;
	if (kind != UNIT_RECORD)
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

	u = calloc(4 * n, sizeof(*u));
	if (!u)
		return -ENOMEM;
	for (size_t i = 0; !ret && i < n; i++) {
		ret = add_unit(u, &nu, UNIT_RECORD, &recs[i], i);
		for (int k = UNIT_ALL_HOSTS; !ret && k <= UNIT_HOSTS; k++) {
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

static void gen_item(struct json *j, const struct unit *u, int64_t now)
{
	const struct store_record *r = u->r;
	char sub[32];
	int64_t keep = retention_s(r->period_s);

	j_open(j);
	j_attr(j, "pk", "S", u->pk);
	j_attr(j, "ts", "N", u->ts);
	switch (u->kind) {
	case UNIT_RECORD:
		j_attr(j, "host", "S", r->host);
		j_attr(j, "grp", "S", r->group);
		j_attr_uint(j, "period_s", r->period_s);
		j_attr_uint(j, "periods", r->periods);
		j_attr_uint(j, "periods_total", r->periods_total);
		j_attr_uint(j, "count", r->count);
		j_attr_double(j, "sum_us", r->sum_us);
		j_attr_double(j, "min_us", r->min_us);
		j_attr_double(j, "max_us", r->max_us);
		j_attr_binary(j, "d", r->digest, r->digest_len);
		j_attr_int(j, TTL_ATTRIBUTE, r->start_s + (int64_t)r->period_s + keep);
		break;
	case UNIT_GROUPS:
		j_attr(j, "grp", "S", r->group);
		snprintf(sub, sizeof(sub), "%" PRIu32, r->period_s);
		j_attr(j, "period_s", "N", sub);
		j_attr_int(j, TTL_ATTRIBUTE, now + keep);
		break;
	case UNIT_HOSTS:
		j_attr(j, "host", "S", r->host);
		j_attr_int(j, TTL_ATTRIBUTE, now + keep);
		break;
	case UNIT_ALL_HOSTS:
		j_attr(j, "host", "S", r->host);
		j_attr_int(j, TTL_ATTRIBUTE, now + RETENTION_DAY_S);
		break;
	}
	j_close(j);
}

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

/* Puts @n units of @u (up to 25 at a time) until all are done. */
static int write_units(struct dynamo_store *s, struct unit *u, size_t n,
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
			gen_item(&j, batch[i], now);
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

static int dynamo_put(struct store *st, const struct store_record *recs,
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
	ret = write_units(s, u, nu, now, err);
	for (size_t i = 0; i < nu; i++) {
		if (!ret && u[i].kind != UNIT_RECORD)
			mark_seen(s, u[i].seen_key, now);
		free(u[i].pk);
	}
	free(u);
	return ret;
}

/* ---------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------- */

typedef int (*item_fn)(struct dynamo_store *s, yajl_val item, void *ctx,
		       struct rttq_error *err);

/* Query partition @pk (ts in [from_s, to_s] when @ranged), every page, in
 * ts order; @limit > 0 stops after that many items. */
static int query_partition(struct dynamo_store *s, const char *pk,
			   bool ranged, int64_t from_s,
			   int64_t to_s, unsigned int limit, item_fn fn,
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
				ret = store_fail(&s->base, err, -EIO,
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

struct record_ctx {
	store_record_fn fn;
	void *arg;
};

static int bad_item(struct dynamo_store *s, yajl_val item, const char *what,
		    struct rttq_error *err)
{
	const char *pk = attr_get(item, "pk", "S");
	const char *ts = attr_get(item, "ts", "N");

	return store_fail(&s->base, err, -EIO,
			  "damaged item pk \"%s\" ts %s: %s is missing or out of range",
			  pk ? pk : "?", ts ? ts : "?", what);
}

static int record_item(struct dynamo_store *s, yajl_val item, void *ctx,
		       struct rttq_error *err)
{
	struct record_ctx *rc = ctx;
	struct store_record r = { 0 };
	int64_t period_s, start_s, periods, total, count;
	const char *b64 = attr_get(item, "d", "B");
	uint8_t *digest = NULL;
	int ret;

	r.host = attr_get(item, "host", "S");
	r.group = attr_get(item, "grp", "S");
	if (!r.host || !*r.host || !r.group || !*r.group)
		return bad_item(s, item, "host or grp", err);
	if (parse_int(attr_get(item, "period_s", "N"), 1, UINT32_MAX, &period_s))
		return bad_item(s, item, "period_s", err);
	if (parse_int(attr_get(item, "ts", "N"), INT64_MIN, INT64_MAX, &start_s) ||
	    start_s % period_s)
		return bad_item(s, item, "ts", err);
	if (parse_int(attr_get(item, "periods_total", "N"), 1, UINT32_MAX, &total))
		return bad_item(s, item, "periods_total", err);
	if (parse_int(attr_get(item, "periods", "N"), 0, total, &periods))
		return bad_item(s, item, "periods", err);
	if (parse_int(attr_get(item, "count", "N"), 0, INT64_MAX, &count))
		return bad_item(s, item, "count", err);
	if (parse_double_attr(item, "sum_us", &r.sum_us))
		return bad_item(s, item, "sum_us", err);
	if (parse_double_attr(item, "min_us", &r.min_us))
		return bad_item(s, item, "min_us", err);
	if (parse_double_attr(item, "max_us", &r.max_us))
		return bad_item(s, item, "max_us", err);
	if (!b64 || decode_binary(b64, &digest, &r.digest_len))
		return bad_item(s, item, "d (digest)", err);
	r.period_s = (uint32_t)period_s;
	r.start_s = start_s;
	r.periods = (uint32_t)periods;
	r.periods_total = (uint32_t)total;
	r.count = (uint64_t)count;
	r.digest = digest;
	ret = rc->fn(&r, rc->arg);
	free(digest);
	return ret;
}

/* Collected names from a registry partition, sorted bytewise. */
struct names {
	char **v;
	uint32_t *period_s; /* for g#HOST: the resolution of each group */
	size_t n, cap;
};

static void names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
	free(nm->period_s);
	memset(nm, 0, sizeof(*nm));
}

static int names_add(struct names *nm, const char *name, uint32_t period_s)
{
	if (nm->n == nm->cap) {
		size_t cap = nm->cap ? nm->cap * 2 : 32;
		char **v = realloc(nm->v, cap * sizeof(*v));
		uint32_t *p;

		if (!v)
			return -ENOMEM;
		nm->v = v;
		p = realloc(nm->period_s, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		nm->period_s = p;
		nm->cap = cap;
	}
	nm->v[nm->n] = strdup(name);
	if (!nm->v[nm->n])
		return -ENOMEM;
	nm->period_s[nm->n++] = period_s;
	return 0;
}

static int host_item(struct dynamo_store *s, yajl_val item, void *ctx,
		     struct rttq_error *err)
{
	const char *host = attr_get(item, "host", "S");

	if (!host || !*host)
		return bad_item(s, item, "host", err);
	return names_add(ctx, host, 0);
}

static int group_item(struct dynamo_store *s, yajl_val item, void *ctx,
		      struct rttq_error *err)
{
	const char *group = attr_get(item, "grp", "S");
	int64_t period_s;

	if (!group || !*group)
		return bad_item(s, item, "grp", err);
	if (parse_int(attr_get(item, "period_s", "N"), 1, UINT32_MAX, &period_s))
		return bad_item(s, item, "period_s", err);
	return names_add(ctx, group, (uint32_t)period_s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every name in registry partition @pk, sorted (periods dropped). */
static int list_names(struct dynamo_store *s, const char *pk, item_fn fn,
		      struct names *out, struct rttq_error *err)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = query_partition(s, pk, false, 0, 0, 0, fn, out, err);
	if (ret == -ENOMEM)
		ret = store_fail(&s->base, err, ret, "out of memory");
	if (ret) {
		names_free(out);
		return ret;
	}
	return 0;
}

static int query_host(struct dynamo_store *s, const char *host,
		      const struct store_query *q, struct record_ctx *rc,
		      struct rttq_error *err)
{
	char *pk = record_pk(host, q->group, q->period_s);
	int ret;

	if (!pk)
		return store_fail(&s->base, err, -ENOMEM, "out of memory");
	ret = query_partition(s, pk, true, q->from_s, q->to_s, 0, record_item,
			      rc, err);
	free(pk);
	return ret;
}

static int dynamo_query(struct store *st, const struct store_query *q,
			store_record_fn fn, void *arg, struct rttq_error *err)
{
	struct dynamo_store *s = to_dynamo(st);
	struct record_ctx rc = { .fn = fn, .arg = arg };
	struct names hosts;
	char *pk;
	int ret;

	/* BETWEEN with a > b is a ValidationException, not an empty set. */
	if (q->from_s > q->to_s)
		return 0;
	if (q->host)
		return query_host(s, q->host, q, &rc, err);

	pk = hosts_pk(q->group, q->period_s);
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

static int found_item(struct dynamo_store *s, yajl_val item, void *ctx,
		      struct rttq_error *err)
{
	*(bool *)ctx = true;
	return 0;
}

/* Does (host, group, period_s) have a record starting in [from_s, to_s]? */
static int series_has_record(struct dynamo_store *s, const char *host,
			     const char *group, uint32_t period_s,
			     int64_t from_s, int64_t to_s, bool *found,
			     struct rttq_error *err)
{
	char *pk = record_pk(host, group, period_s);
	int ret;

	*found = false;
	if (!pk)
		return store_fail(&s->base, err, -ENOMEM, "out of memory");
	ret = query_partition(s, pk, true, from_s, to_s, 1, found_item, found,
			      err);
	free(pk);
	return ret;
}

struct group_period {
	const char *group;
	uint32_t period_s;
};

static int cmp_group_period(const void *a, const void *b)
{
	const struct group_period *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	if (c)
		return c;
	return x->period_s < y->period_s ? -1 : x->period_s > y->period_s;
}

static int series_of_host(struct dynamo_store *s, const char *host,
			  int64_t from_s, int64_t to_s, store_series_fn fn,
			  void *arg, struct rttq_error *err)
{
	struct group_period *gp = NULL;
	struct names groups;
	char *pk = groups_pk(host);
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
	for (size_t i = 0; i < groups.n; i++)
		gp[i] = (struct group_period){ groups.v[i], groups.period_s[i] };
	qsort(gp, groups.n, sizeof(*gp), cmp_group_period);
	for (size_t i = 0; !ret && i < groups.n; i++) {
		bool found = false;

		if (i > 0 && strcmp(gp[i].group, gp[i - 1].group) == 0)
			continue;
		/* Any resolution of this group with a record in range. */
		for (size_t k = i; !ret && !found && k < groups.n &&
		     strcmp(gp[k].group, gp[i].group) == 0; k++)
			ret = series_has_record(s, host, gp[k].group,
						gp[k].period_s, from_s, to_s,
						&found, err);
		if (!ret && found)
			ret = fn(host, gp[i].group, arg);
	}
	free(gp);
	names_free(&groups);
	return ret;
}

static int dynamo_series(struct store *st, const char *host, int64_t from_s,
			 int64_t to_s, store_series_fn fn, void *arg,
			 struct rttq_error *err)
{
	struct dynamo_store *s = to_dynamo(st);
	struct names hosts;
	int ret;

	if (from_s > to_s)
		return 0;
	if (host)
		return series_of_host(s, host, from_s, to_s, fn, arg, err);
	ret = list_names(s, "H", host_item, &hosts, err);
	if (ret)
		return ret;
	qsort(hosts.v, hosts.n, sizeof(*hosts.v), cmp_str);
	for (size_t i = 0; !ret && i < hosts.n; i++)
		ret = series_of_host(s, hosts.v[i], from_s, to_s, fn, arg, err);
	names_free(&hosts);
	return ret;
}

static int dynamo_ping(struct store *st, struct rttq_error *err)
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
	.query = dynamo_query,
	.series = dynamo_series,
	.ping = dynamo_ping,
	.set_deadline = dynamo_set_deadline,
};
