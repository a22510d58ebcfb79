/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The few kernel types rttq.bpf.c reads, declared by hand instead of a
 * generated vmlinux.h.  Every struct carries preserve_access_index, so each
 * field access is a CO-RE relocation that libbpf resolves by name against
 * the running kernel's BTF: offsets, padding and the anonymous unions the
 * real structs nest these fields in do not matter here.
 */
#ifndef RTTQ_TCP_CORE_H
#define RTTQ_TCP_CORE_H

#include <linux/types.h>

#pragma clang attribute push(__attribute__((preserve_access_index)), \
			     apply_to = record)

struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__u32 u6_addr32[4];
	} in6_u;
};

/* The network namespace of a socket (kernel/flows.h): its inode. */
struct ns_common {
	unsigned int inum;
};

struct net {
	struct ns_common ns;
};

typedef struct {
	struct net *net;
} possible_net_t;

struct sock_common {
	__u32 skc_daddr;               /* remote IPv4, network order */
	__u32 skc_rcv_saddr;           /* local IPv4, network order */
	__u16 skc_dport;               /* remote port, network order */
	__u16 skc_num;                 /* local port, host order */
	unsigned short skc_family;
	volatile unsigned char skc_state; /* TCP_* (tcp_states.h) */
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
	possible_net_t skc_net;
};

/* cgroup v2 of a socket (group_key.h): sk->sk_cgrp_data.cgroup->kn->id. */
struct kernfs_node {
	__u64 id;                      /* the cgroup id name_to_handle_at gives */
};

struct cgroup {
	struct kernfs_node *kn;
	int level;                     /* depth below the root, which is 0 */
	struct cgroup *ancestors[];    /* [level] is the cgroup itself (6.2+) */
};

/* Before Linux 6.2 cgroups listed their ancestors' ids instead. */
struct cgroup___old {
	int level;
	__u64 ancestor_ids[];
};

struct sock_cgroup_data {
	struct cgroup *cgroup;         /* the default (v2) hierarchy's */
};

struct sock {
	struct sock_common __sk_common;
	struct sock_cgroup_data sk_cgrp_data;
	/* kernel/bytes.h, the sndbuf distribution (rttq.bpf.c) and
	 * kernel/flows.h. */
	__u16 sk_protocol;             /* IPPROTO_*; a bitfield before 5.6 */
	int sk_wmem_queued;            /* bytes queued to send */
	int sk_sndbuf;                 /* their limit, bytes */
};

/* The local port that survives TCP_CLOSE (skc_num is 0 by then). */
struct inet_sock {
	__u16 inet_sport;              /* network order */
};

/* tcp_sock.rtt_min: s[0].v is the current minimum. */
struct minmax_sample {
	__u32 t;
	__u32 v;
};

struct minmax {
	struct minmax_sample s[3];
};

/* Read by kernel/tcp_health.h: what a retransmit was for. */
struct inet_connection_sock {
	__u8 icsk_ca_state: 5;         /* TCP_CA_* below */
	__u8 icsk_pending;             /* ICSK_TIME_* armed */
};

struct tcp_sock {
	struct inet_connection_sock inet_conn;
	__u32 srtt_us;                 /* smoothed RTT << 3, microseconds */
	__u32 mdev_us;                 /* mean deviation << 2 (ss's rttvar) */
	__u32 segs_out;                /* segments sent, retransmits too */
	/* Read by kernel/flows.h, the per-connection statistics. */
	__u32 packets_out;             /* sent, not yet acknowledged */
	__u32 snd_wnd;                 /* the peer's receive window, bytes */
	__u32 snd_cwnd;                /* congestion window, segments */
	__u32 mss_cache;               /* current MSS, bytes */
	__u32 total_retrans;           /* segments TcpRetransSegs counted */
	__u64 bytes_sent;              /* RFC 4898 DataOctetsOut */
	__u64 bytes_received;          /* RFC 4898 DataOctetsIn */
	struct minmax rtt_min;         /* windowed minimum RTT, us */
	/* Read by kernel/stages.h: how far the application has read. */
	__u32 copied_seq;
};

/* A connection not yet accepted: only its addresses are read. */
struct request_sock {
	struct sock_common __req_common;
};

/* tcp_probe names it; kernel/drops.h reads the IP header of a drop,
 * kernel/stages.h the owner, the data and TCP's departure time. */
struct sk_buff {
	__u32 len;
	unsigned char *head;
	unsigned char *data;
	struct sock *sk;
	__u64 tstamp;                  /* TCP: its departure time (EDT), ns */
	__u16 network_header;          /* offset from head; ~0: not set */
	__u16 transport_header;        /* offset from head; ~0: not set */
	__u16 protocol;                /* ETH_P_*, network order */
	char cb[48];                   /* TCP: struct tcp_skb_cb */
};

/*
 * Offset in skb->cb of tcp_skb_cb's tcp_gso_segs (after seq and end_seq,
 * include/net/tcp.h, unchanged since 2.6): the segments a retransmitted
 * skb counts as in TcpRetransSegs.
 */
#define TCP_SKB_CB_GSO_SEGS 8

/* The context of an iter/tcp program (kernel/flows.h). */
struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};

struct bpf_iter__tcp {
	struct bpf_iter_meta *meta;
	struct sock_common *sk_common;
	__u32 uid;
};

#pragma clang attribute pop

/* Copied from include/linux/socket.h: not in any header BPF can include. */
#define AF_INET 2
#define AF_INET6 10

/* From include/net/tcp_states.h (uapi-stable numbers). */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_TIME_WAIT 6
#define TCP_CLOSE 7
#define TCP_LISTEN 10
#define TCP_NEW_SYN_RECV 12

/* From include/linux/socket.h. */
#define MSG_PEEK 2

/* From include/net/tcp.h (enum tcp_ca_state) and inet_connection_sock.h. */
#define TCP_CA_RECOVERY 3
#define TCP_CA_LOSS 4
#define ICSK_TIME_LOSS_PROBE 5

/* From include/uapi/linux/if_ether.h and in.h. */
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

#endif /* RTTQ_TCP_CORE_H */
