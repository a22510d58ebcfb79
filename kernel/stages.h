/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where a packet's time goes inside the host (--signals stages; included
 * by kernel/rttq.bpf.c after tcp_health.h): four distributions per group,
 * each from a sample of the packets (targ_stage_threshold / 2^32, 1/64 by
 * default; sampler.h), in nanoseconds (their unit is µs: the store keeps
 * thousandths of what users read):
 *   rx.stack   net:netif_receive_skb -> tcp:tcp_probe, the same skb
 *              (checked by its TCP sequence number)
 *   rx.socket  tcp:tcp_probe of a segment with data -> the application's
 *              read (sock_recv_length) that took its last byte
 *   tx.stack   TCP's departure time of a segment (skb->tstamp, set when
 *              TCP transmits) -> net:net_dev_queue
 *   tx.qdisc   net:net_dev_queue -> net:net_dev_xmit, the same skb
 *              (checked by its length), the driver's transmit included
 * Every hook is a program of its own, loaded only with stages on.
 */
#ifndef RTTQ_STAGES_H
#define RTTQ_STAGES_H

#include "sampler.h"

/* A packet is sampled when a random u32 is at most this. */
const volatile __u32 targ_stage_threshold = 0xffffffffu / 64;

/* Word offsets of the stages in a group_stages value (slots each). */
#define STAGE_RX_STACK 0u
#define STAGE_RX_SOCKET 1u
#define STAGE_TX_STACK 2u
#define STAGE_TX_QDISC 3u

/* A stage's time above this is a key that matched by chance: not kept. */
#define STAGE_MAX_NS 1000000000ull

/*
 * The stage distributions of group index i at i (index 0 unused),
 * RTTQ_STAGES * BUCKET_SLOTS(g) __u32 each (sizes set by the loader),
 * shared by every CPU as group_counts.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, RTTQ_VALUE_SIZE(BUCKET_SLOTS(BUCKET_SUB_BITS_DEFAULT)));
} group_stages SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, RTTQ_VALUE_SIZE(BUCKET_SLOTS(BUCKET_SUB_BITS_DEFAULT)));
} ungrouped_stages SEC(".maps");

/* A sampled packet on its way: its address, when it passed, and what
 * identifies it beside its address (which the kernel reuses once the skb
 * is freed). */
struct stage_mark {
	__u64 skb;     /* 0: free */
	__u64 ns;
	__u32 check;   /* rx: TCP sequence number; tx: skb->len */
	__u32 idx;     /* tx: the socket's group index (sk_index()) */
};

/*
 * Sampled packets by a hash of their address, one slot each, shared by
 * every CPU: the end stage finds its packet with an array index and a
 * compare, where a hash map would cost a lookup on every packet (not
 * only sampled ones).  A slot taken again before its packet's end stage
 * loses that sample; a packet that never gets there (not established,
 * dropped, split by GSO) leaves a slot the next sample takes over.
 * Every packet's end stage reads a slot, so the array is kept small
 * enough to stay in cache (8 KiB): a sample waits microseconds for its
 * end stage, so even a million packets a second, 1 in 64 marked, keep
 * well under one slot in use on average.  At 4,096 slots (128 KiB),
 * rttq_stage_tcp and rttq_stage_xmit, which only compare, cost ~100 ns a
 * run more than rttq_stage_rx and rttq_stage_queue, which only draw
 * (bench/bench-floor.sh SET=flows).
 */
#define STAGE_SLOTS 256u

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STAGE_SLOTS);
	__type(key, __u32);
	__type(value, struct stage_mark);
} stage_rx SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STAGE_SLOTS);
	__type(key, __u32);
	__type(value, struct stage_mark);
} stage_tx SEC(".maps");

/* The slot of skb address @skb (slab objects: the low bits are alike). */
static __always_inline __u32 stage_slot(__u64 skb)
{
	return (__u32)((skb >> 8) ^ (skb >> 20)) & (STAGE_SLOTS - 1);
}

