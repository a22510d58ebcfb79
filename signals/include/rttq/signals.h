/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * librttq-signals: the TCP and node signals rttq counts, for a control
 * loop in another process (a congestion-aware governor reading every
 * 200 ms).  Each handle loads its own copy of rttq's BPF programs, so it
 * works with or without rttq-agent on the host, and needs what the agent
 * needs (root, or CAP_BPF with CAP_PERFMON).  Link with
 * `pkg-config --cflags --libs rttq-signals`.  A handle is for one thread
 * at a time; handles are independent of each other.
 */
#ifndef RTTQ_SIGNALS_H
#define RTTQ_SIGNALS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rttq_signals;

/*
 * Which connections count (per-connection signals only: drops and
 * softirq time are the node's whatever the filter).  Zero fields are
 * off; a zeroed struct (or NULL) counts every connection.
 */
struct rttq_signals_opts {
	uint16_t lport;        /* local port, host order */
	uint16_t rport;        /* remote port, host order */
	const char *raddr;     /* remote address or CIDR, "10.0.0.0/8" */
	const char *laddr;     /* local address or CIDR */
	const char *cgroup;    /* cgroup v2 path: that cgroup and below */
	int include_loopback;  /* non-zero: count 127/8 and ::1 peers too */
};

/*
 * What happened between two rttq_signals_read_and_reset() calls (the
 * first one: since rttq_signals_open()).  Totals, except where a field
 * says otherwise; 0 when nothing was seen.
 */
struct rttq_signal_sample {
	uint64_t interval_ns;          /* monotonic time the sample covers */
	uint64_t events;               /* RTT samples (TCP segments received
					* with an RTT estimate) */
	uint64_t send_bytes;           /* bytes.sent.tcp + bytes.sent.udp */
	uint64_t recv_bytes;           /* bytes.received.tcp + .udp */
	uint64_t drops;                /* packets freed with a drop reason */
	uint64_t retransmits;          /* retrans.* */
	double sndbuf_pressure_avg;    /* send buffer queued / sk_sndbuf at
					* each RTT sample, 0..1, mean */
	double sndbuf_pressure_max;    /* ... the largest seen, 0..1 */
	uint64_t softirq_ns;           /* NET_RX + NET_TX softirq time, all
					* CPUs */
	double rtt_p50_us;             /* of the interval's RTT samples */
	double rtt_p99_us;
};

/**
 * rttq_signals_open() - load and attach the BPF programs and start
 * counting.
 * @out: receives the handle.
 * @opts: filters; NULL counts every connection.
 *
 * @return 0; -EPERM without the privileges; -ENOENT when the kernel lacks
 *         BTF or every hook; -EINVAL for a bad @opts field; -ENOMEM; or
 *         another negative errno of the BPF syscalls.
 */
int rttq_signals_open(struct rttq_signals **out,
		      const struct rttq_signals_opts *opts);

/**
 * rttq_signals_read_and_reset() - what happened since the last call.
 * @h: the handle.
 * @out: receives the sample.
 *
 * @return 0, or a negative errno of the BPF syscalls (@out then zeroed;
 *         the next call covers this interval too).
 */
int rttq_signals_read_and_reset(struct rttq_signals *h,
				struct rttq_signal_sample *out);

/**
 * rttq_signals_last_error() - one line saying what the last failed call
 * on @h (or, with @h NULL, the last failed rttq_signals_open() of this
 * thread) found wrong, "" when nothing failed.
 */
const char *rttq_signals_last_error(const struct rttq_signals *h);

/**
 * rttq_signals_prog_fds() - the BPF programs @h attached, for a caller
 * that measures what they cost (run_time_ns of bpf_prog_info while
 * kernel.bpf_stats_enabled is on; `rttq signals --validate` does).
 * @h: the handle.
 * @fds: receives up to @max program fds, owned by @h (valid until
 *       rttq_signals_close(); do not close them).
 * @names: receives each one's attach point ("tp_btf/tcp_probe"), valid
 *         as long; may be NULL.
 * @max: room in @fds (and @names).
 *
 * @return how many programs are attached (may be more than @max).
 */
unsigned int rttq_signals_prog_fds(const struct rttq_signals *h, int *fds,
				   const char **names, unsigned int max);

/** rttq_signals_close() - detach and free; NULL does nothing. */
void rttq_signals_close(struct rttq_signals *h);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_SIGNALS_H */
