// SPDX-License-Identifier: BSD-2-Clause
/*
 * Kernel side of rttq: on every established-state TCP segment received,
 * count the socket's smoothed RTT (srtt_us >> 3, microseconds) in a
 * log-linear bucket (common/quantile/buckets.h) of cumulative counters:
 * the socket's group's (shared by all CPUs), or the per-CPU ones of events
 * in no group.  User space (common/collector/collector.c) reads the
 * counters, takes differences and sums them all into "all".  Which group
 * (or none, if filtered out) is worked out once per socket and kept in sk
 * storage, or, when the group key comes from the socket's addresses and
 * ports alone, worked out again per event and its id found in a per-CPU
 * cache (gid_slots) or, for the key that made its group, in the id's own
 * gid_gens entry (kernel/group_ids.h), so a segment usually costs one
 * array update.  Group
 * ids are recycled by user space when a group goes idle
 * (kernel/group_ids.h).  Beside srtt the same event counts the socket's
 * jitter (mdev_us >> 2) and its send buffer's fill (sndbuf); the other
 * signals of --signals are programs of their own on their own hooks
 * (kernel/tcp_health.h, drops.h, bytes.h, node.h), in the same groups,
 * found by the same sk_index().
 */
#include <stdbool.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "tcp_core.h"
#include "buckets.h"
#include "rttq.h"
#include "group_ids.h"

/* Load-time settings (zero: off), written by the loader before load. */
const volatile __u32 targ_sub_bits = BUCKET_SUB_BITS_DEFAULT;
const volatile __u32 targ_slots = BUCKET_SLOTS(BUCKET_SUB_BITS_DEFAULT);
const volatile __u32 targ_group_by;          /* RTTQ_BY_* bits */
const volatile __u32 targ_max_groups = 1024; /* group_counts entries */
const volatile __u16 targ_lport;             /* host order */
const volatile __u16 targ_rport;             /* network order */
const volatile bool targ_include_loopback;
/* Word offset of jitter in a group_counts value (rttq.h); 0: off. */
const volatile __u32 targ_jitter_off;
/* Word offset of sndbuf in a group_counts value (rttq.h); 0: off. */
const volatile __u32 targ_sndbuf_off;
/* Address filters as (addr & mask) == net over 4 words, IPv4 v4-mapped. */
const volatile bool targ_laddr_on;
const volatile __u32 targ_laddr_net[4];
const volatile __u32 targ_laddr_mask[4];
const volatile bool targ_raddr_on;
const volatile __u32 targ_raddr_net[4];
const volatile __u32 targ_raddr_mask[4];

/* A kfunc (6.2+); weak, so older kernels load the object without it. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/*
 * Key and value sizes are set by the loader (the value follows g, the key
 * follows --group-by), so the maps are declared by size, not by BTF type.
 * The defaults here are only what the object carries before that.
 */
/*
 * The counters of group id i at index i (1 .. max_groups), one copy shared
 * by every CPU, added to atomically: a group costs BUCKET_SLOTS(g) * 4
 * bytes whatever the CPU count, which is what lets --kernel-memory hold
 * a thousand groups on a large host.  An event a few milliseconds after
 * the last one on its socket finds the line cold either way, so the
 * atomic add costs little more than a per-CPU one.  Index 0 is not used
 * (ungrouped_counts); max_entries = max_groups + 1.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1025);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, RTTQ_VALUE_SIZE(BUCKET_SLOTS(BUCKET_SUB_BITS_DEFAULT)));
} group_counts SEC(".maps");

/*
 * The events of no group (no --group-by, or no room left), per CPU: every
 * event of a host without --group-by lands here, so it stays free of
 * atomics and of lines shared between CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, RTTQ_VALUE_SIZE(BUCKET_SLOTS(BUCKET_SUB_BITS_DEFAULT)));
} ungrouped_counts SEC(".maps");

/*
 * What a socket's events go to, remembered per socket (tp_btf and fentry
 * only: sk storage needs a BTF socket pointer) when the key needs more
 * than sock_common (the local address, the cgroup) or --cgroup filters.
 * A socket's group never changes once established, so filters and group
 * key are worked out once per socket instead of once per segment, and the
 * per-event cost is array lookups (the id's generation, its counters)
 * instead of a hash lookup.  The groupings of rttq_slot_key_ok() skip it:
 * 5 ms after the last segment its three lines are cold, where their slot
 * key is in lines the kernel has just read (group_ids.h).
 */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct sk_verdict);  /* group_ids.h */
} sk_verdicts SEC(".maps");

