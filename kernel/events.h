/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sampled event stream of `rttq events` (included by kernel/rttq.bpf.c
 * after flows.h, before tcp_health.h, whose retransmit classifier reports
 * here): an RTT sample per tcp_probe, a retransmit with the cause
 * tcp_health.h's on_retrans() gave it, a packet freed with a drop reason,
 * one in 2^32 / targ_ev_threshold of each kept (sampler.h's countdowns)
 * and written into the events ring buffer.  The RTT and drop programs are
 * their own, loaded only when events are asked for (common/collector/
 * collector_events.c), so the agent's per-event cost does not change.
 */
#ifndef RTTQ_EVENTS_H
#define RTTQ_EVENTS_H

#include "event_record.h"
#include "sampler.h"

/* (1 << EVENT_*) bits of the types asked for; 0: events off. */
const volatile __u32 targ_ev_types;
/* An event is kept when a random u32 is at most this (~0: all). */
const volatile __u32 targ_ev_threshold;
/* The highest reason that is no drop (SKB_CONSUMED in this kernel's
 * enum, whose numbers differ between kernels; set by the loader). */
const volatile __u32 targ_ev_not_drop = 1;

/* Events, struct event_record each (size set by the loader:
 * EVENT_RING_BYTES with events on, one page otherwise). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

/* Sampled events the ring buffer had no room for. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} events_lost SEC(".maps");

/*
 * Unread bytes past which a record wakes the reader.  Below, it reads
 * every 100 ms anyway (common/flows/ring_reader.c): a wakeup per record
 * (an irq_work) would cost more than the rest of a sampled event.
 */
#define EVENT_WAKEUP_BYTES (64u << 10)

static __always_inline void ev_submit(struct event_record *e)
{
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >=
				      EVENT_WAKEUP_BYTES
			   ? BPF_RB_FORCE_WAKEUP
			   : BPF_RB_NO_WAKEUP);
}

/* Whether this event of type @type is one to send: each type's own
 * countdown (sampler.h), so a stream of one type does not thin another. */
static __always_inline bool ev_keep(__u32 type)
{
	if (!(targ_ev_types & (1u << type)))
		return false;
	return sampler_keep(type == EVENT_RTT	  ? SAMPLER_EV_RTT
			    : type == EVENT_RETRANS ? SAMPLER_EV_RETRANS
						    : SAMPLER_EV_DROP,
			    targ_ev_threshold);
}

