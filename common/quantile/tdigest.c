// SPDX-License-Identifier: BSD-2-Clause
/*
 * Merging t-digest (Dunning & Ertl, "Computing extremely accurate quantiles
 * using t-digests", 2019) with integer weights and exact min, max and sum.
 *
 * Scale function.  A centroid may span the quantiles [q0, q1] only while
 * k(q1) - k(q0) <= 1, with the logistic scale
 *
 *     k(q) = (delta / Z) * ln(q / (1 - q)),   Z = TD_SCALE_NORMALIZER
 *
 * so a centroid at quantile q holds at most about Z * q * (1 - q) / delta of
 * the mass: in the tails that is a fixed fraction Z / delta of the mass left
 * beyond it (16 % at delta = 100), which keeps centroids tiny where RTT
 * quantiles move fastest, and 4 % of all values in the middle.  The number
 * of centroids grows as (2 * delta / Z) * ln(n): about 180 for two million
 * values at delta = 100, which the codec packs into under 800 bytes even
 * for ten million values.  Z = 16 was measured (tests/unit/test-accuracy.c):
 * at 20, p90 of a Pareto(0.3) tail after merging 43,200 digests is off by
 * 1.4 %; at 16 by 0.5 %.
 *
 * Adds are buffered and folded in by compress(): sort the buffer, merge it
 * with the centroid list, then one left-to-right pass joins neighbours
 * while the k-size bound holds.  tdigest_merge() radix-sorts the union of
 * the inputs' centroids (see sort_by_mean()) and runs a single compress
 * pass, never one add per centroid.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tdigest.h"
#include "tdigest_private.h"

/* Z above: the k-size bound lets a tail centroid hold Z / delta of the mass
 * left beyond it.  Smaller is more accurate and larger on the wire. */
#define TD_SCALE_NORMALIZER 16.0
/* Buffered adds before a compress, in multiples of delta. */
#define TD_BUFFER_FACTOR 5

struct tdigest {
	double compression;             /* delta */
	struct tdigest_centroid *c;     /* compressed, sorted by mean */
	size_t n, cap;
	struct tdigest_centroid *buf;   /* adds not yet folded in */
	size_t nbuf, bufcap;
	uint64_t count;                 /* total weight, buffered included */
	double sum, min, max;
};

/* ------------------------------------------------------------------------
 * Scale function
 * --------------------------------------------------------------------- */

static double scale_k(double delta, double q)
{
	return delta / TD_SCALE_NORMALIZER * log(q / (1 - q));
}

static double scale_k_inverse(double delta, double k)
{
	return 1 / (1 + exp(-k * TD_SCALE_NORMALIZER / delta));
}

/* Highest cumulative quantile a centroid starting at @q0 may reach. */
static double scale_q_limit(double delta, double q0)
{
	if (q0 <= 0)
		return 0;
	if (q0 >= 1)
		return 1;
	return scale_k_inverse(delta, scale_k(delta, q0) + 1);
}

uint64_t tdigest_weight_limit(double delta, double before, double total)
{
	double room = scale_q_limit(delta, before / total) * total - before;

	return room >= 2 ? (uint64_t)room : 1;
}

/* ------------------------------------------------------------------------
 * Memory
 * --------------------------------------------------------------------- */

static int reserve(struct tdigest_centroid **v, size_t *cap, size_t need)
{
	struct tdigest_centroid *p;
	size_t ncap = *cap ? *cap : 64;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*v, ncap * sizeof(**v));
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

int tdigest_new(double compression, struct tdigest **out)
{
	struct tdigest *td;

	if (!(compression >= TDIGEST_COMPRESSION_MIN &&
	      compression <= TDIGEST_COMPRESSION_MAX))
		return -EINVAL;
	td = calloc(1, sizeof(*td));
	if (!td)
		return -ENOMEM;
	td->compression = compression;
	td->min = INFINITY;
	td->max = -INFINITY;
	*out = td;
	return 0;
}

void tdigest_free(struct tdigest *td)
{
	if (!td)
		return;
	free(td->c);
	free(td->buf);
	free(td);
}