/* Events whose group found the map full (or any insert failure). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} overflow SEC(".maps");

/* Verdicts for a socket; anything else is the group id + 1. */
#define RTTQ_VERDICT_UNKNOWN 0u            /* not worked out yet */
#define RTTQ_VERDICT_ALL 1u                /* ungrouped_counts: "all" only */
#define RTTQ_VERDICT_OVERFLOW 0xfffffffeu  /* ungrouped + overflow: no room */
#define RTTQ_VERDICT_SKIP 0xffffffffu      /* filtered out */

/*
 * Field reads.  fentry and tp_btf hand us a BTF-typed socket pointer the
 * verifier lets us load from directly (a plain load, relocated by CO-RE);
 * raw_tp and kprobe hand us a bare address, which needs bpf_probe_read
 * (BPF_CORE_READ).  @direct is a constant in each inlined copy, so every
 * entry point compiles to one kind of read only.
 */
#define RD(direct, src, ...)                                                  \
	((direct) ? __builtin_preserve_access_index((src)->__VA_ARGS__)       \
		  : BPF_CORE_READ(src, __VA_ARGS__))

/*
 * @sk's remote (@remote) or local address into @a, IPv4 in the v4-mapped
 * form (::ffff:a.b.c.d) so one comparison serves both families.  @direct
 * and @remote are constants in each inlined copy.
 */
static __always_inline void sk_addr(const struct sock *sk, const bool direct,
				    const bool remote, __u16 family, __u32 a[4])
{
	const struct sock_common *skc = &sk->__sk_common;
	const struct in6_addr *v6;

	if (family == AF_INET) {
		a[2] = bpf_htonl(0xffff);
		a[3] = remote ? RD(direct, skc, skc_daddr) :
				RD(direct, skc, skc_rcv_saddr);
		return;
	}
	v6 = remote ? &skc->skc_v6_daddr : &skc->skc_v6_rcv_saddr;
	if (direct) {
		a[0] = v6->in6_u.u6_addr32[0];
		a[1] = v6->in6_u.u6_addr32[1];
		a[2] = v6->in6_u.u6_addr32[2];
		a[3] = v6->in6_u.u6_addr32[3];
	} else {
		bpf_core_read(a, sizeof(v6->in6_u), &v6->in6_u);
	}
}

static __always_inline bool addr_match(const __u32 a[4],
				       const volatile __u32 net[4],
				       const volatile __u32 mask[4])
{
	return (a[0] & mask[0]) == net[0] && (a[1] & mask[1]) == net[1] &&
	       (a[2] & mask[2]) == net[2] && (a[3] & mask[3]) == net[3];
}

/* 127.0.0.0/8 (also v4-mapped) or ::1, with @a in the v4-mapped form. */
static __always_inline bool addr_is_loopback(const __u32 a[4])
{
	if (a[0] || a[1])
		return false;
	if (a[2] == bpf_htonl(0xffff))
		return (a[3] & bpf_htonl(0xff000000)) == bpf_htonl(0x7f000000);
	return !a[2] && a[3] == bpf_htonl(1);
}

