/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Query-string parameters of rttq-api requests: decode once, refuse
 * unknown and repeated names, and read times, text and quantile lists with
 * errors that name the parameter ("parameter 'from': time 'x': ...").
 */
#ifndef RTTQ_API_PARAMS_H
#define RTTQ_API_PARAMS_H

#include <stdbool.h>
#include <stdint.h>

#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "error.h"

/**
 * params_parse() - decode @req's query string into @out.
 * @req: the request.
 * @allowed: NULL-terminated list of the names this endpoint takes.
 * @out: receives the pairs; free with evhttp_clear_headers() even on error.
 * @err: names the offending parameter.
 *
 * @return 0, -EINVAL (undecodable query, unknown or repeated name).
 */
int params_parse(struct evhttp_request *req, const char *const *allowed,
		 struct evkeyvalq *out, struct rttq_error *err);

/**
 * params_parse_query() - params_parse() on the query string itself (what
 * follows '?', still percent-encoded); NULL or "" is no parameters.
 *
 * @return 0, -EINVAL.
 */
int params_parse_query(const char *query, const char *const *allowed,
		       struct evkeyvalq *out, struct rttq_error *err);

/**
 * params_time() - read parameter @name as a time (RFC 3339 or epoch s).
 * @q: decoded parameters.
 * @name: "from" or "to".
 * @round_up: round a fractional second up (from) rather than down (to).
 * @def_s: value when absent; < 0 makes the parameter required.
 * @out_s: receives UTC epoch seconds.
 * @err: names the parameter.
 *
 * @return 0, -EINVAL.
 */
int params_time(const struct evkeyvalq *q, const char *name, bool round_up,
		int64_t def_s, int64_t *out_s, struct rttq_error *err);

/**
 * params_text() - read an optional, non-empty text parameter.
 * @q: decoded parameters.
 * @name: parameter name.
 * @max_len: longest accepted length in bytes.
 * @out: receives the value (owned by @q) or NULL when absent.
 * @err: names the parameter.
 *
 * @return 0, -EINVAL (empty or too long).
 */
int params_text(const struct evkeyvalq *q, const char *name, size_t max_len,
		const char **out, struct rttq_error *err);

#endif /* RTTQ_API_PARAMS_H */
