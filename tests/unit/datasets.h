/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reproducible RTT-like data sets (whole microseconds, fixed seeds) for the
 * accuracy tests and the benchmark, plus exact quantiles to compare with.
 */
#ifndef RTTQ_DATASETS_H
#define RTTQ_DATASETS_H

#include <stddef.h>
#include <stdint.h>

enum dataset {
	DATASET_UNIFORM,   /* uniform 1 ms .. 50 ms */
	DATASET_LOGNORMAL, /* median 5 ms, sigma 0.8 */
	DATASET_BIMODAL,   /* 80 % around 0.3 ms, 20 % around 40 ms */
	DATASET_PARETO,    /* alpha 0.3 from 10 us, truncated at 10 s */
	DATASET_CONSTANT,  /* 20 ms, every value */
	DATASET_COUNT,
};

/** dataset_name() - short name for reports ("pareto"). */
const char *dataset_name(enum dataset d);

/**
 * dataset_fill() - write @n values of @d drawn with @seed into @out.
 */
void dataset_fill(enum dataset d, uint64_t seed, uint32_t *out, size_t n);

/**
 * exact_quantile() - nearest-rank quantile of @sorted (ascending, @n > 0):
 * the ceil(q * n)-th smallest value.
 */
double exact_quantile(const uint32_t *sorted, size_t n, double q);

/** sort_values() - sort @v ascending. */
void sort_values(uint32_t *v, size_t n);

#endif /* RTTQ_DATASETS_H */
