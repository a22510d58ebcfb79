/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The whole quantile pipeline on values held in memory, as the agent and
 * the API run it across time: split into consecutive batches, each batch
 * -> exact histogram -> t-digest -> encoded bytes -> decoded digest, then
 * one k-way merge of every batch's digest.  Serves `rttq sketch`, the
 * accuracy tests and the benchmark.
 */
#ifndef RTTQ_SKETCH_H
#define RTTQ_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tdigest;

struct sketch_opts {
	size_t batches;          /* consecutive batches, >= 1 */
	unsigned int sub_bits;   /* bucket sub-bits g */
	double compression;      /* t-digest delta */
};

struct sketch_result {
	struct tdigest *merged;  /* caller frees with tdigest_free() */
	size_t batches;          /* batches run (empty ones included) */
	size_t bytes_max;        /* largest encoded batch digest */
	double bytes_mean;       /* mean encoded size over non-empty batches */
};

/**
 * sketch_value_us() - the whole microseconds the pipeline records for
 * @value_us: rounded to nearest, like the kernel's integer srtt.
 * @value_us: a value in microseconds.
 * @out: receives it.
 *
 * @return 0, -ERANGE when negative, not finite or above UINT32_MAX.
 */
RTTQ_API int sketch_value_us(double value_us, uint32_t *out);

/**
 * sketch_run() - run @n values through the pipeline.
 * @values_us: values, already checked with sketch_value_us().
 * @n: how many.
 * @opts: batches, sub-bits, compression.
 * @res: receives the merged digest and encoding sizes.
 * @err: receives a message on failure; may be NULL.
 *
 * @return 0, -EINVAL for bad options, -ENOMEM, or codec_decode()'s
 *         -EBADMSG if a round trip failed (a bug, reported rather than
 *         hidden).
 */
RTTQ_API int sketch_run(const uint32_t *values_us, size_t n,
			const struct sketch_opts *opts,
			struct sketch_result *res, struct rttq_error *err);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_SKETCH_H */