/* ------------------------------------------------------------------------
 * Compression
 * --------------------------------------------------------------------- */

/*
 * One pass over @in (sorted, @n entries, total weight @total) joining
 * neighbours while the k-size bound holds; writes to @out, which may alias
 * @in because the write index never passes the read index.
 */
/*
 * Appends a centroid, never below its predecessor: a mean computed from
 * weight-sums may round an ulp below the previous one for equal inputs, and
 * the merge's sort keys may tie for means closer than 2^-24 of the range.
 */
static void emit(struct tdigest_centroid *out, size_t *m, double mean_x_w,
		 uint64_t w)
{
	double mean = mean_x_w / (double)w;

	if (*m && mean < out[*m - 1].mean)
		mean = out[*m - 1].mean;
	out[*m].mean = mean;
	out[*m].weight = w;
	(*m)++;
}

static size_t compress_sorted(double delta, const struct tdigest_centroid *in,
			      size_t n, uint64_t total,
			      struct tdigest_centroid *out)
{
	double before = 0, limit_w, mean_x_w;
	uint64_t w;
	size_t i, m = 0;

	if (!n)
		return 0;
	/* Weight-sums of means, divided once per centroid emitted. */
	mean_x_w = in[0].mean * (double)in[0].weight;
	w = in[0].weight;
	limit_w = scale_q_limit(delta, 0) * (double)total;
	for (i = 1; i < n; i++) {
		if (before + (double)(w + in[i].weight) <= limit_w) {
			mean_x_w += in[i].mean * (double)in[i].weight;
			w += in[i].weight;
			continue;
		}
		emit(out, &m, mean_x_w, w);
		before += (double)w;
		limit_w = scale_q_limit(delta, before / (double)total) *
			  (double)total;
		mean_x_w = in[i].mean * (double)in[i].weight;
		w = in[i].weight;
	}
	emit(out, &m, mean_x_w, w);
	return m;
}

static int by_mean(const void *a, const void *b)
{
	double x = ((const struct tdigest_centroid *)a)->mean;
	double y = ((const struct tdigest_centroid *)b)->mean;

	return (x > y) - (x < y);
}

/* Fold the buffer into the centroid list. */
static int compress(struct tdigest *td)
{
	struct tdigest_centroid *all = NULL;
	size_t i = 0, j = 0, k = 0, n;

	if (!td->nbuf)
		return 0;
	qsort(td->buf, td->nbuf, sizeof(td->buf[0]), by_mean);
	n = td->n + td->nbuf;
	all = malloc(n * sizeof(*all));
	if (!all)
		return -ENOMEM;
	while (i < td->n || j < td->nbuf) {
		if (j == td->nbuf ||
		    (i < td->n && td->c[i].mean <= td->buf[j].mean))
			all[k++] = td->c[i++];
		else
			all[k++] = td->buf[j++];
	}
	free(td->c);
	td->c = all;
	td->cap = n;
	td->n = compress_sorted(td->compression, all, n, td->count, all);
	td->nbuf = 0;
	return 0;
}

void tdigest_adopt_sorted(struct tdigest *td, struct tdigest_centroid *c,
			  size_t n, double min, double max, double sum)
{
	size_t i;

	free(td->c);
	td->c = c;
	td->cap = n;
	td->count = 0;
	for (i = 0; i < n; i++)
		td->count += c[i].weight;
	td->n = compress_sorted(td->compression, c, n, td->count, c);
	td->min = min;
	td->max = max;
	td->sum = sum;
}

int tdigest_add(struct tdigest *td, double value, uint64_t weight)
{
	int err;

	if (!(value >= 0 && value <= TDIGEST_VALUE_MAX) || !weight ||
	    (value > 0 && value < TDIGEST_VALUE_MIN))
		return -EINVAL;
	if (td->nbuf == td->bufcap) {
		err = reserve(&td->buf, &td->bufcap,
			      (size_t)(td->compression * TD_BUFFER_FACTOR));
		if (err)
			return err;
		if (td->nbuf == td->bufcap) {
			err = compress(td);
			if (err)
				return err;
		}
	}
	td->buf[td->nbuf++] =
		(struct tdigest_centroid){ tdigest_scaled(value), weight };
	td->count += weight;
	td->sum += value * (double)weight;
	if (value < td->min)
		td->min = value;
	if (value > td->max)
		td->max = value;
	return 0;
}

