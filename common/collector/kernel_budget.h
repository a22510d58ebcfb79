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

/* What a collector needs room for (kernel_budget_plan()). */
struct kernel_budget_need {
	unsigned int mib;     /* --kernel-memory, 1..KERNEL_BUDGET_MAX_MIB;
			       * 0: the default */
	int ncpus;            /* possible CPUs (per-CPU maps hold one copy
			       * each) */
	uint32_t words;       /* u32 counters of a group's histograms:
			       * BUCKET_SLOTS(g) per distribution (rtt, and
			       * jitter and handshake when on) */
	uint32_t key_size;    /* bytes of struct rttq_key the group_ids
			       * hash keeps */
	bool slots;           /* the grouping uses the per-CPU gid_slots
			       * cache (kernel_budget_slots()); counted
			       * only with @max_groups */
	bool peers;           /* --peer-map's trie is loaded */
	bool health;          /* a group's counters are kept (--signals
			       * retrans, conn, bytes) */
	bool drops;           /* drops by reason are kept (--signals
			       * drops) */
	uint64_t node_bytes;  /* per-CPU bytes of the node-wide maps other
			       * than drops (runqlat's histogram, 8 when
			       * off, and the node's counters) */
	uint32_t max_groups;  /* groups asked for; 0 without --group-by
			       * (only "all") */
	bool explicit_max;    /* the user gave --max-groups (a default
			       * that does not fit is capped to what fits
			       * instead of refused) */
};

/**
 * kernel_budget_plan() - size the maps for @need's groups in its MiB.
 * @out: the plan; @out->groups is @need->max_groups or, capped,
 *       @out->fit.
 * @err: says what does not fit and what to change; may be NULL.
 *
 * @return 0, -EINVAL (@need->mib out of range), -E2BIG (the fixed part or
 *         the --max-groups asked for do not fit).
 */
int kernel_budget_plan(const struct kernel_budget_need *need,
		       struct kernel_budget *out, struct rttq_error *err);

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
