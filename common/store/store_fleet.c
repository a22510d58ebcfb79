// SPDX-License-Identifier: BSD-2-Clause
/*
 * Stale marks for fleet records (see STORE_FLEET_HOST in store.h): which
 * fleet spans a put of late records invalidates.  Kept apart from store.c
 * so both backends get the same marks from one place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "metric.h"
#include "store_backend.h"

/* Fleet resolutions `rttq rollup` builds (series.h's rollup lengths; the
 * store does not depend on the series library). */
static const uint32_t fleet_periods[] = { 300, 3600, 86400 };

static int64_t floor_to(int64_t x, int64_t m)
{
	int64_t r = x % m;

	return r < 0 ? x - r - m : x - r;
}

static int mark_cmp(const void *a, const void *b)
{
	const struct store_record *x = a, *y = b;
	int c = strcmp(x->group, y->group);

	if (!c)
		c = strcmp(metric_or_rtt(x->metric), metric_or_rtt(y->metric));
	if (c)
		return c;
	if (x->period_s != y->period_s)
		return x->period_s < y->period_s ? -1 : 1;
	return (x->start_s > y->start_s) - (x->start_s < y->start_s);
}

int store_fleet_marks(const struct store_record *recs, size_t n,
		      int64_t now_s, const uint8_t *token,
		      struct store_record **out, size_t *n_out)
{
	const size_t levels = sizeof(fleet_periods) / sizeof(*fleet_periods);
	struct store_record *m = NULL;
	size_t nm = 0, kept = 0;

	*out = NULL;
	*n_out = 0;
	for (size_t i = 0; i < n; i++) {
		const struct store_record *r = &recs[i];

		if (store_host_reserved(r->host))
			continue;
		/* A fleet span is built from hosts' records no longer than
		 * itself (planner_run_series() with the span as its step). */
		for (size_t l = 0; l < levels; l++) {
			uint32_t len = fleet_periods[l];
			int64_t start = floor_to(r->start_s, len);

			if (len < r->period_s || len % r->period_s ||
			    start + len + STORE_LATE_S > now_s)
				continue;
			if (!m) {
				m = calloc(n * levels, sizeof(*m));
				if (!m)
					return -ENOMEM;
			}
			m[nm++] = (struct store_record){
				.host = STORE_FLEET_HOST,
				.group = r->group,
				.metric = r->metric,
				.period_s = len,
				.start_s = start,
				.periods = 0,
				.periods_total = 1,
				.digest = token,
				.digest_len = STORE_MARK_TOKEN_LEN,
			};
		}
	}
	if (!nm)
		return 0;
	qsort(m, nm, sizeof(*m), mark_cmp);
	for (size_t i = 0; i < nm; i++)
		if (kept == 0 || mark_cmp(&m[kept - 1], &m[i]))
			m[kept++] = m[i];
	*out = m;
	*n_out = kept;
	return 0;
}