/* ------------------------------------------------------------------------
 * Merge
 * --------------------------------------------------------------------- */

/*
 * Sorting the union of the inputs' centroids.  Each input list is sorted, so
 * a k-way merge would do, but at k = 43,200 (a month of minutes) a heap's
 * cache misses cost far more than a stable LSD radix sort: means on the
 * ln(1 + v) scale are non-negative, so mean * (2^32 - 1) / max_mean is an
 * order-preserving 24-bit key (ties only within 2^-24 of the largest mean,
 * which compress_sorted() irons out), sorted in two passes of 12 bits.
 */
#define RADIX_BITS 12
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_PASSES 2
#define RADIX_KEY_MAX ((double)(1u << (RADIX_BITS * RADIX_PASSES)) - 1)

static uint32_t radix_key(double mean, double scale)
{
	double k = mean * scale;

	return k >= RADIX_KEY_MAX ? (uint32_t)RADIX_KEY_MAX : (uint32_t)k;
}

/*
 * Stable radix sort of the centroids of @parts (@nparts lists, @n entries in
 * all) into @out, by key; @tmp is scratch of the same size.  The first pass
 * reads the lists in place, so the union is never copied on its own, and
 * the odd number of passes ends in @out.
 */
static int sort_by_mean(struct tdigest *const *parts, size_t nparts,
			size_t n, struct tdigest_centroid *out,
			struct tdigest_centroid *tmp)
{
	struct tdigest_centroid *to[RADIX_PASSES] = { tmp, out };
	size_t (*count)[RADIX_SIZE];
	double max_mean = 0, scale;
	size_t i, j, pass;

	for (j = 0; j < nparts; j++)
		for (i = 0; i < parts[j]->n; i++)
			if (parts[j]->c[i].mean > max_mean)
				max_mean = parts[j]->c[i].mean;
	scale = max_mean > 0 ? RADIX_KEY_MAX / max_mean : 0;
	count = calloc(RADIX_PASSES, sizeof(*count));
	if (!count)
		return -ENOMEM;
	for (j = 0; j < nparts; j++) {
		for (i = 0; i < parts[j]->n; i++) {
			uint32_t key = radix_key(parts[j]->c[i].mean, scale);

			for (pass = 0; pass < RADIX_PASSES; pass++)
				count[pass][(key >> (pass * RADIX_BITS)) &
					    (RADIX_SIZE - 1)]++;
		}
	}
	for (pass = 0; pass < RADIX_PASSES; pass++) {
		size_t at = 0, d;

		/* Counts become each digit's first output slot. */
		for (d = 0; d < RADIX_SIZE; d++) {
			size_t c = count[pass][d];

			count[pass][d] = at;
			at += c;
		}
	}
	for (j = 0; j < nparts; j++) {
		for (i = 0; i < parts[j]->n; i++) {
			uint32_t key = radix_key(parts[j]->c[i].mean, scale);

			to[0][count[0][key & (RADIX_SIZE - 1)]++] =
				parts[j]->c[i];
		}
	}
	for (pass = 1; pass < RADIX_PASSES; pass++) {
		const struct tdigest_centroid *from = to[pass - 1];

		for (i = 0; i < n; i++) {
			uint32_t key = radix_key(from[i].mean, scale);

			to[pass][count[pass][(key >> (pass * RADIX_BITS)) &
					     (RADIX_SIZE - 1)]++] = from[i];
		}
	}
	free(count);
	return 0;
}

static int merge_flat(struct tdigest *dst, struct tdigest *const *srcs,
		      size_t n);

/* Inputs sorted together in one node of the merge tree. */
#define MERGE_FANIN 256

