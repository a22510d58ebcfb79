// SPDX-License-Identifier: BSD-2-Clause
/*
 * Data sets for accuracy tests and benchmarks: splitmix64 for portable,
 * seed-stable randomness, inverse-CDF or Box-Muller sampling on top.
 */
#include <math.h>
#include <stdlib.h>

#include "datasets.h"
#include "rng.h"

/* Uniform in (0, 1): never 0, so log() is safe. */
static double unit(uint64_t *s)
{
	return rng_to_unit(rng_splitmix64(s));
}

static double normal(uint64_t *s)
{
	return sqrt(-2 * log(unit(s))) * cos(2 * M_PI * unit(s));
}

static double lognormal(uint64_t *s, double median, double sigma)
{
	return median * exp(sigma * normal(s));
}

/* Pareto(xm, alpha) truncated to [xm, cap] by inverse CDF. */
static double pareto(uint64_t *s, double xm, double alpha, double cap)
{
	double tail = 1 - pow(xm / cap, alpha);

	return xm * pow(1 - unit(s) * tail, -1 / alpha);
}

static uint32_t whole_us(double v)
{
	return v < 1 ? 1 : v > 4e9 ? 4000000000u : (uint32_t)nearbyint(v);
}

const char *dataset_name(enum dataset d)
{
	static const char *const names[DATASET_COUNT] = {
		"uniform", "lognormal", "bimodal", "pareto", "constant",
	};

	return d < DATASET_COUNT ? names[d] : "?";
}

void dataset_fill(enum dataset d, uint64_t seed, uint32_t *out, size_t n)
{
	uint64_t s = seed;
	size_t i;

	for (i = 0; i < n; i++) {
		double v = 20000;

		switch (d) {
		case DATASET_UNIFORM:
			v = 1000 + unit(&s) * 49000;
			break;
		case DATASET_LOGNORMAL:
			v = lognormal(&s, 5000, 0.8);
			break;
		case DATASET_BIMODAL:
			v = unit(&s) < 0.8 ? lognormal(&s, 300, 0.1)
					   : lognormal(&s, 40000, 0.1);
			break;
		case DATASET_PARETO:
			v = pareto(&s, 10, 0.3, 1e7);
			break;
		case DATASET_CONSTANT:
		case DATASET_COUNT:
			break;
		}
		out[i] = whole_us(v);
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

void sort_values(uint32_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u32);
}

double exact_quantile(const uint32_t *sorted, size_t n, double q)
{
	size_t rank = (size_t)ceil(q * (double)n);

	return sorted[rank ? rank - 1 : 0];
}