/* The counter of @value_us: its word in a distribution's counters. */
static __always_inline __u64 count_slot(__u32 value_us)
{
	/*
	 * 64-bit, so clang compares and indexes the same register: with a
	 * u32 it zero-extends a copy for the compare and the verifier sees
	 * the index itself unbounded.
	 */
	__u64 slot = bucket_index(value_us, targ_sub_bits);

	if (slot >= targ_slots)
		slot = targ_slots - 1;
	return slot;
}

/* Counts @value_us in @counts; @shared (a constant in each inlined copy)
 * when other CPUs add to the same value (group_counts). */
static __always_inline void count(__u32 *counts, __u32 value_us,
				  const bool shared)
{
	__u64 slot = count_slot(value_us);

	if (shared)
		__sync_fetch_and_add(&counts[slot], 1);
	else
		counts[slot]++;
}

static __always_inline void count_overflow(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&overflow, &zero);

	if (n)
		(*n)++;
}

/* Prefixes, peer labels, service ports, cgroups: uses RD() and sk_addr(). */
#include "group_key.h"

/*
 * The slot key of @sk (rttq_slot_key_ok() groupings) into @k: words 0-3
 * the remote address (whole when a label is taken from it, else cut to
 * the grouped prefix, zero when not grouped), word 4 the remote or
 * service @port (low half) and the local port or the peer map's
 * generation (high half), as rttq_key lays out rport and lport.
 */
static __always_inline void slot_key_fill(__u32 k[RTTQ_SLOT_KEY_WORDS],
					  const struct sock *sk,
					  const bool direct,
					  const __u32 raddr[4], __u16 port)
{
	__u32 lo = 0, hi = 0;

	if (targ_group_by & (RTTQ_BY_RADDR | RTTQ_BY_PEER)) {
		__builtin_memcpy(k, raddr, 16);
		if (!(targ_group_by & RTTQ_BY_PEER))
			mask_addr(k, addr_is_v4(raddr) ? targ_raddr_gmask4
						       : targ_raddr_gmask6);
	}
	if (targ_group_by & RTTQ_BY_RPORT)
		lo = RD(direct, sk, __sk_common.skc_dport);
	else if (targ_group_by & RTTQ_BY_PORT)
		lo = port;
	if (targ_group_by & RTTQ_BY_LPORT)
		hi = RD(direct, sk, __sk_common.skc_num);
	else if (targ_group_by & RTTQ_BY_PEER)
		hi = peer_gen & 0xffff;
	k[4] = lo | hi << 16;
}

/* group_of()'s @ahead when the caller counts nothing in group_counts. */
#define RTTQ_NO_AHEAD (~0ull)

/*
 * Reads word @ahead of id @gid's group_counts value, the counter the
 * event is about to add to, before gid_direct() knows the id is right:
 * the atomic add waits for the check (a locked instruction is not run
 * ahead), a plain load does not, so the counter's miss overlaps the
 * gid_gens entry's instead of following it.  The word is only read.
 */
static __always_inline void read_ahead(__u32 gid, __u64 ahead)
{
	__u32 *counts = bpf_map_lookup_elem(&group_counts, &gid);

	if (counts && ahead < targ_slots)
		(void)*(volatile __u32 *)&counts[ahead];
}

/*
 * The group of @sk's key as a verdict: gid + 1 (with its generation in
 * @gen, unless NULL), or RTTQ_VERDICT_OVERFLOW when no id is left (@final
 * false when the failure may be transient and must not be remembered).
 * With @gen NULL and a slot key grouping, through gid_slots: the key
 * (a label lookup, the hash) only on a miss.
 */
