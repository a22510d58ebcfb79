// SPDX-License-Identifier: BSD-2-Clause
/*
 * Store front end: picks a backend from the URL, checks every argument once
 * so all backends reject the same bad input with the same message, then
 * dispatches through the backend's ops table (store_backend.h).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "counter_set.h"
#include "metric.h"
#include "store_backend.h"

static const struct store_ops *const backends[] = {
	&store_sqlite_ops,
	&store_dynamodb_ops,
};

int store_fail(const struct store *st, struct rttq_error *err, int code,
	       const char *fmt, ...)
{
	char msg[RTTQ_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return rttq_fail(err, code, "store %s: %s", st->url, msg);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* "scheme:rest" for a known scheme, else a bare "*.db" path for SQLite. */
static const struct store_ops *backend_for(const char *url,
					   const char **location)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		size_t n = strlen(backends[i]->scheme);

		if (strncmp(url, backends[i]->scheme, n) == 0 && url[n] == ':') {
			*location = url + n + 1;
			return backends[i];
		}
	}
	if (ends_with(url, ".db")) {
		*location = url;
		return &store_sqlite_ops;
	}
	return NULL;
}

/* After a backend made @st (when @ret is 0): give it @ops and @url (owned
 * from now on, freed on failure) and hand it out. */
static int adopt(int ret, struct store *st, const struct store_ops *ops,
		 char *url, struct store **out)
{
	if (ret) {
		free(url);
		return ret;
	}
	st->ops = ops;
	st->url = url;
	*out = st;
	return 0;
}

static int open_url(const char *url, bool setup, struct store **out,
		    struct rttq_error *err)
{
	const struct store_ops *ops;
	const char *location = NULL;
	struct store *st = NULL;
	char *copy;
	int ret;

	*out = NULL;
	if (!url || !*url)
		return rttq_fail(err, -EINVAL,
				 "store \"%s\": empty URL (expected sqlite:PATH, a path ending in .db, or dynamodb:TABLE[?region=R&endpoint=URL])",
				 url ? url : "");
	ops = backend_for(url, &location);
	if (!ops)
		return rttq_fail(err, -EINVAL,
				 "store \"%s\": unknown store type (expected sqlite:PATH, a path ending in .db, or dynamodb:TABLE[?region=R&endpoint=URL])",
				 url);
	if (!*location)
		return rttq_fail(err, -EINVAL, "store \"%s\": empty path after \"%s:\"",
				 url, ops->scheme);

	copy = strdup(url);
	if (!copy)
		return rttq_fail(err, -ENOMEM, "store %s: out of memory", url);
	ret = ops->open(url, location, setup, &st, err);
	return adopt(ret, st, ops, copy, out);
}

int store_open(const char *url, struct store **out, struct rttq_error *err)
{
	return open_url(url, true, out, err);
}

int store_open_read(const char *url, struct store **out,
		    struct rttq_error *err)
{
	return open_url(url, false, out, err);
}

int store_open_sibling(struct store *st, struct store **out,
		       struct rttq_error *err)
{
	struct store *sib = NULL;
	char *copy;
	int ret;

	*out = NULL;
	copy = strdup(st->url);
	if (!copy)
		return store_fail(st, err, -ENOMEM, "out of memory");
	ret = st->ops->sibling(st, &sib, err);
	return adopt(ret, sib, st->ops, copy, out);
}

int store_sibling(struct store *st, unsigned int i, struct store **out,
		  struct rttq_error *err)
{
	int ret = 0;

	*out = NULL;
	if (i < 1 || i > STORE_SIBLINGS)
		return store_fail(st, err, -EINVAL, "sibling %u out of 1..%d", i,
				  STORE_SIBLINGS);
	if (!st->siblings[i - 1])
		ret = store_open_sibling(st, &st->siblings[i - 1], err);
	*out = st->siblings[i - 1];
	return ret;
}

void store_close(struct store *st)
{
	char *url;

	if (!st)
		return;
	for (size_t i = 0; i < STORE_SIBLINGS; i++)
		store_close(st->siblings[i]);
	url = st->url;
	st->ops->close(st);
	free(url);
}

