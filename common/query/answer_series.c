// SPDX-License-Identifier: BSD-2-Clause
/*
 * The /series answer (see answer_series.h): one planner_run_series() for
 * the whole range, each of its answers written as one point.
 */
#include <errno.h>

#include "answer_series.h"

/* One chart point: @ans answers the step starting at @t. */
static int gen_point(yajl_gen g, int64_t t, const struct planner_answer *ans,
		     const struct answer_quantiles *qs)
{
	int rc;

	rc = yajl_gen_map_open(g) == yajl_gen_status_ok ? 0 : -ENOMEM;
	if (rc == 0)
		rc = answer_gen_time(g, "t", t);
	if (rc == 0)
		rc = answer_gen_key(g, "count");
	if (rc == 0 && yajl_gen_integer(g, (long long)ans->count) !=
			       yajl_gen_status_ok)
		rc = -ENOMEM;
	if (rc == 0)
		rc = answer_gen_key(g, "quantiles");
	if (rc == 0)
		rc = answer_gen_values(g, ans, qs);
	if (rc == 0 && yajl_gen_map_close(g) != yajl_gen_status_ok)
		rc = -ENOMEM;
	return rc;
}

/*
 * Points run from the step holding @req->from_s to the one holding
 * @req->to_s; a step whose base periods all start outside the range (the
 * first, when from_s falls in a period's last seconds) is an empty point.
 */
static int gen_series(yajl_gen g, const struct planner_request *req,
		      int64_t step_s, const char *step_label,
		      const struct planner_series *ps,
		      const struct answer_quantiles *qs)
{
	struct planner_answer empty = { 0 };
	const struct planner_answer *ans;
	char level[16];
	int64_t t, i;
	int rc;

	if (planner_level_label(answer_agg_period(ps->base_period_s, req),
				level, sizeof(level)))
		return -EINVAL;
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
		rc = answer_gen_metric(g, req->metric);
	if (rc == 0)
		rc = answer_gen_no_data(g, ps->no_data);
	if (rc == 0)
		rc = answer_gen_key(g, "points");
	if (rc == 0 && yajl_gen_array_open(g) != yajl_gen_status_ok)
		rc = -ENOMEM;
	for (t = req->from_s / step_s * step_s; rc == 0 && t <= req->to_s;
	     t += step_s) {
		i = ps->n ? (t - ps->first_s) / step_s : -1;
		ans = i >= 0 && i < (int64_t)ps->n && t >= ps->first_s ?
			      &ps->points[i] : &empty;
		rc = gen_point(g, t, ans, qs);
	}
	if (rc == 0 && (yajl_gen_array_close(g) != yajl_gen_status_ok ||
			yajl_gen_map_close(g) != yajl_gen_status_ok))
		rc = -ENOMEM;
	return rc;
}

int answer_series_json(struct store *st, const struct planner_request *req,
		       int64_t step_s, const char *step_label,
		       const struct answer_quantiles *qs, size_t *records_read,
		       char **out, size_t *len, struct rttq_error *err)
{
	struct planner_series ps = { 0 };
	yajl_gen g = NULL;
	int rc;

	rc = planner_run_series(st, req, step_s, &ps, err);
	*records_read += ps.records_read;
	if (rc)
		return rc;
	g = yajl_gen_alloc(NULL);
	rc = g ? gen_series(g, req, step_s, step_label, &ps, qs) : -ENOMEM;
	if (rc == 0)
		rc = answer_gen_finish(g, out, len);
	if (rc == -EINVAL)
		rttq_fail(err, rc, "bad base period %u s",
			  answer_agg_period(ps.base_period_s, req));
	else if (rc)
		rttq_fail(err, rc, "out of memory");
	if (g)
		yajl_gen_free(g);
	planner_series_clear(&ps);
	return rc;
}