/* A socket's sampled segment waiting for the application to read it. */
struct sk_stage {
	__u64 ns;       /* at tcp_probe; 0: none waiting */
	__u32 end_seq;  /* read once copied_seq reaches it */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sk_stage);
} sk_stages SEC(".maps");

/* Whether the packet at the start of stage @which (SAMPLER_STAGE_*) is
 * one of the sample (sampler.h). */
static __always_inline bool stage_sampled(__u32 which)
{
	return sampler_keep(which, targ_stage_threshold);
}

/* @ns of stage @stage into group index @idx's distribution. */
static __always_inline void stage_count(__u32 idx, __u32 stage, __u64 ns)
{
	__u32 *counts;

	if (ns > STAGE_MAX_NS)
		return;
	if (!idx) {
		counts = bpf_map_lookup_elem(&ungrouped_stages, &idx);
		if (counts)
			count(counts + stage * targ_slots, (__u32)ns, false);
		return;
	}
	counts = bpf_map_lookup_elem(&group_stages, &idx);
	if (counts)
		count(counts + stage * targ_slots, (__u32)ns, true);
}

/*
 * The TCP sequence number of the IPv4 or IPv6 (no extension headers)
 * packet at @data, host order; false when it is no such TCP packet.
 */
static __always_inline bool tcp_seq_at(const unsigned char *data, __u32 *seq)
{
	__u8 b[2] = { 0 };
	__u32 off, v = 0;

	if (bpf_probe_read_kernel(b, 1, data))
		return false;
	if ((b[0] >> 4) == 4) {
		bpf_probe_read_kernel(&b[1], 1, data + 9);
		off = (b[0] & 0xf) * 4;
	} else if ((b[0] >> 4) == 6) {
		bpf_probe_read_kernel(&b[1], 1, data + 6);
		off = 40;
	} else {
		return false;
	}
	if (b[1] != IPPROTO_TCP ||
	    bpf_probe_read_kernel(&v, sizeof(v), data + off + 4))
		return false;
	*seq = bpf_ntohl(v);
	return true;
}

/* Received: handed to the stack by the driver or GRO (data at IP). */
SEC("tp_btf/netif_receive_skb")
int BPF_PROG(rttq_stage_rx, struct sk_buff *skb)
{
	__u32 slot = stage_slot((__u64)skb), seq;
	struct stage_mark *m;

	if (!stage_sampled(SAMPLER_STAGE_RX) || !tcp_seq_at(skb->data, &seq))
		return 0;
	m = bpf_map_lookup_elem(&stage_rx, &slot);
	if (!m)
		return 0;
	m->check = seq;
	m->ns = bpf_ktime_get_ns();
	m->skb = (__u64)skb;
	return 0;
}

/*
 * A segment at TCP (established): rx.stack of a sampled one, and a
 * sample of those with data waits in the socket for the application.
 * tcp_probe only ever sees a full TCP socket, so no check of it: what
 * every segment pays is the slot's compare and the sampling draw, the
 * rest is for the sampled.
 */
SEC("tp_btf/tcp_probe")
int BPF_PROG(rttq_stage_tcp, struct sock *sk, const struct sk_buff *skb)
{
	__u32 slot = stage_slot((__u64)skb), seq = 0, end_seq = 0, idx;
	struct stage_mark *m;
	struct sk_stage *st;
	__u64 now, t;

	m = bpf_map_lookup_elem(&stage_rx, &slot);
	if (m && m->skb == (__u64)skb) {
		t = m->ns;
		bpf_core_read(&seq, sizeof(seq), &skb->cb[0]);
		m->skb = 0;
		now = bpf_ktime_get_ns();
		if (m->check == seq && t <= now) {
			idx = sk_index(sk, true, true);
			if (idx != RTTQ_INDEX_SKIP)
				stage_count(idx, STAGE_RX_STACK, now - t);
		}
	}
	if (!stage_sampled(SAMPLER_STAGE_TCP))
		return 0;
	bpf_core_read(&seq, sizeof(seq), &skb->cb[0]);
	bpf_core_read(&end_seq, sizeof(end_seq), &skb->cb[4]);
	if (end_seq == seq)
		return 0;   /* no data: nothing for the application */
	st = bpf_sk_storage_get(&sk_stages, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!st || st->ns)
		return 0;   /* one waits already */
	st->end_seq = end_seq;
	st->ns = bpf_ktime_get_ns();
	return 0;
}

