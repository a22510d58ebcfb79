/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Types shared by kernel/rttq.bpf.c and its loader
 * (common/collector/collector.c): the key of the group_ids hash and the
 * layout of group_counts' values.  __u* types only, so the BPF side needs
 * no libc headers.
 */
#ifndef RTTQ_H
#define RTTQ_H

#include <linux/types.h>

/*
 * Key of the "group_ids" map (group key -> group id).  Addresses are 16
 * bytes in network order, IPv4 written v4-mapped (::ffff:a.b.c.d) so one
 * comparison and one formatter serve both families; with a prefix
 * (--group-by raddr/24) the bits past it are zero.  Fields a --group-by
 * does not name stay zero (kernel/group_key.h fills them).
 *
 * The fields are ordered so that the common choices hash few bytes: the
 * loader sets the map's key size to the shortest prefix holding every
 * chosen field (raddr: 16, any port: 20, laddr: 36 bytes, peer, port or
 * cgroup: all 56).
 */
struct rttq_key {
	__u8 raddr[16];  /* remote address, network order */
	__u16 rport;     /* remote port, network order (as in skc_dport) */
	__u16 lport;     /* local port, host order (as in skc_num) */
	__u8 laddr[16];  /* local address, network order */
	__u32 peer;      /* --peer-map label id, 0: no prefix matched */
	__u16 port;      /* service port, host order */
	__u16 pad16;     /* zero */
	__u32 pad32;     /* zero */
	__u64 cgroup;    /* cgroup v2 id of the socket */
};

#define RTTQ_KEY_SIZE_RADDR 16u  /* offsetof(struct rttq_key, rport) */
#define RTTQ_KEY_SIZE_PORTS 20u  /* offsetof(struct rttq_key, laddr) */
#define RTTQ_KEY_SIZE_ADDRS 36u  /* offsetof(struct rttq_key, peer) */
#define RTTQ_KEY_SIZE_ALL 56u    /* sizeof(struct rttq_key) */

/*
 * The "gid_slots" cache (kernel/group_ids.h): entries per CPU, bytes
 * each, and the words of the slot key each holds.
 */
#define RTTQ_GID_SLOT_BITS 10
#define RTTQ_GID_SLOTS (1u << RTTQ_GID_SLOT_BITS)
#define RTTQ_GID_SLOT_BYTES 32u
#define RTTQ_SLOT_KEY_WORDS 5u

/*
 * A value of "gid_gens" (kernel/group_ids.h), one per group id: its
 * generation, which user space bumps at every recycle
 * (common/collector/group_recycle.c), and beside it the slot key the id
 * was predicted for, valid while @kgen is @gen + 1, so an event of that
 * slot key finds its id on this one line (gid_direct()).  Two ids a
 * 64-byte line.
 */
struct rttq_gid_gen {
	__u32 gen;
	__u32 kgen;
	__u32 key[RTTQ_SLOT_KEY_WORDS];
	__u32 pad;  /* zero */
};

#define RTTQ_GID_GEN_BYTES 32u

/* Bits of targ_group_by; the same values as COLLECTOR_BY_* (collector.h). */
#define RTTQ_BY_LADDR (1u << 0)
#define RTTQ_BY_RADDR (1u << 1)
#define RTTQ_BY_LPORT (1u << 2)
#define RTTQ_BY_RPORT (1u << 3)
#define RTTQ_BY_PEER (1u << 4)   /* label of the longest --peer-map prefix */
#define RTTQ_BY_PORT (1u << 5)   /* service port: lport if accepted, else rport */
#define RTTQ_BY_CGROUP (1u << 6) /* the socket's cgroup v2 */

/*
 * Whether the groups of @group_by (RTTQ_BY_*) are found per event through
 * gid_slots instead of being remembered per socket: the slot key (the
 * remote address, whole when a label is taken from it; beside it 16 bits
 * of remote or service port and 16 of local port or of the peer map's
 * generation) must decide the group, so nothing from the local address
 * or the cgroup, and at most one of each pair.  The kernel side and the
 * memory budget (common/collector/kernel_budget.c) both ask here.
 */
