// SPDX-License-Identifier: BSD-2-Clause
/*
 * What the BPF object must know before it loads (collector_configure()):
 * the filters and group-key masks in its read-only data, every map's
 * value size and entries for the signals and groups asked for, and which
 * programs load.  Apart from collector.c, which opens, loads, attaches
 * and frees, because it is the one place that follows the kernel's maps.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "collector.h"
#include "collector_opts.h"
#include "collector_private.h"
#include "kernel_budget.h"
#include "peer_map.h"
#include "rttq.h"
#include "rttq.skel.h"

/*
 * A filter as the kernel applies it: (addr & mask) == net over four
 * network-order words, with IPv4 in the v4-mapped form ::ffff:a.b.c.d, so
 * an IPv4 /p is an IPv6 /(96 + p).
 */
static void filter_to_words(const struct addr_filter *f, uint32_t net[4],
			    uint32_t mask[4])
{
	uint8_t addr[16];
	unsigned int bits, i;

	netaddr_mapped(f, addr, &bits);
	netaddr_prefix_mask(bits, mask);
	for (i = 0; i < 4; i++) {
		memcpy(&net[i], addr + 4 * i, 4);
		net[i] &= mask[i];
	}
}

/* The group-by mask of a v4-mapped IPv4 (@v6 false) or IPv6 address cut to
 * @prefix bits of its own family (0: whole). */
static void group_mask(unsigned int prefix, bool v6, uint32_t mask[4])
{
	if (!prefix)
		prefix = v6 ? 128 : 32;
	netaddr_prefix_mask(v6 ? prefix : 96 + prefix, mask);
}

struct bpf_program *collector_mode_prog(struct rttq_bpf *skel,
				       enum attach_mode mode)
{
	switch (mode) {
	case MODE_FENTRY:
		return skel->progs.rttq_fentry;
	case MODE_TP_BTF:
		return skel->progs.rttq_tp_btf;
	case MODE_RAW_TP:
		return skel->progs.rttq_raw_tp;
	case MODE_KPROBE:
		return skel->progs.rttq_kprobe;
	default:
		return NULL;
	}
}

/*
 * A distribution kept apart from group_counts (handshake, flow_duration,
 * the stages): @value bytes per group and in the ungrouped per-CPU copy,
 * or a few bytes and one entry when its family is off (@value 0).
 */
static int size_apart(const struct collector *c, struct bpf_map *group,
		      struct bpf_map *ungrouped, uint32_t value)
{
	int err = bpf_map__set_value_size(group, value ? value : 8);

	if (!err)
		err = bpf_map__set_value_size(ungrouped, value ? value : 8);
	if (!err)
		err = bpf_map__set_max_entries(group, c->group_by && value
							      ? c->max_groups + 1
							      : 1);
	return err;
}

int collector_configure(struct collector *c, const struct collector_opts *o,
			enum attach_mode mode)
{
	struct rttq_bpf *skel = c->skel;
	uint32_t hs = c->dist_off[RTTQ_DIST_HANDSHAKE];
	uint32_t fd = c->dist_off[RTTQ_DIST_FLOW_DURATION];
	uint32_t st = c->dist_off[RTTQ_DIST_RX_STACK];
	uint32_t value_size = collector_counts_words(c) * 4;
	bool health = collector_health_on(c);
	enum attach_mode m;
	int err;

