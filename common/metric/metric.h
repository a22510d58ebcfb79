/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The metric model: every series is (host, group, metric, resolution).  A
 * metric is either a distribution (log-linear buckets in the kernel, a
 * digest per period: rtt, jitter, handshake, ...) or one of the group's
 * counters (exact u64 totals per period: retrans.fast, segs.out, ...).  A
 * group's counters travel together, as one counter set per period stored
 * under the metric METRIC_COUNTERS, so a period costs one record however
 * many counters a kernel reports (drop reasons alone are a hundred).
 */
#ifndef RTTQ_METRIC_H
#define RTTQ_METRIC_H

#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define METRIC_NAME_MAX 64 /* bytes, with the NUL */

/* What every record without a metric is (schema-2 SQLite rows, DynamoDB
 * items written before metrics existed, a query that names none). */
#define METRIC_RTT "rtt"
#define METRIC_JITTER "jitter"
#define METRIC_HANDSHAKE "handshake"
#define METRIC_RUNQLAT "runqlat"  /* node: wake-up to running */
#define METRIC_SNDBUF "sndbuf"    /* per cent of sk_sndbuf queued */
#define METRIC_FLOW_DURATION "flow_duration" /* connections, open to close */
/* Where a packet's time goes in the host (--signals stages), in µs. */
#define METRIC_RX_STACK "rx.stack"
#define METRIC_RX_SOCKET "rx.socket"
#define METRIC_TX_STACK "tx.stack"
#define METRIC_TX_QDISC "tx.qdisc"

/* The store metric of a group's counter set (counter_set.h). */
#define METRIC_COUNTERS "counters"

/*
 * A distribution users can ask for.  Its samples are stored as integers
 * in thousandths of what users read (microseconds for times shown in
 * ms, nanoseconds for times shown in µs, thousandths of a per cent
 * for "%"), so every distribution shares
 * the bucket layout and the "3 decimals" answer of the rtt-api format.
 */
struct metric_dist {
	const char *name;    /* METRIC_RTT, ... */
	const char *unit;    /* what answers are in: "ms", "us" or "%" */
	const char *what;    /* one line for help and error messages */
};

/**
 * metric_dist_find() - the distribution named @name.
 *
 * @return the entry, or NULL when @name is no distribution (a counter,
 *         METRIC_COUNTERS, or unknown).
 */
RTTQ_API const struct metric_dist *metric_dist_find(const char *name);

/**
 * metric_dist_at() - the @i-th known distribution, rtt first, for
 * listings and error messages.
 *
 * @return the entry, or NULL past the last one.
 */
RTTQ_API const struct metric_dist *metric_dist_at(unsigned int i);

/**
 * metric_name_valid() - whether @name may name a metric or a counter:
 * 1 .. METRIC_NAME_MAX - 1 bytes of [a-z0-9_.], not starting or ending
 * with '.', no "..".  Lower case only, so a name has one spelling in the
 * store, the API and Prometheus.
 *
 * @return 1 if valid, else 0.
 */
RTTQ_API int metric_name_valid(const char *name);

/** metric_or_rtt() - @metric, or METRIC_RTT for NULL or "". */
RTTQ_API const char *metric_or_rtt(const char *metric);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_METRIC_H */