static inline int rttq_slot_key_ok(__u32 group_by)
{
	return group_by && !(group_by & (RTTQ_BY_LADDR | RTTQ_BY_CGROUP)) &&
	       (group_by & (RTTQ_BY_RPORT | RTTQ_BY_PORT)) !=
		       (RTTQ_BY_RPORT | RTTQ_BY_PORT) &&
	       (group_by & (RTTQ_BY_LPORT | RTTQ_BY_PEER)) !=
		       (RTTQ_BY_LPORT | RTTQ_BY_PEER);
}

/*
 * Key of the "peer_prefixes" LPM trie: prefixlen counts bits of @addr,
 * IPv4 v4-mapped (a /24 is a /120), so one trie serves both families.
 */
struct rttq_peer_prefix {
	__u32 prefixlen;
	__u8 addr[16];   /* network order */
};

/* Bytes of the "listen_ports" bitmap: one bit per port. */
#define RTTQ_LISTEN_BYTES 8192u

/*
 * Values of each "group_counts" entry: BUCKET_SLOTS(g) cumulative __u32
 * counters (buckets.h) per distribution it holds (rtt, and jitter: see
 * RTTQ_DIST_*), one copy shared by every CPU (index 0 unused: the events
 * of no group go to the per-CPU "ungrouped_counts", of the same size);
 * "all" is the sum of them all.  The loader sizes the value for the g in
 * use (3,584 bytes a distribution at the default g = 5, 13,312 at g = 7);
 * common/collector/kernel_budget.c counts what every map takes.  Per
 * socket seen, sk storage holds a verdict (group_counts index + 1, or
 * skip/overflow) and the id's generation, 8 bytes (kernel/group_ids.h),
 * freed with the socket, except for the groupings of rttq_slot_key_ok()
 * (found through gid_slots: group_ids.h).
 */
#define RTTQ_VALUE_SIZE(slots) ((slots) * 4u)

/*
 * The distributions of a group, each BUCKET_SLOTS(g) u32 counters: rtt,
 * jitter and sndbuf (at words targ_jitter_off, targ_sndbuf_off, 0: off)
 * in one group_counts value, so each is one more add on the value
 * tcp_probe already looked up; handshake in group_handshake
 * (kernel/tcp_health.h), flow_duration in group_flow_duration
 * (kernel/flows.h).  User space reads them as one run of words in the
 * order rtt, jitter, sndbuf, handshake, flow_duration, each there only
 * when on.  runqlat is node-wide, in a map of its own (kernel/node.h).
 */
#define RTTQ_DIST_RTT 0u
#define RTTQ_DIST_JITTER 1u
#define RTTQ_DIST_HANDSHAKE 2u
#define RTTQ_DIST_SNDBUF 3u
#define RTTQ_DIST_FLOW_DURATION 4u /* group_flow_duration (kernel/flows.h) */
/* The four of --signals stages, one group_stages value (kernel/stages.h),
 * in nanoseconds. */
#define RTTQ_DIST_RX_STACK 5u
#define RTTQ_DIST_RX_SOCKET 6u
#define RTTQ_DIST_TX_STACK 7u
#define RTTQ_DIST_TX_QDISC 8u
#define RTTQ_STAGES 4u
#define RTTQ_DISTS 9u

/* sndbuf samples: sk_wmem_queued per sk_sndbuf in thousandths of a per
 * cent (metric.h), so 100 % is 100,000. */
#define RTTQ_SNDBUF_SCALE 100000u

/*
 * Counters of a group (kernel/tcp_health.h), cumulative __u64 in
 * "group_health" (shared by all CPUs) and "ungrouped_health" (per CPU),
 * indexed like group_counts.  The names users see are the collector's
 * (collector_counters.c), in this order.
 */