/* A zeroed record of @type from the ring, or NULL (counted as lost). */
static __always_inline struct event_record *ev_reserve(__u32 type)
{
	struct event_record *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u32 zero = 0;
	__u64 *n;

	if (!e) {
		n = bpf_map_lookup_elem(&events_lost, &zero);
		if (n)
			(*n)++;
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->type = type;
	return e;
}

/* @e's connection from full socket @sk (BTF-typed). */
static __always_inline void ev_conn(struct event_record *e,
				    const struct sock *sk)
{
	__u32 a[4] = { 0 };
	__u16 family = sk->__sk_common.skc_family;

	e->family = family;
	sk_addr(sk, true, false, family, a);
	__builtin_memcpy(e->laddr, a, sizeof(a));
	a[0] = a[1] = a[2] = a[3] = 0;
	sk_addr(sk, true, true, family, a);
	__builtin_memcpy(e->raddr, a, sizeof(a));
	e->lport = sk->__sk_common.skc_num;
	e->rport = bpf_ntohs(sk->__sk_common.skc_dport);
}

/*
 * A retransmit of @sk classified by tcp_health.h's on_retrans() as
 * @which (RTTQ_C_RETRANS_*), @segs segments.
 */
static __always_inline void events_note_retrans(const struct sock *sk,
						__u32 which, __u32 segs)
{
	struct event_record *e;
	__u32 idx;

	if (!ev_keep(EVENT_RETRANS))
		return;
	idx = sk_index(sk, true, true);
	if (idx == RTTQ_INDEX_SKIP)
		return;
	e = ev_reserve(EVENT_RETRANS);
	if (!e)
		return;
	ev_conn(e, sk);
	e->group = idx;
	e->value = segs;
	e->value2 = which;
	ev_submit(e);
}

/*
 * An RTT sample: what handle() in rttq.bpf.c counts for the same event
 * (srtt of a socket in the filters), so at a rate of 100 % the events of
 * a group equal its rtt count.
 */
SEC("tp_btf/tcp_probe")
int BPF_PROG(rttq_ev_rtt, const struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_sock *tp;
	struct event_record *e;
	__u32 srtt_us, idx;

	if (!sk || !ev_keep(EVENT_RTT))
		return 0;
	tp = bpf_skc_to_tcp_sock((void *)sk);
	if (!tp)
		return 0;
	srtt_us = tp->srtt_us >> 3;
	if (!srtt_us)
		return 0;
	idx = sk_index(sk, true, true);
	if (idx == RTTQ_INDEX_SKIP)
		return 0;
	e = ev_reserve(EVENT_RTT);
	if (!e)
		return 0;
	ev_conn(e, sk);
	e->group = idx;
	e->value = srtt_us;
	e->value2 = tp->mdev_us >> 2;
	ev_submit(e);
	return 0;
}

/*
 * @e's addresses and ports from @skb's IP header and, for TCP and UDP,
 * its transport header (an IPv4 header's options included; IPv6
 * extension headers are not walked: the ports then stay 0).
 */
static __always_inline void ev_packet(struct event_record *e,
				      const struct sk_buff *skb)
{
	__u16 nh = skb->network_header, th = skb->transport_header;
	__u16 proto = skb->protocol, ports[2] = { 0 };
	const unsigned char *head = skb->head;
	__u8 ip = 0, ihl = 0;

	e->proto = RTTQ_DROP_OTHER;
	if (nh == 0xffff)
		return;
	if (proto == bpf_htons(ETH_P_IP)) {
		e->family = AF_INET;
		e->laddr[10] = e->laddr[11] = 0xff;
		e->raddr[10] = e->raddr[11] = 0xff;
		bpf_probe_read_kernel(&e->laddr[12], 4, head + nh + 12);
		bpf_probe_read_kernel(&e->raddr[12], 4, head + nh + 16);
		bpf_probe_read_kernel(&ip, 1, head + nh + 9);
		bpf_probe_read_kernel(&ihl, 1, head + nh);
		ihl = (ihl & 0xf) * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		e->family = AF_INET6;
		bpf_probe_read_kernel(e->laddr, 16, head + nh + 8);
		bpf_probe_read_kernel(e->raddr, 16, head + nh + 24);
		bpf_probe_read_kernel(&ip, 1, head + nh + 6);
		ihl = 40;
	} else {
		return;
	}
	if (ip == IPPROTO_TCP)
		e->proto = RTTQ_DROP_TCP;
	else if (ip == IPPROTO_UDP)
		e->proto = RTTQ_DROP_UDP;
	else
		return;
	/* Not set yet (before IP took it): right after the IP header. */
	if (th == 0xffff || th <= nh)
		th = nh + ihl;
	bpf_probe_read_kernel(ports, sizeof(ports), head + th);
	e->lport = bpf_ntohs(ports[0]);
	e->rport = bpf_ntohs(ports[1]);
}

/*
 * A packet freed as dropped (reasons past SKB_CONSUMED, targ_ev_not_drop:
 * some kernels free consumed packets here too), with its reason number:
 * user space names it from the running kernel's BTF.
 */
SEC("tp_btf/kfree_skb")
int BPF_PROG(rttq_ev_drop, const struct sk_buff *skb, void *location,
	     unsigned int reason)
{
	struct event_record *e;

	if (!skb || reason <= targ_ev_not_drop || !ev_keep(EVENT_DROP))
		return 0;
	e = ev_reserve(EVENT_DROP);
	if (!e)
		return 0;
	ev_packet(e, skb);
	e->value = reason;
	ev_submit(e);
	return 0;
}

#endif /* RTTQ_EVENTS_H */
