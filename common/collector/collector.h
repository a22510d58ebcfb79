/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The collector: userspace side of kernel/rttq.bpf.c.  Opens, configures
 * (rodata), loads and attaches the BPF program, trying fentry, tp_btf,
 * raw_tp and kprobe in that order, and drains its cumulative per-CPU
 * counters into per-group deltas; with collector_opts.flows it also
 * loads the per-connection programs common/flows reads.  Used by
 * rttq-agent, `rttq hist` and `rttq flows`, which fill struct
 * collector_opts from their command lines with collector_opts.h.
 */
#ifndef RTTQ_COLLECTOR_H
#define RTTQ_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "metric.h"
#include "netaddr.h"
#include "rttq.h"

/* Bits of collector_opts.group_by. */
#define COLLECTOR_BY_LADDR (1u << 0)
#define COLLECTOR_BY_RADDR (1u << 1)
#define COLLECTOR_BY_LPORT (1u << 2)
#define COLLECTOR_BY_RPORT (1u << 3)
#define COLLECTOR_BY_PEER (1u << 4)   /* --peer-map label, "peer:LABEL" */
#define COLLECTOR_BY_PORT (1u << 5)   /* service port, "port:443" */
#define COLLECTOR_BY_CGROUP (1u << 6) /* cgroup v2 path, "cgroup:/a/b" */
#define COLLECTOR_BY_MASK 0x7fu

/*
 * Bits of collector_opts.signals: the families of signals counted.  rtt
 * is always on; the others need their kernel hooks (a missing one turns
 * off its family alone, said in the log).
 */
#define COLLECTOR_SIG_RTT (1u << 0)     /* distribution rtt */
#define COLLECTOR_SIG_JITTER (1u << 1)  /* distribution jitter */
#define COLLECTOR_SIG_RETRANS (1u << 2) /* retrans.*, segs.out, loss.* */
#define COLLECTOR_SIG_CONN (1u << 3)    /* handshake, conn.*, rst.* */
#define COLLECTOR_SIG_DROPS (1u << 4)   /* drops.<proto>.<reason> in "all" */
#define COLLECTOR_SIG_RUNQLAT (1u << 5) /* distribution runqlat, "all" */
#define COLLECTOR_SIG_SOFTIRQ (1u << 6) /* softirq.net_rx_ns, _tx_ns, "all" */
#define COLLECTOR_SIG_BYTES (1u << 7)   /* bytes.sent|received.tcp|udp */
#define COLLECTOR_SIG_SNDBUF (1u << 8)  /* distribution sndbuf */
#define COLLECTOR_SIG_FLOWS (1u << 9)   /* at close: conn.closed, flow.bytes_*,
					 * distribution flow_duration; only
					 * when asked (not in the default) */
#define COLLECTOR_SIG_STAGES (1u << 10) /* distributions rx.stack,
					 * rx.socket, tx.stack, tx.qdisc
					 * (kernel/stages.h); only when asked */
#define COLLECTOR_SIG_ALL 0x1ffu

/* Group counters are reserved in full at load, one copy shared by every
 * CPU: 14,660 bytes per group at g = 5 with every default signal and every map's
 * share (3,756 with rtt alone; kernel_budget.c), so the default takes
 * under 4 MiB; --max-groups raises it where peers are many, within
 * --kernel-memory. */
#define COLLECTOR_MAX_GROUPS_DEFAULT 256

/* A group that counts nothing this long gives its id back (--group-idle). */
#define COLLECTOR_GROUP_IDLE_DEFAULT_MS (10 * 60 * 1000)

struct counter_set;
struct hist;
struct collector;
struct kernel_budget;

/*
 * Where the collector says what it attached and which signals a kernel
 * cannot give: one line, no newline, valid only during the call.
 */
typedef void (*collector_log_fn)(const char *line, void *arg);