enum rttq_counter {
	RTTQ_C_RETRANS_FAST,    /* retrans.fast */
	RTTQ_C_RETRANS_TIMEOUT, /* retrans.timeout */
	RTTQ_C_RETRANS_TLP,     /* retrans.tlp */
	RTTQ_C_RETRANS_SYN,     /* retrans.syn */
	RTTQ_C_SEGS_OUT,        /* segs.out */
	RTTQ_C_LOSS_RECOVERY,   /* loss.recovery */
	RTTQ_C_LOSS_TIMEOUT,    /* loss.timeout */
	RTTQ_C_CONN_OPENED,     /* conn.opened */
	RTTQ_C_CONN_ACCEPTED,   /* conn.accepted */
	RTTQ_C_CONN_FAILED,     /* conn.failed */
	RTTQ_C_RST_SENT,        /* rst.sent */
	RTTQ_C_RST_RECEIVED,    /* rst.received */
	/* --signals bytes (kernel/bytes.h): payload bytes of send and
	 * receive calls that moved some. */
	RTTQ_C_BYTES_SENT_TCP,  /* bytes.sent.tcp */
	RTTQ_C_BYTES_RECV_TCP,  /* bytes.received.tcp */
	RTTQ_C_BYTES_SENT_UDP,  /* bytes.sent.udp */
	RTTQ_C_BYTES_RECV_UDP,  /* bytes.received.udp */
	/* At close, --signals flows (kernel/flows.h). */
	RTTQ_C_CONN_CLOSED,     /* conn.closed */
	RTTQ_C_FLOW_BYTES_SENT, /* flow.bytes_sent */
	RTTQ_C_FLOW_BYTES_RECEIVED, /* flow.bytes_received */
	RTTQ_COUNTERS,
};

struct rttq_health {
	__u64 c[RTTQ_COUNTERS]; /* by enum rttq_counter */
};

/*
 * Drops (kernel/drops.h): one per-CPU value of RTTQ_DROP_PROTOS rows of
 * RTTQ_DROP_SLOTS cumulative __u64, row by the packet's IP protocol, slot
 * by the kernel's drop reason number (its names come from the running
 * kernel's BTF, never from here), except the two last slots.
 */
#define RTTQ_DROP_TCP 0u
#define RTTQ_DROP_UDP 1u
#define RTTQ_DROP_OTHER 2u
#define RTTQ_DROP_PROTOS 3u
#define RTTQ_DROP_SLOTS 256u
#define RTTQ_DROP_UNLISTED (RTTQ_DROP_SLOTS - 2) /* reason >= it, or a
						  * subsystem's (high bits) */
#define RTTQ_DROP_UNKNOWN (RTTQ_DROP_SLOTS - 1)  /* kernel gives none */
#define RTTQ_DROPS_SIZE (RTTQ_DROP_PROTOS * RTTQ_DROP_SLOTS * 8u)

/*
 * Node-wide time in the network softirqs (kernel/node.h), per CPU: when
 * the one running on the CPU began, and the cumulative nanoseconds of
 * each; and the packets kernel/drops.h counted, every protocol and
 * reason together, so a reader of the node's few totals
 * (librttq-signals) gets them in this small value instead of summing
 * the RTTQ_DROPS_SIZE bytes per CPU of "drops" (kernel/node_counts.h).
 */
#define RTTQ_SOFTIRQ_RX 0u  /* softirq.net_rx_ns */
#define RTTQ_SOFTIRQ_TX 1u  /* softirq.net_tx_ns */
#define RTTQ_SOFTIRQS 2u

struct rttq_node_counts {
	__u64 start;              /* ktime at entry, 0: none running */
	__u64 ns[RTTQ_SOFTIRQS];  /* by RTTQ_SOFTIRQ_* */
	__u64 drops;              /* the sum of this CPU's "drops" */
};

#endif /* RTTQ_H */
