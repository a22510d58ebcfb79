// SPDX-License-Identifier: BSD-2-Clause
/*
 * Items of the DynamoDB store (store_dynamodb.c): how keys and records are
 * written as DynamoDB JSON attributes and read back, checked field by field.
 *
 * Items
 * -----
 * Record, one per (host, group, metric, resolution, period start):
 *   pk      S  "d#HOST#GROUP#PERIOD_S" for rtt, one partition per series;
 *              "d#HOST#GROUP#PERIOD_S#METRIC" for any other metric (items
 *              written before metrics existed are rtt and keep their keys)
 *   ts      N  start_s (UTC epoch s)      Query: ts BETWEEN from AND to
 *   host S, grp S, period_s N            the key fields, unescaped
 *   metric  S  the metric; absent for rtt
 *   periods N, periods_total N, count N
 *   sum_us, min_us, max_us               N ("%.17g", exact); S ("%a") when
 *                                        DynamoDB's N cannot hold the value
 *                                        (infinities, |x| > 9e125 or < 1e-129)
 *   d       B  codec_encode() digest, or a counter set (METRIC_COUNTERS)
 *   expires N  start_s + period_s + retention by period length: under
 *              5 min (base records) 14 d; 5 min up to 1 h (5 min rollups)
 *              35 d, so a "last 30 days" range keeps 5-minute edges
 *              after its base records expired; 1 h 90 d; 1 d 2 y
 *
 * Mirror of a base record (pk "b#GROUP#HOUR", "#METRIC" added for any
 * metric but rtt, as below): the record's attributes
 * with its start in start_s N, see store_dynamodb_mirror.c.
 *
 * Registry, so a fleet query finds every host without Scan (written with
 * the first record of a series a process writes, and again every 24 h so
 * it outlives its TTL while the series is alive):
 *   pk "h#GROUP#PERIOD_S", ts H(host)             host S      hosts of a series kind
 *   pk "g#HOST",           ts H(group#period_s)   grp S, period_s N  series of a host
 *   pk "H",                ts H(host)             host S      every host
 *   pk "p#GROUP",          ts PERIOD_S            grp S       resolutions of a
 *                                                             group, any host
 * For a metric other than rtt, "#METRIC" ends the h# and p# keys and the
 * g# item's hashed name (group#period_s#metric), whose item also holds
 * metric S; the rtt items keep the keys they had before metrics existed.
 * H() is the first 63 bits of SHA-256 as an integer (name_hash() in
 * store_dynamodb_write.c): distinct names map to distinct sort keys unless
 * SHA-256 collides in 63 bits (chance ~n^2/2^64).
 * Registry items expire like the longest-kept records of their series.
 *
 * Flow-log record (store_put_flows(), store_dynamodb_flows.c has the keys):
 *   pk "f#HOUR_START", ts offset in the hour and a hash (see there)
 *   host S, grp S, tms N (close time, UTC epoch ms), d B (the record)
 *   expires N  close + 14 d, as base records
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "metric.h"
#include "store_dynamodb_private.h"
#include "strbuf.h"

#define DAY_S 86400
#define RETENTION_BASE_S (14 * DAY_S)
#define RETENTION_5MIN_S (35 * DAY_S)
#define RETENTION_HOUR_S (90 * DAY_S)
#define RETENTION_DAY_S (730 * DAY_S)

/* ---------------------------------------------------------------------------
 * Keys
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

/* "#METRIC" for any metric but rtt (metric names hold no '#'). */
void dynamo_add_metric(struct strbuf *b, const char *metric)
{
	metric = metric_or_rtt(metric);
	if (strcmp(metric, METRIC_RTT) != 0) {
		strbuf_addc(b, '#');
		strbuf_adds(b, metric);
	}
}

/* pk of a series' records: "d#HOST#GROUP#PERIOD_S[#METRIC]" (malloc()ed). */
char *dynamo_record_pk(const char *host, const char *group,
		       const char *metric, uint32_t period_s)
{
	struct strbuf b = STRBUF_INIT;

	strbuf_adds(&b, "d#");
	add_escaped(&b, host);
	strbuf_addc(&b, '#');
	add_escaped(&b, group);
	strbuf_addf(&b, "#%" PRIu32, period_s);
	dynamo_add_metric(&b, metric);
	return strbuf_detach(&b, NULL);
}

