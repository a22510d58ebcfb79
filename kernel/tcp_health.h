/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TCP health beside RTT (included by kernel/rttq.bpf.c after sk_index()):
 * retransmits by cause, loss episodes, segments sent, connections opened,
 * accepted and failed with their handshake time, and resets, counted per
 * group in the same groups as RTT.  Each hook is its own program, loaded
 * only when its --signals family is on and the hook is in the kernel; none
 * runs on tcp_probe's path.  The counters are cumulative (rttq.h's
 * enum rttq_counter); user space takes differences.
 */
#ifndef RTTQ_TCP_HEALTH_H
#define RTTQ_TCP_HEALTH_H

/* --signals retrans (segs.out on state changes and sends) and conn. */
const volatile bool targ_segs_on;
const volatile bool targ_conn_on;

/*
 * The counters of group index i at i (index 0 unused), shared by every
 * CPU and added to atomically, as group_counts; max_entries is set by the
 * loader (max_groups + 1, or 1 when the families are off).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rttq_health);
} group_health SEC(".maps");

/* The counters of events in no group, per CPU (as ungrouped_counts). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rttq_health);
} ungrouped_health SEC(".maps");

/*
 * The handshake histograms, indexed as group_counts (value size set by
 * the loader, BUCKET_SLOTS(g) __u32), kept apart from it: three
 * distributions in one per-CPU value would pass the kernel's 32 KiB
 * per-CPU limit at g = 7, and only this state change adds to them.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, RTTQ_VALUE_SIZE(BUCKET_SLOTS(BUCKET_SUB_BITS_DEFAULT)));
} group_handshake SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, RTTQ_VALUE_SIZE(BUCKET_SLOTS(BUCKET_SUB_BITS_DEFAULT)));
} ungrouped_handshake SEC(".maps");

/* What a connection's counters need to remember between two hooks. */
struct sk_health {
	__u64 syn_ns;     /* when it went SYN_SENT (ktime), 0: not seen */
	__u32 segs_seen;  /* tcp_sock.segs_out already counted */
	__u32 known;      /* segs_seen is a baseline (0 on first sight) */
	__u32 retrans_seen;  /* tcp_sock.total_retrans already counted */
	__u32 retrans_known; /* retrans_seen is a baseline (0: first sight) */
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sk_health);
} sk_health SEC(".maps");

/* Adds @n to counter @which of index @idx (sk_index()). */
static __always_inline void health_add(__u32 idx, __u32 which, __u64 n)
{
	struct rttq_health *h;

	if (which >= RTTQ_COUNTERS)
		return;
	if (!idx) {
		h = bpf_map_lookup_elem(&ungrouped_health, &idx);
		if (h)
			h->c[which] += n;
		return;
	}
	h = bpf_map_lookup_elem(&group_health, &idx);
	if (h)
		__sync_fetch_and_add(&h->c[which], n);
}

/* Adds @n to counter @which of the group of full socket @sk. */
static __always_inline void health_count(const struct sock *sk, __u32 which,
					 __u64 n)
{
	__u32 idx = sk_index(sk, true, true);

	if (idx != RTTQ_INDEX_SKIP)
		health_add(idx, which, n);
}

/*
 * The index of a socket that may not be a full one (a request or
 * time-wait socket, which share only sock_common): never cached, and in
 * "all" when cgroups matter, since only full sockets have one.
 */
static __always_inline __u32 common_index(const struct sock *skc)
{
	if (targ_cgroup_on || (targ_group_by & RTTQ_BY_CGROUP))
		return 0;
	return sk_index(skc, false, false);
}

/*
 * How far a socket's cumulative counter moved to @now since *@seen, which
 * becomes @now.  On first sight (*@known 0: a socket older than the agent,
 * or one whose counter had no known start) it is @first instead, so the
 * socket's history does not land in one period.  A counter that went back
 * was reset (tcp_disconnect() zeroes them): a new baseline, nothing moved.
 */
