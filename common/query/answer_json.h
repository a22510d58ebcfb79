/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The JSON answers users read, built in one place so that rttq-api and
 * `rttq query` print byte-identical text: quantile lists ("50,99.9" ->
 * p50, p99.9), the /quantiles object (milliseconds, 3 decimals, as
 * strings), {"error":"..."}, and the generator pieces the other answers
 * (answer_series.h, answer_names.h) are made of.  JSON is generated with
 * yajl.
 */
#ifndef RTTQ_ANSWER_JSON_H
#define RTTQ_ANSWER_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>

#include "error.h"
#include "planner.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ANSWER_QUANTILES_MAX 16 /* quantiles in one request */
#define ANSWER_QNAME_MAX 16     /* "p99.999" and its NUL fit */
#define ANSWER_QUANTILES_DEFAULT "50,75,90,95,99"

struct answer_quantiles {
	size_t n;
	double q[ANSWER_QUANTILES_MAX];                    /* 0..1 */
	char name[ANSWER_QUANTILES_MAX][ANSWER_QNAME_MAX]; /* "p50" */
};

/**
 * answer_quantiles_parse() - parse a comma-separated list of percentiles.
 * @text: e.g. "50,90,99.9" (a leading 'p' per item is accepted); NULL
 *        means ANSWER_QUANTILES_DEFAULT.
 * @out: receives them in the given order.
 * @err: receives a message quoting the bad item; may be NULL.
 *
 * Each item is 0..100 with at most 3 decimals; names drop trailing zeros
 * ("99.90" -> "p99.9").
 *
 * @return 0, -EINVAL (empty item, not a number, out of range, more than
 *         ANSWER_QUANTILES_MAX, a duplicate).
 */
RTTQ_API int answer_quantiles_parse(const char *text,
				    struct answer_quantiles *out,
				    struct rttq_error *err);

/**
 * answer_metric_parse() - the distribution a request names (`metric=` of
 * /quantiles and /series, `rttq query --metric`).
 * @text: a metric_dist_find() name ("rtt", "jitter", ...); NULL for none (rtt, and the
 *        answer stays the seed's, without a "metric" key).
 * @out: receives @text (or NULL).
 * @err: receives a message naming the metric; may be NULL.
 *
 * @return 0; -EINVAL for "counters" (asked through /counters) and for any
 *         other name.
 */
RTTQ_API int answer_metric_parse(const char *text, const char **out,
				 struct rttq_error *err);

/**
 * answer_step_parse() - a series' step as users write it: "1m", "5m",
 * "1h" or "1d" (`step=` of /series and /counters, `rttq counters --step`).
 * @text: the step.
 * @period_s: the base period asked for (the step must be a multiple of
 *        it); 0: none (the planner checks each host's).
 * @step_s: receives seconds.
 * @label: receives the static label ("5m").
 * @err: receives a message quoting @text; may be NULL.
 *
 * @return 0, -EINVAL.
 */
RTTQ_API int answer_step_parse(const char *text, uint32_t period_s,
			       int64_t *step_s, const char **label,
			       struct rttq_error *err);

/**
 * answer_gen_quantiles() - write the /quantiles object into @g.
 * @g: generator, positioned where a value may go.
 * @a: the planner's answer.
 * @req: the request it answers (range, host, group, base period).
 * @qs: which quantiles.
 *
 * Keys, in order: agg_level, sample_count, quantiles, from, to, host (when
 * given), group, metric (when given), hosts, min_ms, max_ms, mean_ms (when samples exist),
 * records {level label: count, coarsest first: "1d", "1h", "5m" when the
 * base period has them, then the base period's label}, records_read.
 *
 * @return 0, -ENOMEM (or -EINVAL on a yajl state error).
 */
RTTQ_API int answer_gen_quantiles(yajl_gen g, const struct planner_answer *a,
				  const struct planner_request *req,
				  const struct answer_quantiles *qs);

/**
 * answer_gen_values() - write just {"pNN":"ms", ...} for @a into @g
 * (an empty object when it has no samples).
 *
 * @return 0, -ENOMEM.
 */
RTTQ_API int answer_gen_values(yajl_gen g, const struct planner_answer *a,
			       const struct answer_quantiles *qs);

/**
 * answer_gen_string() - write the NUL-terminated @s as a JSON string
 * (bytes that are not UTF-8 are replaced by '?').
 *
 * @return 0, -ENOMEM.
 */
RTTQ_API int answer_gen_string(yajl_gen g, const char *s);

/**
 * answer_gen_key() - write the map key @key into @g.
 *
 * @return 0, -ENOMEM (or -EINVAL on a yajl state error).
 */
RTTQ_API int answer_gen_key(yajl_gen g, const char *key);

/**
 * answer_gen_time() - write "@key": "RFC 3339 UTC time of @t" into @g (the
 * epoch seconds as a number if @t cannot be formatted).
 *
 * @return 0, -ENOMEM (or -EINVAL on a yajl state error).
 */
RTTQ_API int answer_gen_time(yajl_gen g, const char *key, int64_t t);

/**
 * answer_agg_period() - the base period an answer is labelled with
 * ("agg_level"): the finest base period planned, else the one asked for,
 * else the default (an empty answer keeps the seed's "1m").
 * @planned: planner_answer.base_period_s (0: no host planned).
 * @req: the request.
 */
RTTQ_API uint32_t answer_agg_period(uint32_t planned,
				    const struct planner_request *req);

/**
 * answer_gen_metric() - write "metric": @metric and "unit": its unit
 * ("ms", "%": what the quantiles are in) into @g; nothing for NULL or ""
 * (the seed's answer, rtt in ms).
 *
 * @return 0, or -ENOMEM.
 */
RTTQ_API int answer_gen_metric(yajl_gen g, const char *metric);

/**
 * answer_gen_no_data() - write "no_data": "REASON" into @g when @why names
 * one (planner_no_data_name()); nothing otherwise.
 *
 * @return 0, -ENOMEM.
 */
RTTQ_API int answer_gen_no_data(yajl_gen g, enum planner_no_data why);

/**
 * answer_gen_finish() - copy @g's text plus a newline into a malloc'd,
 * NUL-terminated buffer.
 * @g: generator holding a complete JSON value.
 * @out: receives the buffer; the caller frees it.
 * @len: receives its length without the NUL; may be NULL.
 *
 * @return 0, -ENOMEM.
 */
RTTQ_API int answer_gen_finish(yajl_gen g, char **out, size_t *len);

/**
 * answer_quantiles_json() - the whole /quantiles answer as text (what
 * rttq-api sends and `rttq query` prints), ending in a newline.
 * @a: the planner's answer.
 * @req: the request it answers.
 * @qs: which quantiles.
 * @out: receives a malloc'd NUL-terminated buffer.
 * @len: receives its length; may be NULL.
 *
 * @return 0, -ENOMEM.
 */
RTTQ_API int answer_quantiles_json(const struct planner_answer *a,
				   const struct planner_request *req,
				   const struct answer_quantiles *qs,
				   char **out, size_t *len);

/**
 * answer_error_json() - {"error":"@msg"} and a newline.
 * @msg: the message.
 * @out: receives a malloc'd NUL-terminated buffer.
 * @len: receives its length; may be NULL.
 *
 * @return 0, -ENOMEM.
 */
RTTQ_API int answer_error_json(const char *msg, char **out, size_t *len);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_ANSWER_JSON_H */
