/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * --kernel-memory: what the maps of kernel/rttq.bpf.c take at most for a
 * given CPU count, histogram width and key, and how many groups fit in a
 * budget.  Apart from the loader so the arithmetic is tested without BPF
 * and the one formula serves the check, the start-up line and the docs.
 */
#ifndef RTTQ_KERNEL_BUDGET_H
#define RTTQ_KERNEL_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

/* --kernel-memory's default and bounds, in MiB. */
#define KERNEL_BUDGET_DEFAULT_MIB 64
#define KERNEL_BUDGET_MAX_MIB 65536

/* What a collector's maps take (bytes), worked out before load. */
struct kernel_budget {
	uint64_t budget;     /* --kernel-memory, bytes */
	int ncpus;           /* possible CPUs the per-CPU maps cover */
	uint64_t fixed;      /* maps whatever the group count: per-CPU
			      * ungrouped histograms and counters, drops,
			      * overflow, the gid_slots cache, listening
			      * ports, the peer trie */
	uint64_t per_group;  /* histograms + counters + generation +
			      * free-list slot + key-to-id hash entry,
			      * one group */
	uint32_t fit;        /* groups the budget holds after @fixed */
	uint32_t groups;     /* groups reserved (--max-groups) */
	uint64_t reserved;   /* fixed + groups * per_group */
};

/**
 * kernel_budget_plan() - size the maps for @max_groups groups in @mib MiB.
 * @mib: --kernel-memory, 1..KERNEL_BUDGET_MAX_MIB; 0: the default.
 * @ncpus: possible CPUs (per-CPU maps hold one copy each).
 * @words: u32 counters of a group's histograms: BUCKET_SLOTS(g) per
 *         distribution (rtt, and jitter and handshake when on).
 * @key_size: bytes of struct rttq_key the group_ids hash keeps.
 * @slots: whether the grouping uses the per-CPU gid_slots cache
 *         (kernel_budget_slots()); counted only with @max_groups.
 * @peers: whether --peer-map's trie is loaded.
 * @health: whether a group's counters are kept (--signals retrans,
 *          conn, bytes).
 * @drops: whether drops by reason are kept (--signals drops).
 * @node_bytes: per-CPU bytes of the node-wide maps other than drops
 *              (runqlat's histogram, 8 when off, and the softirq times).
 * @max_groups: groups asked for; 0 with @grouped false (only "all").
 * @explicit_max: whether the user gave --max-groups (a default that does
 *                not fit is capped to what fits instead of refused).
 * @out: the plan; @out->groups is @max_groups or, capped, @out->fit.
 * @err: says what does not fit and what to change; may be NULL.
 *
 * @return 0, -EINVAL (@mib out of range), -E2BIG (the fixed part or the
 *         --max-groups asked for do not fit in @mib).
 */
int kernel_budget_plan(unsigned int mib, int ncpus, uint32_t words,
		       uint32_t key_size, bool slots, bool peers, bool health,
		       bool drops, uint64_t node_bytes, uint32_t max_groups,
		       bool explicit_max, struct kernel_budget *out,
		       struct rttq_error *err);

/**
 * kernel_budget_slots() - whether the per-CPU gid_slots cache
 * (kernel/group_ids.h) is loaded at its full size.
 * @group_by: the --group-by bits (COLLECTOR_BY_*, the same as RTTQ_BY_*).
 *
 * @return true for a grouping whose groups are found per event through
 *         the cache (rttq_slot_key_ok() in kernel/rttq.h: no local
 *         address, no cgroup), false without --group-by.
 */
bool kernel_budget_slots(unsigned int group_by);

#endif /* RTTQ_KERNEL_BUDGET_H */
