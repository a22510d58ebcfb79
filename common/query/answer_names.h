/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The /hosts and /groups answers: the names the store holds records for
 * in a range, sorted and each once, for the dashboard's pickers.
 */
#ifndef RTTQ_ANSWER_NAMES_H
#define RTTQ_ANSWER_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct store;

enum answer_names_kind {
	ANSWER_HOSTS,  /* {"hosts":[...],"metrics":{...}} */
	ANSWER_GROUPS, /* {"groups":[...],"metrics":{...}} */
};

/**
 * answer_names_json() - {"hosts":[...],"metrics":{...}} (or "groups") and
 * a newline: every host (or group) with a record of any resolution
 * starting in [@from_s, @to_s], sorted bytewise, each once; "metrics"
 * maps each of them to the metrics it has records of, sorted ("rtt",
 * "jitter", "counters": a group's counter sets, metric.h).
 * @st: the store.
 * @kind: hosts or groups.
 * @host: only this host's series; NULL for every host.
 * @from_s: first start, UTC epoch seconds, inclusive.
 * @to_s: last start, inclusive.
 * @out: receives a malloc'd NUL-terminated buffer.
 * @len: receives its length; may be NULL.
 * @err: receives a message; may be NULL.
 *
 * @return 0, store_series()'s errors, -ENOMEM.
 */
RTTQ_API int answer_names_json(struct store *st, enum answer_names_kind kind,
			       const char *host, int64_t from_s, int64_t to_s,
			       char **out, size_t *len,
			       struct rttq_error *err);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_ANSWER_NAMES_H */
