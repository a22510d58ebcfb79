/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The node around the connections (included by kernel/rttq.bpf.c after
 * count() and group_key.h): run-queue latency, the time from a task's
 * wake-up (or its preemption, when it goes back on the queue) to its
 * running, as a node-wide distribution; and the time the CPUs spend in
 * the NET_RX and NET_TX softirqs, as node-wide counters.  Both per CPU,
 * free of atomics: sched_switch and the softirqs are the hottest hooks
 * rttq has.
 */
#ifndef RTTQ_NODE_H
#define RTTQ_NODE_H

#pragma clang attribute push(__attribute__((preserve_access_index)), \
			     apply_to = record)

struct css_set {
	struct cgroup *dfl_cgrp;      /* the task's cgroup v2 */
};

struct task_struct {
	int pid;                      /* thread id; 0: the idle task */
	unsigned int __state;         /* TASK_RUNNING 0 (5.14+) */
	struct css_set *cgroups;
};

/* Before 5.14 the state was "state", a long. */
struct task_struct___old {
	long state;
};

#pragma clang attribute pop

/* From include/linux/sched.h. */
#define TASK_RUNNING 0

/* The softirq numbers of NET_RX and NET_TX, from the running kernel's
 * BTF (an anonymous enum, so no CO-RE relocation can name it). */
const volatile __u32 targ_vec_rx = 3;
const volatile __u32 targ_vec_tx = 2;

/*
 * When each task went on a run queue (ktime ns, 0: not waiting), freed
 * with the task.  Task storage rather than a hash keyed by pid: no
 * capacity to size, nothing to delete at exit, and on sched_switch the
 * lookup is a pointer off the task (README has both measured).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} runq_start SEC(".maps");

/* runqlat's BUCKET_SLOTS(g) u32 counters per CPU, value size set by the
 * loader (8 bytes when off). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, RTTQ_VALUE_SIZE(BUCKET_SLOTS(BUCKET_SUB_BITS_DEFAULT)));
} runqlat_counts SEC(".maps");

/* node_counts, shared with kernel/drops.h. */
#include "node_counts.h"

/*
 * @p goes on a run queue now.  The idle task is never queued (its state
 * is always TASK_RUNNING); with --cgroup only tasks in it are timed, so
 * a user can ask for one workload's latency.
 */
static __always_inline void runq_enqueue(struct task_struct *p)
{
	__u64 *ts;

	if (!p || !p->pid)
		return;
	if (targ_cgroup_on && !cgroup_in(BPF_CORE_READ(p, cgroups, dfl_cgrp)))
		return;
	ts = bpf_task_storage_get(&runq_start, p, 0,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (ts)
		*ts = bpf_ktime_get_ns();
}

/* @next runs now: its wait, if it was queued, in this CPU's histogram. */
static __always_inline void runq_run(struct task_struct *next)
{
	__u32 zero = 0, *counts;
	__u64 *ts, us;

	if (!next)
		return;
	ts = bpf_task_storage_get(&runq_start, next, 0, 0);
	if (!ts || !*ts)
		return;
	us = (bpf_ktime_get_ns() - *ts) / 1000;
	*ts = 0;
	counts = bpf_map_lookup_elem(&runqlat_counts, &zero);
	if (counts)
		count(counts, us > 0xffffffffull ? 0xffffffffu : (__u32)us,
		      false);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(rttq_wakeup, struct task_struct *p)
{
	runq_enqueue(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(rttq_wakeup_new, struct task_struct *p)
{
	runq_enqueue(p);
	return 0;
}

/*
 * A context switch from @prev, in state @state (TASK_RUNNING: it was
 * preempted and goes back on the queue), to @next.
 */
static __always_inline void runq_switch(struct task_struct *prev,
					struct task_struct *next, long state)
{
	if (state == TASK_RUNNING)
		runq_enqueue(prev);
	runq_run(next);
}

/* 5.18+: the tracepoint gives prev's state. */
SEC("tp_btf/sched_switch")
int BPF_PROG(rttq_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	runq_switch(prev, next, prev_state);
	return 0;
}

/* Older kernels: the state from the task itself. */
SEC("tp_btf/sched_switch")
int BPF_PROG(rttq_switch_old, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	if (bpf_core_field_exists(prev->__state))
		runq_switch(prev, next, BPF_CORE_READ(prev, __state));
	else
		runq_switch(prev, next,
			    BPF_CORE_READ((struct task_struct___old *)prev,
					  state));
	return 0;
}

/*
 * The network softirqs: entry notes the time, exit adds what passed.
 * A softirq does not nest in itself on a CPU, so one start per CPU
 * serves both vectors.  This CPU's times when @vec is NET_RX or NET_TX,
 * else NULL.
 */
static __always_inline struct rttq_node_counts *net_softirq(unsigned int vec)
{
	__u32 zero = 0;

	if (vec != targ_vec_rx && vec != targ_vec_tx)
		return NULL;
	return bpf_map_lookup_elem(&node_counts, &zero);
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(rttq_softirq_entry, unsigned int vec)
{
	struct rttq_node_counts *s = net_softirq(vec);

	if (s)
		s->start = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(rttq_softirq_exit, unsigned int vec)
{
	struct rttq_node_counts *s = net_softirq(vec);

	if (!s || !s->start)
		return 0;
	s->ns[vec == targ_vec_rx ? RTTQ_SOFTIRQ_RX : RTTQ_SOFTIRQ_TX] +=
		bpf_ktime_get_ns() - s->start;
	s->start = 0;
	return 0;
}

#endif /* RTTQ_NODE_H */
