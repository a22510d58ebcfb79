// SPDX-License-Identifier: BSD-2-Clause
/*
 * Exact log-linear histogram (see hist.h): a dense array of u64 counts, one
 * per bucket of buckets.h, plus count, sum, min and max.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buckets.h"
#include "hist.h"

struct hist {
	unsigned int sub_bits; /* g of buckets.h */
	uint32_t slots;        /* BUCKET_SLOTS(g) */
	uint64_t total;        /* sum of counts[] */
	double sum_us;
	double min_us;         /* +INFINITY while empty */
	double max_us;         /* -INFINITY while empty */
	uint64_t counts[];     /* one per bucket index */
};

int hist_new(unsigned int sub_bits, struct hist **out)
{
	struct hist *h;
	uint32_t slots;

	if (sub_bits < BUCKET_SUB_BITS_MIN || sub_bits > BUCKET_SUB_BITS_MAX)
		return -EINVAL;
	slots = BUCKET_SLOTS(sub_bits);
	h = calloc(1, sizeof(*h) + slots * sizeof(h->counts[0]));
	if (!h)
		return -ENOMEM;
	h->sub_bits = sub_bits;
	h->slots = slots;
	hist_reset(h);
	*out = h;
	return 0;
}

void hist_free(struct hist *h)
{
	free(h);
}

void hist_reset(struct hist *h)
{
	memset(h->counts, 0, h->slots * sizeof(h->counts[0]));
	h->total = 0;
	h->sum_us = 0;
	h->min_us = INFINITY;
	h->max_us = -INFINITY;
}

unsigned int hist_sub_bits(const struct hist *h)
{
	return h->sub_bits;
}

uint32_t hist_slots(const struct hist *h)
{
	return h->slots;
}

static void note_range(struct hist *h, double lo, double hi)
{
	if (lo < h->min_us)
		h->min_us = lo;
	if (hi > h->max_us)
		h->max_us = hi;
}

void hist_record(struct hist *h, uint32_t value_us, uint64_t count)
{
	if (!count)
		return;
	h->counts[bucket_index(value_us, h->sub_bits)] += count;
	h->total += count;
	h->sum_us += (double)value_us * (double)count;
	note_range(h, value_us, value_us);
}

void hist_add_slot(struct hist *h, uint32_t index, uint64_t count)
{
	double lo, last;

	if (!count || index >= h->slots)
		return;
	/* Values are whole microseconds: the bucket holds lo .. hi - 1. */
	lo = (double)bucket_lo(index, h->sub_bits);
	last = (double)bucket_hi(index, h->sub_bits) - 1;
	h->counts[index] += count;
	h->total += count;
	h->sum_us += (lo + last) / 2 * (double)count;
	note_range(h, lo, last);
}

int hist_merge(struct hist *dst, const struct hist *src)
{
	uint32_t i;

	if (dst->sub_bits != src->sub_bits)
		return -EINVAL;
	if (!src->total)
		return 0;
	for (i = 0; i < src->slots; i++)
		dst->counts[i] += src->counts[i];
	dst->total += src->total;
	dst->sum_us += src->sum_us;
	note_range(dst, src->min_us, src->max_us);
	return 0;
}

uint64_t hist_count(const struct hist *h)
{
	return h->total;
}

double hist_sum_us(const struct hist *h)
{
	return h->sum_us;
}

double hist_min_us(const struct hist *h)
{
	return h->total ? h->min_us : NAN;
}

double hist_max_us(const struct hist *h)
{
	return h->total ? h->max_us : NAN;
}

uint64_t hist_slot_count(const struct hist *h, uint32_t index)
{
	return index < h->slots ? h->counts[index] : 0;
}

int hist_next_slot(const struct hist *h, uint32_t *index, uint64_t *count)
{
	uint32_t i;

	for (i = *index; i < h->slots; i++) {
		if (h->counts[i]) {
			*index = i;
			*count = h->counts[i];
			return 1;
		}
	}
	return 0;
}

double hist_quantile(const struct hist *h, double q)
{
	double rank, seen = 0, lo, last, v;
	uint32_t i;

	if (!h->total || !(q >= 0 && q <= 1))
		return NAN;
	/* The rank-th smallest value (1-based, nearest rank) lies in the
	 * bucket where the running count first reaches it; inside the bucket
	 * the values are taken as evenly spread over lo .. hi - 1. */
	rank = fmax(1, ceil(q * (double)h->total));
	/* The first and last values are known exactly. */
	if (q == 0)
		return h->min_us;
	if (rank >= (double)h->total)
		return h->max_us;
	if (rank <= 1)
		return h->min_us;
	for (i = 0; i < h->slots; i++) {
		if (!h->counts[i] || seen + (double)h->counts[i] < rank) {
			seen += (double)h->counts[i];
			continue;
		}
		lo = (double)bucket_lo(i, h->sub_bits);
		last = (double)bucket_hi(i, h->sub_bits) - 1;
		v = lo + (last - lo) * (rank - seen - 0.5) / (double)h->counts[i];
		return fmin(fmax(v, h->min_us), h->max_us);
	}
	return h->max_us;
}
