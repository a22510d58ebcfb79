/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What tdigest.c shares with tdigest_from_hist.c and nobody else: the
 * scale function's weight bound and a way to adopt a sorted centroid list.
 */
#ifndef RTTQ_TDIGEST_PRIVATE_H
#define RTTQ_TDIGEST_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "tdigest.h"

/*
 * tdigest_weight_limit() - the most weight a centroid that starts after
 * @before of @total values may hold under the k-size bound (at least 1).
 */
uint64_t tdigest_weight_limit(double delta, double before, double total);

/*
 * tdigest_adopt_sorted() - make @td (empty) hold @c (sorted by mean, @n
 * entries, malloc'd; ownership passes to @td) with the given exact extremes
 * and sum, then compress it.
 */
void tdigest_adopt_sorted(struct tdigest *td, struct tdigest_centroid *c,
			  size_t n, double min, double max, double sum);

#endif /* RTTQ_TDIGEST_PRIVATE_H */
