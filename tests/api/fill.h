/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper: fill a store exactly as rttq-agent does (series_table on a
 * test clock, hist deltas of known pseudo-random RTTs, store_put of every
 * close), optionally with the agent down for a while in the middle.
 */
#ifndef RTTQ_TEST_FILL_H
#define RTTQ_TEST_FILL_H

#include <stdint.h>

struct fill_spec {
	const char *url;         /* store to write */
	const char *host;        /* the agent's --host */
	const char *extra_group; /* a second group (a third of the samples) */
	uint32_t period_s;       /* base period */
	int64_t start_s;         /* observation starts (period-aligned) */
	int64_t end_s;           /* flush (shutdown) time */
	unsigned int samples;    /* RTT samples per period in "all" */
	uint64_t seed;           /* PRNG seed */
	int64_t down_s;          /* 0, or: agent flushes at down_s ... */
	int64_t up_s;            /* ... and restarts at up_s (aligned) */
	struct fill_truth *truth; /* NULL, or collects exact samples */
	struct fill_truth *truth_extra; /* the same for extra_group */
};

/* The exact samples of periods starting in [from_s, to_s], for checking
 * answers against the truth rather than against each other. */
struct fill_truth {
	int64_t from_s, to_s;
	uint32_t *values; /* malloc'd, unsorted; the caller frees */
	size_t n, cap;
};

/**
 * fill_store() - write the records of @spec.
 * @spec: what to simulate.
 * @samples_out: receives the number of samples fed into "all".
 *
 * @return 0, or a negative errno after printing what failed.
 */
int fill_store(const struct fill_spec *spec, uint64_t *samples_out);

/** fill_truth_sort() - sort @tr's values, before fill_truth_quantile(). */
void fill_truth_sort(struct fill_truth *tr);

/**
 * fill_truth_quantile() - the exact quantile @q of @tr's sorted values,
 * interpolated between neighbours.
 */
double fill_truth_quantile(const struct fill_truth *tr, double q);

#endif /* RTTQ_TEST_FILL_H */