char *dynamo_hosts_pk(const char *group, const char *metric,
		      uint32_t period_s)
{
	struct strbuf b = STRBUF_INIT;

	strbuf_adds(&b, "h#");
	add_escaped(&b, group);
	strbuf_addf(&b, "#%" PRIu32, period_s);
	dynamo_add_metric(&b, metric);
	return strbuf_detach(&b, NULL);
}

char *dynamo_periods_pk(const char *group, const char *metric)
{
	struct strbuf b = STRBUF_INIT;

	strbuf_adds(&b, "p#");
	add_escaped(&b, group);
	dynamo_add_metric(&b, metric);
	return strbuf_detach(&b, NULL);
}

char *dynamo_groups_pk(const char *host)
{
	struct strbuf b = STRBUF_INIT;

	strbuf_adds(&b, "g#");
	add_escaped(&b, host);
	return strbuf_detach(&b, NULL);
}

/* ---------------------------------------------------------------------------
 * Attributes: numbers and binary, both ways
 * ------------------------------------------------------------------------- */

/* DynamoDB's N holds 38 digits with exponents 1e-130..9.99e125; anything
 * else (infinities included) goes in an S as a C99 hex float. */
static bool fits_number(double v)
{
	double a = fabs(v);

	return isfinite(v) && (a == 0 || (a >= 1e-129 && a <= 9e125));
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

void dynamo_attr_binary(struct json *j, const char *name,
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
 * Items
 * ------------------------------------------------------------------------- */

/* Items of rtt carry no metric: they read the same as before metrics. */
static void j_attr_metric(struct json *j, const char *metric)
{
	metric = metric_or_rtt(metric);
	if (strcmp(metric, METRIC_RTT) != 0)
		j_attr(j, "metric", "S", metric);
}

const char *dynamo_item_metric(yajl_val item)
{
	const char *metric = attr_get(item, "metric", "S");

	return metric ? metric : METRIC_RTT;
}

/* A flow-log item: kept as long as the base records beside it. */
static void gen_flow_item(struct json *j, const struct unit *u)
{
	const struct store_flow *f = u->f;

	j_open(j);
	j_attr(j, "pk", "S", u->pk);
	j_attr(j, "ts", "N", u->ts);
	j_attr(j, "host", "S", f->host);
	j_attr(j, "grp", "S", f->group);
	j_attr_int(j, "tms", f->time_ms);
	dynamo_attr_binary(j, "d", f->data, f->len);
	j_attr_int(j, TTL_ATTRIBUTE, f->time_ms / 1000 + STORE_FLOW_RETENTION_S);
	j_close(j);
}

int dynamo_item_flow(struct dynamo_store *s, yajl_val item,
		     struct store_flow *f, uint8_t **data,
		     struct rttq_error *err)
{
	const char *b64 = attr_get(item, "d", "B");

	memset(f, 0, sizeof(*f));
	*data = NULL;
	f->host = attr_get(item, "host", "S");
	f->group = attr_get(item, "grp", "S");
	if (!f->host || !*f->host || !f->group || !*f->group)
		return dynamo_bad_item(s, item, "host or grp", err);
	if (parse_int(attr_get(item, "tms", "N"), 0, INT64_MAX, &f->time_ms))
		return dynamo_bad_item(s, item, "tms", err);
	if (!b64 || decode_binary(b64, data, &f->len) || f->len == 0 ||
	    f->len > STORE_FLOW_MAX) {
		free(*data);
		*data = NULL;
		return dynamo_bad_item(s, item, "d (flow record)", err);
	}
	f->data = *data;
	return 0;
}

void dynamo_gen_item(struct json *j, const struct unit *u, int64_t now)
{
	const struct store_record *r = u->r;
	char sub[32];
	int64_t keep;

	if (u->kind == UNIT_FLOW) {
		gen_flow_item(j, u);
		return;
	}
	keep = retention_s(r->period_s);

	j_open(j);
	j_attr(j, "pk", "S", u->pk);
	j_attr(j, "ts", "N", u->ts);
	switch (u->kind) {
	case UNIT_MIRROR:
		/* ts is not the start here (store_dynamodb_mirror.c). */
		j_attr_int(j, "start_s", r->start_s);
		/* fall through */
	case UNIT_RECORD:
		j_attr(j, "host", "S", r->host);
		j_attr(j, "grp", "S", r->group);
		j_attr_metric(j, r->metric);
		j_attr_uint(j, "period_s", r->period_s);
		j_attr_uint(j, "periods", r->periods);
		j_attr_uint(j, "periods_total", r->periods_total);
		j_attr_uint(j, "count", r->count);
		j_attr_double(j, "sum_us", r->sum_us);
		j_attr_double(j, "min_us", r->min_us);
		j_attr_double(j, "max_us", r->max_us);
		dynamo_attr_binary(j, "d", r->digest, r->digest_len);
		/* A mirror item expires with its record. */
		j_attr_int(j, TTL_ATTRIBUTE, r->start_s + (int64_t)r->period_s + keep);
		break;
	case UNIT_GROUPS:
		j_attr(j, "grp", "S", r->group);
		j_attr_metric(j, r->metric);
		snprintf(sub, sizeof(sub), "%" PRIu32, r->period_s);
		j_attr(j, "period_s", "N", sub);
		j_attr_int(j, TTL_ATTRIBUTE, now + keep);
		break;
	case UNIT_HOSTS:
		j_attr(j, "host", "S", r->host);
		j_attr_int(j, TTL_ATTRIBUTE, now + keep);
		break;
	case UNIT_PERIODS:
		j_attr(j, "grp", "S", r->group);
		j_attr_int(j, TTL_ATTRIBUTE, now + keep);
		break;
	case UNIT_ALL_HOSTS:
		j_attr(j, "host", "S", r->host);
		j_attr_int(j, TTL_ATTRIBUTE, now + RETENTION_DAY_S);
		break;
	case UNIT_FLOW: /* gen_flow_item() */
		break;
	}
	j_close(j);
}

int dynamo_bad_item(struct dynamo_store *s, yajl_val item, const char *what,
		    struct rttq_error *err)
{
	const char *pk = attr_get(item, "pk", "S");
	const char *ts = attr_get(item, "ts", "N");

	return store_fail(&s->base, err, -EBADMSG,
			  "damaged item pk \"%s\" ts %s: %s is missing or out of range",
			  pk ? pk : "?", ts ? ts : "?", what);
}

int dynamo_item_record(struct dynamo_store *s, yajl_val item,
		       struct store_record *r, uint8_t **digest,
		       struct rttq_error *err)
{
	int64_t period_s, start_s, periods, total, count;
	const char *b64 = attr_get(item, "d", "B");
	/* A mirror item keeps its start apart from its sort key. */
	const char *start = attr_get(item, "start_s", "N");

	memset(r, 0, sizeof(*r));
	*digest = NULL;
	r->host = attr_get(item, "host", "S");
	r->group = attr_get(item, "grp", "S");
	if (!r->host || !*r->host || !r->group || !*r->group)
		return dynamo_bad_item(s, item, "host or grp", err);
	r->metric = dynamo_item_metric(item);
	if (!metric_name_valid(r->metric))
		return dynamo_bad_item(s, item, "metric", err);
	if (parse_int(attr_get(item, "period_s", "N"), 1, UINT32_MAX, &period_s))
		return dynamo_bad_item(s, item, "period_s", err);
	if (parse_int(start ? start : attr_get(item, "ts", "N"), INT64_MIN,
		      INT64_MAX, &start_s) || start_s % period_s)
		return dynamo_bad_item(s, item, start ? "start_s" : "ts", err);
	if (parse_int(attr_get(item, "periods_total", "N"), 1, UINT32_MAX, &total))
		return dynamo_bad_item(s, item, "periods_total", err);
	if (parse_int(attr_get(item, "periods", "N"), 0, total, &periods))
		return dynamo_bad_item(s, item, "periods", err);
	if (parse_int(attr_get(item, "count", "N"), 0, INT64_MAX, &count))
		return dynamo_bad_item(s, item, "count", err);
	if (parse_double_attr(item, "sum_us", &r->sum_us))
		return dynamo_bad_item(s, item, "sum_us", err);
	if (parse_double_attr(item, "min_us", &r->min_us))
		return dynamo_bad_item(s, item, "min_us", err);
	if (parse_double_attr(item, "max_us", &r->max_us))
		return dynamo_bad_item(s, item, "max_us", err);
	if (!b64 || decode_binary(b64, digest, &r->digest_len))
		return dynamo_bad_item(s, item, "d (digest)", err);
	r->period_s = (uint32_t)period_s;
	r->start_s = start_s;
	r->periods = (uint32_t)periods;
	r->periods_total = (uint32_t)total;
	r->count = (uint64_t)count;
	r->digest = *digest;
	return 0;
}
