// SPDX-License-Identifier: BSD-2-Clause
/*
 * Exact histogram -> t-digest.  Buckets come sorted, so no sort is needed:
 * each bucket's count is cut into pieces no larger than the scale function
 * allows where they sit, each piece standing for its share of the bucket's
 * values spread evenly over lo .. hi - 1, and one compress pass then joins
 * pieces while the k-size bound holds.  A bucket is therefore never one
 * oversized centroid, and tail centroids stay as small as in a digest fed
 * one value at a time.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "buckets.h"
#include "hist.h"
#include "tdigest.h"
#include "tdigest_private.h"

int tdigest_from_hist(const struct hist *h, double compression,
		      struct tdigest **out)
{
	struct tdigest_centroid *pieces = NULL;
	size_t n = 0, cap = 0;
	struct tdigest *td = NULL;
	double total = (double)hist_count(h), before = 0;
	double min = hist_min_us(h), max = hist_max_us(h);
	unsigned int g = hist_sub_bits(h);
	uint32_t index = 0;
	uint64_t count;
	int err = 0;

	if (!hist_count(h))
		return tdigest_new(compression, out);
	while (hist_next_slot(h, &index, &count)) {
		/* Values are whole microseconds: lo .. last, clamped to the
		 * exact extremes when the histogram knows them. */
		double lo = fmax((double)bucket_lo(index, g), min);
		double last = fmin((double)bucket_hi(index, g) - 1, max);
		uint64_t done = 0;

		while (done < count) {
			uint64_t w = tdigest_weight_limit(compression, before,
							  total);

			if (w > count - done)
				w = count - done;
			if (n == cap) {
				struct tdigest_centroid *p;

				cap = cap ? 2 * cap : 256;
				p = realloc(pieces, cap * sizeof(*p));
				if (!p) {
					err = -ENOMEM;
					goto cleanup;
				}
				pieces = p;
			}
			/* ln(1 + v) is all but linear across one
			 * bucket, so the centre's image is the mean. */
			pieces[n].mean = tdigest_scaled(lo + (last - lo) *
				((double)done + (double)w / 2) / (double)count);
			pieces[n].weight = w;
			n++;
			done += w;
			before += (double)w;
		}
		index++;
	}
	err = tdigest_new(compression, &td);
	if (err)
		goto cleanup;
	tdigest_adopt_sorted(td, pieces, n, min, max, hist_sum_us(h));
	pieces = NULL;
	*out = td;
	td = NULL;
cleanup:
	tdigest_free(td);
	free(pieces);
	return err;
}
