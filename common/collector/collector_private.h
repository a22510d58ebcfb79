/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to common/collector: the collector's state, shared by the half
 * that loads and attaches (collector.c) and the half that drains
 * (collector_drain.c).
 */
#ifndef RTTQ_COLLECTOR_PRIVATE_H
#define RTTQ_COLLECTOR_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "collector.h"
#include "group_name.h"
#include "kernel_budget.h"

struct bpf_link;
struct bpf_program;
struct group_recycle;
struct hist;
struct rttq_bpf;

enum attach_mode {
	MODE_FENTRY,
	MODE_TP_BTF,
	MODE_RAW_TP,
	MODE_KPROBE,
	MODE_COUNT,
};

struct collector {
	struct rttq_bpf *skel;
	struct bpf_link *link;
	struct bpf_program *prog;
	struct bpf_link *state_link; /* rttq_state, with --group-by port */
	enum attach_mode mode;
	unsigned int sub_bits;
	unsigned int group_by;
	uint32_t slots;        /* BUCKET_SLOTS(sub_bits) */
	uint32_t key_size;     /* bytes of struct rttq_key the map hashes */
	uint32_t max_groups;
	int64_t group_idle_ms;
	int ncpus;             /* possible CPUs: per-CPU values come this many */
	size_t stride;         /* bytes per CPU in a per-CPU value */
	void *percpu;          /* ncpus * stride, one lookup's worth */
	uint32_t *cur;         /* slots: this drain's sum over CPUs */
	uint32_t *all_cur;     /* slots: this drain's sum over every index */
	uint32_t *prev_all;    /* slots: previous sum of "all" */
	uint32_t **prev;       /* max_groups + 1: previous sums by index */
	struct hist *scratch;  /* the delta handed to the callback */
	struct group_naming naming;  /* owns the peer map, cgroup index */
	uint64_t cgroup_id;          /* --cgroup's */
	unsigned int cgroup_level;
	struct group_recycle *recycle; /* NULL without --group-by */
	uint32_t *retired_all; /* slots: sums of ids zeroed this drain */
	void *zeros;           /* ncpus * stride zero bytes */
	struct kernel_budget budget; /* --kernel-memory and what it holds */
	collector_counters_fn counters_fn;
	void *counters_arg;
	collector_retire_fn retire_fn;
	void *retire_arg;
};

/**
 * collector_write_listening() - the ports listening now into the kernel's
 * bitmap (--group-by port): how it tells accepted connections from
 * opened ones where no state change was seen.
 *
 * @return 0, or -errno of the map update.
 */
int collector_write_listening(struct collector *c, struct rttq_error *err);

#endif /* RTTQ_COLLECTOR_PRIVATE_H */
