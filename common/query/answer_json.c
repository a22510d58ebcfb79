// SPDX-License-Identifier: BSD-2-Clause
/*
 * JSON answers shared by rttq-api and `rttq query` (see answer_json.h).
 * Quantile values are milliseconds with 3 decimals, written as strings as
 * the seed API did, so clients never see float formatting differences.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer_json.h"
#include "metric.h"
#include "series.h"
#include "tdigest.h"
#include "timeparse.h"

#define ITEM_MAX 32 /* bytes of one list item we quote in errors */

static int gen_rc(yajl_gen_status s)
{
	if (s == yajl_gen_status_ok)
		return 0;
	return s == yajl_gen_invalid_string ? -EILSEQ : -EINVAL;
}

int answer_gen_key(yajl_gen g, const char *key)
{
	return gen_rc(yajl_gen_string(g, (const unsigned char *)key,
				      strlen(key)));
}

int answer_gen_string(yajl_gen g, const char *s)
{
	size_t len = strlen(s), i;
	char *copy;
	int rc;

	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	rc = gen_rc(yajl_gen_string(g, (const unsigned char *)s, len));
	if (rc != -EILSEQ)
		return rc;
	/* Host and group names are bytes, JSON wants UTF-8. */
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	for (i = 0; i < len; i++)
		if ((unsigned char)copy[i] >= 0x80)
			copy[i] = '?';
	rc = gen_rc(yajl_gen_string(g, (const unsigned char *)copy, len));
	free(copy);
	return rc;
}

/* A value in microseconds as the string of its milliseconds, 3 decimals. */
static int gen_ms(yajl_gen g, double us)
{
	char buf[64];
	int n;

	n = snprintf(buf, sizeof(buf), "%.3f", us / 1000.0);
	if (n <= 0 || (size_t)n >= sizeof(buf))
		return -EINVAL;
	return gen_rc(yajl_gen_string(g, (const unsigned char *)buf,
				      (size_t)n));
}

static int gen_int(yajl_gen g, uint64_t v)
{
	return gen_rc(yajl_gen_integer(g, (long long)v));
}

/*
 * One item: [p]DIGITS[.DIGITS], 0..100, at most 3 decimals.  The value is
 * kept in thousandths of a percent so names and duplicates are exact.
 */
static int parse_item(const char *item, size_t len, long *milli_out,
		      struct rttq_error *err)
{
	const char *p = item, *end = item + len;
	long whole = 0, frac = 0;
	int ndec = 0, nwhole = 0;

	if (p < end && *p == 'p')
		p++;
	for (; p < end && *p >= '0' && *p <= '9' && nwhole < 4; p++, nwhole++)
		whole = whole * 10 + (*p - '0');
	if (nwhole == 0)
		goto bad;
	if (p < end && *p == '.') {
		for (p++; p < end && *p >= '0' && *p <= '9' && ndec < 3;
		     p++, ndec++)
			frac = frac * 10 + (*p - '0');
		if (ndec == 0)
			goto bad;
	}
	if (p != end)
		goto bad;
	for (; ndec < 3; ndec++)
		frac *= 10;
	*milli_out = whole * 1000 + frac;
	if (*milli_out > 100000)
		return rttq_fail(err, -EINVAL, "quantile '%.*s' above 100",
				 (int)(len < ITEM_MAX ? len : ITEM_MAX), item);
	return 0;
bad:
	return rttq_fail(err, -EINVAL, "quantile '%.*s' is not a percentile "
			 "such as 50, 99 or 99.9", (int)(len < ITEM_MAX ?
							 len : ITEM_MAX),
			 item);
}

/* "p" + 99.9 from 99900 thousandths, trailing zeros dropped. */
static void name_from_milli(long milli, char *buf, size_t len)
{
	int whole = (int)(milli / 1000) % 1000, frac = (int)(milli % 1000);
	int ndec = 3;

	if (frac == 0) {
		snprintf(buf, len, "p%d", whole);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		ndec--;
	}
	snprintf(buf, len, "p%d.%0*d", whole, ndec, frac);
}

int answer_quantiles_parse(const char *text, struct answer_quantiles *out,
			   struct rttq_error *err)
{
	long milli[ANSWER_QUANTILES_MAX];
	const char *p;
	size_t i;
	int rc;

	if (!text)
		text = ANSWER_QUANTILES_DEFAULT;
	memset(out, 0, sizeof(*out));
	p = text;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		long m = 0;

		if (len == 0)
			return rttq_fail(err, -EINVAL, "quantile list '%.64s' "
					 "has an empty item", text);
		if (out->n == ANSWER_QUANTILES_MAX)
			return rttq_fail(err, -EINVAL, "quantile list: more "
					 "than %d quantiles",
					 ANSWER_QUANTILES_MAX);
		rc = parse_item(p, len, &m, err);
		if (rc)
			return rc;
		for (i = 0; i < out->n; i++)
			if (milli[i] == m)
				return rttq_fail(err, -EINVAL, "quantile "
						 "'%.*s' given twice",
						 (int)(len < ITEM_MAX ? len :
						       ITEM_MAX), p);
		milli[out->n] = m;
		out->q[out->n] = (double)m / 100000.0;
		name_from_milli(m, out->name[out->n], ANSWER_QNAME_MAX);
		out->n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	return 0;
}

