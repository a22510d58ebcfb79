// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq-api's own metrics (see metrics.h).  Codes and endpoints are small
 * fixed sets so the counters are plain arrays; a histogram keeps
 * per-bucket counts and makes them cumulative only when rendered, as the
 * format wants ("le" buckets include every smaller one, then +Inf).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"

static const int codes[METRICS_CODES] = { 200, 400, 401, 404, 405,
					  413, 414, 500, 503, 504 };

/* Seconds; from a cached answer (sub-ms) to a cold month of the fleet. */
static const double bounds_s[METRICS_BUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1,    0.25,  0.5,    1,     2.5,   5,    10,
};

static const char *const paths[EP_COUNT] = {
	[EP_QUANTILES] = "/quantiles", [EP_SERIES] = "/series",
	[EP_HOSTS] = "/hosts",         [EP_GROUPS] = "/groups",
	[EP_HEALTHZ] = "/healthz",     [EP_METRICS] = "/metrics",
	[EP_OTHER] = "other",
};

const char *metrics_endpoint_path(enum metrics_endpoint ep)
{
	return ep < EP_COUNT ? paths[ep] : paths[EP_OTHER];
}

void metrics_observe(struct metrics *m, enum metrics_endpoint ep, int code,
		     double seconds)
{
	size_t i;

	if (ep >= EP_COUNT)
		ep = EP_OTHER;
	for (i = 0; i < METRICS_CODES && codes[i] != code; i++)
		;
	m->requests[ep][i]++;
	if (!(seconds >= 0))
		seconds = 0;
	for (i = 0; i < METRICS_BUCKETS && seconds > bounds_s[i]; i++)
		;
	if (i < METRICS_BUCKETS)
		m->buckets[ep][i]++;
	m->count[ep]++;
	m->sum_s[ep] += seconds;
}

static void render_requests(FILE *f, const struct metrics *m)
{
	size_t ep, c;

	fputs("# HELP rttq_api_requests_total Requests answered, by endpoint "
	      "and HTTP status.\n"
	      "# TYPE rttq_api_requests_total counter\n", f);
	for (ep = 0; ep < EP_COUNT; ep++)
		for (c = 0; c <= METRICS_CODES; c++) {
			char code[8];

			if (!m->requests[ep][c])
				continue;
			if (c < METRICS_CODES)
				snprintf(code, sizeof(code), "%d", codes[c]);
			else
				snprintf(code, sizeof(code), "other");
			fprintf(f, "rttq_api_requests_total{path=\"%s\","
				"code=\"%s\"} %llu\n", paths[ep], code,
				(unsigned long long)m->requests[ep][c]);
		}
}

static void render_latency(FILE *f, const struct metrics *m)
{
	size_t ep, b;

	fputs("# HELP rttq_api_request_duration_seconds Time from a "
	      "request's arrival at its handler to its reply being queued.\n"
	      "# TYPE rttq_api_request_duration_seconds histogram\n", f);
	for (ep = 0; ep < EP_COUNT; ep++) {
		uint64_t cum = 0;

		for (b = 0; b < METRICS_BUCKETS; b++) {
			cum += m->buckets[ep][b];
			fprintf(f, "rttq_api_request_duration_seconds_bucket"
				"{path=\"%s\",le=\"%g\"} %llu\n", paths[ep],
				bounds_s[b], (unsigned long long)cum);
		}
		fprintf(f, "rttq_api_request_duration_seconds_bucket"
			"{path=\"%s\",le=\"+Inf\"} %llu\n"
			"rttq_api_request_duration_seconds_sum{path=\"%s\"} "
			"%.9g\n"
			"rttq_api_request_duration_seconds_count{path=\"%s\"} "
			"%llu\n", paths[ep], (unsigned long long)m->count[ep],
			paths[ep], m->sum_s[ep], paths[ep],
			(unsigned long long)m->count[ep]);
	}
}

int metrics_render(const struct metrics *m, char **out, size_t *len)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	if (!f)
		return -ENOMEM;
	render_requests(f, m);
	render_latency(f, m);
	fprintf(f, "# HELP rttq_api_store_errors_total Requests that failed "
		"because the store did not answer or answered an error.\n"
		"# TYPE rttq_api_store_errors_total counter\n"
		"rttq_api_store_errors_total %llu\n"
		"# HELP rttq_api_records_read_total Records read from the "
		"store to answer requests.\n"
		"# TYPE rttq_api_records_read_total counter\n"
		"rttq_api_records_read_total %llu\n"
		"# HELP rttq_api_connections Client connections open now.\n"
		"# TYPE rttq_api_connections gauge\n"
		"rttq_api_connections %llu\n"
		"# HELP rttq_api_connections_total Client connections "
		"accepted.\n"
		"# TYPE rttq_api_connections_total counter\n"
		"rttq_api_connections_total %llu\n",
		(unsigned long long)m->store_errors,
		(unsigned long long)m->records_read,
		(unsigned long long)m->connections,
		(unsigned long long)m->connections_total);
	if (ferror(f)) {
		fclose(f);
		free(text);
		return -ENOMEM;
	}
	if (fclose(f)) {
		free(text);
		return -ENOMEM;
	}
	*out = text;
	*len = n;
	return 0;
}
