/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The /series answer: chart points, one per step of a range, each the
 * planner's answer for that step.  Kept beside the other answers so that
 * every JSON text users read is built in common/query.
 */
#ifndef RTTQ_ANSWER_SERIES_H
#define RTTQ_ANSWER_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "answer_json.h"
#include "error.h"
#include "planner.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct store;

/**
 * answer_series_json() - the whole /series answer as text, ending in a
 * newline: {"agg_level", "step", "from", "to", "points": [{"t", "count",
 * "quantiles"}, ...]}, one point per UTC-aligned step [t, t + @step_s)
 * that meets [@req->from_s, @req->to_s], each clipped to the range.
 * @st: the store.
 * @req: the whole range, host, group and base period.
 * @step_s: step length in seconds, a multiple of @req->period_s.
 * @step_label: its name as the request gave it ("5m").
 * @qs: which quantiles each point carries.
 * @records_read: the records the store returned are added here (also
 *       when the answer fails half-way).
 * @out: receives a malloc'd NUL-terminated buffer.
 * @len: receives its length; may be NULL.
 * @err: receives a message; may be NULL.
 *
 * @return 0, planner_run()'s errors, -EINVAL for a bad base period,
 *         -ENOMEM.
 */
RTTQ_API int answer_series_json(struct store *st,
				const struct planner_request *req,
				int64_t step_s, const char *step_label,
				const struct answer_quantiles *qs,
				size_t *records_read, char **out, size_t *len,
				struct rttq_error *err);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_ANSWER_SERIES_H */