static int check_name(const struct store *st, const char *what,
		      const char *name, size_t max, struct rttq_error *err)
{
	size_t len;

	if (!name || !*name)
		return store_fail(st, err, -EINVAL, "empty %s", what);
	len = strnlen(name, max);
	if (len == max)
		return store_fail(st, err, -EINVAL, "%s longer than %zu bytes",
				  what, max - 1);
	return 0;
}

static int check_metric(const struct store *st, const char *metric,
			struct rttq_error *err)
{
	metric = metric_or_rtt(metric);
	if (!metric_name_valid(metric))
		return store_fail(st, err, -EINVAL, "metric \"%.80s\": not a "
				  "metric name (1-63 of a-z, 0-9, '_', '.')",
				  metric);
	return 0;
}

/* A counter set is summed, never re-encoded, by readers: a set they cannot
 * decode would fail every query over its period, so it is refused here.
 * (A stale mark, periods 0, holds a token instead.) */
static int check_counters(const struct store *st, const struct store_record *r,
			  struct rttq_error *err)
{
	struct counter_set set = COUNTER_SET_INIT;
	struct rttq_error why = { 0 };
	int ret;

	ret = counter_set_decode(r->digest, r->digest_len, &set, &why);
	if (!ret && set.n != r->count)
		ret = rttq_fail(&why, -EINVAL, "count %llu, but the set holds "
				"%zu counters", (unsigned long long)r->count,
				set.n);
	counter_set_free(&set);
	if (ret == -ENOMEM)
		return store_fail(st, err, ret, "out of memory");
	if (ret)
		return store_fail(st, err, -EINVAL, "%s/%s start_s %lld: "
				  "counter set: %s", r->host, r->group,
				  (long long)r->start_s, why.msg);
	return 0;
}

/* What a reader relies on: a keyed, aligned, self-consistent record. */
static int check_record(const struct store *st, const struct store_record *r,
			struct rttq_error *err)
{
	int ret;

	ret = check_name(st, "host", r->host, STORE_HOST_MAX, err);
	if (!ret)
		ret = check_name(st, "group", r->group, STORE_GROUP_MAX, err);
	if (ret)
		return ret;
	ret = check_metric(st, r->metric, err);
	if (ret)
		return ret;
	if (r->period_s == 0)
		return store_fail(st, err, -EINVAL, "%s/%s: period_s is 0",
				  r->host, r->group);
	if (r->start_s % (int64_t)r->period_s != 0)
		return store_fail(st, err, -EINVAL,
				  "%s/%s: start_s %lld is not a multiple of period_s %u",
				  r->host, r->group, (long long)r->start_s,
				  r->period_s);
	if (r->periods_total == 0 || r->periods > r->periods_total)
		return store_fail(st, err, -EINVAL,
				  "%s/%s start_s %lld: periods %u out of [0, periods_total %u] (periods_total must be > 0)",
				  r->host, r->group, (long long)r->start_s,
				  r->periods, r->periods_total);
	if (r->count > INT64_MAX)
		return store_fail(st, err, -EINVAL,
				  "%s/%s start_s %lld: count %llu too large",
				  r->host, r->group, (long long)r->start_s,
				  (unsigned long long)r->count);
	/* SQLite would store NaN as NULL, and no reader can use one. */
	if (isnan(r->sum_us) || isnan(r->min_us) || isnan(r->max_us))
		return store_fail(st, err, -EINVAL,
				  "%s/%s start_s %lld: sum_us, min_us or max_us is NaN",
				  r->host, r->group, (long long)r->start_s);
	if (!r->digest || r->digest_len == 0)
		return store_fail(st, err, -EINVAL,
				  "%s/%s start_s %lld: empty digest",
				  r->host, r->group, (long long)r->start_s);
	if (r->periods && !strcmp(metric_or_rtt(r->metric), METRIC_COUNTERS))
		return check_counters(st, r, err);
	return 0;
}

/* Random bytes for stale marks: each put's marks must differ from every
 * earlier one, so a rollup can tell a mark written during its rebuild. */
static int mark_token(uint8_t *token)
{
	size_t got = 0;

	while (got < STORE_MARK_TOKEN_LEN) {
		ssize_t r = getrandom(token + got, STORE_MARK_TOKEN_LEN - got, 0);

		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0)
			got += (size_t)r;
	}
	return 0;
}

