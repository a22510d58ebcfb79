/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rttq-api's own metrics, served at GET /metrics in the Prometheus text
 * exposition format 0.0.4: requests by endpoint and status, a latency
 * histogram per endpoint, store errors, records read and connections.
 * Plain counters in a struct the server owns; the event loop is
 * single-threaded, so no atomics.
 */
#ifndef RTTQ_API_METRICS_H
#define RTTQ_API_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum api_endpoint {
	EP_QUANTILES,
	EP_SERIES,
	EP_HOSTS,
	EP_GROUPS,
	EP_COUNTERS,
	EP_HEALTHZ,
	EP_METRICS,
	EP_FLOWS,
	EP_OTHER, /* unknown paths, whatever they were */
	EP_COUNT,
};

#define API_METRICS_CODES 10  /* distinct status codes kept; the rest "other" */
#define API_METRICS_BUCKETS 14 /* latency bucket bounds, +Inf not included */

struct api_metrics {
	uint64_t requests[EP_COUNT][API_METRICS_CODES + 1]; /* last: other */
	uint64_t buckets[EP_COUNT][API_METRICS_BUCKETS]; /* not cumulative */
	uint64_t count[EP_COUNT];        /* observations per endpoint */
	double sum_s[EP_COUNT];          /* their total seconds */
	uint64_t store_errors;           /* requests failed by the store */
	uint64_t records_read;           /* records the store returned */
	uint64_t connections;            /* open now (copied in by caller) */
	uint64_t connections_total;      /* accepted since start (same) */
};

/** api_metrics_endpoint_path() - "/quantiles", ... ; "other" for EP_OTHER. */
const char *api_metrics_endpoint_path(enum api_endpoint ep);

/**
 * api_metrics_observe() - count one answered request.
 * @m: the metrics.
 * @ep: its endpoint.
 * @code: the HTTP status sent.
 * @seconds: from the handler's start to the reply being queued.
 */
void api_metrics_observe(struct api_metrics *m, enum api_endpoint ep,
			 int code, double seconds);

/**
 * api_metrics_render() - write @m in the text exposition format.
 * @m: the metrics.
 * @out: receives a malloc'ed, NUL-terminated text; free() it.
 * @len: receives its length.
 *
 * @return 0, -ENOMEM.
 */
int api_metrics_render(const struct api_metrics *m, char **out, size_t *len);

#endif /* RTTQ_API_METRICS_H */
