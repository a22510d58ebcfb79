// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq-api's own metrics (see api_metrics.h).  Codes and endpoints are small
 * fixed sets so the counters are plain arrays; a histogram keeps
 * per-bucket counts and makes them cumulative only when rendered, as the
 * format wants ("le" buckets include every smaller one, then +Inf).
 */
#include <stdio.h>

#include "api_metrics.h"
#include "prom_text.h"

static const int codes[API_METRICS_CODES] = { 200, 400, 401, 404, 405,
					      413, 414, 500, 503, 504 };

/* Seconds; from a cached answer (sub-ms) to a cold month of the fleet. */
static const double bounds_s[API_METRICS_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1,    0.25,  0.5,    1,     2.5,   5,    10,
};

static const char *const paths[EP_COUNT] = {
	[EP_QUANTILES] = "/quantiles", [EP_SERIES] = "/series",
	[EP_HOSTS] = "/hosts",         [EP_GROUPS] = "/groups",
	[EP_COUNTERS] = "/counters",
	[EP_HEALTHZ] = "/healthz",     [EP_METRICS] = "/metrics",
	[EP_FLOWS] = "/flows",
	[EP_OTHER] = "other",
};

const char *api_metrics_endpoint_path(enum api_endpoint ep)
{
	return ep < EP_COUNT ? paths[ep] : paths[EP_OTHER];
}

void api_metrics_observe(struct api_metrics *m, enum api_endpoint ep,
			 int code, double seconds)
{
	size_t i;

	if (ep >= EP_COUNT)
		ep = EP_OTHER;
	for (i = 0; i < API_METRICS_CODES && codes[i] != code; i++)
		;
	m->requests[ep][i]++;
	if (!(seconds >= 0))
		seconds = 0;
	for (i = 0; i < API_METRICS_BUCKETS && seconds > bounds_s[i]; i++)
		;
	if (i < API_METRICS_BUCKETS)
		m->buckets[ep][i]++;
	m->count[ep]++;
	m->sum_s[ep] += seconds;
}

static void render_requests(FILE *f, const struct api_metrics *m)
{
	struct prom_label labels[2] = { { "path", NULL }, { "code", NULL } };
	size_t ep, c;

	prom_family(f, "rttq_api_requests_total", "counter",
		    "Requests answered, by endpoint and HTTP status.");
	for (ep = 0; ep < EP_COUNT; ep++)
		for (c = 0; c <= API_METRICS_CODES; c++) {
			char code[8];

			if (!m->requests[ep][c])
				continue;
			if (c < API_METRICS_CODES)
				snprintf(code, sizeof(code), "%d", codes[c]);
			else
				snprintf(code, sizeof(code), "other");
			labels[0].value = paths[ep];
			labels[1].value = code;
			prom_sample_u64(f, "rttq_api_requests_total", labels, 2,
					m->requests[ep][c]);
		}
}

static void render_latency(FILE *f, const struct api_metrics *m)
{
	char bounds[API_METRICS_BUCKETS][16];
	const char *le[API_METRICS_BUCKETS];
	size_t ep, b;

	for (b = 0; b < API_METRICS_BUCKETS; b++) {
		snprintf(bounds[b], sizeof(bounds[b]), "%g", bounds_s[b]);
		le[b] = bounds[b];
	}
	prom_family(f, "rttq_api_request_duration_seconds", "histogram",
		    "Time from a request's arrival at its handler to its reply being queued.");
	for (ep = 0; ep < EP_COUNT; ep++) {
		struct prom_label path = { "path", paths[ep] };

		prom_histogram(f, "rttq_api_request_duration_seconds", &path,
			       le, m->buckets[ep], API_METRICS_BUCKETS,
			       m->sum_s[ep], m->count[ep]);
	}
}

/* prom_write_fn: every family, in a fixed order. */
static void render(FILE *f, const void *arg)
{
	const struct api_metrics *m = arg;

	render_requests(f, m);
	render_latency(f, m);
	prom_metric_u64(f, "rttq_api_store_errors_total", "counter",
			"Requests that failed because the store did not answer or answered an error.",
			m->store_errors);
	prom_metric_u64(f, "rttq_api_records_read_total", "counter",
			"Records read from the store to answer requests.",
			m->records_read);
	prom_metric_u64(f, "rttq_api_connections", "gauge",
			"Client connections open now.", m->connections);
	prom_metric_u64(f, "rttq_api_connections_total", "counter",
			"Client connections accepted.", m->connections_total);
}

int api_metrics_render(const struct api_metrics *m, char **out, size_t *len)
{
	return prom_text_render(render, m, out, len);
}
