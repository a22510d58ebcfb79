/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Synthetic fleet data written the way rttq-agent writes it: a batch writer
 * that collects what a series_table emits and stores it in one store_put
 * (one transaction) per batch, and a model of one host (diurnal log-normal
 * RTTs for "all" and a few peer groups) that drives a series_table through
 * it.  Used by `rttq synth` and by the test fill helpers.
 */
#ifndef RTTQ_SYNTH_H
#define RTTQ_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rttq_export.h"
#include "store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SYNTH_BATCH_RECORDS_DEFAULT 4096
#define SYNTH_GROUPS_MAX 64

struct synth_writer;

/**
 * synth_writer_new() - a writer that stores records @batch_records at a time.
 * @st: the store to write (not owned; must outlive the writer).
 * @batch_records: records per store_put; 0: SYNTH_BATCH_RECORDS_DEFAULT.
 * @out: receives the writer.
 *
 * @return 0 or -ENOMEM.
 */
RTTQ_API int synth_writer_new(struct store *st, size_t batch_records,
			      struct synth_writer **out);

/** synth_writer_free() - release @w without writing; NULL does nothing. */
RTTQ_API void synth_writer_free(struct synth_writer *w);

/**
 * synth_writer_emit() - a series_emit_fn: copy @recs into the batch, and
 * store the batch whenever it is full.
 * @recs: records of one close (copied).
 * @n: how many.
 * @arg: the struct synth_writer.
 *
 * @return 0, -ENOMEM, or store_put()'s error (then synth_writer_error()
 *         holds its message).
 */
RTTQ_API int synth_writer_emit(const struct store_record *recs, size_t n,
			       void *arg);

/**
 * synth_writer_flush() - store what the batch holds.
 * @w: the writer.
 * @err: receives store_put()'s message; may be NULL.
 *
 * @return 0 or store_put()'s error.
 */
RTTQ_API int synth_writer_flush(struct synth_writer *w,
				struct rttq_error *err);

/** synth_writer_error() - the message of the last failed store_put. */
RTTQ_API const struct rttq_error *synth_writer_error(
	const struct synth_writer *w);

/** synth_writer_records() - records stored so far (flushed batches). */
RTTQ_API uint64_t synth_writer_records(const struct synth_writer *w);

/** synth_writer_base_records() - of those, records at the base period. */
RTTQ_API uint64_t synth_writer_base_records(const struct synth_writer *w);

/* One simulated host. */
struct synth_host {
	const char *name;      /* --host of its agent */
	uint64_t seed;         /* its RTT model and samples follow from it */
	unsigned int groups;   /* peer groups besides "all" (<= SYNTH_GROUPS_MAX) */
	uint32_t period_s;     /* base period; must divide 3600 */
	int64_t start_s;       /* agent starts (period-aligned) */
	int64_t end_s;         /* agent stops, flushing (after start_s) */
	unsigned int samples;  /* mean samples per base period in "all" */
};

/* Called after each simulated day with how many are done; non-zero stops. */
typedef int (*synth_progress_fn)(unsigned int days_done, void *arg);

struct synth_totals {
	uint64_t samples;       /* fed into "all" */
	uint64_t group_samples; /* fed into the peer groups together */
};

/**
 * synth_host_run() - simulate @h's agent from start to end: a series_table
 * ticked every period and fed the period's samples at mid-period, flushed
 * at the end; everything it emits goes to @w.
 * @h: the host.
 * @w: where the records go.
 * @progress: NULL, or called after each day.
 * @progress_arg: passed to @progress.
 * @tot: receives (adds) the samples fed.
 * @err: receives a message naming the setting or the store; may be NULL.
 *
 * The samples of a peer group also count in "all", as in the agent; "all"
 * has some more (peers outside the groups).  Peer group i (from 0) is
 * "raddr:10.0.I/250.I%250+1" (raddr:10.0.0.1, raddr:10.0.0.2, ...): every
 * host talks to the same peers, each at its own RTT.  The same seed gives
 * the same records.
 *
 * @return 0, -EINVAL (bad setting), -ENOMEM, -EINTR (stopped by
 *         @progress), or the store's error.
 */
RTTQ_API int synth_host_run(const struct synth_host *h,
			    struct synth_writer *w,
			    synth_progress_fn progress, void *progress_arg,
			    struct synth_totals *tot, struct rttq_error *err);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_SYNTH_H */
