// SPDX-License-Identifier: BSD-2-Clause
/*
 * Test helper (see fill.h): drives common/series/series.c the way rttq-agent
 * does and writes what it emits to a real store through common/series/synth.c's
 * batch writer (as `rttq synth` does), so that a month of 60 s periods
 * takes seconds, not one transaction per period.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fill.h"
#include "hist.h"
#include "rng.h"
#include "series.h"
#include "store.h"
#include "synth.h"

#define SUB_BITS 5

/*
 * An RTT in microseconds: log-normal around a base that follows the time
 * of day (1.5 ms at night .. 4.5 ms in the afternoon), with 2 % of samples
 * in a 5x tail, so quantiles up to p99 all move.
 */
static uint32_t sample_us(uint64_t *s, int64_t at_s)
{
	double hour = (double)(at_s % 86400) / 3600.0;
	double base = 3000.0 + 1500.0 * sin(2.0 * M_PI * (hour - 9.0) / 24.0);
	double z = sqrt(-2.0 * log(rng_unit(s))) *
		   cos(2.0 * M_PI * rng_unit(s));
	double v = base * exp(0.45 * z);

	if (rng_unit(s) < 0.02)
		v *= 5.0;
	if (v < 1.0)
		v = 1.0;
	return v > 1e7 ? 10000000u : (uint32_t)v;
}

static int keep_truth(struct fill_truth *tr, uint32_t v)
{
	if (tr->n == tr->cap) {
		size_t cap = tr->cap ? 2 * tr->cap : 65536;
		uint32_t *p = realloc(tr->values, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		tr->values = p;
		tr->cap = cap;
	}
	tr->values[tr->n++] = v;
	return 0;
}

/* Feed one period's samples, all at mid-period as a drain would. */
static int feed_period(struct series_table *t, const struct fill_spec *spec,
		       struct hist *all, struct hist *extra, uint64_t *rng,
		       int64_t p, uint64_t *fed)
{
	struct fill_truth *tr = spec->truth, *tx = spec->truth_extra;
	bool keep_all = tr && p >= tr->from_s && p <= tr->to_s;
	bool keep_extra = tx && p >= tx->from_s && p <= tx->to_s;
	unsigned int i;
	int rc = 0;

	hist_reset(all);
	hist_reset(extra);
	for (i = 0; i < spec->samples; i++) {
		uint32_t v = sample_us(rng, p);

		hist_record(all, v, 1);
		if (keep_all)
			rc |= keep_truth(tr, v);
		if (i % 3 == 0) {
			hist_record(extra, v, 1);
			if (keep_extra)
				rc |= keep_truth(tx, v);
		}
	}
	if (rc)
		return -ENOMEM;
	rc = series_table_add(t, "all", p + spec->period_s / 2, all);
	if (rc == 0 && spec->extra_group)
		rc = series_table_add(t, spec->extra_group,
				      p + spec->period_s / 2, extra);
	*fed += spec->samples;
	return rc;
}

int fill_store(const struct fill_spec *spec, uint64_t *samples_out)
{
	struct rttq_error err = { 0 };
	struct series_table *t = NULL;
	struct hist *all = NULL, *extra = NULL;
	struct synth_writer *w = NULL;
	struct store *st = NULL;
	uint64_t rng = spec->seed * 2 + 1, fed = 0;
	struct series_config cfg = {
		.host = spec->host,
		.period_s = spec->period_s,
		.sub_bits = SUB_BITS,
		.emit = synth_writer_emit,
	};
	int64_t p;
	int rc;

	rc = store_open(spec->url, &st, &err);
	if (rc == 0)
		rc = synth_writer_new(st, 0, &w);
	cfg.emit_arg = w;
	if (rc == 0)
		rc = series_table_new(&cfg, &t, &err);
	if (rc == 0)
		rc = hist_new(SUB_BITS, &all);
	if (rc == 0)
		rc = hist_new(SUB_BITS, &extra);
	if (rc) {
		fprintf(stderr, "fill: setup: %d %s\n", rc, err.msg);
		goto cleanup;
	}
	for (p = spec->start_s; rc == 0 && p < spec->end_s;
	     p += spec->period_s) {
		bool down = spec->down_s && p + spec->period_s > spec->down_s &&
			    p < spec->up_s;

		if (down && p > spec->down_s)
			continue; /* agent not running */
		rc = series_table_tick(t, p);
		if (rc == 0)
			rc = feed_period(t, spec, all, extra, &rng, p, &fed);
		if (rc == 0 && down)
			rc = series_table_flush(t, spec->down_s);
	}
	if (rc == 0)
		rc = series_table_flush(t, spec->end_s);
	if (rc == 0)
		rc = synth_writer_flush(w, &err);
	if (rc)
		fprintf(stderr, "fill: series: %d %s\n", rc,
			synth_writer_error(w)->msg);
	*samples_out = fed;
cleanup:
	synth_writer_free(w);
	hist_free(all);
	hist_free(extra);
	series_table_free(t);
	store_close(st);
	return rc;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

void fill_truth_sort(struct fill_truth *tr)
{
	if (tr->n)
		qsort(tr->values, tr->n, sizeof(*tr->values), cmp_u32);
}

double fill_truth_quantile(const struct fill_truth *tr, double q)
{
	double pos = q * (double)(tr->n - 1);
	size_t i = (size_t)pos;
	double f = pos - (double)i;

	if (i + 1 >= tr->n)
		return tr->values[tr->n - 1];
	return tr->values[i] * (1 - f) + tr->values[i + 1] * f;
}
