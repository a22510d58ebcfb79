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
#include "counter_set.h"
#include "group_name.h"
#include "kernel_budget.h"
#include "metric.h"
#include "rttq.h"

struct bpf_link;
struct btf;
struct bpf_program;
struct group_recycle;
struct hist;
struct rttq_bpf;

/* Programs beside tcp_probe's one (collector_signals.c). */
#define COLLECTOR_SIG_PROGS 17
/* Tracepoint programs of flows, the iterator aside (collector_flows.c). */
#define COLLECTOR_FLOW_PROGS 4
/* Programs of the event stream of their own (collector_events.c). */
#define COLLECTOR_EVENT_PROGS 2
/* Programs of --signals stages (collector_stages.c). */
#define COLLECTOR_STAGE_PROGS 5

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
	struct bpf_program *prog;    /* NULL with collector_opts.rtt_unread */
	struct bpf_link *state_link; /* rttq_state, with --group-by port */
	enum attach_mode mode;
	bool rtt_unread;             /* collector_opts.rtt_unread */
	unsigned int sub_bits;
	unsigned int group_by;
	uint32_t slots;        /* BUCKET_SLOTS(sub_bits) */
	uint32_t words;        /* u32 words of a group_counts value: slots
				* per distribution on (rttq.h) */
	uint32_t dist_off[RTTQ_DISTS]; /* each distribution's word offset;
					* 0 but for rtt: off */
	unsigned int signals;  /* COLLECTOR_SIG_* asked, then those on */
	unsigned int hooks;    /* HOOK_* bits this kernel has (signals.c) */
	uint32_t vec_rx, vec_tx; /* NET_RX_SOFTIRQ, NET_TX_SOFTIRQ here */
	struct bpf_link *sig_links[COLLECTOR_SIG_PROGS];
	struct bpf_program *sig_progs[COLLECTOR_SIG_PROGS];
	struct bpf_program *sig_attached[COLLECTOR_SIG_PROGS]; /* by link */
	unsigned int nsig;     /* sig_links in use */
	collector_log_fn log;
	void *log_arg;
	uint32_t key_size;     /* bytes of struct rttq_key the map hashes */
	uint32_t max_groups;
	int64_t group_idle_ms;
	int ncpus;             /* possible CPUs: per-CPU values come this many */
	size_t stride;         /* bytes per CPU in a per-CPU value */
	void *percpu;          /* ncpus * stride, one lookup's worth */
	uint32_t *cur;         /* words: this drain's sum over CPUs */
	uint32_t *all_cur;     /* words: this drain's sum over every index */
	uint32_t *prev_all;    /* words: previous sum of "all" */
	uint32_t **prev;       /* max_groups + 1: previous sums by index */
	struct hist *scratch;  /* the delta handed to the callback */
	uint32_t *runq_cur;    /* slots: runqlat summed over CPUs */
	uint32_t *runq_prev;   /* slots: the same at the previous drain */
	struct group_naming naming;  /* owns the peer map, cgroup index */
	uint64_t cgroup_id;          /* --cgroup's */
	unsigned int cgroup_level;
	struct group_recycle *recycle; /* NULL without --group-by */
	uint32_t *retired_all; /* words: sums of ids zeroed this drain */
	struct collector_counters *counters; /* collector_counters.c */
	void *zeros;           /* ncpus * stride zero bytes */
	struct kernel_budget budget; /* --kernel-memory and what it holds */
	collector_counters_fn counters_fn;
	void *counters_arg;
	collector_retire_fn retire_fn;
	void *retire_arg;
	/* Flows (collector_flows.c). */
	bool flows_asked;      /* collector_opts.flows */
	bool flows_retrans_err; /* tcp_retransmit_skb has err (rttq_retrans) */
	bool flows_on;         /* loaded and attached */
	struct bpf_link *flow_links[COLLECTOR_FLOW_PROGS];
	struct bpf_link *flow_iter;
	/* Events (collector_events.c). */
	unsigned int events_asked; /* collector_opts.events */
	uint32_t event_threshold;
	uint32_t event_not_drop; /* SKB_CONSUMED here (events_probe()) */
	bool events_on;        /* loaded and attached */
	struct bpf_link *event_links[COLLECTOR_EVENT_PROGS];
	/* Stages (collector_stages.c). */
	uint32_t stage_threshold;
	struct bpf_link *stage_links[COLLECTOR_STAGE_PROGS];
};

