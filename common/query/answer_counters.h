/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The /counters answer (and `rttq counters`, byte for byte): a group's
 * counters over a range, summed exactly over periods, rollups, hosts and
 * fleet records by planner_run_counters(), kept by name globs, with each
 * counter's rate over the seconds of the range.
 */
#ifndef RTTQ_ANSWER_COUNTERS_H
#define RTTQ_ANSWER_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "metric.h"
#include "planner.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct store;

#define ANSWER_COUNTER_NAMES_MAX 32 /* globs in one request */

/* The `names` of a request: globs, pointing into buf. */
struct answer_counter_names {
	size_t n;                                  /* 0: every counter */
	const char *v[ANSWER_COUNTER_NAMES_MAX];
	char buf[ANSWER_COUNTER_NAMES_MAX * METRIC_NAME_MAX];
};

/**
 * answer_counter_names_parse() - parse "retrans.*,segs.out": globs of
 * counter names (counter_name_match()), comma-separated.
 * @text: the list; NULL is every counter.
 * @out: receives the globs in the given order.
 * @err: receives a message quoting the bad item; may be NULL.
 *
 * @return 0; -EINVAL for an empty item, one longer than METRIC_NAME_MAX - 1
 *         bytes or with a character other than a-z, 0-9, '_', '.', '*',
 *         or more than ANSWER_COUNTER_NAMES_MAX items.
 */
RTTQ_API int answer_counter_names_parse(const char *text,
					struct answer_counter_names *out,
					struct rttq_error *err);

/**
 * answer_counters_json() - the whole /counters answer as text, ending in a
 * newline: {"from", "to", "host" (when given), "group", "hosts",
 * "seconds", "counters": {name: total}, "per_second": {name: total /
 * seconds}, "no_data" (when the store says why there is none)}; with a
 * step, also "step" and "points": [{"t", "counters"}], one per
 * UTC-aligned step meeting the range, as /series has.
 * "seconds" is the range as time: [from, to] widened to whole periods of
 * the finest base period read, so a rate over 10:00..10:59 of 60 s
 * periods divides by 3600.  "hosts" is the number of hosts summed (with
 * a step: the most in one step).  Totals are exact u64 integers.
 * @st: the store.
 * @req: range, host (NULL: the fleet), group, base period.
 * @names: the counters to keep.
 * @step_s: 0, or the step of "points" (as for planner_run_series()).
 * @step_label: its name as the request gave it ("5m"); NULL with no step.
 * @records_read: the records the store returned are added here.
 * @out: receives a malloc'd NUL-terminated buffer.
 * @len: receives its length; may be NULL.
 * @err: receives a message; may be NULL.
 *
 * @return 0, planner_run_counters()'s errors, -ENOMEM.
 */
RTTQ_API int answer_counters_json(struct store *st,
				  const struct planner_request *req,
				  const struct answer_counter_names *names,
				  int64_t step_s, const char *step_label,
				  size_t *records_read, char **out,
				  size_t *len, struct rttq_error *err);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_ANSWER_COUNTERS_H */
