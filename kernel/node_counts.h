/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The node's small per-CPU counters (struct rttq_node_counts, rttq.h):
 * softirq times, written by kernel/node.h, and the drops total, written
 * by kernel/drops.h.  A header of its own because drops.h comes before
 * node.h in kernel/rttq.bpf.c and both need the map.
 */
#ifndef RTTQ_NODE_COUNTS_H
#define RTTQ_NODE_COUNTS_H

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rttq_node_counts);
} node_counts SEC(".maps");

#endif /* RTTQ_NODE_COUNTS_H */