/*
 * The application read: the waiting sample's time once it has all of it.
 * Only TCP sockets ever get sk_stages, so the storage lookup comes first
 * (no entry on any other socket) and the socket is taken as TCP only for
 * a read with a sample waiting.
 */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(rttq_stage_read, struct sock *sk, int ret, int flags)
{
	const struct tcp_sock *tp;
	struct sk_stage *st;
	__u64 now, t;
	__u32 idx;

	if (ret <= 0 || (flags & MSG_PEEK))
		return 0;
	st = bpf_sk_storage_get(&sk_stages, sk, 0, 0);
	if (!st || !st->ns)
		return 0;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp || (__s32)(tp->copied_seq - st->end_seq) < 0)
		return 0;
	t = st->ns;
	st->ns = 0;
	now = bpf_ktime_get_ns();
	idx = sk_index(sk, true, true);
	if (idx != RTTQ_INDEX_SKIP && t <= now)
		stage_count(idx, STAGE_RX_SOCKET, now - t);
	return 0;
}

/*
 * Queued to a device: tx.stack of a sampled TCP segment (from the
 * departure time TCP stamped on it), and the mark tx.qdisc ends on.
 */
SEC("tp_btf/net_dev_queue")
int BPF_PROG(rttq_stage_queue, struct sk_buff *skb)
{
	__u32 slot = stage_slot((__u64)skb), idx;
	struct stage_mark *m;
	__u64 now, tstamp;
	struct sock *sk;

	if (!stage_sampled(SAMPLER_STAGE_QUEUE) ||
	    drop_proto(skb) != RTTQ_DROP_TCP)
		return 0;
	/*
	 * An RCU pointer here, which the socket helpers refuse: read as
	 * sock_common (a SYN-ACK's is a request socket, a time-wait
	 * socket's ACK has its own), never cached, as other packets'.
	 */
	sk = BPF_CORE_READ(skb, sk);
	if (!sk)
		return 0;
	idx = common_index(sk);
	if (idx == RTTQ_INDEX_SKIP)
		return 0;
	now = bpf_ktime_get_ns();
	/* A departure in the future is a pacing time, not when it left TCP. */
	tstamp = skb->tstamp;
	if (tstamp && tstamp <= now)
		stage_count(idx, STAGE_TX_STACK, now - tstamp);
	m = bpf_map_lookup_elem(&stage_tx, &slot);
	if (!m)
		return 0;
	m->check = skb->len;
	m->idx = idx;
	m->ns = now;
	m->skb = (__u64)skb;
	return 0;
}

/* Handed to the driver, which returned @rc (0: taken). */
SEC("tp_btf/net_dev_xmit")
int BPF_PROG(rttq_stage_xmit, struct sk_buff *skb, int rc, void *dev,
	     unsigned int len)
{
	__u32 slot = stage_slot((__u64)skb);
	struct stage_mark *m = bpf_map_lookup_elem(&stage_tx, &slot);
	__u64 now, t;

	if (!m || m->skb != (__u64)skb)
		return 0;
	t = m->ns;
	m->skb = 0;
	now = bpf_ktime_get_ns();
	if (rc == 0 && m->check == len && t <= now)
		stage_count(m->idx, STAGE_TX_QDISC, now - t);
	return 0;
}

#endif /* RTTQ_STAGES_H */
