/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One TCP connection's statistics as the kernel hands them to user space
 * (kernel/flows.h -> common/flows/): written by the iter/tcp program for
 * every live connection and into the flow_closed ring buffer as each one
 * closes.  __u* types only, so the BPF side needs no libc headers.
 */
#ifndef RTTQ_FLOW_RECORD_H
#define RTTQ_FLOW_RECORD_H

#include <linux/types.h>

/* Values of flow_record.flags. */
#define FLOW_F_START_KNOWN 1u  /* opened while rttq watched: duration known */
#define FLOW_F_CLOSED 2u       /* from the ring buffer, at TCP_CLOSE */

struct flow_record {
	__u8 laddr[16];          /* network order, IPv4 v4-mapped */
	__u8 raddr[16];
	__u16 lport;             /* host order */
	__u16 rport;             /* host order */
	__u16 family;            /* AF_INET, AF_INET6 */
	__u8 state;              /* TCP_* at the read; closed: the state it
				  * closed from (FIN_WAIT2: this side
				  * closed first, LAST_ACK: the peer did) */
	__u8 flags;              /* FLOW_F_* */
	__u32 group;             /* group_counts index (0: no group, "all") */
	__u32 netns;             /* network namespace inode */
	__u64 start_ns;          /* ktime at SYN_SENT / SYN_RECV, if known */
	__u64 now_ns;            /* ktime of the read (or of the close) */
	__u32 flight_size;       /* packets_out, segments */
	__u32 rwnd;              /* snd_wnd, bytes */
	__u32 cwnd;              /* snd_cwnd, segments */
	__u32 mss;               /* mss_cache, bytes */
	__u32 retrans_packets;   /* total_retrans, segments */
	__u32 srtt_us;           /* srtt_us >> 3 */
	__u32 min_rtt_us;        /* windowed minimum RTT */
	__u32 pad;
	__u64 bytes_sent;        /* tcp_sock.bytes_sent (retransmits too) */
	__u64 bytes_received;    /* tcp_sock.bytes_received */
	__u64 fast_retrans;      /* segments, by tcp_health.h's causes */
	__u64 timeouts;
	__u64 app_wqueue;        /* sk_wmem_queued now (at close: last seen) */
	__u64 app_wqueue_max;    /* the most sk_wmem_queued seen, bytes */
	__u64 rtt_samples;       /* tcp_probe events: rttq's rtt samples */
	__u64 rtt_sum_us;        /* their srtt summed, microseconds */
	__u64 read_bytes;        /* sock_recv_length, bytes */
	__u64 write_bytes;       /* sock_send_length, bytes */
};

/* Default bytes of the flow_closed ring buffer (a power of 2 pages). */
#define FLOW_RING_BYTES (1u << 20)

#endif /* RTTQ_FLOW_RECORD_H */