/* Records first, marks after: a rollup that reads a mark's token before
 * rebuilding then also reads the late records. */
static int put_marks(struct store *st, const struct store_record *recs,
		     size_t n, struct rttq_error *err)
{
	uint8_t token[STORE_MARK_TOKEN_LEN];
	struct store_record *marks = NULL;
	size_t nm = 0;
	int ret;

	ret = store_fleet_marks(recs, n, time(NULL), token, &marks, &nm);
	if (ret)
		return store_fail(st, err, ret, "out of memory");
	if (nm) {
		ret = mark_token(token);
		if (ret)
			ret = store_fail(st, err, ret, "no random bytes for "
					 "stale marks: %s", strerror(-ret));
	}
	if (nm && !ret) {
		ret = st->ops->put(st, marks, nm, err);
		if (ret)
			rttq_error_prefix(err, "records written, but not the "
					  "stale marks of their fleet spans");
	}
	free(marks);
	return ret;
}

int store_put(struct store *st, const struct store_record *recs, size_t n,
	      struct rttq_error *err)
{
	int ret;

	/* Check the whole batch first so a bad record writes nothing. */
	for (size_t i = 0; i < n; i++) {
		ret = check_record(st, &recs[i], err);
		if (ret)
			return ret;
		if (store_host_reserved(recs[i].host))
			return store_fail(st, err, -EINVAL, "host '%s' is "
					  "reserved: names starting with '%c' "
					  "are the store's own (fleet records)",
					  recs[i].host, STORE_RESERVED_PREFIX);
	}
	if (n == 0)
		return 0;
	ret = st->ops->put(st, recs, n, err);
	return ret ? ret : put_marks(st, recs, n, err);
}

int store_put_fleet(struct store *st, const struct store_record *rec,
		    const uint8_t *expect, size_t expect_len,
		    struct rttq_error *err)
{
	int ret = check_record(st, rec, err);

	if (ret)
		return ret;
	if (strcmp(rec->host, STORE_FLEET_HOST) ||
	    (rec->period_s != 300 && rec->period_s != 3600 &&
	     rec->period_s != 86400))
		return store_fail(st, err, -EINVAL, "%s/%s: a fleet record "
				  "has host '%s' and period 300, 3600 or "
				  "86400 s", rec->host, rec->group,
				  STORE_FLEET_HOST);
	if (expect && expect_len == 0)
		return store_fail(st, err, -EINVAL, "empty expected digest");
	ret = st->ops->put_if(st, rec, expect, expect_len, err);
	if (ret == -ESTALE)
		store_fail(st, err, ret, "fleet record %s %u s at %lld changed "
			   "since it was read (marked stale again, or written "
			   "by another run)", rec->group, rec->period_s,
			   (long long)rec->start_s);
	return ret;
}

/* Leaves reserved hosts out of listings of every host. */
struct hosts_only {
	store_record_fn record_fn;
	store_series_fn series_fn;
	void *arg;
};

static int record_of_host(const struct store_record *rec, void *arg)
{
	const struct hosts_only *h = arg;

	return store_host_reserved(rec->host) ? 0 : h->record_fn(rec, h->arg);
}

static int series_of_host(const char *host, const char *group,
			  const char *metric, uint32_t period_s, void *arg)
{
	const struct hosts_only *h = arg;

	return store_host_reserved(host) ? 0 :
		h->series_fn(host, group, metric, period_s, h->arg);
}

int store_query(struct store *st, const struct store_query *q,
		store_record_fn fn, void *arg, struct rttq_error *err)
{
	struct store_query checked = *q;
	struct hosts_only h = { .record_fn = fn, .arg = arg };
	int ret;

	if (!checked.group)
		checked.group = "all";
	if (checked.host) {
		ret = check_name(st, "host", checked.host, STORE_HOST_MAX, err);
		if (ret)
			return ret;
	}
	ret = check_name(st, "group", checked.group, STORE_GROUP_MAX, err);
	if (!ret)
		ret = check_metric(st, checked.metric, err);
	if (ret)
		return ret;
	checked.metric = metric_or_rtt(checked.metric);
	if (checked.period_s == 0)
		return store_fail(st, err, -EINVAL, "query period_s is 0");
	if (checked.host)
		return st->ops->query(st, &checked, fn, arg, err);
	return st->ops->query(st, &checked, record_of_host, &h, err);
}