int answer_metric_parse(const char *text, const char **out,
			struct rttq_error *err)
{
	const struct metric_dist *d;
	char names[256];
	size_t len = 0;
	unsigned int i;

	*out = NULL;
	if (!text)
		return 0;
	if (metric_dist_find(text)) {
		*out = text;
		return 0;
	}
	if (!strcmp(text, METRIC_COUNTERS))
		return rttq_fail(err, -EINVAL, "metric '%s' is a group's "
				 "counters, not a distribution: ask for "
				 "them with /counters (rttq counters)",
				 METRIC_COUNTERS);
	names[0] = '\0';
	for (i = 0; (d = metric_dist_at(i)) && len < sizeof(names); i++)
		len += (size_t)snprintf(names + len, sizeof(names) - len,
					"%s%s", i ? ", " : "", d->name);
	return rttq_fail(err, -EINVAL, "unknown metric '%.64s' (one of: %s)",
			 text, names);
}

int answer_step_parse(const char *text, uint32_t period_s, int64_t *step_s,
		      const char **label, struct rttq_error *err)
{
	static const struct {
		const char *label;
		int64_t s;
	} steps[] = { { "1m", 60 }, { "5m", 300 }, { "1h", 3600 },
		      { "1d", 86400 } };
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (!strcmp(text, steps[i].label))
			break;
	if (i == sizeof(steps) / sizeof(steps[0]))
		return rttq_fail(err, -EINVAL, "unknown step '%.16s' (1m, 5m, "
				 "1h or 1d)", text);
	if (period_s && steps[i].s % period_s)
		return rttq_fail(err, -EINVAL, "%s is not a multiple of the "
				 "%u s base period", text, period_s);
	*step_s = steps[i].s;
	*label = steps[i].label;
	return 0;
}

int answer_gen_values(yajl_gen g, const struct planner_answer *a,
		      const struct answer_quantiles *qs)
{
	size_t i;
	int rc;

	rc = gen_rc(yajl_gen_map_open(g));
	for (i = 0; rc == 0 && a->count > 0 && a->digest && i < qs->n; i++) {
		double v = tdigest_quantile(a->digest, qs->q[i]);

		if (isnan(v))
			continue;
		rc = answer_gen_key(g, qs->name[i]);
		if (rc == 0)
			rc = gen_ms(g, v);
	}
	if (rc == 0)
		rc = gen_rc(yajl_gen_map_close(g));
	return rc;
}

int answer_gen_time(yajl_gen g, const char *key, int64_t t)
{
	char buf[TIMEPARSE_RFC3339_LEN];
	int rc;

	rc = answer_gen_key(g, key);
	if (rc == 0 && timeparse_format(t, buf, sizeof(buf)) == 0)
		rc = answer_gen_string(g, buf);
	else if (rc == 0)
		rc = gen_rc(yajl_gen_integer(g, (long long)t));
	return rc;
}

/* "LABEL": n, the label naming records @length_s long ("1d", "1m"). */
static int gen_level_count(yajl_gen g, uint32_t length_s, size_t n)
{
	char label[16];
	int rc;

	if (planner_level_label(length_s, label, sizeof(label)))
		return -EINVAL;
	rc = answer_gen_key(g, label);
	if (rc == 0)
		rc = gen_int(g, n);
	return rc;
}

/* Records merged per level, coarsest first; only the rollup levels a base
 * period of @period_s has (series_rollup_built()). */
static int gen_records(yajl_gen g, const struct planner_answer *a,
		       uint32_t period_s)
{
	int r, rc;

	rc = answer_gen_key(g, "records");
	if (rc == 0)
		rc = gen_rc(yajl_gen_map_open(g));
	for (r = SERIES_ROLLUPS - 1; rc == 0 && r >= 0; r--)
		if (series_rollup_built(period_s, r))
			rc = gen_level_count(g, series_rollup_length(r),
					     a->records[r + 1]);
	if (rc == 0)
		rc = gen_level_count(g, period_s,
				     a->records[PLANNER_LEVEL_BASE]);
	if (rc == 0)
		rc = gen_rc(yajl_gen_map_close(g));
	return rc;
}

uint32_t answer_agg_period(uint32_t planned,
			   const struct planner_request *req)
{
	if (planned)
		return planned;
	return req->period_s ? req->period_s : SERIES_PERIOD_DEFAULT_S;
}

int answer_gen_no_data(yajl_gen g, enum planner_no_data why)
{
	const char *name = planner_no_data_name(why);
	int rc;

	if (!name)
		return 0;
	rc = answer_gen_key(g, "no_data");
	return rc ? rc : answer_gen_string(g, name);
}

