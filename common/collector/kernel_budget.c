// SPDX-License-Identifier: BSD-2-Clause
/*
 * The bytes each map of kernel/rttq.bpf.c can take, as the kernel sizes
 * them (kernel/bpf/arraymap.c, hashtab.c, lpm_trie.c, memalloc.c), and
 * the groups a --kernel-memory budget holds.  Upper bounds: hash and trie
 * elements are allocated as they come, arrays in full at load.
 */
#include <errno.h>
#include <inttypes.h>

#include "kernel_budget.h"
#include "rttq.h"
#include "peer_map.h"

/* Array values are kept in 8-byte strides. */
static uint64_t round8(uint64_t n)
{
	return (n + 7) & ~(uint64_t)7;
}

/*
 * The size class bpf_mem_alloc() serves @n bytes from: it adds an 8-byte
 * list node and rounds up to 16, 32, 64, 96, 128, 192, 256, ... 4096.
 */
static uint64_t mem_alloc_class(uint64_t n)
{
	uint64_t c;

	n += 8;
	if (n <= 96 && n > 64)
		return 96;
	if (n <= 192 && n > 128)
		return 192;
	for (c = 16; c < n; c *= 2)
		;
	return c;
}

/* struct htab_elem before its key, and struct bucket (hashtab.c). */
#define HTAB_ELEM_HEAD 48u
#define HTAB_BUCKET 16u
/* struct lpm_trie_node before its data (lpm_trie.c). */
#define TRIE_NODE_HEAD 40u
/*
 * The rest, whatever the groups: .rodata and .data (a page each, as
 * fdinfo shows), the sk and task storage maps, rcu_sync and its inner map,
 * the map headers; five pages cover them.  Task and sk storage
 * elements are allocated per task or socket as they come and freed with
 * it, charged to no map's memlock.
 */
#define MAP_HEADERS 20480u

bool kernel_budget_slots(unsigned int group_by)
{
	return rttq_slot_key_ok(group_by);
}

int kernel_budget_plan(const struct kernel_budget_need *need,
		       struct kernel_budget *out, struct rttq_error *err)
{
	unsigned int mib = need->mib;
	const int ncpus = need->ncpus;
	const uint32_t max_groups = need->max_groups;
	uint64_t value = round8((uint64_t)need->words * 4), fit;
	uint64_t hvalue = round8(sizeof(struct rttq_health));

	if (!mib)
		mib = KERNEL_BUDGET_DEFAULT_MIB;
	if (mib > KERNEL_BUDGET_MAX_MIB || ncpus <= 0)
		return rttq_fail(err, -EINVAL,
				 "--kernel-memory %u: give 1..%u MiB", mib,
				 KERNEL_BUDGET_MAX_MIB);
	out->budget = (uint64_t)mib << 20;
	out->ncpus = ncpus;
	/* ungrouped_counts, ungrouped_health, drops (8 bytes when off),
	 * overflow, runqlat_counts and node_counts hold one copy per CPU;
	 * group_health's index 0 is unused. */
	out->fixed = (uint64_t)ncpus * (value + hvalue + 8 +
					(need->drops ? RTTQ_DROPS_SIZE : 8) +
					round8(need->node_bytes)) +
		     hvalue + RTTQ_LISTEN_BYTES + MAP_HEADERS;
	/* gid_slots: its entries for each CPU. */
	if (need->slots && max_groups)
		out->fixed += (uint64_t)RTTQ_GID_SLOTS * (uint64_t)ncpus *
			      RTTQ_GID_SLOT_BYTES;
	if (need->peers)
		/* A node holds the address (the key past prefixlen) and the
		 * label id. */
		out->fixed += (uint64_t)PEER_MAP_TRIE_ENTRIES *
			      mem_alloc_class(TRIE_NODE_HEAD + 16 + 4);
	/*
	 * group_counts and group_health (shared by all CPUs), gid_gens
	 * (generation and predicted slot key) and gid_taken (an 8-byte
	 * stride), and the group_ids entry with its share of the buckets (at
	 * most two per element: their count is the next power of two).
	 */
	out->per_group = value + (need->health ? hvalue : 0) + RTTQ_GID_GEN_BYTES + 8 +
			 mem_alloc_class(HTAB_ELEM_HEAD + round8(need->key_size) + 8) +
			 2 * HTAB_BUCKET;
	fit = out->budget > out->fixed
		      ? (out->budget - out->fixed) / out->per_group
		      : 0;
	out->fit = fit > UINT32_MAX ? UINT32_MAX : (uint32_t)fit;
	out->groups = max_groups;
	if (out->fixed > out->budget || (max_groups && !out->fit))
		return rttq_fail(err, -E2BIG,
				 "--kernel-memory %u MiB: the maps every "
				 "collector needs take %" PRIu64 " KiB on %d "
				 "CPUs, with no room for a group; raise "
				 "--kernel-memory",
				 mib, (out->fixed + 1023) >> 10, ncpus);
	if (max_groups > out->fit) {
		if (need->explicit_max)
			return rttq_fail(err, -E2BIG,
					 "--max-groups %u does not fit in "
					 "--kernel-memory %u MiB on %d CPUs: "
					 "%" PRIu64 " bytes per group, room "
					 "for %u; raise --kernel-memory or "
					 "lower --max-groups",
					 max_groups, mib, ncpus,
					 out->per_group, out->fit);
		out->groups = out->fit;
	}
	out->reserved = out->fixed + (uint64_t)out->groups * out->per_group;
	return 0;
}