	skel->rodata->targ_sub_bits = c->sub_bits;
	skel->rodata->targ_slots = c->slots;
	skel->rodata->targ_group_by = c->group_by;
	skel->rodata->targ_max_groups = c->group_by ? c->max_groups : 1;
#ifdef __x86_64__
	/*
	 * Its check relies on x86-64's ordering (kernel/group_ids.h).  Not
	 * with peer: a label's group has one slot key among many addresses,
	 * so most events would read two lines of another id for nothing
	 * (bench-cost: 0.71x the reference against 0.61x without).
	 */
	skel->rodata->targ_gid_direct = !o->no_gid_direct &&
					!(c->group_by & COLLECTOR_BY_PEER);
#endif
	skel->rodata->targ_lport = o->lport;
	skel->rodata->targ_rport = htons(o->rport);
	skel->rodata->targ_include_loopback = o->include_loopback;
	if (o->laddr.family) {
		skel->rodata->targ_laddr_on = true;
		filter_to_words(&o->laddr, (uint32_t *)skel->rodata->targ_laddr_net,
				(uint32_t *)skel->rodata->targ_laddr_mask);
	}
	if (o->raddr.family) {
		skel->rodata->targ_raddr_on = true;
		filter_to_words(&o->raddr, (uint32_t *)skel->rodata->targ_raddr_net,
				(uint32_t *)skel->rodata->targ_raddr_mask);
	}
	group_mask(c->naming.raddr_prefix4, false,
		   (uint32_t *)skel->rodata->targ_raddr_gmask4);
	group_mask(c->naming.raddr_prefix6, true,
		   (uint32_t *)skel->rodata->targ_raddr_gmask6);
	group_mask(c->naming.laddr_prefix4, false,
		   (uint32_t *)skel->rodata->targ_laddr_gmask4);
	group_mask(c->naming.laddr_prefix6, true,
		   (uint32_t *)skel->rodata->targ_laddr_gmask6);
	skel->rodata->targ_cgroup_on = o->cgroup != NULL;
	skel->rodata->targ_cgroup_id = c->cgroup_id;
	skel->rodata->targ_cgroup_level = c->cgroup_level;

	err = bpf_map__set_value_size(skel->maps.group_counts, value_size);
	if (!err)
		err = bpf_map__set_value_size(skel->maps.ungrouped_counts,
					      value_size);
	if (!err)
		err = bpf_map__set_key_size(skel->maps.group_ids, c->key_size);
	/* Without --group-by the group maps are never touched: minimal. */
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.group_ids,
					       c->group_by ? c->max_groups : 1);
	/* Index 0 is unused: ungrouped_counts has the events of no group. */
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.group_counts,
					       c->group_by ? c->max_groups + 1 : 1);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.peer_prefixes,
					       c->naming.peers ? PEER_MAP_TRIE_ENTRIES
							: 1);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.gid_gens,
					       c->group_by ? c->max_groups + 1 : 1);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.gid_taken,
					       c->group_by ? c->max_groups + 1 : 1);
	if (!err)
		err = bpf_map__set_max_entries(
			skel->maps.gid_slots,
			kernel_budget_slots(c->group_by)
				? RTTQ_GID_SLOTS * (uint32_t)c->ncpus : 1);
	/* Handshakes, flow durations and the stages apart (rttq.h). */
	if (!err)
		err = size_apart(c, skel->maps.group_handshake,
				 skel->maps.ungrouped_handshake,
				 hs ? c->slots * 4 : 0);
	if (!err)
		err = size_apart(c, skel->maps.group_flow_duration,
				 skel->maps.ungrouped_flow_duration,
				 fd ? c->slots * 4 : 0);
	if (!err)
		err = size_apart(c, skel->maps.group_stages,
				 skel->maps.ungrouped_stages,
				 st ? RTTQ_STAGES * c->slots * 4 : 0);
	/* The drops are the bulk of the per-CPU bytes: none when off. */
	if (!err)
		err = bpf_map__set_value_size(skel->maps.drops,
					      c->signals & COLLECTOR_SIG_DROPS
						      ? RTTQ_DROPS_SIZE : 8);
	if (!err)
		err = bpf_map__set_value_size(skel->maps.runqlat_counts,
					      c->signals & COLLECTOR_SIG_RUNQLAT
						      ? c->slots * 4 : 8);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.group_health,
					       c->group_by && health
						       ? c->max_groups + 1 : 1);
	for (m = 0; !err && m < MODE_COUNT; m++)
		err = bpf_program__set_autoload(collector_mode_prog(skel, m),
						m == mode && !c->rtt_unread);
	if (!err)
		err = signals_configure(c, mode == MODE_FENTRY ||
					   mode == MODE_TP_BTF);
	if (!err)
		err = flows_configure(c, mode == MODE_FENTRY ||
					 mode == MODE_TP_BTF);
	if (!err)
		err = events_configure(c, mode == MODE_FENTRY ||
					  mode == MODE_TP_BTF);
	if (!err)
		err = stages_configure(c, mode == MODE_FENTRY ||
					  mode == MODE_TP_BTF);
	return err;
}