/**
 * collector_percpu_total() - the sum over CPUs of the per-CPU __u64 at
 * index 0 of map @map_fd (overflow, flow_lost); 0 when it cannot be read.
 */
uint64_t collector_percpu_total(const struct collector *c, int map_fd);

/**
 * collector_counts_words() - u32 words of a group_counts value (rtt,
 * jitter): the distributions before the first kept in a map of its own.
 */
uint32_t collector_counts_words(const struct collector *c);

/**
 * collector_logf() - one line to the collector's log (collector_opts.log).
 */
__attribute__((format(printf, 2, 3)))
void collector_logf(const struct collector *c, const char *fmt, ...);

/**
 * collector_health_on() - whether the per-group counters (group_health:
 * retrans, conn, bytes) are kept.
 */
bool collector_health_on(const struct collector *c);

/* ---- collector_configure.c: before load ---- */

/**
 * collector_configure() - fill the skeleton's read-only data from @o,
 * size every map for c->signals and the groups, and choose the programs
 * of @mode and of each family (signals_configure() and the like).
 *
 * @return 0 or the negative errno of a libbpf setter.
 */
int collector_configure(struct collector *c, const struct collector_opts *o,
			enum attach_mode mode);

/** collector_mode_prog() - the tcp_probe program of attach @mode. */
struct bpf_program *collector_mode_prog(struct rttq_bpf *skel,
					enum attach_mode mode);

/* ---- collector_signals.c: the programs of --signals ---- */

/**
 * signals_probe() - which hooks this kernel has (its BTF), and from it
 * c->signals: those of @asked (0: all) whose hooks exist; logs each
 * family or counter turned off and why.  Once, before any load.
 */
void signals_probe(struct collector *c, unsigned int asked);

/**
 * signals_configure() - autoload and rodata for c->signals, before load.
 * @direct: the tcp_probe program has BTF-typed sockets (fentry, tp_btf).
 *
 * @return 0 or a libbpf error.
 */
int signals_configure(struct collector *c, bool direct);

/**
 * signals_attach() - attach the programs signals_configure() loaded,
 * after the tcp_probe one; a program that fails turns its counters off
 * (logged), never the collector.  Logs each attach point.
 */
void signals_attach(struct collector *c);

/** signals_detach() - destroy what signals_attach() made. */
void signals_detach(struct collector *c);

/**
 * signals_tp_args() - arguments of tracepoint @name as tp_btf programs
 * see them (its btf_trace_<name> typedef, less the context pointer).
 *
 * @return the count, or -1 when the kernel has no such tracepoint.
 */
int signals_tp_args(const struct btf *btf, const char *name);

/* ---- collector_flows.c: the programs of kernel/flows.h ---- */

/**
 * flows_probe() - whether this kernel has the tracepoints of flows
 * (collector_opts.flows) and of --signals flows: turns off, and logs,
 * what it lacks.  Once, before the layout is set.
 */
void flows_probe(struct collector *c);

/**
 * flows_configure() - autoload, rodata and ring size of the flow
 * programs, before load: all of them with collector_opts.flows, the
 * state program alone for --signals flows; neither without @direct
 * (BTF-typed sockets; logged).  Also loads the retransmit program, whose
 * classifier counts fast_retrans and timeouts, when --signals left it
 * off.
 *
 * @return 0 or a libbpf error.
 */
int flows_configure(struct collector *c, bool direct);

/**
 * flows_attach() - attach what flows_configure() loaded; a failure
 * turns flows off (logged), never the collector (the counters of
 * --signals flows then stay at zero).
 */
void flows_attach(struct collector *c);

/** flows_detach() - destroy what flows_attach() made. */
void flows_detach(struct collector *c);

/* ---- collector_counters.c: counters of groups and drops ---- */

/**
 * counters_new() - buffers for max_groups + 1 indexes and the drop names
 * of the running kernel (its BTF enum skb_drop_reason).
 *
 * @return 0, -ENOMEM.
 */
int counters_new(struct collector *c);

/** counters_free() - free; c->counters NULL does nothing. */
void counters_free(struct collector *c);