static __always_inline __u32 group_of(const struct sock *sk, const bool direct,
				      __u32 raddr[4], __u32 laddr[4],
				      __u32 *gen, bool *final, __u64 ahead)
{
	__u32 k[RTTQ_SLOT_KEY_WORDS] = { 0 }, gid = 0, slot_gen = 0, pred = 0;
	struct gid_slot *s = NULL;
	struct rttq_key key;
	const bool slot = !gen && rttq_slot_key_ok(targ_group_by);
	__u16 port = 0;

	*final = true;
	if (targ_group_by & RTTQ_BY_PORT)
		port = service_port(sk, direct);
	if (slot) {
		slot_key_fill(k, sk, direct, raddr, port);
		pred = gid_pred(k, targ_max_groups);
		/* @pred's own register, as in gid_slot_find(): the counters'
		 * address follows from the key, not from a load. */
		if (targ_gid_direct) {
			if (ahead != RTTQ_NO_AHEAD)
				read_ahead(pred, ahead);
			if (gid_direct(k, pred))
				return pred + 1;
		}
		gid = gid_slot_find(k, pred, &s);
	}
	if (!gid) {
		__builtin_memset(&key, 0, sizeof(key));
		group_key_fill(&key, sk, direct, raddr, laddr, port);
		gid = gid_of(&key, targ_max_groups, pred, slot ? k : NULL,
			     slot ? &slot_gen : gen, final);
		if (slot)
			gid_slot_keep(s, k, gid, slot_gen);
	}
	return gid ? gid + 1 : RTTQ_VERDICT_OVERFLOW;
}

/* Filters and group of @sk: an RTTQ_VERDICT_* or gid + 1, and the id's
 * generation in @gen when it is to be remembered (else NULL). */
