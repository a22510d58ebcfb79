/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Deterministic pseudo-random numbers for tests and benchmarks: the same
 * seed gives the same sequence on every machine, unlike rand().  Golden
 * files (tests/unit/golden) and exact expectations depend on these
 * sequences, so the generators here must never change; a test that wants
 * other numbers takes another seed.  Three generators, because three were
 * in use when they were gathered here and each test keeps its own.
 */
#ifndef RTTQ_TESTS_RNG_H
#define RTTQ_TESTS_RNG_H

#include <math.h>
#include <stdint.h>

/**
 * rng_xorshift64star() - Vigna's xorshift64* (shifts 12, 25, 27, then the
 * multiplier 2685821657736338717): the tests' usual generator.
 * @state: non-zero seed, advanced in place.
 * @return the next 64 random bits.
 */
static inline uint64_t rng_xorshift64star(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

/**
 * rng_xorshift64() - Marsaglia's plain xorshift64 (shifts 13, 7, 17, no
 * multiplier): weaker, kept for the DynamoDB test's record sequences.
 * @state: non-zero seed, advanced in place.
 * @return the next 64 random bits (the new state).
 */
static inline uint64_t rng_xorshift64(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/**
 * rng_splitmix64() - Steele, Lea and Flood's SplitMix64, any seed (0 too):
 * the generator of the accuracy data sets (tests/unit/datasets.c).
 * @state: seed, advanced in place.
 * @return the next 64 random bits.
 */
static inline uint64_t rng_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/**
 * rng_to_unit() - the top 53 bits of @bits as a double in (0, 1): the
 * middle of one of 2^53 equal steps, never 0, so log() is safe.
 * @return (bits / 2^11 + 0.5) / 2^53.
 */
static inline double rng_to_unit(uint64_t bits)
{
	return ((double)(bits >> 11) + 0.5) / 0x1p53;
}

/**
 * rng_unit() - uniform in (0, 1) from rng_xorshift64star().
 * @state: seed, advanced in place.
 */
static inline double rng_unit(uint64_t *state)
{
	return rng_to_unit(rng_xorshift64star(state));
}

/**
 * rng_lognormal() - a log-normal value by Box-Muller on two rng_unit()
 * draws, computed as median * e^(sigma * sqrt(-2 ln u) * cos(2 pi v)) in
 * exactly that order (another grouping rounds differently, and the codec's
 * golden files pin these values).
 * @state: seed, advanced by two draws.
 * @median: e^mu, the median of the distribution.
 * @sigma: the standard deviation of its logarithm.
 */
static inline double rng_lognormal(uint64_t *state, double median,
				   double sigma)
{
	double u = rng_unit(state);
	double v = rng_unit(state);

	return median * exp(sigma * sqrt(-2 * log(u)) * cos(2 * M_PI * v));
}

#endif /* RTTQ_TESTS_RNG_H */
