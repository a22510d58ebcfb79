/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rttq-agent --flow-log RATE: that share of the closed-connection records
 * (the collector's flows ring buffer, common/flows/flow_reader.h), with
 * their close time on the wall clock, handed to the store writer, which
 * writes them beside its records (store_put_flows()).
 *
 * Sampled on reading, not in the kernel: a counter keeps exactly RATE of
 * the closes in the order they are read (1% keeps one in every 100, not
 * 100 drawn at random), and the ring carries every close anyway for
 * `rttq flows`' kind of reader; what the kernel pays is one ~180-byte ring
 * record per close, and a ring that filled up is counted as lost.
 */
#ifndef RTTQ_AGENT_FLOW_LOG_H
#define RTTQ_AGENT_FLOW_LOG_H

#include <stdint.h>

#include "error.h"

struct collector;
struct event_base;
struct flow_log;
struct writer;

/* How often the ring is read: it holds ~5,900 records (1 MiB), so a host
 * closing up to ~25,000 connections a second loses none. */
#define FLOW_LOG_POLL_MS 200

/**
 * flow_log_rate_ppm() - @rate (numparse_rate()'s, in (0, 1]) as the
 * parts per million the sampler counts in.
 */
uint32_t flow_log_rate_ppm(double rate);

/**
 * flow_log_start() - read @c's closed-connection ring every
 * FLOW_LOG_POLL_MS on @base's loop and submit @ppm per million of its
 * records to @w.
 * @c: a collector opened with COLLECTOR_SIG_FLOWS; outlives the log.
 * @ppm: 1 .. 1,000,000.
 * @w: the writer; outlives the log.
 * @base: the agent's event loop.
 * @out: receives the log.
 * @err: names the step that failed.
 *
 * @return 0, -ENOENT (flows are off in @c: its kernel lacks them),
 *         -ENOMEM, or the errno of setting up the ring buffer.
 */
int flow_log_start(struct collector *c, uint32_t ppm, struct writer *w,
		   struct event_base *base, struct flow_log **out,
		   struct rttq_error *err);

/* What a flow log did since it started, for /metrics. */
struct flow_log_stats {
	uint64_t read;     /* closed-connection records read from the ring */
	uint64_t kept;     /* of them, sampled and handed to the writer */
	uint64_t refused;  /* sampled but refused by a full writer */
	uint64_t lost;     /* never read: the ring buffer was full */
};

/**
 * flow_log_get_stats() - @fl's totals into @out (zeros for NULL: no
 * --flow-log).
 */
void flow_log_get_stats(const struct flow_log *fl, struct flow_log_stats *out);

/**
 * flow_log_stop() - read what is left in the ring, log the totals (read,
 * kept, lost), stop and free; NULL does nothing.  Before writer_stop(),
 * so the last records are written with the rest.
 */
void flow_log_stop(struct flow_log *fl);

#endif /* RTTQ_AGENT_FLOW_LOG_H */
