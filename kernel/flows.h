/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-connection statistics (included by kernel/rttq.bpf.c after
 * sk_index(), before tcp_health.h, whose retransmit classifier reports
 * here): what the kernel keeps per socket is read where it is
 * (tcp_sock, exact), what it does not keep (application reads and
 * writes, rtt samples, the most queued, retransmits by cause, when the
 * connection opened) is counted in the socket's sk_flows storage by
 * programs of their own, loaded only with flows on (targ_flows_on), so
 * the agent's default per-event cost stays what it was.  An iter/tcp
 * program writes a struct flow_record (kernel/flow_record.h) per live
 * connection; at TCP_CLOSE one goes into the flow_closed ring buffer
 * (`rttq flows --closed`), and with --signals flows the close counts in
 * its group (conn.closed, flow.bytes_*, flow_duration): for that only
 * the state program loads.
 */
#ifndef RTTQ_FLOWS_H
#define RTTQ_FLOWS_H

#include "flow_record.h"

/* Flows asked for: flows_note_retrans() does nothing otherwise. */
const volatile bool targ_flows_on;
/* At close: a record into flow_closed (`rttq flows --closed`). */
const volatile bool targ_flows_ring;
/* At close: conn.closed, flow.bytes_*, flow_duration (--signals flows). */
const volatile bool targ_flows_counters;

/* What a connection's counters need between events, freed with it. */
struct sk_flows {
	__u64 start_ns;       /* ktime at SYN_SENT / SYN_RECV, 0: unknown */
	__u64 rtt_samples;
	__u64 rtt_sum_us;
	__u64 app_wqueue;     /* sk_wmem_queued at the last sample */
	__u64 app_wqueue_max;
	__u64 read_bytes;
	__u64 write_bytes;
	__u64 fast_retrans;
	__u64 timeouts;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sk_flows);
} sk_flows SEC(".maps");

/* Closed connections, one struct flow_record each (size set by the
 * loader: FLOW_RING_BYTES with flows on, one page otherwise). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} flow_closed SEC(".maps");

/* Closed-connection records the ring buffer had no room for. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} flow_lost SEC(".maps");

/*
 * The flow_duration histograms (--signals flows), indexed as
 * group_counts, value size set by the loader (BUCKET_SLOTS(g) __u32), as
 * group_handshake: only a close adds to them.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, RTTQ_VALUE_SIZE(BUCKET_SLOTS(BUCKET_SUB_BITS_DEFAULT)));
} group_flow_duration SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, RTTQ_VALUE_SIZE(BUCKET_SLOTS(BUCKET_SUB_BITS_DEFAULT)));
} ungrouped_flow_duration SEC(".maps");

/* Defined by tcp_health.h, included after this file (it calls us). */
static __always_inline void health_add(__u32 idx, __u32 which, __u64 n);

/* @sk's storage, made on first sight; NULL for a socket that is not TCP. */
static __always_inline struct sk_flows *flows_of(struct sock *sk)
{
	if (!sk || !bpf_skc_to_tcp_sock(sk))
		return NULL;
	return bpf_sk_storage_get(&sk_flows, sk, 0,
				  BPF_SK_STORAGE_GET_F_CREATE);
}

/* sk_wmem_queued now, into the last and the most seen. */
static __always_inline void flows_wqueue(const struct sock *sk,
					 struct sk_flows *f)
{
	int q = sk->sk_wmem_queued;
	__u64 v = q > 0 ? (__u64)q : 0;

	f->app_wqueue = v;
	if (v > f->app_wqueue_max)
		f->app_wqueue_max = v;
}

/*
 * A retransmit of @sk classified by tcp_health.h's on_retrans(): its
 * fast and timeout segments count here too, so the per-connection
 * numbers follow the same causes as retrans.fast and retrans.timeout.
 */
static __always_inline void flows_note_retrans(const struct sock *sk,
					       __u32 which, __u32 segs)
{
	struct sk_flows *f;

	if (!targ_flows_on ||
	    (which != RTTQ_C_RETRANS_FAST && which != RTTQ_C_RETRANS_TIMEOUT))
		return;
	f = flows_of((struct sock *)sk);
	if (!f)
		return;
	if (which == RTTQ_C_RETRANS_FAST)
		__sync_fetch_and_add(&f->fast_retrans, segs);
	else
		__sync_fetch_and_add(&f->timeouts, segs);
}