static __always_inline __u32 moved_since(__u32 now, __u32 *seen, __u32 *known,
					 __u32 first)
{
	__u32 d = now - *seen;

	if (!*known)
		d = first;
	else if ((__s32)d < 0)
		d = 0;
	*known = 1;
	*seen = now;
	return d;
}

/* Segments @tp sent since they were last counted, for segs.out. */
static __always_inline __u32 segs_new(const struct tcp_sock *tp,
				      struct sk_health *h)
{
	return moved_since(BPF_CORE_READ(tp, segs_out), &h->segs_seen,
			   &h->known, 0);
}

/* Counts the segments @sk sent since last counted, in its group. */
static __always_inline void segs_count(const struct sock *sk,
				       struct sk_health *h)
{
	const struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	__u32 d, idx;

	if (!tp || !h)
		return;
	d = segs_new(tp, h);
	if (!d)
		return;
	idx = sk_index(sk, true, true);
	if (idx != RTTQ_INDEX_SKIP)
		health_add(idx, RTTQ_C_SEGS_OUT, d);
}

/*
 * What a retransmit of @sk now is for, as nstat counts them: in SYN_SENT
 * or SYN_RECV a SYN; in the Loss state (after an RTO) a timeout; in
 * Recovery a fast retransmit, tested before the timer since a probe timer
 * may still be pending then; else with the loss-probe timer armed a tail
 * loss probe; anything else (RACK in Open or Disorder, CWR) is a fast
 * retransmit, as the kernel's TCPFastRetrans counts it.
 */
static __always_inline __u32 retrans_cause(const struct sock *sk,
					   const struct tcp_sock *tp)
{
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
	__u8 ca = BPF_CORE_READ_BITFIELD_PROBED(&tp->inet_conn, icsk_ca_state);

	if (state == TCP_SYN_SENT || state == TCP_SYN_RECV)
		return RTTQ_C_RETRANS_SYN;
	if (ca == TCP_CA_LOSS)
		return RTTQ_C_RETRANS_TIMEOUT;
	if (ca != TCP_CA_RECOVERY &&
	    BPF_CORE_READ(tp, inet_conn.icsk_pending) == ICSK_TIME_LOSS_PROBE)
		return RTTQ_C_RETRANS_TLP;
	return RTTQ_C_RETRANS_FAST;
}

/*
 * @segs retransmitted segments of @sk, of cause @which (RTTQ_C_RETRANS_*):
 * into the group's counters, the connection's own (`rttq flows`,
 * kernel/flows.h) and the event stream (`rttq events`, kernel/events.h),
 * so the three always agree.
 */
static __always_inline void retrans_add(const struct sock *sk, __u32 which,
					__u32 segs)
{
	flows_note_retrans(sk, which, segs);
	health_count(sk, which, segs);
	events_note_retrans(sk, which, segs);
}

/*
 * Counts the retransmitted segments of @sk that tcp_sock.total_retrans
 * (what TcpRetransSegs adds, in segments) gained since last counted, as
 * cause retrans_cause().  Counting the counter's moves, not tracepoint
 * calls, is what makes the sum exact: the kernel adds to both counters
 * before it sends, so attempts that then failed count (TCPRetransFail),
 * and tracepoint calls that did not run the program are made up at the
 * socket's next retransmit or its close.  @first: the segments of this
 * call on first sight (no baseline yet).
 */
static __always_inline void retrans_count(const struct sock *sk,
					  const struct tcp_sock *tp,
					  struct sk_health *h, __u32 first)
{
	__u32 d = moved_since(BPF_CORE_READ(tp, total_retrans),
			      &h->retrans_seen, &h->retrans_known, first);

	if (d)
		retrans_add(sk, retrans_cause(sk, tp), d);
}

/*
 * retrans_count() at a state change of @sk, where no call of its own is
 * to be counted: the baseline of a connection this host opens (before its
 * first SYN) or accepts (its total_retrans then holds the SYN-ACKs sent
 * again for it, which rttq_retrans_synack counted), and at CLOSE what the
 * tracepoint calls left uncounted.
 */