struct collector_opts {
	unsigned int sub_bits;   /* bucket sub-bits g (buckets.h); 0: default */
	unsigned int group_by;   /* COLLECTOR_BY_* bits; 0: only "all" */
	uint16_t lport;          /* local port filter, 0: off */
	uint16_t rport;          /* remote port filter, 0: off */
	struct addr_filter laddr;
	struct addr_filter raddr;
	/* Group-by prefix lengths (--group-by raddr/24, raddr/24/64), per
	 * family; 0: the whole address (and no "/N" in the name). */
	unsigned int raddr_prefix4, raddr_prefix6;
	unsigned int laddr_prefix4, laddr_prefix6;
	const char *peer_map;    /* --peer-map FILE (kept as is); NULL: none */
	const char *cgroup;      /* --cgroup PATH (kept as is); NULL: any */
	bool include_loopback;   /* count 127.0.0.0/8 and ::1 peers too
				  * (v4-mapped 127/8 as well) */
	const char *attach;      /* NULL: first that works; else one of
				  * "fentry", "tp_btf", "raw_tp", "kprobe" */
	uint32_t max_groups;     /* bound on distinct group keys; 0: default
				  * (capped to what fits in
				  * kernel_memory_mib).  Reserved at load
				  * (kernel_budget.h) */
	unsigned int kernel_memory_mib; /* --kernel-memory: bound on what
				  * the maps take, MiB; 0: default (64) */
	int64_t group_idle_ms;   /* a group that counted nothing this long
				  * gives its id and counters back, after a
				  * last drain; 0: default */
	bool verbose;            /* libbpf debug output on stderr (sets
				  * libbpf's process-wide print callback
				  * for good); otherwise libbpf is quiet
				  * during collector_open() and the
				  * caller's callback is back after it */
	unsigned int signals;    /* COLLECTOR_SIG_* (--signals); 0: every
				  * family the kernel supports */
	bool rtt_unread;         /* the caller never drains (`rttq flows`,
				  * `rttq events`): the rtt program is not
				  * loaded, so tcp_probe does not run a
				  * program nobody reads; the tp_btf
				  * programs of the other families only */
	collector_log_fn log;    /* NULL: lines go to stderr, prefixed
				  * "rttq: " */
	void *log_arg;
	bool flows;              /* load kernel/flows.h's programs: per-
				  * connection statistics (common/flows) */
	unsigned int events;     /* (1 << EVENT_*) bits of kernel/
				  * event_record.h: the types of `rttq
				  * events` sampled into a ring buffer
				  * (common/flows/event_reader.h); 0: off */
	uint32_t event_threshold; /* an event is kept when a random u32 is
				  * at most this (UINT32_MAX: every one) */
	uint32_t stage_threshold; /* --signals stages: a packet is sampled
				  * when a random u32 is at most this; 0:
				  * the default, 1 in 64 */
	bool no_gid_direct;      /* never find a group id through gid_gens
				  * alone (kernel/group_ids.h's
				  * gid_direct(), on by default on x86-64
				  * unless peer is grouped): bench-cost's
				  * A/B of the two paths */
};

/*
 * Called once per group with a non-zero delta since the previous drain,
 * the groups in no particular order, then "all" (the sum of every event,
 * grouped or not) last.
 * @group: "all" or a key such as "raddr:10.0.0.2,rport:443" (fields in
 *         the order laddr, raddr, lport, rport, peer, port, cgroup; IPv6
 *         as "raddr:fe80::1"; a prefix as "raddr:10.0.1.0/24"; a cgroup
 *         removed before it was seen as "cgroup:id-ID").
 * @metric: the distribution counted (metric.h: METRIC_RTT, METRIC_JITTER,
 *          METRIC_HANDSHAKE, METRIC_SNDBUF; METRIC_RUNQLAT with "all"
 *          only); a group's metrics come one call each.
 * @delta: the new counts (valid only during the call).
 * Return non-zero to stop the drain (collector_drain returns it).
 */
typedef int (*collector_group_fn)(const char *group, const char *metric,
				  const struct hist *delta, void *arg);

/*
 * Called by collector_drain() with a group's counters that moved since the
 * last drain (retrans.fast, segs.out, bytes.sent.tcp,
 * drops.tcp.netfilter_drop, ...), in the same order as the
 * collector_group_fn calls; node-wide counters (drops.*, softirq.*) come
 * with "all".  @delta is valid only during the call.  Return non-zero to
 * stop the drain.
 */
typedef int (*collector_counters_fn)(const char *group,
				     const struct counter_set *delta,
				     void *arg);

/*
 * Called by collector_drain() once per group whose id it recycled, after
 * the group's last delta went to the collector_group_fn: the group has no
 * id any more, and its key gets a new one (a new group of the same name)
 * if it counts again.
 */
