/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packets the kernel freed as dropped, by IP protocol and drop reason,
 * node-wide (included by kernel/rttq.bpf.c).  The reason is counted by
 * its number only: the names differ between kernels and are read by user
 * space from the running kernel's BTF (common/collector/collector_counters.c).
 */
#ifndef RTTQ_DROPS_H
#define RTTQ_DROPS_H

/* node_counts, whose drops field sums every slot below. */
#include "node_counts.h"

/* RTTQ_DROP_PROTOS rows of RTTQ_DROP_SLOTS counters, per CPU (rttq.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__uint(value_size, RTTQ_DROPS_SIZE);
} drops SEC(".maps");

/*
 * RTTQ_DROP_TCP, _UDP or _OTHER from @skb's IP header (the header's
 * protocol byte; IPv6 extension headers are not walked).  A packet whose
 * network header is not set yet is "other".
 */
static __always_inline __u32 drop_proto(const struct sk_buff *skb)
{
	__u16 nh = skb->network_header, proto = skb->protocol;
	const unsigned char *head = skb->head;
	__u8 ip = 0;

	if (nh == 0xffff)
		return RTTQ_DROP_OTHER;
	if (proto == bpf_htons(ETH_P_IP))
		bpf_probe_read_kernel(&ip, 1, head + nh + 9);
	else if (proto == bpf_htons(ETH_P_IPV6))
		bpf_probe_read_kernel(&ip, 1, head + nh + 6);
	if (ip == IPPROTO_TCP)
		return RTTQ_DROP_TCP;
	if (ip == IPPROTO_UDP)
		return RTTQ_DROP_UDP;
	return RTTQ_DROP_OTHER;
}

static __always_inline int drop_count(const struct sk_buff *skb, __u32 slot)
{
	struct rttq_node_counts *node;
	__u32 zero = 0, i;
	__u64 *v;

	if (!skb)
		return 0;
	v = bpf_map_lookup_elem(&drops, &zero);
	node = bpf_map_lookup_elem(&node_counts, &zero);
	if (!v || !node)
		return 0;
	i = drop_proto(skb) * RTTQ_DROP_SLOTS + slot;
	if (i < RTTQ_DROP_PROTOS * RTTQ_DROP_SLOTS) {
		v[i]++;
		node->drops++;
	}
	return 0;
}

/*
 * Kernels with drop reasons (5.17+; 6.x adds rx_sk after them).  Reasons
 * past the slots, and a subsystem's (its id in the bits above 16), are
 * counted together.
 */
SEC("tp_btf/kfree_skb")
int BPF_PROG(rttq_drop, const struct sk_buff *skb, void *location,
	     unsigned int reason)
{
	return drop_count(skb, reason < RTTQ_DROP_UNLISTED ? reason
							  : RTTQ_DROP_UNLISTED);
}

/* Older kernels: no reason, every drop is "unknown". */
SEC("tp_btf/kfree_skb")
int BPF_PROG(rttq_drop_noreason, const struct sk_buff *skb, void *location)
{
	return drop_count(skb, RTTQ_DROP_UNKNOWN);
}

#endif /* RTTQ_DROPS_H */
