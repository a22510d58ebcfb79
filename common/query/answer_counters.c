// SPDX-License-Identifier: BSD-2-Clause
/*
 * The /counters answer (see answer_counters.h): one planner_run_counters()
 * for the range, its sums written as JSON integers from their decimal
 * text (a u64 does not fit yajl's long long) and its rates as numbers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "answer_counters.h"
#include "answer_json.h"
#include "counter_set.h"

#define GLOB_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_.*"

int answer_counter_names_parse(const char *text,
			       struct answer_counter_names *out,
			       struct rttq_error *err)
{
	size_t used = 0;

	out->n = 0;
	if (!text)
		return 0;
	for (const char *p = text;; p++) {
		size_t len = strcspn(p, ",");

		if (len == 0)
			return rttq_fail(err, -EINVAL, "empty counter name in "
					 "'%.64s'", text);
		if (len >= METRIC_NAME_MAX)
			return rttq_fail(err, -EINVAL, "counter name '%.*s...' "
					 "longer than %d bytes", 32, p,
					 METRIC_NAME_MAX - 1);
		if (strspn(p, GLOB_CHARS) < len)
			return rttq_fail(err, -EINVAL, "counter name '%.*s': "
					 "only a-z, 0-9, '_', '.' and the "
					 "glob '*'", (int)len, p);
		if (out->n == ANSWER_COUNTER_NAMES_MAX)
			return rttq_fail(err, -EINVAL, "more than %d counter "
					 "names", ANSWER_COUNTER_NAMES_MAX);
		memcpy(out->buf + used, p, len);
		out->buf[used + len] = '\0';
		out->v[out->n++] = out->buf + used;
		used += len + 1;
		p += len;
		if (!*p)
			return 0;
	}
}

static int gen_ok(yajl_gen_status s)
{
	return s == yajl_gen_status_ok ? 0 : -ENOMEM;
}

static int gen_u64(yajl_gen g, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%" PRIu64, v);

	return gen_ok(yajl_gen_number(g, num, (size_t)n));
}

/* {"name": total, ...}, or each total / @seconds with @rate. */
static int gen_counters(yajl_gen g, const char *key,
			const struct counter_set *set, bool rate,
			int64_t seconds)
{
	int rc = answer_gen_key(g, key);

	if (rc == 0)
		rc = gen_ok(yajl_gen_map_open(g));
	for (size_t i = 0; rc == 0 && i < set->n; i++) {
		char num[40];
		int n;

		rc = answer_gen_key(g, set->v[i].name);
		if (rc || !rate) {
			rc = rc ? rc : gen_u64(g, set->v[i].value);
			continue;
		}
		n = snprintf(num, sizeof(num), "%.9g",
			     (double)set->v[i].value / (double)seconds);
		rc = gen_ok(yajl_gen_number(g, num, (size_t)n));
	}
	return rc ? rc : gen_ok(yajl_gen_map_close(g));
}

static int gen_text(yajl_gen g, const char *key, const char *value)
{
	int rc = answer_gen_key(g, key);

	return rc ? rc : answer_gen_string(g, value);
}

/* "step" and "points", the steps laid out as answer_series.c's. */
static int gen_points(yajl_gen g, const struct planner_request *req,
		      int64_t step_s, const char *step_label,
		      const struct planner_series *ps)
{
	static const struct counter_set none = COUNTER_SET_INIT;
	int rc = gen_text(g, "step", step_label);

	if (rc == 0)
		rc = answer_gen_key(g, "points");
	if (rc == 0)
		rc = gen_ok(yajl_gen_array_open(g));
	for (int64_t t = req->from_s / step_s * step_s;
	     rc == 0 && t <= req->to_s; t += step_s) {
		int64_t i = ps->n ? (t - ps->first_s) / step_s : -1;
		bool in = i >= 0 && i < (int64_t)ps->n && t >= ps->first_s;

		rc = gen_ok(yajl_gen_map_open(g));
		if (rc == 0)
			rc = answer_gen_time(g, "t", t);
		if (rc == 0)
			rc = gen_counters(g, "counters", in ?
					  &ps->points[i].counters : &none,
					  false, 0);
		if (rc == 0)
			rc = gen_ok(yajl_gen_map_close(g));
	}
	return rc ? rc : gen_ok(yajl_gen_array_close(g));
}

static int gen_answer(yajl_gen g, const struct planner_request *req,
		      int64_t step_s, const char *step_label,
		      const struct planner_series *ps,
		      const struct counter_set *total, size_t hosts)
{
	int64_t seconds = ps->span_end_s - ps->span_start_s;
	int rc;

	rc = gen_ok(yajl_gen_map_open(g));
	if (rc == 0)
		rc = answer_gen_time(g, "from", req->from_s);
	if (rc == 0)
		rc = answer_gen_time(g, "to", req->to_s);
	if (rc == 0 && req->host)
		rc = gen_text(g, "host", req->host);
	if (rc == 0)
		rc = gen_text(g, "group", req->group ? req->group : "all");
	if (rc == 0)
		rc = answer_gen_key(g, "hosts");
	if (rc == 0)
		rc = gen_u64(g, hosts);
	if (rc == 0)
		rc = answer_gen_key(g, "seconds");
	if (rc == 0)
		rc = gen_u64(g, seconds > 0 ? (uint64_t)seconds : 0);
	if (rc == 0)
		rc = gen_counters(g, "counters", total, false, 0);
	if (rc == 0)
		rc = gen_counters(g, "per_second", seconds > 0 ? total :
				  &(struct counter_set)COUNTER_SET_INIT, true,
				  seconds);
	if (rc == 0)
		rc = answer_gen_no_data(g, ps->no_data);
	if (rc == 0 && step_s)
		rc = gen_points(g, req, step_s, step_label, ps);
	return rc ? rc : gen_ok(yajl_gen_map_close(g));
}

int answer_counters_json(struct store *st, const struct planner_request *req,
			 const struct answer_counter_names *names,
			 int64_t step_s, const char *step_label,
			 size_t *records_read, char **out, size_t *len,
			 struct rttq_error *err)
{
	struct counter_set total = COUNTER_SET_INIT;
	struct planner_series ps = { 0 };
	yajl_gen g = NULL;
	size_t hosts = 0;
	int rc;

	rc = planner_run_counters(st, req, names->v, names->n, step_s, &ps,
				  err);
	*records_read += ps.records_read;
	if (rc)
		return rc;
	/* Steps hold disjoint records: their sums add up to the range's. */
	for (size_t i = 0; rc == 0 && i < ps.n; i++) {
		rc = counter_set_merge(&total, &ps.points[i].counters);
		if (ps.points[i].hosts > hosts)
			hosts = ps.points[i].hosts;
	}
	if (rc == -EOVERFLOW) {
		rttq_fail(err, rc, "a counter's sum over the range passes "
			  "2^64 - 1");
		goto out;
	}
	g = rc ? NULL : yajl_gen_alloc(NULL);
	rc = g ? gen_answer(g, req, step_s, step_label, &ps, &total, hosts) :
		 -ENOMEM;
	if (rc == 0)
		rc = answer_gen_finish(g, out, len);
	if (rc)
		rttq_fail(err, -ENOMEM, "out of memory");
out:
	if (g)
		yajl_gen_free(g);
	counter_set_free(&total);
	planner_series_clear(&ps);
	return rc;
}