typedef void (*collector_retire_fn)(const char *group, void *arg);

/**
 * collector_attach_known() - whether @mode names an attach mode.
 * @mode: "fentry", "tp_btf", "raw_tp" or "kprobe" are known.
 *
 * @return true when collector_open() would try @mode.
 */
bool collector_attach_known(const char *mode);

/**
 * collector_open() - open, configure, load and attach the BPF program.
 * @opts: settings (copied).
 * @out: receives the collector.
 * @err: says which step failed and what the user can do (not root, no BTF,
 *       no attach mode works, ...).
 *
 * @return 0, -EPERM, -ENOENT, -EINVAL, -ENOMEM or another negative errno;
 *         the errors of peer_map_load() for a bad --peer-map file ("FILE:LINE:
 *         ..."), of cgroup_names_new() (-ENOENT: cgroup v2 not mounted) and
 *         cgroup_names_resolve() for --group-by cgroup and --cgroup.
 */
int collector_open(const struct collector_opts *opts, struct collector **out,
		   struct rttq_error *err);

/**
 * collector_reload_peer_map() - read the --peer-map file again (SIGHUP).
 * Labels keep their ids, so their groups keep counting; sockets already
 * classified keep the label they got, new ones see the new file.  A bad
 * file changes nothing.
 * @c: the collector.
 * @err: as peer_map_load(): "FILE:LINE: ..." for a bad line.
 *
 * @return 0, -ENOENT (no --peer-map given, or the file is gone), or the
 *         errors of peer_map_load().
 */
int collector_reload_peer_map(struct collector *c, struct rttq_error *err);

/** collector_close() - detach and free; NULL does nothing. */
void collector_close(struct collector *c);

/** collector_attach_mode() - the attach point in use ("tp_btf", ...). */
const char *collector_attach_mode(const struct collector *c);

/**
 * collector_drain() - read the cumulative counters, take wrap-safe
 * differences against the previous drain, and call @fn per group.  Then
 * recycle the ids of groups idle for group_idle_ms: their last delta goes
 * to @fn before the collector_retire_fn hears of them.
 *
 * @return 0, the first non-zero value of @fn, or a negative errno.
 */
int collector_drain(struct collector *c, collector_group_fn fn, void *arg,
		    struct rttq_error *err);

/*
 * "all"'s deltas by index rather than by name, for a caller that reads a
 * few numbers often (librttq-signals): collector_add_totals() adds to
 * each field, so a caller keeps what a failed call had already taken.
 */
struct collector_totals {
	struct hist *dist[RTTQ_DISTS]; /* in: by RTTQ_DIST_*, where that
					* distribution's delta is added
					* (same sub-bits); NULL: dropped */
	uint64_t counters[RTTQ_COUNTERS]; /* by enum rttq_counter (rttq.h) */
	uint64_t softirq_ns[RTTQ_SOFTIRQS]; /* by RTTQ_SOFTIRQ_* */
	uint64_t drops;                /* every protocol and reason */
};

/**
 * collector_add_totals() - collector_drain()'s "all" for a collector
 * without groups (where "all" is the events of no group alone), added to
 * @t by index: no counter or drop reason named, no callback, and the
 * drops read as the node's one total (kernel/node_counts.h), not the
 * table by reason.  runqlat is not read.  A collector is drained by this
 * or by collector_drain(), not both: each keeps its own previous sums of
 * the drops.
 * @c: the collector, opened with group_by 0.
 * @t: receives the deltas, added to what it holds.
 * @err: names the map that could not be read.
 *
 * @return 0; -EINVAL with groups on (their "all" needs the walk of
 *         collector_drain()); or the negative errno of a map lookup
 *         (what was read before it is in @t already).
 */
int collector_add_totals(struct collector *c, struct collector_totals *t,
			 struct rttq_error *err);

/**
 * collector_on_counters() - have @fn called with @arg for the counters of
 * every group by later drains (NULL: counters are not read).
 */
void collector_on_counters(struct collector *c, collector_counters_fn fn,
			   void *arg);

/**
 * collector_on_retire() - have @fn called with @arg for every group
 * recycled by later drains (NULL: nobody is told).
 */
void collector_on_retire(struct collector *c, collector_retire_fn fn,
			 void *arg);

