// SPDX-License-Identifier: BSD-2-Clause
/*
 * The /series answer (see answer_series.h): the planner run once per step,
 * each answer written as one point.
 */
#include <errno.h>

#include "answer_series.h"

/* One chart point: the step [t, t + step) clipped to the request. */
static int gen_point(yajl_gen g, struct store *st,
		     const struct planner_request *whole, int64_t t,
		     int64_t step_s, const struct answer_quantiles *qs,
		     size_t *records_read, struct rttq_error *err)
{
	struct planner_request preq = *whole;
	struct planner_answer ans = { 0 };
	int rc;

	preq.from_s = t > whole->from_s ? t : whole->from_s;
	preq.to_s = t + step_s - 1 < whole->to_s ? t + step_s - 1 :
						      whole->to_s;
	rc = planner_run(st, &preq, &ans, err);
	*records_read += ans.records_read;
	if (rc)
		return rc;
	rc = yajl_gen_map_open(g) == yajl_gen_status_ok ? 0 : -ENOMEM;
	if (rc == 0)
		rc = answer_gen_time(g, "t", t);
	if (rc == 0)
		rc = answer_gen_key(g, "count");
	if (rc == 0 && yajl_gen_integer(g, (long long)ans.count) !=
			       yajl_gen_status_ok)
		rc = -ENOMEM;
	if (rc == 0)
		rc = answer_gen_key(g, "quantiles");
	if (rc == 0)
		rc = answer_gen_values(g, &ans, qs);
	if (rc == 0 && yajl_gen_map_close(g) != yajl_gen_status_ok)
		rc = -ENOMEM;
	planner_answer_clear(&ans);
	if (rc)
		rttq_fail(err, rc, "out of memory");
	return rc;
}

static int gen_series(yajl_gen g, struct store *st,
		      const struct planner_request *req, int64_t step_s,
		      const char *step_label,
		      const struct answer_quantiles *qs,
		      size_t *records_read, struct rttq_error *err)
{
	char level[16];
	int64_t t;
	int rc;

	if (planner_level_label(req->period_s, level, sizeof(level)))
		return rttq_fail(err, -EINVAL, "bad base period");
	rc = yajl_gen_map_open(g) == yajl_gen_status_ok ? 0 : -ENOMEM;
	if (rc == 0)
		rc = answer_gen_key(g, "agg_level");
	if (rc == 0)
		rc = answer_gen_string(g, level);
	if (rc == 0)
		rc = answer_gen_key(g, "step");
	if (rc == 0)
		rc = answer_gen_string(g, step_label);
	if (rc == 0)
		rc = answer_gen_time(g, "from", req->from_s);
	if (rc == 0)
		rc = answer_gen_time(g, "to", req->to_s);
	if (rc == 0)
		rc = answer_gen_key(g, "points");
	if (rc == 0 && yajl_gen_array_open(g) != yajl_gen_status_ok)
		rc = -ENOMEM;
	if (rc)
		return rttq_fail(err, rc, "out of memory");
	for (t = req->from_s / step_s * step_s; rc == 0 && t <= req->to_s;
	     t += step_s)
		rc = gen_point(g, st, req, t, step_s, qs, records_read, err);
	if (rc == 0 && (yajl_gen_array_close(g) != yajl_gen_status_ok ||
			yajl_gen_map_close(g) != yajl_gen_status_ok))
		rc = rttq_fail(err, -ENOMEM, "out of memory");
	return rc;
}

int answer_series_json(struct store *st, const struct planner_request *req,
		       int64_t step_s, const char *step_label,
		       const struct answer_quantiles *qs, size_t *records_read,
		       char **out, size_t *len, struct rttq_error *err)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	int rc;

	if (!g)
		return rttq_fail(err, -ENOMEM, "out of memory");
	rc = gen_series(g, st, req, step_s, step_label, qs, records_read,
			err);
	if (rc == 0 && answer_gen_finish(g, out, len))
		rc = rttq_fail(err, -ENOMEM, "out of memory");
	yajl_gen_free(g);
	return rc;
}