int store_series(struct store *st, const char *host, const char *group,
		 int64_t from_s, int64_t to_s, store_series_fn fn, void *arg,
		 struct rttq_error *err)
{
	struct hosts_only h = { .series_fn = fn, .arg = arg };
	int ret;

	if (group) {
		ret = check_name(st, "group", group, STORE_GROUP_MAX, err);
		if (ret)
			return ret;
	}
	if (host) {
		ret = check_name(st, "host", host, STORE_HOST_MAX, err);
		if (ret)
			return ret;
		return st->ops->series(st, host, group, from_s, to_s, fn, arg,
				       err);
	}
	return st->ops->series(st, NULL, group, from_s, to_s, series_of_host,
			       &h, err);
}

int store_fine_records(struct store *st, const char *group,
		       const char *metric, int64_t from_s, int64_t to_s,
		       store_record_fn fn, void *arg, struct rttq_error *err)
{
	int ret;

	ret = check_name(st, "group", group, STORE_GROUP_MAX, err);
	if (!ret)
		ret = check_metric(st, metric, err);
	if (ret || from_s > to_s)
		return ret;
	return st->ops->fine_records(st, group, metric_or_rtt(metric), from_s,
				     to_s, fn, arg, err);
}

int store_periods(struct store *st, const char *group, const char *metric,
		  uint32_t *periods, size_t max, size_t *n,
		  struct rttq_error *err)
{
	int ret;

	*n = 0;
	ret = check_name(st, "group", group, STORE_GROUP_MAX, err);
	if (!ret)
		ret = check_metric(st, metric, err);
	return ret ? ret : st->ops->periods(st, group, metric_or_rtt(metric),
					    periods, max, n, err);
}

int store_finest_period(struct store *st, const char *group,
			const char *metric, uint32_t *out,
			struct rttq_error *err)
{
	size_t n;

	*out = 0;
	return store_periods(st, group, metric, out, 1, &n, err);
}

int store_ping(struct store *st, struct rttq_error *err)
{
	return st->ops->ping(st, err);
}

void store_set_deadline(struct store *st, int64_t deadline_ms)
{
	st->ops->set_deadline(st, deadline_ms > 0 ? deadline_ms : 0);
}

static int check_flow(const struct store *st, const struct store_flow *f,
		      size_t i, struct rttq_error *err)
{
	int ret;

	ret = check_name(st, "flow host", f->host, STORE_HOST_MAX, err);
	if (!ret)
		ret = check_name(st, "flow group", f->group, STORE_GROUP_MAX,
				 err);
	if (ret)
		return ret;
	if (store_host_reserved(f->host))
		return store_fail(st, err, -EINVAL,
				  "flow %zu: host \"%.80s\" is reserved", i,
				  f->host);
	if (f->time_ms < 0)
		return store_fail(st, err, -EINVAL,
				  "flow %zu of %s: time %lld before 1970", i,
				  f->host, (long long)f->time_ms);
	if (!f->data || f->len == 0 || f->len > STORE_FLOW_MAX)
		return store_fail(st, err, -EINVAL,
				  "flow %zu of %s: %zu bytes of data (1-%d)", i,
				  f->host, f->len, STORE_FLOW_MAX);
	return 0;
}

int store_put_flows(struct store *st, const struct store_flow *flows,
		    size_t n, struct rttq_error *err)
{
	int ret;

	for (size_t i = 0; i < n; i++) {
		ret = check_flow(st, &flows[i], i, err);
		if (ret)
			return ret;
	}
	return n ? st->ops->put_flows(st, flows, n, err) : 0;
}

int store_flows(struct store *st, const char *host, int64_t from_ms,
		int64_t to_ms, store_flow_fn fn, void *arg,
		struct rttq_error *err)
{
	int ret;

	if (host) {
		ret = check_name(st, "host", host, STORE_HOST_MAX, err);
		if (ret)
			return ret;
	}
	if (from_ms > to_ms)
		return 0;
	return st->ops->flows(st, host, from_ms, to_ms, fn, arg, err);
}