/** collector_recycled() - group ids recycled since open. */
uint64_t collector_recycled(const struct collector *c);

/**
 * collector_budget() - what the maps reserve under --kernel-memory, how
 * many groups fit and how many were reserved (kernel_budget.h); the
 * agent prints it at start.  Valid while @c is open.
 */
const struct kernel_budget *collector_budget(const struct collector *c);

/**
 * collector_overflow() - events whose group found no room, in total since
 * open (counted in "all", not in any group; raise max_groups).  0 when the
 * map cannot be read.
 */
uint64_t collector_overflow(const struct collector *c);

/**
 * collector_prog_fd() - fd of the attached tcp_probe (rtt) program, for
 * bpf_stats.  @return the fd, -ENOENT with collector_opts.rtt_unread.
 */
int collector_prog_fd(const struct collector *c);

/**
 * collector_signals() - the COLLECTOR_SIG_* families counting now: those
 * asked for whose hooks this kernel has (rtt always).
 */
unsigned int collector_signals(const struct collector *c);

/**
 * collector_prog_fds() - fds of every program attached (tcp_probe's
 * first), for bpf_stats.
 * @fds: receives up to @max fds.
 * @names: receives each one's attach point ("tp_btf/tcp_probe"), valid
 *         while @c is open; may be NULL.
 *
 * @return how many programs are attached (may be more than @max).
 */
unsigned int collector_prog_fds(const struct collector *c, int *fds,
				const char **names, unsigned int max);

/* What common/flows reads of a collector opened with flows. */
struct collector_flow_fds {
	int iter_link;   /* bpf_iter_create() it: one flow_record per live
			  * connection of the caller's network namespace */
	int closed_ring; /* ring buffer of flow_records at TCP_CLOSE */
};

/**
 * collector_flow_fds() - the fds of the flow programs' iterator and maps
 * (kernel/flow_record.h's records), valid while @c is open.
 * @out: receives them.
 *
 * @return 0, or -ENOENT when flows are off (not asked for, or this kernel
 *         cannot give them: said in the log at open).
 */
int collector_flow_fds(const struct collector *c,
		       struct collector_flow_fds *out);

/* What common/flows/event_reader.c reads of a collector opened with
 * events (kernel/event_record.h's records). */
struct collector_event_fds {
	int ring;        /* ring buffer of event_records */
};

/**
 * collector_event_fds() - the fds of the event stream's maps, valid
 * while @c is open.
 * @out: receives them.
 *
 * @return 0, or -ENOENT when events are off (not asked for, or this
 *         kernel cannot give them: said in the log at open).
 */
int collector_event_fds(const struct collector *c,
			struct collector_event_fds *out);

/**
 * collector_events_lost() - sampled events the ring buffer had no room
 * for since open (0 with events off).
 */
uint64_t collector_events_lost(const struct collector *c);

/**
 * collector_drop_reasons() - the names of the kernel's drop reasons as
 * the drops.<proto>.<reason> counters name them: from the running
 * kernel's BTF enum skb_drop_reason, lower case, without its prefix
 * ("netfilter_drop"); "reason_N" for a number the enum lacks,
 * "unlisted" and "unknown" for rttq.h's RTTQ_DROP_UNLISTED and
 * RTTQ_DROP_UNKNOWN.
 * @reason: receives RTTQ_DROP_SLOTS names, indexed by number.
 */
void collector_drop_reasons(char (*reason)[METRIC_NAME_MAX]);

/**
 * collector_flows_lost() - closed-connection records the ring buffer had
 * no room for since open (0 with flows off, or when unreadable).
 */
uint64_t collector_flows_lost(const struct collector *c);

/*
 * Called by collector_group_names() with a group's index (as in
 * flow_record.group) and its name as the drain names it, valid only
 * during the call.  Return non-zero to stop.
 */
typedef int (*collector_name_fn)(uint32_t idx, const char *name, void *arg);

/**
 * collector_group_names() - every group that has an index now, from the
 * kernel's group_ids map, in no particular order ("all", index 0, is not
 * among them).
 *
 * @return 0, or the first non-zero value of @fn.
 */
int collector_group_names(struct collector *c, collector_name_fn fn,
			  void *arg);

#endif /* RTTQ_COLLECTOR_H */
