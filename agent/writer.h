/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rttq-agent's store writer: one thread that owns the store and the spool,
 * so that a slow or unreachable store (a DynamoDB outage costs ~13 s of
 * client retries per write) never holds up the event loop.  Drains and
 * period closes keep their timing, and every period reaches the store as
 * its own record, however long a write blocks.
 *
 * The loop hands each close's records to writer_submit(), which copies them
 * into an inbox.  The thread moves them to its queue and writes the queue
 * in one store_put, after replaying the spool (older) first.  While the
 * store fails, the queue is bounded (queue_max records, WRITER_MAX_BYTES)
 * and spills to the spool when full; without a spool the newest records
 * are dropped and counted.  writer_stop() writes what it can before a
 * deadline and leaves the rest in the spool.
 *
 * Flow-log records (--flow-log, writer_submit_flows()) take the same path
 * in lists of their own, written by store_put_flows() right after the
 * records of the same round; they are not spooled (the spool's frames
 * hold digests): while the store fails they wait in memory, up to
 * WRITER_MAX_FLOWS, the newest dropped and counted beyond it, and what is
 * left at writer_stop()'s deadline is lost and logged.
 */
#ifndef RTTQ_AGENT_WRITER_H
#define RTTQ_AGENT_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Digest, group and metric bytes held in the inbox, and again in the
 * queue: with 1-minute periods a group writes ~430 KB of RTT digests a day
 * (base records and rollups), so about a week for 20 groups, or half a day
 * for 300 (less with jitter and handshake records beside them). */
#define WRITER_MAX_BYTES (64u << 20)

/* Flow-log records held while the store fails (~180 bytes each). */
#define WRITER_MAX_FLOWS 100000u

struct spool;
struct store;
struct store_flow;
struct store_record;
struct writer;

struct writer_config {
	struct store *store;   /* written by the writer thread only */
	struct spool *spool;   /* NULL: none; the writer thread's only */
	const char *host;      /* put into every record; outlives the writer */
	uint32_t queue_max;    /* records held while the store fails; 0: the
				* byte bound only */
	uint32_t retry_ms;     /* wait after a failed write before the next */
	int64_t first_start_s; /* base period the agent started in: its
				* partial records are merged with an earlier
				* run's (agent/partial_merge.h); -1: none */
	bool verbose;          /* log every write and spill */
};

/* What /metrics shows of the writer. */
struct writer_stats {
	uint64_t writes;          /* successful store_put calls */
	uint64_t write_errors;    /* failed ones */
	uint64_t retries;         /* writes that followed a failed one */
	uint64_t records_written; /* records in the successful writes */
	size_t pending_records;   /* submitted, not yet written or spooled */
	size_t pending_bytes;     /* their digest, group and metric bytes */
	uint64_t dropped;         /* records refused: a bound was reached */
	int64_t spool_records;    /* in the spool file; -1 without a spool */
	size_t pending_flows;     /* flow-log records in the thread's queue */
	uint64_t flows_written;   /* flow-log records written */
	uint64_t flows_dropped;   /* refused (WRITER_MAX_FLOWS) or lost */
};

/* How writer_stop() left things. */
enum writer_outcome {
	WRITER_ALL_WRITTEN = 0, /* every record reached the store */
	WRITER_SPOOLED = 1,     /* the rest waits in the spool */
	WRITER_LOST = 2,        /* records neither written nor spooled */
};

/**
 * writer_start() - start the writer thread.
 * @cfg: settings (copied); the store and spool belong to the thread until
 *       writer_stop() returns.
 * @out: receives the writer.
 * @err: names what failed.
 *
 * A spool holding records from an earlier run is replayed as soon as the
 * store answers.
 *
 * @return 0, -ENOMEM, -EAGAIN (no thread).
 */
int writer_start(const struct writer_config *cfg, struct writer **out,
		 struct rttq_error *err);

/**
 * writer_submit() - hand @n records of one period close to the writer.
 * Copies them (they need not outlive the call) and wakes the thread;
 * never waits for the store.
 *
 * @return 0; -ENOBUFS when the inbox held WRITER_MAX_BYTES already (the
 *         records are dropped and counted; the writer thread is stuck);
 *         -ENOMEM (the records from the failing one on are lost).
 */
int writer_submit(struct writer *w, const struct store_record *recs, size_t n);

/**
 * writer_submit_flows() - copy @n flow-log records into the inbox (the
 * host is the writer's, @flows' is ignored); never waits for the store.
 * @w: the writer.
 * @flows: the records, each at most STORE_FLOW_MAX bytes.
 * @n: how many.
 *
 * @return 0, -ENOBUFS when WRITER_MAX_FLOWS wait already (the rest are
 *         dropped and counted), -ENOMEM.
 */
int writer_submit_flows(struct writer *w, const struct store_flow *flows,
			size_t n);

/** writer_get_stats() - a consistent snapshot; never waits for the store. */
void writer_get_stats(struct writer *w, struct writer_stats *out);

/**
 * writer_stop() - write what was submitted, retrying about once a second,
 * until @timeout_ms from now; then spool what is left and end the thread.
 * The store gets the same deadline (store_set_deadline()), so a write
 * blocked in its retries gives up in time too.
 *
 * @return an enum writer_outcome.
 */
enum writer_outcome writer_stop(struct writer *w, int64_t timeout_ms);

/** writer_free() - stop (without a flush, if still running) and free. */
void writer_free(struct writer *w);

#endif /* RTTQ_AGENT_WRITER_H */