int tdigest_merge(struct tdigest *dst, struct tdigest *const *srcs, size_t n)
{
	struct tdigest **mid;
	size_t i, nmid;
	int err = 0;

	if (n <= MERGE_FANIN)
		return merge_flat(dst, srcs, n);
	nmid = (n + MERGE_FANIN - 1) / MERGE_FANIN;
	mid = calloc(nmid, sizeof(*mid));
	if (!mid)
		return -ENOMEM;
	for (i = 0; !err && i < nmid; i++) {
		size_t lo = i * MERGE_FANIN;
		size_t cnt = n - lo < MERGE_FANIN ? n - lo : MERGE_FANIN;

		err = tdigest_new(dst->compression, &mid[i]);
		if (!err)
			err = merge_flat(mid[i], srcs + lo, cnt);
	}
	if (!err)
		err = tdigest_merge(dst, mid, nmid);
	for (i = 0; i < nmid; i++)
		tdigest_free(mid[i]);
	free(mid);
	return err;
}

static int merge_flat(struct tdigest *dst, struct tdigest *const *srcs,
		      size_t n)
{
	struct tdigest_centroid *all = NULL, *tmp = NULL;
	struct tdigest **parts = NULL;
	size_t total_n, i;
	int err;

	err = compress(dst);
	for (i = 0; !err && i < n; i++)
		err = compress(srcs[i]);
	if (err)
		return err;
	total_n = dst->n;
	for (i = 0; i < n; i++)
		total_n += srcs[i]->n;
	if (total_n == dst->n)
		return 0;
	all = malloc(total_n * sizeof(*all));
	tmp = malloc(total_n * sizeof(*tmp));
	parts = malloc((n + 1) * sizeof(*parts));
	if (!all || !tmp || !parts) {
		err = -ENOMEM;
		goto cleanup;
	}
	parts[0] = dst;
	memcpy(parts + 1, srcs, n * sizeof(*parts));
	err = sort_by_mean(parts, n + 1, total_n, all, tmp);
	if (err)
		goto cleanup;
	for (i = 0; i < n; i++) {
		dst->count += srcs[i]->count;
		dst->sum += srcs[i]->sum;
		if (srcs[i]->count && srcs[i]->min < dst->min)
			dst->min = srcs[i]->min;
		if (srcs[i]->count && srcs[i]->max > dst->max)
			dst->max = srcs[i]->max;
	}
	free(dst->c);
	dst->c = all;
	dst->cap = total_n;
	dst->n = compress_sorted(dst->compression, all, total_n, dst->count,
				 all);
	all = NULL;
cleanup:
	free(parts);
	free(tmp);
	free(all);
	return err;
}

/* ------------------------------------------------------------------------
 * Queries
 * --------------------------------------------------------------------- */

static double lerp(double a, double b, double t)
{
	return a + (b - a) * t;
}

/* Where @x lies from @a to @b, as a fraction; all the way when they are
 * too close to tell apart on the log scale. */
static double fraction(double a, double b, double x)
{
	return b > a ? (x - a) / (b - a) : 1;
}

/* Quantile on the centroid scale (see tdigest.h), before the way back,
 * for ranks strictly between the first and the last value. */
static double quantile_scaled(const struct tdigest *td, double q)
{
	const struct tdigest_centroid *c = td->c;
	double n_total = (double)td->count, index = q * n_total;
	double smin = tdigest_scaled(td->min), smax = tdigest_scaled(td->max);
	double before, gap;
	size_t i, n = td->n;

	/* Before the first centre: between min and the first mean. */
	if (index < (double)c[0].weight / 2) {
		gap = (double)c[0].weight / 2 - 1;
		return lerp(smin, c[0].mean, gap > 0 ? (index - 1) / gap : 1);
	}
	/* After the last centre: between the last mean and max. */
	if (n_total - index <= (double)c[n - 1].weight / 2) {
		gap = (double)c[n - 1].weight / 2 - 1;
		return lerp(smax, c[n - 1].mean,
			    gap > 0 ? (n_total - index - 1) / gap : 1);
	}
	before = (double)c[0].weight / 2;
	for (i = 0; i + 1 < n; i++) {
		double span = ((double)c[i].weight + (double)c[i + 1].weight) / 2;
		double left = 0, right = 0;

		if (before + span <= index) {
			before += span;
			continue;
		}
		/* A weight-1 centroid is an exact value: it owns the half
		 * unit of rank on either side of its centre. */
		if (c[i].weight == 1) {
			if (index - before < 0.5)
				return c[i].mean;
			left = 0.5;
		}
		if (c[i + 1].weight == 1) {
			if (before + span - index <= 0.5)
				return c[i + 1].mean;
			right = 0.5;
		}
		gap = span - left - right;
		return lerp(c[i].mean, c[i + 1].mean,
			    gap > 0 ? (index - before - left) / gap : 0);
	}
	return smax;
}

