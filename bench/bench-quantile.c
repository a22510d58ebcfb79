// SPDX-License-Identifier: BSD-2-Clause
/*
 * Benchmark of the quantile core, printed as numbers (no pass/fail):
 * histogram -> digest conversion, quantile queries, the merge of a month of
 * one-minute digests, and encoded sizes.  Run: meson test --benchmark, or
 * build/bench/bench-quantile [values-per-minute].
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "codec.h"
#include "datasets.h"
#include "hist.h"
#include "tdigest.h"

#define MINUTES 43200
#define MERGE_RUNS 5

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void fill_hist(struct hist *h, const uint32_t *v, size_t n)
{
	size_t i;

	hist_reset(h);
	for (i = 0; i < n; i++)
		hist_record(h, v[i], 1);
}

static size_t nonempty_buckets(const struct hist *h)
{
	uint32_t index = 0;
	uint64_t count;
	size_t n = 0;

	for (; hist_next_slot(h, &index, &count); index++)
		n++;
	return n;
}

int main(int argc, char **argv)
{
	size_t per_minute = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	struct tdigest **minutes = calloc(MINUTES, sizeof(*minutes));
	uint32_t *v = malloc(per_minute * sizeof(*v));
	struct tdigest *merged = NULL;
	double t0, conv_ns = 0, bytes = 0, sink = 0, merge_ms[MERGE_RUNS];
	size_t m, buckets = 0, i, reps = 20000;
	struct hist *h = NULL;

	if (!minutes || !v || !per_minute || hist_new(5, &h))
		return 1;
	for (m = 0; m < MINUTES; m++) {
		uint8_t *buf;
		size_t len;

		dataset_fill(DATASET_LOGNORMAL, m, v, per_minute);
		fill_hist(h, v, per_minute);
		buckets += nonempty_buckets(h);
		t0 = now_ns();
		if (tdigest_from_hist(h, 100, &minutes[m]))
			return 1;
		conv_ns += now_ns() - t0;
		if (codec_encode(minutes[m], &buf, &len))
			return 1;
		bytes += (double)len;
		free(buf);
	}
	printf("values per minute digest:         %zu (lognormal, median 5 ms)\n",
	       per_minute);
	printf("histogram -> digest:              %.1f ns per non-empty bucket "
	       "(%.0f buckets, %.1f us per digest)\n", conv_ns / (double)buckets,
	       (double)buckets / MINUTES, conv_ns / MINUTES / 1e3);
	printf("encoded digest:                   %.0f bytes mean\n",
	       bytes / MINUTES);

	for (i = 0; i < MERGE_RUNS; i++) {
		tdigest_free(merged);
		merged = NULL;
		if (tdigest_new(100, &merged))
			return 1;
		t0 = now_ns();
		if (tdigest_merge(merged, minutes, MINUTES))
			return 1;
		merge_ms[i] = (now_ns() - t0) / 1e6;
	}
	qsort(merge_ms, MERGE_RUNS, sizeof(merge_ms[0]), by_value);
	printf("merge of %d digests:           %.1f ms median, %.1f ms best "
	       "of %d\n", MINUTES, merge_ms[MERGE_RUNS / 2], merge_ms[0],
	       MERGE_RUNS);

	t0 = now_ns();
	for (i = 0; i < reps; i++)
		sink += tdigest_quantile(merged, (double)(i % 1000) / 1000);
	printf("quantile on the merged digest:    %.1f ns per call\n",
	       (now_ns() - t0) / (double)reps);
	if (sink < 0)
		printf("(impossible)\n");

	for (m = 0; m < MINUTES; m++)
		tdigest_free(minutes[m]);
	tdigest_free(merged);
	hist_free(h);
	free(minutes);
	free(v);
	return 0;
}
