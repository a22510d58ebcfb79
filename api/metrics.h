/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rttq-api's own metrics, served at GET /metrics in the Prometheus text
 * exposition format 0.0.4: requests by endpoint and status, a latency
 * histogram per endpoint, store errors, records read and connections.  Plain counters in a struct the server owns; the event
 * loop is single-threaded, so no atomics.
 */
#ifndef RTTQ_API_METRICS_H
#define RTTQ_API_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metrics_endpoint {
	EP_QUANTILES,
	EP_SERIES,
	EP_HOSTS,
	EP_GROUPS,
	EP_HEALTHZ,
	EP_METRICS,
	EP_OTHER, /* unknown paths, whatever they were */
	EP_COUNT,
};

#define METRICS_CODES 10  /* distinct status codes kept; the rest "other" */
#define METRICS_BUCKETS 14 /* latency bucket bounds, +Inf not included */

struct metrics {
	uint64_t requests[EP_COUNT][METRICS_CODES + 1]; /* last: other codes */
	uint64_t buckets[EP_COUNT][METRICS_BUCKETS]; /* not cumulative */
	uint64_t count[EP_COUNT];        /* observations per endpoint */
	double sum_s[EP_COUNT];          /* their total seconds */
	uint64_t store_errors;           /* requests failed by the store */
	uint64_t records_read;           /* records the store returned */
	uint64_t connections;            /* open now (copied in by caller) */
	uint64_t connections_total;      /* accepted since start (same) */
};

/** metrics_endpoint_path() - "/quantiles", ... ; "other" for EP_OTHER. */
const char *metrics_endpoint_path(enum metrics_endpoint ep);

/**
 * metrics_observe() - count one answered request.
 * @m: the metrics.
 * @ep: its endpoint.
 * @code: the HTTP status sent.
 * @seconds: from the handler's start to the reply being queued.
 */
void metrics_observe(struct metrics *m, enum metrics_endpoint ep, int code,
		     double seconds);

/**
 * metrics_render() - write @m in the text exposition format.
 * @m: the metrics.
 * @out: receives a malloc'ed, NUL-terminated text; free() it.
 * @len: receives its length.
 *
 * @return 0, -ENOMEM.
 */
int metrics_render(const struct metrics *m, char **out, size_t *len);

#endif /* RTTQ_API_METRICS_H */
