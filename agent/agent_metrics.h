/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The agent's Prometheus endpoint: GET /metrics on the agent's own event
 * loop (libevent evhttp), text exposition format 0.0.4.  Keeps cumulative
 * RTT, jitter and handshake histograms and counter totals per group, fed
 * from the same deltas the agent drains, the quantiles of the last closed
 * RTT period (a summary), and counters of the agent's work.
 */
#ifndef RTTQ_AGENT_METRICS_H
#define RTTQ_AGENT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "flow_log.h"
#include "netaddr.h"

#define AGENT_METRICS_LISTEN_DEFAULT "127.0.0.1:9477"

/*
 * Upper bounds (le) of the exported histogram buckets, in microseconds:
 * 2^4 .. 2^22 us (16 us .. 4.194304 s), then +Inf.  Each is a power of two,
 * hence the lower edge of a fine bucket for every sub-bits g (buckets.h):
 * a fine bucket [lo, hi) lies wholly below or wholly above each bound, so
 * the exported counts are exact, not interpolated.  srtt is truncated to
 * whole microseconds, so the integers lo .. hi - 1 stand for RTTs in
 * [lo, hi) us, all <= a bound >= hi.
 */
#define AGENT_METRICS_LE_MIN_LOG2 4
#define AGENT_METRICS_LE_MAX_LOG2 22
#define AGENT_METRICS_LE_BOUNDS \
	(AGENT_METRICS_LE_MAX_LOG2 - AGENT_METRICS_LE_MIN_LOG2 + 1)

struct event_base;
struct hist;
struct agent_metrics;
struct counter_set;
struct store_record;

/* The agent's state read on every scrape (filled by the agent). */
/* Programs /metrics reports run time for; the collector attaches fewer. */
#define AGENT_PROGS_MAX 32

struct agent_metrics_health {
	const char *attach;        /* "tp_btf", ...; NULL before attach */
	size_t groups;             /* groups held in the open period */
	uint64_t overflow;         /* samples with no kernel group slot */
	uint64_t groups_recycled;  /* kernel group ids given back (idle) */
	uint64_t series_dropped;   /* samples refused by the series table */
	size_t pending_records;    /* records waiting for the store */
	size_t pending_bytes;      /* their digest, group and metric bytes */
	uint64_t pending_dropped;  /* records refused: pending bound reached */
	int64_t spool_records;     /* records in an on-disk spool; -1: none */
	uint64_t store_writes;     /* successful store writes (batches) */
	uint64_t store_write_errors; /* failed ones */
	uint64_t store_retries;    /* writes retrying a failed write's records */
	uint64_t store_records;    /* records written */
	bool flow_log;             /* --flow-log on: flows counts */
	struct flow_log_stats flows;
	unsigned int n_progs;      /* BPF programs attached (bpf_stats) */
	int prog_fds[AGENT_PROGS_MAX];           /* tcp_probe's first */
	const char *prog_names[AGENT_PROGS_MAX]; /* "tp_btf/tcp_probe", ... */
};

typedef void (*agent_metrics_health_fn)(struct agent_metrics_health *out,
					void *arg);

struct agent_metrics_config {
	struct netaddr_listen listen; /* port 0: any free port (logged) */
	unsigned int sub_bits;     /* sub-bits g of the drained deltas */
	uint32_t period_s;         /* base period: its records feed the gauges */
	uint32_t max_groups;       /* groups besides "all" kept; later ones
				    * are counted, not exported */
	const char *version;       /* for rttq_agent_info */
	agent_metrics_health_fn health; /* called on each scrape */
	void *health_arg;
};

/**
 * agent_metrics_new() - bind the endpoint on @base and start answering.
 * @base: the agent's event loop (the server runs in its callbacks).
 * @cfg: settings (copied; @cfg->version must outlive the server).
 * @out: receives the server.
 * @err: says what failed (address in use, ...); may be NULL.
 *
 * @return 0, -EINVAL (bad settings), -EADDRINUSE or another errno of the
 *         bind, -ENOMEM.
 */
int agent_metrics_new(struct event_base *base,
		      const struct agent_metrics_config *cfg,
		      struct agent_metrics **out, struct rttq_error *err);

/** agent_metrics_free() - stop listening and free; NULL does nothing. */
void agent_metrics_free(struct agent_metrics *m);

/** agent_metrics_port() - the port bound (useful after port 0). */
uint16_t agent_metrics_port(const struct agent_metrics *m);

/**
 * agent_metrics_add_delta() - add one drained delta of distribution
 * @metric to @group's cumulative histogram of it (rttq_rtt_seconds,
 * rttq_jitter_seconds, rttq_handshake_seconds).  NULL @m, or a metric
 * without a family here, does nothing.
 *
 * @return 0, -ENOSPC (max_groups reached: counted, not kept), -EINVAL
 *         (sub-bits differ), -ENOMEM.
 */
int agent_metrics_add_delta(struct agent_metrics *m, const char *group,
			    const char *metric, const struct hist *delta);

/**
 * agent_metrics_add_counters() - add the counters that moved in one drain
 * to @group's totals, exported as the counter families of counter_prom.h.
 * NULL @m does nothing.
 *
 * @return 0, -ENOSPC (max_groups reached: not kept), -EOVERFLOW (a total
 *         would pass 2^64 - 1: that counter stops), -EINVAL (more than
 *         COUNTER_SET_MAX counters), -ENOMEM.
 */
int agent_metrics_add_counters(struct agent_metrics *m, const char *group,
			       const struct counter_set *delta);

/**
 * agent_metrics_note_records() - take p50/p90/p99 of the base-period records
 * among @recs (one period close) for the last-period gauges.  Groups
 * without a record in the latest close stop being exported.  NULL @m does
 * nothing.
 */
void agent_metrics_note_records(struct agent_metrics *m,
				const struct store_record *recs, size_t n);

/**
 * agent_metrics_retire() - @group's kernel id was recycled: it leaves
 * /metrics at the next agent_metrics_forget_retired(), and should its key
 * count again it starts from zero, as a counter reset.  NULL @m or an
 * unknown @group does nothing.
 */
void agent_metrics_retire(struct agent_metrics *m, const char *group);

/**
 * agent_metrics_forget_retired() - drop the groups retired since the last
 * call; the agent calls it once the period close after the drain that
 * retired them has written their last period.  NULL @m does nothing.
 */
void agent_metrics_forget_retired(struct agent_metrics *m);

/** agent_metrics_note_drain() - count a drain; @rc < 0 counts it as failed. */
void agent_metrics_note_drain(struct agent_metrics *m, int rc);

#endif /* RTTQ_AGENT_METRICS_H */
