/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One sampled event as the kernel hands it to user space (kernel/events.h
 * -> common/flows/event_reader.c, `rttq events`): an RTT sample, a
 * retransmit with its cause or a dropped packet with its reason number,
 * with the connection it belongs to.  __u* types only, so the BPF side
 * needs no libc headers.
 */
#ifndef RTTQ_EVENT_RECORD_H
#define RTTQ_EVENT_RECORD_H

#include <linux/types.h>

/* Values of event_record.type, and their bits in targ_ev_types. */
#define EVENT_RTT 0u
#define EVENT_RETRANS 1u
#define EVENT_DROP 2u
#define EVENT_TYPES 3u

struct event_record {
	__u64 ts_ns;      /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u8 laddr[16];   /* network order, IPv4 v4-mapped; a drop: the
			   * packet's source */
	__u8 raddr[16];   /* a drop: the packet's destination */
	__u16 lport;      /* host order; a drop: source port (TCP, UDP) */
	__u16 rport;
	__u16 family;     /* AF_INET, AF_INET6; 0: a drop with no IP header */
	__u8 type;        /* EVENT_* */
	__u8 proto;       /* a drop: RTTQ_DROP_TCP, _UDP, _OTHER (rttq.h) */
	__u32 group;      /* group_counts index (0: "all"); a drop: 0 */
	__u32 value;      /* rtt: srtt_us; retrans: segments; drop: reason */
	__u32 value2;     /* rtt: jitter (mdev_us >> 2); retrans: the
			   * cause (rttq.h's RTTQ_C_RETRANS_*) */
	__u32 pad;
};

/* Default bytes of the events ring buffer (a power of 2 pages). */
#define EVENT_RING_BYTES (1u << 21)

#endif /* RTTQ_EVENT_RECORD_H */