/*
 * @r from full socket @sk (@tp the same, both BTF-typed) and its
 * storage @f (may be NULL: nothing counted yet).
 */
static __always_inline void flow_fill(struct flow_record *r,
				      const struct sock *sk,
				      const struct tcp_sock *tp,
				      const struct sk_flows *f, __u32 group)
{
	__u32 a[4] = { 0 };
	__u16 family = sk->__sk_common.skc_family;

	r->family = family;
	sk_addr(sk, true, false, family, a);
	__builtin_memcpy(r->laddr, a, sizeof(a));
	a[0] = a[1] = a[2] = a[3] = 0;
	sk_addr(sk, true, true, family, a);
	__builtin_memcpy(r->raddr, a, sizeof(a));
	/* The verifier bounds loads by the pointer's type: tp's covers it. */
	r->lport = bpf_ntohs(((const struct inet_sock *)tp)->inet_sport);
	r->rport = bpf_ntohs(sk->__sk_common.skc_dport);
	r->state = sk->__sk_common.skc_state;
	r->group = group;
	r->netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	r->now_ns = bpf_ktime_get_ns();
	r->flight_size = tp->packets_out;
	r->rwnd = tp->snd_wnd;
	r->cwnd = tp->snd_cwnd;
	r->mss = tp->mss_cache;
	r->retrans_packets = tp->total_retrans;
	r->srtt_us = tp->srtt_us >> 3;
	r->min_rtt_us = tp->rtt_min.s[0].v;
	r->bytes_sent = tp->bytes_sent;
	r->bytes_received = tp->bytes_received;
	r->app_wqueue = sk->sk_wmem_queued > 0 ? sk->sk_wmem_queued : 0;
	if (!f)
		return;
	if (f->start_ns) {
		r->start_ns = f->start_ns;
		r->flags |= FLOW_F_START_KNOWN;
	}
	r->fast_retrans = f->fast_retrans;
	r->timeouts = f->timeouts;
	r->app_wqueue_max = f->app_wqueue_max;
	r->rtt_samples = f->rtt_samples;
	r->rtt_sum_us = f->rtt_sum_us;
	r->read_bytes = f->read_bytes;
	r->write_bytes = f->write_bytes;
}

/*
 * tcp_probe's socket as the TCP socket it always is: through
 * bpf_rdonly_cast() (6.2+) a register move once verified, where
 * bpf_skc_to_tcp_sock() is a helper call that reads sk_protocol, a line
 * the receive path has not touched (as handle() in rttq.bpf.c does).
 */
static __always_inline const struct tcp_sock *probe_tcp_sock(struct sock *sk)
{
	if (bpf_rdonly_cast)
		return bpf_rdonly_cast(sk,
				       bpf_core_type_id_kernel(struct tcp_sock));
	return bpf_skc_to_tcp_sock(sk);
}

/*
 * A segment received in ESTABLISHED: the sample rttq's rtt distribution
 * counts (the socket's srtt then), and the send queue as it is acked.
 */
SEC("tp_btf/tcp_probe")
int BPF_PROG(rttq_flow_probe, struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_sock *tp = probe_tcp_sock(sk);
	struct sk_flows *f;
	__u32 srtt_us;

	if (!tp)
		return 0;
	srtt_us = tp->srtt_us >> 3;
	if (!srtt_us)
		return 0;
	f = bpf_sk_storage_get(&sk_flows, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!f)
		return 0;
	f->rtt_samples++;
	f->rtt_sum_us += srtt_us;
	flows_wqueue(sk, f);
	return 0;
}

/* The application wrote @ret bytes: the queue is at its fullest now. */
SEC("tp_btf/sock_send_length")
int BPF_PROG(rttq_flow_send, struct sock *sk, int ret, int flags)
{
	struct sk_flows *f;

	if (ret <= 0)
		return 0;
	f = flows_of(sk);
	if (!f)
		return 0;
	__sync_fetch_and_add(&f->write_bytes, (__u64)ret);
	flows_wqueue(sk, f);
	return 0;
}

