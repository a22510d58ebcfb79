/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The group key of a socket for kernel/rttq.bpf.c, worked out once per
 * socket or per gid_slots miss: addresses cut to a prefix (raddr/24), the
 * --peer-map label (an LPM trie user space fills and reloads), the
 * service port (a local port that listens names it), and the cgroup v2
 * id, plus the --cgroup filter.  Kept apart from rttq.bpf.c so the per-event
 * path there stays short; included after its RD() and address readers.
 */
#ifndef RTTQ_GROUP_KEY_H
#define RTTQ_GROUP_KEY_H

/*
 * Group-by prefix masks over the four network-order words of a v4-mapped
 * address, one per family (an IPv4 /24 is the mask of a /120).  The loader
 * sets all ones when the address is grouped whole.
 */
const volatile __u32 targ_raddr_gmask4[4];
const volatile __u32 targ_raddr_gmask6[4];
const volatile __u32 targ_laddr_gmask4[4];
const volatile __u32 targ_laddr_gmask6[4];
/* --cgroup: the cgroup's id and depth (the root is level 0). */
const volatile bool targ_cgroup_on;
const volatile __u64 targ_cgroup_id;
const volatile __u32 targ_cgroup_level;

/*
 * --peer-map prefixes -> label id (from 1).  User space rewrites entries
 * on reload; a label keeps its id, so its group keeps its counts.
 * max_entries is set by the loader.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1);
	__type(key, struct rttq_peer_prefix);
	__type(value, __u32);
} peer_prefixes SEC(".maps");

/*
 * One bit per local port that names a service (bit p % 8 of byte p / 8):
 * the ports listening in any network namespace, written at load
 * and, where rttq_state cannot run (raw_tp, kprobe), again at every
 * drain; and every port a listener's child was born on since
 * (group_key_note_state()), so a service started after the agent is
 * known before its first connection's first segment.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[RTTQ_LISTEN_BYTES]);
} listen_ports SEC(".maps");

/*
 * Moved by user space after every --peer-map reload (collector.c), once
 * the trie holds the new prefixes: gid_slots entries keep it in their
 * slot key (16 bits of it), so an address's label is looked up again.
 */
__u32 peer_gen;

static __always_inline void mask_addr(__u32 a[4], const volatile __u32 m[4])
{
	a[0] &= m[0];
	a[1] &= m[1];
	a[2] &= m[2];
	a[3] &= m[3];
}

/*
 * Whether @a is ::ffff:a.b.c.d: an IPv4 peer, also on an IPv6 socket (a
 * dual-stack listener's IPv4 clients), so it takes the IPv4 prefix.
 */
static __always_inline bool addr_is_v4(const __u32 a[4])
{
	return !a[0] && !a[1] && a[2] == bpf_htonl(0xffff);
}

/* The --peer-map label id of @raddr (v4-mapped), 0 when no prefix holds it. */
static __always_inline __u32 peer_label(const __u32 raddr[4])
{
	struct rttq_peer_prefix k = { .prefixlen = 128 };
	__u32 *id;

	__builtin_memcpy(k.addr, raddr, sizeof(k.addr));
	id = bpf_map_lookup_elem(&peer_prefixes, &k);
	return id ? *id : 0;
}

/*
 * The port that names the service: the local one on connections this host
 * accepted (their local port is in listen_ports), the remote one on those
 * it opened, so ephemeral ports never name a group.  One bitmap line, hot
 * for a busy service, where who-opened-it kept per socket would be sk
 * storage's three cold lines on every event.
 */
static __always_inline __u16 service_port(const struct sock *sk,
					  const bool direct)
{
	__u16 lport = RD(direct, sk, __sk_common.skc_num);
	__u32 zero = 0;
	__u8 *bits;

	bits = bpf_map_lookup_elem(&listen_ports, &zero);
	if (bits && (bits[(lport >> 3) & (RTTQ_LISTEN_BYTES - 1)] &
		     (1u << (lport & 7))))
		return lport;
	return bpf_ntohs(RD(direct, sk, __sk_common.skc_dport));
}

/*
 * Read through bpf_probe_read whatever the attach point: cgroups are
 * reached through pointers the verifier does not type, and this runs once
 * per socket.
 */
static __always_inline __u64 sk_cgroup_id(const struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
}