static __always_inline __u32 classify(const struct sock *sk, const bool direct,
				      __u32 *gen, bool *final, __u64 ahead)
{
	/*
	 * Zeroed although only read when set: otherwise clang may spill
	 * whatever register it likes (a pointer) in a 4-byte store when
	 * filling the key, which the verifier rejects.
	 */
	__u32 raddr[4] = { 0 }, laddr[4] = { 0 };
	__u16 family;

	*final = true;
	family = RD(direct, sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return RTTQ_VERDICT_SKIP;
	if (targ_lport && RD(direct, sk, __sk_common.skc_num) != targ_lport)
		return RTTQ_VERDICT_SKIP;
	if (targ_rport && RD(direct, sk, __sk_common.skc_dport) != targ_rport)
		return RTTQ_VERDICT_SKIP;

	/* Addresses in the v4-mapped form, read only if something uses them. */
	if (!targ_include_loopback || targ_raddr_on ||
	    (targ_group_by & (RTTQ_BY_RADDR | RTTQ_BY_PEER))) {
		sk_addr(sk, direct, true, family, raddr);
		if (!targ_include_loopback && addr_is_loopback(raddr))
			return RTTQ_VERDICT_SKIP;
		if (targ_raddr_on &&
		    !addr_match(raddr, targ_raddr_net, targ_raddr_mask))
			return RTTQ_VERDICT_SKIP;
	}
	if (targ_laddr_on || (targ_group_by & RTTQ_BY_LADDR)) {
		sk_addr(sk, direct, false, family, laddr);
		if (targ_laddr_on &&
		    !addr_match(laddr, targ_laddr_net, targ_laddr_mask))
			return RTTQ_VERDICT_SKIP;
	}
	if (targ_cgroup_on && !sk_cgroup_in(sk))
		return RTTQ_VERDICT_SKIP;
	if (!targ_group_by)
		return RTTQ_VERDICT_ALL;
	return group_of(sk, direct, raddr, laddr, gen, final, ahead);
}

/* sk_index_ahead()'s answer for a socket filtered out. */
#define RTTQ_INDEX_SKIP 0xffffffffu

/*
 * Where @sk's events count: the group_counts index of its group (0: the
 * events of no group, "all" only), or RTTQ_INDEX_SKIP when filtered out.
 * @cache (a constant in each inlined copy; only with a BTF-typed full
 * socket): remember the outcome in sk storage, unless the grouping is one
 * of rttq_slot_key_ok()'s, found per event through gid_slots whatever
 * @cache.
 * Every program that counts per group asks here, so a socket is in one
 * group for all its signals.
 */
static __always_inline __u32 sk_index_ahead(const struct sock *sk,
					    const bool direct, const bool cache,
					    __u64 ahead)
{
	struct sk_verdict *cached = NULL;
	/*
	 * The verdict and its generation move as one 8-byte load and store:
	 * every program that counts per group shares the socket's entry, on
	 * other CPUs or interrupting one another, and a verdict read with
	 * another's generation could pass for current in another key's id.
	 */
	union {
		struct sk_verdict v;
		__u64 word;
	} pair = {};
	__u32 verdict, gen = 0;
	bool final;

	/*
	 * Without --group-by (or --cgroup, a chain of pointers) the filters
	 * are a few loads, cheaper than the sk storage lookup that would
	 * remember their outcome; so are the slot keys (group_ids.h).
	 */
	verdict = RTTQ_VERDICT_UNKNOWN;
	if (cache && ((targ_group_by && !rttq_slot_key_ok(targ_group_by)) ||
		      targ_cgroup_on)) {
		cached = bpf_sk_storage_get(&sk_verdicts, (void *)sk, 0,
					    BPF_SK_STORAGE_GET_F_CREATE);
		if (cached) {
			pair.word = *(volatile __u64 *)cached;
			verdict = pair.v.verdict;
		}
		/* A recycled id: the socket's key may have another id now. */
		if (verdict > RTTQ_VERDICT_ALL &&
		    verdict < RTTQ_VERDICT_OVERFLOW &&
		    !gid_current(verdict - 1, pair.v.gen))
			verdict = RTTQ_VERDICT_UNKNOWN;
	}
	if (verdict == RTTQ_VERDICT_UNKNOWN) {
		verdict = classify(sk, direct, cached ? &gen : NULL, &final,
				   ahead);
		if (cached && final) {
			pair.v.verdict = verdict;
			pair.v.gen = gen;
			*(volatile __u64 *)cached = pair.word;
		}
	}
	if (verdict == RTTQ_VERDICT_SKIP)
		return RTTQ_INDEX_SKIP;
	if (verdict == RTTQ_VERDICT_OVERFLOW) {
		count_overflow();
		verdict = RTTQ_VERDICT_ALL;
	}
	return verdict - 1;
}

/* sk_index_ahead() for a program that counts nothing in group_counts. */
static __always_inline __u32 sk_index(const struct sock *sk, const bool direct,
				      const bool cache)
{
	return sk_index_ahead(sk, direct, cache, RTTQ_NO_AHEAD);
}

/*
 * One tcp_probe event into @counts: srtt, and beside it ss -ti's rttvar
 * (mdev_us >> 2) when jitter is on, and the send buffer's fill when
 * sndbuf is on.  @shared as for count().
 */
static __always_inline void count_probe(__u32 *counts, __u32 srtt_us,
					__u32 jitter_us, __u32 sndbuf,
					const bool shared)
{
	count(counts, srtt_us, shared);
	if (targ_jitter_off)
		count(counts + targ_jitter_off, jitter_us, shared);
	if (targ_sndbuf_off)
		count(counts + targ_sndbuf_off, sndbuf, shared);
}

/*
 * sk_wmem_queued per sk_sndbuf in thousandths of a per cent (rttq.h's
 * RTTQ_SNDBUF_SCALE); not capped, as the kernel may queue past the limit.
 */
static __always_inline __u32 sndbuf_fill(__s32 queued, __s32 limit)
{
	if (queued <= 0 || limit <= 0)
		return 0;
	return (__u32)((__u64)queued * RTTQ_SNDBUF_SCALE / (__u32)limit);
}

static __always_inline int handle(const struct sock *sk, const bool direct)
{
	const struct tcp_sock *tp;
	__u32 srtt_us, jitter_us = 0, sndbuf = 0, *counts, idx;

	if (!sk)
		return 0;
	if (direct) {
		/*
		 * The verifier bounds BTF loads by struct sock, so tcp_sock's
		 * fields need a cast.  tcp_probe and tcp_rcv_established only
		 * ever see a TCP full socket: bpf_rdonly_cast() (6.2+, a
		 * register move once verified) takes it as it is, where
		 * bpf_skc_to_tcp_sock() checks sk_protocol, on a line of
		 * struct sock the receive path has not touched (sock_read_tx):
		 * one more cold line per event when segments are milliseconds
		 * apart.
		 */
		if (bpf_rdonly_cast)
			tp = bpf_rdonly_cast(sk, bpf_core_type_id_kernel(
							 struct tcp_sock));
		else
			tp = bpf_skc_to_tcp_sock((void *)sk);
		if (!tp)
			return 0;
		srtt_us = tp->srtt_us >> 3;
		if (targ_jitter_off)
			jitter_us = tp->mdev_us >> 2;
		if (targ_sndbuf_off)
			sndbuf = sndbuf_fill(sk->sk_wmem_queued, sk->sk_sndbuf);
	} else {
		tp = (const struct tcp_sock *)sk;
		srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;
		if (targ_jitter_off)
			jitter_us = BPF_CORE_READ(tp, mdev_us) >> 2;
		if (targ_sndbuf_off)
			sndbuf = sndbuf_fill(BPF_CORE_READ(sk, sk_wmem_queued),
					     BPF_CORE_READ(sk, sk_sndbuf));
	}
	if (!srtt_us)
		return 0;

	idx = sk_index_ahead(sk, direct, direct, count_slot(srtt_us));
	if (idx == RTTQ_INDEX_SKIP)
		return 0;
	if (!idx) {
		counts = bpf_map_lookup_elem(&ungrouped_counts, &idx);
		if (counts)
			count_probe(counts, srtt_us, jitter_us, sndbuf, false);
		return 0;
	}
	counts = bpf_map_lookup_elem(&group_counts, &idx);
	if (counts)
		count_probe(counts, srtt_us, jitter_us, sndbuf, true);
	return 0;
}

SEC("fentry/tcp_rcv_established")
int BPF_PROG(rttq_fentry, struct sock *sk)
{
	return handle(sk, true);
}

SEC("tp_btf/tcp_probe")
int BPF_PROG(rttq_tp_btf, const struct sock *sk, const struct sk_buff *skb)
{
	return handle(sk, true);
}

SEC("raw_tp/tcp_probe")
int BPF_PROG(rttq_raw_tp, const struct sock *sk, const struct sk_buff *skb)
{
	return handle(sk, false);
}

SEC("kprobe/tcp_rcv_established")
int BPF_KPROBE(rttq_kprobe, struct sock *sk)
{
	return handle(sk, false);
}

/* Per-connection statistics, live and at close (before tcp_health.h,
 * whose retransmit classifier reports to it). */
#include "flows.h"
/* The sampled event stream of `rttq events` (before tcp_health.h, whose
 * retransmit classifier reports to it). */
#include "events.h"
/* Retransmits, losses, connections, resets, segments: counters. */
#include "tcp_health.h"
/* Packets freed with a drop reason: node-wide counters. */
#include "drops.h"
/* Bytes sent and received per group (and segs.out on sends). */
#include "bytes.h"
/* Run-queue latency and network softirq time: node-wide. */
#include "node.h"
/* Where a packet's time goes inside the host (--signals stages): after
 * tcp_health.h, whose common_index() groups a transmitted packet. */
#include "stages.h"

/*
 * Who opened each connection, for --group-by port (group_key.h), and the
 * connection events and handshakes of --signals conn (tcp_health.h).
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(rttq_state, struct sock *sk, int oldstate, int newstate)
{
	if (targ_group_by & RTTQ_BY_PORT)
		group_key_note_state(sk, oldstate, newstate);
	health_note_state(sk, oldstate, newstate);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
