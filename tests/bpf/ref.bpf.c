// SPDX-License-Identifier: BSD-2-Clause
/*
 * Yardsticks for bench-cost.c on the same hook as rttq (tp_btf/tcp_probe):
 * an empty program, and one doing what bcc's tcprtt does per event with a
 * histogram per remote address and -e (extended) on: probe reads, a shared
 * hash keyed by the address, a branch-free log2 slot and three atomic adds
 * (slot, latency sum, count), as bcc's libbpf-tools tcprtt program does,
 * with its histogram's layout (sum and count first: two of the three adds
 * share the line of the element's key).
 */
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "tcp_core.h"

#define REF_SLOTS 27

struct ref_hist {
	__u64 latency;
	__u64 cnt;
	__u32 slots[REF_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct ref_hist);
} ref_hists SEC(".maps");

static const struct ref_hist ref_zero;

/* bcc's bits.bpf.h log2: five branch-free steps. */
static __always_inline __u64 ref_log2(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xFFFF) << 4; v >>= r;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(ref_empty, const struct sock *sk, const struct sk_buff *skb)
{
	return 0;
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(ref_tcprtt, const struct sock *sk, const struct sk_buff *skb)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	struct ref_hist *h;
	__u64 key, slot;
	__u32 srtt_us;

	key = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	h = bpf_map_lookup_elem(&ref_hists, &key);
	if (!h) {
		bpf_map_update_elem(&ref_hists, &key, &ref_zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&ref_hists, &key);
		if (!h)
			return 0;
	}
	srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
	slot = ref_log2(srtt_us);
	if (slot >= REF_SLOTS)
		slot = REF_SLOTS - 1;
	__sync_fetch_and_add(&h->slots[slot], 1);
	__sync_fetch_and_add(&h->latency, srtt_us);
	__sync_fetch_and_add(&h->cnt, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
