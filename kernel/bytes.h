/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bytes sent and received per group, TCP and UDP (included by
 * kernel/rttq.bpf.c after kernel/tcp_health.h): what each send and
 * receive call moved (sock_send_length, sock_recv_length; what the
 * application handed over or got, not what the wire carried).  The send
 * hook also counts segs.out (tcp_health.h), so it is one program for
 * both families: one attach, one group lookup per call.
 */
#ifndef RTTQ_BYTES_H
#define RTTQ_BYTES_H

/* --signals bytes. */
const volatile bool targ_bytes_on;

/* From include/linux/socket.h: a peek leaves the data to read again. */
#define MSG_PEEK 2

/*
 * Where a UDP socket's bytes count.  A connected one (a remote port) is
 * grouped as any socket, found again per call: connect() may change its
 * peer, so no verdict is kept.  An unconnected one has no peer: "all"
 * only, and none when a filter on the peer, the local port or the
 * cgroup cannot be met (a filter on the local address excludes it, as
 * it may be bound to any).
 */
static __always_inline __u32 udp_index(const struct sock *sk)
{
	if (sk->__sk_common.skc_dport)
		return sk_index(sk, true, false);
	if (targ_rport || targ_raddr_on || targ_laddr_on ||
	    (targ_lport && sk->__sk_common.skc_num != targ_lport) ||
	    (targ_cgroup_on && !sk_cgroup_in(sk)))
		return RTTQ_INDEX_SKIP;
	return 0;
}

/*
 * @ret bytes (@sent or received) by @sk, and with @sent the segments its
 * TCP connection sent since last counted.
 */
static __always_inline void bytes_count(struct sock *sk, int ret,
					const bool sent)
{
	const struct tcp_sock *tp;
	struct sk_health *h;
	__u16 family, proto;
	__u32 idx, d;

	if (!sk)
		return;
	family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return;
	tp = bpf_skc_to_tcp_sock(sk);
	if (!tp) {
		proto = BPF_CORE_READ_BITFIELD(sk, sk_protocol);
		if (!targ_bytes_on || ret <= 0 || proto != IPPROTO_UDP)
			return;
		idx = udp_index(sk);
		if (idx != RTTQ_INDEX_SKIP)
			health_add(idx, sent ? RTTQ_C_BYTES_SENT_UDP
					     : RTTQ_C_BYTES_RECV_UDP, ret);
		return;
	}
	idx = sk_index(sk, true, true);
	if (idx == RTTQ_INDEX_SKIP)
		return;
	if (targ_bytes_on && ret > 0)
		health_add(idx, sent ? RTTQ_C_BYTES_SENT_TCP
				     : RTTQ_C_BYTES_RECV_TCP, ret);
	if (!sent || !targ_segs_on)
		return;
	h = bpf_sk_storage_get(&sk_health, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!h)
		return;
	d = segs_new(tp, h);
	if (d)
		health_add(idx, RTTQ_C_SEGS_OUT, d);
}

/*
 * segs.out of a connection while it lives: counted at each send call (and
 * the rest at close, health_note_state()), so a long connection adds to
 * every period it sends in without a hook on every segment.
 */
SEC("tp_btf/sock_send_length")
int BPF_PROG(rttq_send_length, struct sock *sk, int ret, int flags)
{
	bytes_count(sk, ret, true);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(rttq_recv_length, struct sock *sk, int ret, int flags)
{
	if (!(flags & MSG_PEEK))
		bytes_count(sk, ret, false);
	return 0;
}

#endif /* RTTQ_BYTES_H */