/*
 * Whether cgroup @cg is the --cgroup one or below it: a socket's here, a
 * task's for runqlat (kernel/node.h).
 */
static __always_inline bool cgroup_in(struct cgroup *cg)
{
	struct cgroup *anc = NULL;
	const __u32 level = targ_cgroup_level;
	__u64 id = 0;

	if (!cg || BPF_CORE_READ(cg, level) < (int)level)
		return false;
	if (bpf_core_field_exists(cg->ancestors)) {
		bpf_core_read(&anc, sizeof(anc), &cg->ancestors[level]);
		if (!anc)
			return false;
		id = BPF_CORE_READ(anc, kn, id);
	} else {
		struct cgroup___old *old = (void *)cg;

		bpf_core_read(&id, sizeof(id), &old->ancestor_ids[level]);
	}
	return id == targ_cgroup_id;
}

/* Whether @sk's cgroup is the --cgroup one or below it. */
static __always_inline bool sk_cgroup_in(const struct sock *sk)
{
	return cgroup_in(BPF_CORE_READ(sk, sk_cgrp_data.cgroup));
}

/*
 * Fills @key for targ_group_by from @sk and its addresses (v4-mapped,
 * read when raddr, laddr or peer is grouped; @raddr is cut to its prefix
 * here) and @port, its service_port() when port is grouped (read once by
 * the caller, so the slot key and the key agree).  @key must be zeroed.
 */
static __always_inline void group_key_fill(struct rttq_key *key,
					   const struct sock *sk,
					   const bool direct,
					   __u32 raddr[4], __u32 laddr[4],
					   __u16 port)
{
	/* The label looks at the whole address, before any prefix cut. */
	if (targ_group_by & RTTQ_BY_PEER)
		key->peer = peer_label(raddr);
	if (targ_group_by & RTTQ_BY_RADDR) {
		mask_addr(raddr, addr_is_v4(raddr) ? targ_raddr_gmask4
						   : targ_raddr_gmask6);
		__builtin_memcpy(key->raddr, raddr, sizeof(key->raddr));
	}
	if (targ_group_by & RTTQ_BY_LADDR) {
		mask_addr(laddr, addr_is_v4(laddr) ? targ_laddr_gmask4
						   : targ_laddr_gmask6);
		__builtin_memcpy(key->laddr, laddr, sizeof(key->laddr));
	}
	if (targ_group_by & RTTQ_BY_RPORT)
		key->rport = RD(direct, sk, __sk_common.skc_dport);
	if (targ_group_by & RTTQ_BY_LPORT)
		key->lport = RD(direct, sk, __sk_common.skc_num);
	if (targ_group_by & RTTQ_BY_PORT)
		key->port = port;
	if (targ_group_by & RTTQ_BY_CGROUP)
		key->cgroup = sk_cgroup_id(sk);
}

/*
 * A listener's child is born in SYN_RECV (from LISTEN; a simultaneous
 * open goes SYN_SENT -> SYN_RECV and stays "opened"): its local port
 * names a service from now on, in listen_ports, set before the child's
 * first segment is counted.  Bits are set only: a port that stopped
 * listening keeps its bit until a drain rewrites the map (raw_tp,
 * kprobe) or the agent restarts.
 */
static __always_inline void group_key_note_state(struct sock *sk,
						 int oldstate, int newstate)
{
	__u16 lport;
	__u32 zero = 0, *word;
	__u8 *bits;

	if (newstate != TCP_SYN_RECV || oldstate == TCP_SYN_SENT)
		return;
	lport = sk->__sk_common.skc_num;
	bits = bpf_map_lookup_elem(&listen_ports, &zero);
	if (!bits || (bits[(lport >> 3) & (RTTQ_LISTEN_BYTES - 1)] &
		      (1u << (lport & 7))))
		return;
	/* Atomic on the 4-byte word (BPF has no byte atomics): another CPU
	 * may be setting another port's bit in it. */
	word = (__u32 *)(bits + ((lport >> 5) << 2));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__sync_fetch_and_or(word, 1u << (lport & 31));
#else
	__sync_fetch_and_or(word, 1u << ((3 - ((lport >> 3) & 3)) * 8 +
					 (lport & 7)));
#endif
}

#endif /* RTTQ_GROUP_KEY_H */