double tdigest_quantile(struct tdigest *td, double q)
{
	double index;

	if (compress(td) || !td->n || !(q >= 0 && q <= 1))
		return NAN;
	/* The first and last values are known exactly. */
	index = q * (double)td->count;
	if (index < 1)
		return td->min;
	if (index > (double)td->count - 1)
		return td->max;
	return fmin(fmax(tdigest_unscaled(quantile_scaled(td, q)), td->min),
		    td->max);
}

double tdigest_cdf(struct tdigest *td, double x)
{
	const struct tdigest_centroid *c;
	double n_total, before, s, smin, smax;
	size_t i, n;

	if (compress(td) || !td->n || isnan(x))
		return NAN;
	if (x < td->min)
		return 0;
	if (x >= td->max)
		return 1;
	c = td->c;
	n = td->n;
	n_total = (double)td->count;
	s = tdigest_scaled(x);
	smin = tdigest_scaled(td->min);
	smax = tdigest_scaled(td->max);
	if (s < c[0].mean)
		return (double)c[0].weight / 2 * fraction(smin, c[0].mean, s) /
		       n_total;
	before = (double)c[0].weight / 2;
	for (i = 0; i + 1 < n; i++) {
		double span = ((double)c[i].weight + (double)c[i + 1].weight) / 2;

		if (s < c[i + 1].mean)
			return (before + span * fraction(c[i].mean,
							 c[i + 1].mean, s)) /
			       n_total;
		before += span;
	}
	/* Between the last centre and max. */
	return (before + (double)c[n - 1].weight / 2 *
		fraction(c[n - 1].mean, smax, s)) / n_total;
}

uint64_t tdigest_count(const struct tdigest *td)
{
	return td->count;
}

double tdigest_sum(const struct tdigest *td)
{
	return td->sum;
}

double tdigest_min(const struct tdigest *td)
{
	return td->count ? td->min : NAN;
}

double tdigest_max(const struct tdigest *td)
{
	return td->count ? td->max : NAN;
}

double tdigest_compression(const struct tdigest *td)
{
	return td->compression;
}

size_t tdigest_centroids(struct tdigest *td,
			 const struct tdigest_centroid **out)
{
	if (compress(td))
		return 0;
	*out = td->c;
	return td->n;
}

int tdigest_from_centroids(double compression,
			   const struct tdigest_centroid *c, size_t n,
			   double min, double max, double sum,
			   struct tdigest **out)
{
	struct tdigest *td = NULL;
	size_t i;
	int err;

	for (i = 0; i < n; i++)
		if (!c[i].weight || !isfinite(c[i].mean) || c[i].mean < 0 ||
		    (i && c[i].mean < c[i - 1].mean))
			return -EINVAL;
	err = tdigest_new(compression, &td);
	if (err)
		return err;
	if (n) {
		/* Exactly n: a decoded digest is mostly only merged from, and
		 * a query holds tens of thousands of them at once. */
		td->c = malloc(n * sizeof(*c));
		if (!td->c) {
			tdigest_free(td);
			return -ENOMEM;
		}
		td->cap = n;
		memcpy(td->c, c, n * sizeof(*c));
		td->n = n;
		for (i = 0; i < n; i++)
			td->count += c[i].weight;
		td->min = min;
		td->max = max;
		td->sum = sum;
	}
	*out = td;
	return 0;
}