/* The application read @ret bytes (a peek leaves them queued). */
SEC("tp_btf/sock_recv_length")
int BPF_PROG(rttq_flow_recv, struct sock *sk, int ret, int flags)
{
	struct sk_flows *f;

	if (ret <= 0 || (flags & MSG_PEEK))
		return 0;
	f = flows_of(sk);
	if (f)
		__sync_fetch_and_add(&f->read_bytes, (__u64)ret);
	return 0;
}

/*
 * The group counters of a connection closing in group index @idx: one
 * more closed, its bytes as the kernel counted them, and how long it
 * lived when it opened while we watched (µs, at most 2^32 - 1: 71 min).
 */
static __always_inline void flows_count_close(__u32 idx,
					      const struct tcp_sock *tp,
					      const struct sk_flows *f)
{
	__u64 us;
	__u32 *counts;

	health_add(idx, RTTQ_C_CONN_CLOSED, 1);
	health_add(idx, RTTQ_C_FLOW_BYTES_SENT, tp->bytes_sent);
	health_add(idx, RTTQ_C_FLOW_BYTES_RECEIVED, tp->bytes_received);
	if (!f || !f->start_ns)
		return;
	us = (bpf_ktime_get_ns() - f->start_ns) / 1000;
	if (us > 0xffffffffull)
		us = 0xffffffffull;
	if (!idx) {
		counts = bpf_map_lookup_elem(&ungrouped_flow_duration, &idx);
		if (counts)
			count(counts, us, false);
		return;
	}
	counts = bpf_map_lookup_elem(&group_flow_duration, &idx);
	if (counts)
		count(counts, us, true);
}

static __always_inline void flow_lost_count(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&flow_lost, &zero);

	if (n)
		(*n)++;
}

/*
 * A connection opens (SYN_SENT, or a listener's child in SYN_RECV, as
 * tcp_health.h tells them apart) or closes: a record of every connection
 * that was established, in the filters, into flow_closed.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(rttq_flow_state, struct sock *sk, int oldstate, int newstate)
{
	const struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	struct flow_record *r;
	struct sk_flows *f;
	__u32 idx;

	if (!tp)
		return 0;
	if (newstate == TCP_SYN_SENT ||
	    (newstate == TCP_SYN_RECV && oldstate != TCP_SYN_SENT)) {
		f = bpf_sk_storage_get(&sk_flows, sk, 0,
				       BPF_SK_STORAGE_GET_F_CREATE);
		if (f)
			f->start_ns = bpf_ktime_get_ns();
		return 0;
	}
	if (newstate != TCP_CLOSE || oldstate == TCP_SYN_SENT ||
	    oldstate == TCP_SYN_RECV || oldstate == TCP_LISTEN ||
	    oldstate == TCP_CLOSE)
		return 0;
	idx = sk_index(sk, true, true);
	if (idx == RTTQ_INDEX_SKIP)
		return 0;
	f = bpf_sk_storage_get(&sk_flows, sk, 0, 0);
	if (targ_flows_counters)
		flows_count_close(idx, tp, f);
	if (!targ_flows_ring)
		return 0;
	r = bpf_ringbuf_reserve(&flow_closed, sizeof(*r), 0);
	if (!r) {
		flow_lost_count();
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	flow_fill(r, sk, tp, f, idx);
	r->flags |= FLOW_F_CLOSED;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/*
 * Every connection of the reading process's network namespace (user
 * space enters each in turn), listeners, request and time-wait sockets
 * aside: one flow_record each into the seq file.
 */
SEC("iter/tcp")
int rttq_flow_iter(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	const struct tcp_sock *tp;
	struct flow_record r;
	struct sk_flows *f;
	struct sock *sk;
	__u32 idx;

	if (!skc)
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (!tp)
		return 0;
	sk = (struct sock *)tp;
	if (sk->__sk_common.skc_state == TCP_LISTEN)
		return 0;
	idx = sk_index(sk, true, true);
	if (idx == RTTQ_INDEX_SKIP)
		return 0;
	__builtin_memset(&r, 0, sizeof(r));
	f = bpf_sk_storage_get(&sk_flows, sk, 0, 0);
	flow_fill(&r, sk, tp, f, idx);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

#endif /* RTTQ_FLOWS_H */