static __always_inline void retrans_settle(const struct sock *sk,
					   struct sk_health *h)
{
	const struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);

	if (tp)
		retrans_count(sk, tp, h, 0);
}

/* The handshake of a connection this host opened, in its group. */
static __always_inline void handshake_count(const struct sock *sk,
					    const struct sk_health *h)
{
	__u64 us = (bpf_ktime_get_ns() - h->syn_ns) / 1000;
	__u32 idx = sk_index(sk, true, true), *counts;

	if (idx == RTTQ_INDEX_SKIP)
		return;
	health_add(idx, RTTQ_C_CONN_OPENED, 1);
	if (us > 0xffffffffull)
		us = 0xffffffffull;
	if (!idx) {
		counts = bpf_map_lookup_elem(&ungrouped_handshake, &idx);
		if (counts)
			count(counts, us, false);
		return;
	}
	counts = bpf_map_lookup_elem(&group_handshake, &idx);
	if (counts)
		count(counts, us, true);
}

/*
 * A state change of @sk (rttq_state): a connection opened (SYN_SENT ->
 * ESTABLISHED, with its handshake), accepted (SYN_RECV -> ESTABLISHED) or
 * failed (SYN_SENT -> CLOSE); and at CLOSE its last segments and any
 * retransmits its tracepoint calls left uncounted.
 */
static __always_inline void health_note_state(struct sock *sk, int oldstate,
					      int newstate)
{
	struct sk_health *h;

	if (!targ_conn_on && !targ_segs_on)
		return;
	if (newstate == TCP_SYN_SENT ||
	    (newstate == TCP_SYN_RECV && oldstate != TCP_SYN_SENT)) {
		/* A new connection: every segment it sends is counted. */
		h = bpf_sk_storage_get(&sk_health, sk, 0,
				       BPF_SK_STORAGE_GET_F_CREATE);
		if (!h)
			return;
		h->known = 1;
		h->segs_seen = 0;
		/*
		 * A child's total_retrans is set after this, to its request's
		 * SYN-ACK retransmits: its baseline waits for ESTABLISHED.
		 */
		h->retrans_known = 0;
		if (newstate == TCP_SYN_SENT) {
			h->syn_ns = bpf_ktime_get_ns();
			if (targ_segs_on)
				retrans_settle(sk, h);
		}
		return;
	}
	h = bpf_sk_storage_get(&sk_health, sk, 0, 0);
	if (targ_segs_on && h &&
	    (newstate == TCP_ESTABLISHED || newstate == TCP_CLOSE))
		retrans_settle(sk, h);
	if (targ_conn_on && newstate == TCP_ESTABLISHED) {
		if (oldstate == TCP_SYN_SENT && h && h->syn_ns)
			handshake_count(sk, h);
		else if (oldstate == TCP_SYN_SENT)
			health_count(sk, RTTQ_C_CONN_OPENED, 1);
		else if (oldstate == TCP_SYN_RECV)
			health_count(sk, RTTQ_C_CONN_ACCEPTED, 1);
	}
	if (newstate != TCP_CLOSE)
		return;
	if (targ_conn_on && oldstate == TCP_SYN_SENT)
		health_count(sk, RTTQ_C_CONN_FAILED, 1);
	if (targ_segs_on)
		segs_count(sk, h);
}

/*
 * A retransmit of @sk (@err: what sending it returned), counted through
 * retrans_count().  Without a baseline (first sight, or no storage for
 * want of memory) only this call counts, if it sent: in segments, as
 * TcpRetransSegs (an skb sent again after the MSS shrank, SACK blocks
 * taking option room, goes out as two).
 */
