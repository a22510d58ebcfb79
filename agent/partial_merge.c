// SPDX-License-Identifier: BSD-2-Clause
/*
 * Merging an earlier run's partial base record into ours (see
 * partial_merge.h).  For a distribution, counts, sums and extremes add up
 * exactly and the digests are merged like the planner merges records, at
 * the larger of the two compressions; for a counter set every counter is
 * summed exactly.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "counter_set.h"
#include "partial_merge.h"
#include "store.h"
#include "strbuf.h"
#include "tdigest.h"

/* The stored partial record, copied out of the query callback. */
struct stored {
	bool found;
	uint8_t *digest;
	size_t digest_len;
	uint64_t count;
	double sum_us, min_us, max_us;
};

/* store_record_fn: keep the record if it is partial. */
static int take_stored(const struct store_record *r, void *arg)
{
	struct stored *s = arg;

	if (s->found || r->periods != 0)
		return 0;
	s->digest = malloc(r->digest_len ? r->digest_len : 1);
	if (!s->digest)
		return -ENOMEM;
	memcpy(s->digest, r->digest, r->digest_len);
	s->digest_len = r->digest_len;
	s->count = r->count;
	s->sum_us = r->sum_us;
	s->min_us = r->min_us;
	s->max_us = r->max_us;
	s->found = true;
	return 0;
}

/* @rec's counter set summed with @s's, re-encoded into @rec; count is
 * the number of counters in the sum. */
static int merge_counters(struct store_record *rec, const struct stored *s,
			  struct rttq_error *err)
{
	struct counter_set a = COUNTER_SET_INIT, b = COUNTER_SET_INIT;
	struct strbuf out = STRBUF_INIT;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = counter_set_decode(s->digest, s->digest_len, &a, err);
	if (rc == 0)
		rc = counter_set_decode(rec->digest, rec->digest_len, &b, err);
	if (rc)
		goto out;
	rc = counter_set_merge(&a, &b);
	if (rc == 0)
		rc = counter_set_encode(&a, &out);
	if (rc == 0)
		buf = (uint8_t *)strbuf_detach(&out, &len);
	if (!buf) {
		/* A sum past 2^64 - 1 cannot be a count: the stored record
		 * is not what this agent wrote. */
		rc = rc == -EOVERFLOW ?
			     rttq_fail(err, -EBADMSG, "counter sum overflows") :
			     rttq_fail(err, -ENOMEM, "out of memory");
		goto out;
	}
	free((uint8_t *)rec->digest);
	rec->digest = buf;
	rec->digest_len = len;
	rec->count = a.n;
out:
	strbuf_release(&out);
	counter_set_free(&a);
	counter_set_free(&b);
	return rc;
}

/* @rec's digest merged with @s's, re-encoded into @rec. */
static int merge_digests(struct store_record *rec, const struct stored *s,
			 struct rttq_error *err)
{
	struct tdigest *src[2] = { NULL, NULL }, *dst = NULL;
	uint8_t *buf = NULL;
	size_t len;
	int rc;

	rc = codec_decode(s->digest, s->digest_len, &src[0], err);
	if (rc == 0)
		rc = codec_decode(rec->digest, rec->digest_len, &src[1], err);
	if (rc)
		goto out;
	rc = tdigest_new(fmax(tdigest_compression(src[0]),
			      tdigest_compression(src[1])), &dst);
	if (rc == 0)
		rc = tdigest_merge(dst, src, 2);
	if (rc == 0)
		rc = codec_encode(dst, &buf, &len);
	if (rc) {
		rttq_fail(err, rc, "out of memory");
		goto out;
	}
	free((uint8_t *)rec->digest);
	rec->digest = buf;
	rec->digest_len = len;
out:
	tdigest_free(dst);
	tdigest_free(src[0]);
	tdigest_free(src[1]);
	return rc;
}

int partial_merge_stored(struct store *st, struct store_record *rec,
			 bool *merged, struct rttq_error *err)
{
	struct store_query q = {
		.host = rec->host,
		.group = rec->group,
		.metric = rec->metric,
		.period_s = rec->period_s,
		.from_s = rec->start_s,
		.to_s = rec->start_s,
	};
	bool counters = strcmp(metric_or_rtt(rec->metric), METRIC_COUNTERS) == 0;
	struct stored s = { 0 };
	int rc;

	*merged = false;
	rc = store_query(st, &q, take_stored, &s, err);
	if (rc == -ENOMEM)
		rttq_fail(err, rc, "out of memory");
	/* Ours already (a replay after a crash): merging would count twice. */
	if (rc || !s.found ||
	    (s.digest_len == rec->digest_len && s.count == rec->count &&
	     memcmp(s.digest, rec->digest, s.digest_len) == 0))
		goto out;
	rc = counters ? merge_counters(rec, &s, err) :
			merge_digests(rec, &s, err);
	if (rc) {
		rttq_error_prefix(err, "stored partial record %s/%s/%s at %lld",
				  rec->host, rec->group,
				  metric_or_rtt(rec->metric),
				  (long long)rec->start_s);
		goto out;
	}
	if (!counters) {
		if (s.count && (!rec->count || s.min_us < rec->min_us))
			rec->min_us = s.min_us;
		if (s.count && (!rec->count || s.max_us > rec->max_us))
			rec->max_us = s.max_us;
		rec->count += s.count;
		rec->sum_us += s.sum_us;
	}
	*merged = true;
out:
	free(s.digest);
	return rc;
}