/**
 * counters_read() - the cumulative counters of index @gid (0: no group)
 * into the current sums, and (@to_all) added to those of "all".  A no-op
 * when no family of counters is on.
 * @return 0, or -errno naming the map in @err.
 */
int counters_read(struct collector *c, uint32_t gid, bool to_all,
		  struct rttq_error *err);

/** counters_begin() - zero "all"'s current sums, before a drain's walk. */
void counters_begin(struct collector *c);

/**
 * counters_delta() - the counters of @gid (just read) that moved since the
 * previous drain, into the set counters_set() gives; prev becomes current.
 * @return whether any moved.
 */
bool counters_delta(struct collector *c, uint32_t gid);

/**
 * counters_retire() - @gid's last counts (read just now) leave "all" from
 * the next drain on, and its previous sums go back to zero; @ok false when
 * they could not be read (the previous ones stand in).
 */
void counters_retire(struct collector *c, uint32_t gid, bool ok);

/** counters_forget() - @gid's previous sums back to zero (recycled). */
void counters_forget(struct collector *c, uint32_t gid);

/**
 * counters_all() - "all"'s delta (every index's and the node-wide drops)
 * into counters_set(), after the walk.
 * @return 0, or -errno reading the drops map (@err).
 */
int counters_all(struct collector *c, struct rttq_error *err);

/**
 * counters_add_totals() - read the node's small per-CPU value
 * (node_counts: softirq times and the drops total), then add "all"'s
 * deltas (the counters counters_read() added to "all", the softirq
 * times, the drops total) to @t, their previous sums moving.
 * @return 0, or -errno naming the map (@err; @t and the previous sums
 *         then unchanged).
 */
int counters_add_totals(struct collector *c, struct collector_totals *t,
			struct rttq_error *err);

/** counters_set() - the set the last counters_delta()/_all() filled. */
const struct counter_set *counters_set(const struct collector *c);

/* ---- listen_ports.c ---- */

/**
 * collector_write_listening() - the ports listening now, in every network
 * namespace, into the kernel's bitmap (--group-by port): how it tells
 * accepted connections from opened ones where no state change was seen.
 *
 * @return 0, or -errno of the map update.
 */
int collector_write_listening(struct collector *c, struct rttq_error *err);

/* ---- collector_events.c: the programs of kernel/events.h ---- */

/**
 * events_probe() - whether this kernel has the tracepoints of the event
 * types asked for (collector_opts.events): turns off, and logs, a type
 * whose tracepoint is missing.  Once, before any load.
 */
void events_probe(struct collector *c);

/**
 * events_configure() - autoload, rodata and ring size of the event
 * programs, before load (the retransmit program too when retransmits
 * are asked for); none without @direct (BTF-typed sockets), logged.
 *
 * @return 0 or a libbpf error.
 */
int events_configure(struct collector *c, bool direct);

/**
 * events_attach() - attach what events_configure() loaded; a failure
 * turns events off (logged), never the collector.
 */
void events_attach(struct collector *c);

/** events_detach() - destroy what events_attach() made. */
void events_detach(struct collector *c);

/**
 * collector_load_retrans() - have the retransmit program load (the one
 * for this kernel's tracepoint, c->flows_retrans_err) for flows or
 * events, whose retransmits come from its classifier, unless --signals
 * retrans loads it already.  Before load.
 *
 * @return 0 or a libbpf error.
 */
int collector_load_retrans(struct collector *c);

/* ---- collector_stages.c: the programs of kernel/stages.h ---- */

/**
 * stages_probe() - whether this kernel has the tracepoints of --signals
 * stages: turns the family off, and logs it, when one is missing.  Once,
 * before any load (set_layout() follows c->signals).
 */
void stages_probe(struct collector *c);

/**
 * stages_configure() - autoload, rodata and map sizes of the stage
 * programs, before load; none without @direct (BTF-typed sockets).
 *
 * @return 0 or a libbpf error.
 */
int stages_configure(struct collector *c, bool direct);

/**
 * stages_attach() - attach what stages_configure() loaded; a failure
 * detaches them all (logged: the stage distributions stay empty), never
 * the collector.
 */
void stages_attach(struct collector *c);

/** stages_detach() - destroy what stages_attach() made. */
void stages_detach(struct collector *c);

#endif /* RTTQ_COLLECTOR_PRIVATE_H */