static __always_inline int on_retrans(const struct sock *sk,
				      const struct sk_buff *skb, int err)
{
	const struct tcp_sock *tp;
	struct sk_health *h;
	__u32 first = 0;
	__u16 segs = 0;

	if (!sk || !skb)
		return 0;
	tp = bpf_skc_to_tcp_sock((void *)sk);
	if (!tp)
		return 0;
	h = bpf_sk_storage_get(&sk_health, (void *)sk, 0,
			       BPF_SK_STORAGE_GET_F_CREATE);
	if (!err && (!h || !h->retrans_known)) {
		bpf_core_read(&segs, sizeof(segs),
			      &skb->cb[TCP_SKB_CB_GSO_SEGS]);
		first = segs ? segs : 1;
	}
	if (h)
		retrans_count(sk, tp, h, first);
	else if (first)
		retrans_add(sk, retrans_cause(sk, tp), first);
	return 0;
}

/*
 * Kernels whose tracepoint has err (since 6.17): called at every attempt,
 * also the ones that stopped before TcpRetransSegs counted them (then
 * total_retrans did not move and nothing counts).
 */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(rttq_retrans, const struct sock *sk, const struct sk_buff *skb,
	     int err)
{
	return on_retrans(sk, skb, err);
}

/*
 * Older kernels: two arguments, called on success only; the attempts that
 * failed after TcpRetransSegs counted them count at the socket's next
 * retransmit or its close.
 */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(rttq_retrans_old, const struct sock *sk, const struct sk_buff *skb)
{
	return on_retrans(sk, skb, 0);
}

/*
 * A SYN-ACK sent again by listener @sk for @req (called on success only):
 * the group of the connection, from the request's addresses.
 */
SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(rttq_retrans_synack, const struct sock *sk,
	     const struct request_sock *req)
{
	__u32 idx = common_index((const struct sock *)req);
	struct sk_health *h;

	if (idx != RTTQ_INDEX_SKIP)
		health_add(idx, RTTQ_C_RETRANS_SYN, 1);
	/*
	 * A Fast Open child (@sk in SYN_RECV, not the listener) adds this
	 * SYN-ACK to its own total_retrans: counted here, not again.
	 */
	if (sk && BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_SYN_RECV) {
		h = bpf_sk_storage_get(&sk_health, (void *)sk, 0, 0);
		if (h && h->retrans_known)
			h->retrans_seen++;
	}
	return 0;
}

/* Loss episodes: counted when the state is entered, not repeated RTOs. */
SEC("tp_btf/tcp_cong_state_set")
int BPF_PROG(rttq_cong_state, struct sock *sk, __u8 ca_state)
{
	const struct tcp_sock *tp = bpf_skc_to_tcp_sock(sk);
	__u8 old;

	if (!tp || (ca_state != TCP_CA_RECOVERY && ca_state != TCP_CA_LOSS))
		return 0;
	old = BPF_CORE_READ_BITFIELD_PROBED(&tp->inet_conn, icsk_ca_state);
	if (old == ca_state)
		return 0;
	health_count(sk, ca_state == TCP_CA_LOSS ? RTTQ_C_LOSS_TIMEOUT
						 : RTTQ_C_LOSS_RECOVERY, 1);
	return 0;
}

/*
 * A reset sent: for a socket (full, request or time-wait), or for none (a
 * segment to a closed port), which counts in "all" only.
 */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(rttq_rst_sent, const struct sock *sk, const struct sk_buff *skb)
{
	__u32 idx = 0;

	if (sk && bpf_skc_to_tcp_sock((void *)sk))
		idx = sk_index(sk, true, true);
	else if (sk)
		idx = common_index(sk);
	if (idx != RTTQ_INDEX_SKIP)
		health_add(idx, RTTQ_C_RST_SENT, 1);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(rttq_rst_received, struct sock *sk)
{
	if (sk && bpf_skc_to_tcp_sock(sk))
		health_count(sk, RTTQ_C_RST_RECEIVED, 1);
	return 0;
}

/* segs.out while a connection lives: kernel/bytes.h's send hook. */

#endif /* RTTQ_TCP_HEALTH_H */