int answer_gen_metric(yajl_gen g, const char *metric)
{
	const struct metric_dist *d = metric_dist_find(metric);
	int rc;

	if (!metric || !*metric)
		return 0;
	rc = answer_gen_key(g, "metric");
	if (rc == 0)
		rc = answer_gen_string(g, metric);
	if (rc == 0 && d)
		rc = answer_gen_key(g, "unit");
	if (rc == 0 && d)
		rc = answer_gen_string(g, d->unit);
	return rc;
}

/* "@what_@unit" into @buf. */
static const char *unit_key(char *buf, size_t size, const char *what,
			    const char *unit)
{
	snprintf(buf, size, "%s_%s", what, unit);
	return buf;
}

int answer_gen_quantiles(yajl_gen g, const struct planner_answer *a,
			 const struct planner_request *req,
			 const struct answer_quantiles *qs)
{
	uint32_t period_s = answer_agg_period(a->base_period_s, req);
	const struct metric_dist *d = metric_dist_find(req->metric);
	/* Samples are thousandths of the unit, so gen_ms() serves every
	 * one; the keys name it ("min_ms", "min_us", "min_pct"). */
	const char *unit = !d ? "ms" : !strcmp(d->unit, "%") ? "pct" : d->unit;
	char level[16], key[16];
	int rc;

	if (planner_level_label(period_s, level, sizeof(level)))
		return -EINVAL;
	rc = gen_rc(yajl_gen_map_open(g));
	if (rc == 0)
		rc = answer_gen_key(g, "agg_level");
	if (rc == 0)
		rc = answer_gen_string(g, level);
	if (rc == 0)
		rc = answer_gen_key(g, "sample_count");
	if (rc == 0)
		rc = gen_int(g, a->count);
	if (rc == 0)
		rc = answer_gen_key(g, "quantiles");
	if (rc == 0)
		rc = answer_gen_values(g, a, qs);
	if (rc == 0)
		rc = answer_gen_time(g, "from", req->from_s);
	if (rc == 0)
		rc = answer_gen_time(g, "to", req->to_s);
	if (rc == 0 && req->host) {
		rc = answer_gen_key(g, "host");
		if (rc == 0)
			rc = answer_gen_string(g, req->host);
	}
	if (rc == 0)
		rc = answer_gen_key(g, "group");
	if (rc == 0)
		rc = answer_gen_string(g, req->group ? req->group : "all");
	if (rc == 0)
		rc = answer_gen_metric(g, req->metric);
	if (rc == 0)
		rc = answer_gen_key(g, "hosts");
	if (rc == 0)
		rc = gen_int(g, a->hosts);
	if (rc == 0 && a->count > 0) {
		rc = answer_gen_key(g, unit_key(key, sizeof(key), "min",
						   unit));
		if (rc == 0)
			rc = gen_ms(g, a->min_us);
		if (rc == 0)
			rc = answer_gen_key(g, unit_key(key, sizeof(key), "max",
						   unit));
		if (rc == 0)
			rc = gen_ms(g, a->max_us);
		if (rc == 0)
			rc = answer_gen_key(g, unit_key(key, sizeof(key), "mean",
						   unit));
		if (rc == 0)
			rc = gen_ms(g, a->sum_us / (double)a->count);
	}
	if (rc == 0)
		rc = answer_gen_no_data(g, a->no_data);
	if (rc == 0)
		rc = gen_records(g, a, period_s);
	if (rc == 0)
		rc = answer_gen_key(g, "records_read");
	if (rc == 0)
		rc = gen_int(g, a->records_read);
	if (rc == 0)
		rc = gen_rc(yajl_gen_map_close(g));
	return rc;
}

int answer_gen_finish(yajl_gen g, char **out, size_t *len)
{
	const unsigned char *buf = NULL;
	size_t n = 0;
	char *copy;

	if (yajl_gen_get_buf(g, &buf, &n) != yajl_gen_status_ok)
		return -EINVAL;
	copy = malloc(n + 2);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, n);
	copy[n] = '\n';
	copy[n + 1] = '\0';
	*out = copy;
	if (len)
		*len = n + 1;
	return 0;
}

int answer_quantiles_json(const struct planner_answer *a,
			  const struct planner_request *req,
			  const struct answer_quantiles *qs, char **out,
			  size_t *len)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	int rc;

	if (!g)
		return -ENOMEM;
	rc = answer_gen_quantiles(g, a, req, qs);
	if (rc == 0)
		rc = answer_gen_finish(g, out, len);
	yajl_gen_free(g);
	return rc;
}

int answer_error_json(const char *msg, char **out, size_t *len)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	int rc;

	if (!g)
		return -ENOMEM;
	rc = gen_rc(yajl_gen_map_open(g));
	if (rc == 0)
		rc = answer_gen_key(g, "error");
	if (rc == 0)
		rc = answer_gen_string(g, msg);
	if (rc == 0)
		rc = gen_rc(yajl_gen_map_close(g));
	if (rc == 0)
		rc = answer_gen_finish(g, out, len);
	yajl_gen_free(g);
	return rc;
}
