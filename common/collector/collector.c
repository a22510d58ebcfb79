// SPDX-License-Identifier: BSD-2-Clause
/*
 * The collector (collector.h): loads kernel/rttq.bpf.c through its
 * skeleton with the first attach point that works, sizes its maps to the
 * memory budget and fills what the kernel must know before the first
 * event.  The drain is collector_drain.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "buckets.h"
#include "cgroup_names.h"
#include "collector.h"
#include "collector_opts.h"
#include "collector_private.h"
#include "group_name.h"
#include "group_recycle.h"
#include "hist.h"
#include "kernel_budget.h"
#include "monoclock.h"
#include "peer_map.h"
#include "rttq.h"
#include "rttq.skel.h"

#define BTF_VMLINUX_PATH "/sys/kernel/btf/vmlinux"

/* Capability numbers from linux/capability.h (glibc has no CAP_BPF). */
#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39

_Static_assert(COLLECTOR_BY_LADDR == RTTQ_BY_LADDR &&
		       COLLECTOR_BY_RADDR == RTTQ_BY_RADDR &&
		       COLLECTOR_BY_LPORT == RTTQ_BY_LPORT &&
		       COLLECTOR_BY_RPORT == RTTQ_BY_RPORT &&
		       COLLECTOR_BY_PEER == RTTQ_BY_PEER &&
		       COLLECTOR_BY_PORT == RTTQ_BY_PORT &&
		       COLLECTOR_BY_CGROUP == RTTQ_BY_CGROUP,
	       "collector.h and rttq.h group-by bits differ");

/* The fallback order: fentry first (cheapest where it loads), then tp_btf
 * (BTF-typed pointer, direct loads), then raw_tp and kprobe (probe reads). */
static const char *const mode_names[MODE_COUNT] = {
	[MODE_FENTRY] = "fentry",
	[MODE_TP_BTF] = "tp_btf",
	[MODE_RAW_TP] = "raw_tp",
	[MODE_KPROBE] = "kprobe",
};

/* The mode called @name, MODE_COUNT when none is. */
static enum attach_mode find_mode(const char *name)
{
	enum attach_mode m;

	for (m = 0; m < MODE_COUNT; m++)
		if (!strcmp(name, mode_names[m]))
			break;
	return m;
}

bool collector_attach_known(const char *mode)
{
	return find_mode(mode) != MODE_COUNT;
}

/* ---------------------------------------------------------------------- */
/* Open and close                                                         */
/* ---------------------------------------------------------------------- */

/* libbpf hands over its own format strings: let the compiler know. */
__attribute__((format(printf, 2, 0)))
static int print_verbose(enum libbpf_print_level level, const char *fmt,
			 va_list args)
{
	return vfprintf(stderr, fmt, args);
}

/*
 * Quiet by default: trying fentry on a kernel that refuses it prints a
 * verifier dump, and a failed mode is reported through rttq_error anyway.
 */
static int print_quiet(enum libbpf_print_level level, const char *fmt,
		       va_list args)
{
	return 0;
}

/* Whether we may load tracing BPF: root, or CAP_BPF + CAP_PERFMON. */
static bool have_bpf_caps(void)
{
	unsigned long long eff = 0;
	char line[256];
	bool found = false;
	FILE *f;

	if (geteuid() == 0)
		return true;
	f = fopen("/proc/self/status", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "CapEff:", 7)) {
			errno = 0;
			eff = strtoull(line + 7, NULL, 16);
			found = errno == 0;
			break;
		}
	}
	fclose(f);
	if (!found)
		return false;
	if (eff & (1ull << CAP_SYS_ADMIN_BIT))
		return true;
	return (eff & (1ull << CAP_BPF_BIT)) && (eff & (1ull << CAP_PERFMON_BIT));
}

/*
 * The words of a group_counts value for c->signals: rtt, then jitter,
 * sndbuf and handshake when on (rttq.h).
 */
static void set_layout(struct collector *c)
{
	uint32_t n = 1, d;

	c->dist_off[RTTQ_DIST_RTT] = 0;
	c->dist_off[RTTQ_DIST_JITTER] =
		c->signals & COLLECTOR_SIG_JITTER ? n++ * c->slots : 0;
	c->dist_off[RTTQ_DIST_SNDBUF] =
		c->signals & COLLECTOR_SIG_SNDBUF ? n++ * c->slots : 0;
	c->dist_off[RTTQ_DIST_HANDSHAKE] =
		c->signals & COLLECTOR_SIG_CONN ? n++ * c->slots : 0;
	c->dist_off[RTTQ_DIST_FLOW_DURATION] =
		c->signals & COLLECTOR_SIG_FLOWS ? n++ * c->slots : 0;
	/* The stages in a row, as one group_stages value. */
	for (d = RTTQ_DIST_RX_STACK; d < RTTQ_DIST_RX_STACK + RTTQ_STAGES; d++)
		c->dist_off[d] = c->signals & COLLECTOR_SIG_STAGES
					 ? n++ * c->slots : 0;
	c->words = n * c->slots;
	/* Per-CPU stride of ungrouped_counts (rtt, jitter, sndbuf), 8-byte
	 * aligned as the kernel copies it; handshakes and flow durations
	 * are in maps of their own. */
	c->stride = ((size_t)collector_counts_words(c) * 4 + 7) & ~(size_t)7;
}

uint32_t collector_counts_words(const struct collector *c)
{
	if (c->dist_off[RTTQ_DIST_HANDSHAKE])
		return c->dist_off[RTTQ_DIST_HANDSHAKE];
	if (c->dist_off[RTTQ_DIST_FLOW_DURATION])
		return c->dist_off[RTTQ_DIST_FLOW_DURATION];
	if (c->dist_off[RTTQ_DIST_RX_STACK])
		return c->dist_off[RTTQ_DIST_RX_STACK];
	return c->words;
}

void collector_logf(const struct collector *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (c->log)
		c->log(line, c->log_arg);
	else
		fprintf(stderr, "rttq: %s\n", line);
}

bool collector_health_on(const struct collector *c)
{
	return c->signals & (COLLECTOR_SIG_RETRANS | COLLECTOR_SIG_CONN |
			     COLLECTOR_SIG_BYTES | COLLECTOR_SIG_FLOWS);
}

/* Per-CPU bytes of runqlat_counts and node_counts, as
 * collector_configure() sizes them. */
static uint64_t node_percpu_bytes(const struct collector *c)
{
	return (c->signals & COLLECTOR_SIG_RUNQLAT ? c->slots * 4u : 8u) +
	       sizeof(struct rttq_node_counts);
}

static uint32_t key_size_for(unsigned int group_by)
{
	if (group_by & (COLLECTOR_BY_PEER | COLLECTOR_BY_PORT |
			COLLECTOR_BY_CGROUP))
		return RTTQ_KEY_SIZE_ALL;
	if (group_by & COLLECTOR_BY_LADDR)
		return RTTQ_KEY_SIZE_ALL;
	if (group_by & (COLLECTOR_BY_LPORT | COLLECTOR_BY_RPORT))
		return RTTQ_KEY_SIZE_PORTS;
	return RTTQ_KEY_SIZE_RADDR;
}

/*
 * What the kernel must know before the first event: the peer prefixes
 * (a socket classified without them would stay "peer:other") and the
 * ports listening now.
 */
static int prime_maps(struct collector *c, struct rttq_error *err)
{
	int rc;

	if (c->naming.peers) {
		rc = peer_map_load(c->naming.peers,
				   bpf_map__fd(c->skel->maps.peer_prefixes),
				   err);
		if (rc)
			return rc;
	}
	if (c->group_by & COLLECTOR_BY_PORT)
		return collector_write_listening(c, err);
	return 0;
}

/*
 * One attempt: open, configure for @mode, load, prime the maps, attach.
 * On failure the skeleton is destroyed and the message appended to @why;
 * except when priming fails (a bad --peer-map is not the attach point's
 * fault): then *@stop is set and @err says what is wrong.
 */
static int try_mode(struct collector *c, const struct collector_opts *o,
		    enum attach_mode mode, char *why, size_t why_size,
		    bool *stop, struct rttq_error *rerr)
{
	const char *step;
	size_t n = strlen(why);
	int err;

	c->skel = rttq_bpf__open();
	if (!c->skel) {
		err = -errno;
		step = "open";
		goto fail;
	}
	err = collector_configure(c, o, mode);
	step = "configure";
	if (err)
		goto fail;
	err = rttq_bpf__load(c->skel);
	step = "load";
	if (err)
		goto fail;
	err = prime_maps(c, rerr);
	if (err) {
		*stop = true;
		rttq_bpf__destroy(c->skel);
		c->skel = NULL;
		return err;
	}
	/* Directions first, so no connection of ours starts unnoted. */
	if (bpf_program__autoload(c->skel->progs.rttq_state)) {
		c->state_link = bpf_program__attach(c->skel->progs.rttq_state);
		if (!c->state_link) {
			err = -errno;
			step = "attach inet_sock_set_state";
			goto fail;
		}
	}
	if (!c->rtt_unread) {
		c->prog = collector_mode_prog(c->skel, mode);
		c->link = bpf_program__attach(c->prog);
		if (!c->link) {
			err = -errno;
			step = "attach";
			goto fail;
		}
	}
	c->mode = mode;
	signals_attach(c);
	flows_attach(c);
	events_attach(c);
	stages_attach(c);
	return 0;

fail:
	if (!err)
		err = -EINVAL;
	/* ENOENT at attach: the hook itself is missing (no CONFIG_KPROBES). */
	snprintf(why + n, why_size - n, "%s%s: %s: %s%s", n ? "; " : "",
		 mode_names[mode], step, strerror(-err),
		 err == -ENOENT && c->skel && !strcmp(step, "attach")
		 ? " (hook not in this kernel)" : "");
	bpf_link__destroy(c->state_link);
	c->state_link = NULL;
	rttq_bpf__destroy(c->skel);
	c->skel = NULL;
	c->prog = NULL;
	return err;
}

static int alloc_buffers(struct collector *c)
{
	size_t per = c->stride;
	int err;

	c->ncpus = libbpf_num_possible_cpus();
	if (c->ncpus <= 0)
		return c->ncpus < 0 ? c->ncpus : -EINVAL;
	/* The kernel copies per-CPU values in 8-byte aligned strides. */
	/* The handshake stride is shorter; the zeros serve it and
	 * group_health too.  A fallback to rtt alone only shrinks them. */
	/* The stages' per-CPU value may be the longest, a group's too. */
	if (c->dist_off[RTTQ_DIST_RX_STACK] &&
	    (size_t)RTTQ_STAGES * c->slots * 4 > per)
		per = (size_t)RTTQ_STAGES * c->slots * 4;
	c->percpu = calloc((size_t)c->ncpus, per);
	c->cur = calloc(c->words, sizeof(*c->cur));
	c->all_cur = calloc(c->words, sizeof(*c->all_cur));
	c->prev_all = calloc(c->words, sizeof(*c->prev_all));
	c->prev = calloc((size_t)c->max_groups + 1, sizeof(*c->prev));
	c->retired_all = calloc(c->words, sizeof(*c->retired_all));
	c->zeros = calloc((size_t)c->ncpus, per);
	c->runq_cur = calloc(c->slots, sizeof(*c->runq_cur));
	c->runq_prev = calloc(c->slots, sizeof(*c->runq_prev));
	if (!c->percpu || !c->cur || !c->all_cur || !c->prev_all || !c->prev ||
	    !c->retired_all || !c->zeros || !c->runq_cur || !c->runq_prev)
		return -ENOMEM;
	err = hist_new(c->sub_bits, &c->scratch);
	if (!err)
		err = counters_new(c);
	if (!err && c->group_by)
		err = group_recycle_new(c->max_groups, c->group_idle_ms,
					&c->recycle);
	return err;
}

/* The peer map and the cgroup index, before the kernel needs them. */
static int open_names(struct collector *c, const struct collector_opts *o,
		      struct rttq_error *err)
{
	int rc;

	if (o->peer_map && peer_map_new(o->peer_map, &c->naming.peers))
		return rttq_fail(err, -ENOMEM, "collector: out of memory");
	if (!o->cgroup && !(c->group_by & COLLECTOR_BY_CGROUP))
		return 0;
	rc = cgroup_names_new(&c->naming.cgroups, err);
	if (rc) {
		rttq_error_prefix(err, "%s", o->cgroup ? "--cgroup" :
						       "--group-by cgroup");
		return rc;
	}
	if (o->cgroup) {
		rc = cgroup_names_resolve(c->naming.cgroups, o->cgroup, &c->cgroup_id,
					  &c->cgroup_level, err);
		if (rc)
			rttq_error_prefix(err, "--cgroup");
	}
	return rc;
}

int collector_open(const struct collector_opts *opts, struct collector **out,
		   struct rttq_error *err)
{
	char why[RTTQ_ERROR_MSG_MAX - 64] = "";
	libbpf_print_fn_t prev_print;
	struct collector *c;
	enum attach_mode m, first = 0, last = MODE_COUNT - 1;
	bool stop = false;
	int ret = -EINVAL;

	*out = NULL;
	if (opts->sub_bits &&
	    (opts->sub_bits < BUCKET_SUB_BITS_MIN ||
	     opts->sub_bits > BUCKET_SUB_BITS_MAX))
		return rttq_fail(err, -EINVAL, "sub-bits %u: must be %d..%d",
				 opts->sub_bits, BUCKET_SUB_BITS_MIN,
				 BUCKET_SUB_BITS_MAX);
	if (opts->group_by & ~COLLECTOR_BY_MASK)
		return rttq_fail(err, -EINVAL, "group-by bits 0x%x: unknown",
				 opts->group_by);
	if (opts->signals & ~(COLLECTOR_SIG_ALL | COLLECTOR_SIG_FLOWS |
				COLLECTOR_SIG_STAGES))
		return rttq_fail(err, -EINVAL, "signal bits 0x%x: unknown",
				 opts->signals);
	ret = collector_opts_check(opts, err);
	if (ret)
		return ret;
	if (opts->attach) {
		m = find_mode(opts->attach);
		if (m == MODE_COUNT)
			return rttq_fail(err, -EINVAL,
					 "attach '%s': use fentry, tp_btf, "
					 "raw_tp or kprobe", opts->attach);
		first = last = m;
	}
	if (!have_bpf_caps())
		return rttq_fail(err, -EPERM,
				 "loading BPF needs root or CAP_BPF with "
				 "CAP_PERFMON; run as root");
	if (access(BTF_VMLINUX_PATH, R_OK))
		return rttq_fail(err, -ENOENT,
				 "no BTF: %s is missing, the kernel needs "
				 "CONFIG_DEBUG_INFO_BTF=y", BTF_VMLINUX_PATH);

	c = calloc(1, sizeof(*c));
	if (!c)
		return rttq_fail(err, -ENOMEM, "collector: out of memory");
	c->sub_bits = opts->sub_bits ? opts->sub_bits : BUCKET_SUB_BITS_DEFAULT;
	c->slots = BUCKET_SLOTS(c->sub_bits);
	c->group_by = opts->group_by;
	c->key_size = key_size_for(c->group_by);
	c->max_groups = opts->max_groups ? opts->max_groups
					 : COLLECTOR_MAX_GROUPS_DEFAULT;
	c->log = opts->log;
	c->log_arg = opts->log_arg;
	c->rtt_unread = opts->rtt_unread;
	/* Without the rtt program a mode only says how the other programs
	 * read the kernel's structs, and theirs are tp_btf. */
	if (c->rtt_unread && !opts->attach)
		first = MODE_TP_BTF;
	c->flows_asked = opts->flows;
	signals_probe(c, opts->signals);
	flows_probe(c);
	c->events_asked = opts->events;
	c->event_threshold = opts->event_threshold;
	events_probe(c);
	c->stage_threshold = opts->stage_threshold ? opts->stage_threshold
						   : UINT32_MAX / 64;
	stages_probe(c);
	set_layout(c);
	ret = kernel_budget_plan(&(struct kernel_budget_need){
			.mib = opts->kernel_memory_mib,
			.ncpus = libbpf_num_possible_cpus(),
			.words = c->words,
			.key_size = c->key_size,
			.slots = kernel_budget_slots(c->group_by),
			.peers = opts->peer_map != NULL,
			.health = collector_health_on(c),
			.drops = c->signals & COLLECTOR_SIG_DROPS,
			.node_bytes = node_percpu_bytes(c),
			.max_groups = c->group_by ? c->max_groups : 0,
			.explicit_max = opts->max_groups != 0,
		}, &c->budget, err);
	if (ret) {
		collector_close(c);
		return ret;
	}
	if (c->group_by)
		c->max_groups = c->budget.groups;
	c->naming.group_by = c->group_by;
	c->naming.raddr_prefix4 = opts->raddr_prefix4;
	c->naming.raddr_prefix6 = opts->raddr_prefix6;
	c->naming.laddr_prefix4 = opts->laddr_prefix4;
	c->naming.laddr_prefix6 = opts->laddr_prefix6;
	c->group_idle_ms = opts->group_idle_ms > 0
				   ? opts->group_idle_ms
				   : COLLECTOR_GROUP_IDLE_DEFAULT_MS;
	ret = alloc_buffers(c);
	if (ret) {
		collector_close(c);
		return rttq_fail(err, ret, "collector: %s", strerror(-ret));
	}
	ret = open_names(c, opts, err);
	if (ret) {
		collector_close(c);
		return ret;
	}

	/*
	 * libbpf's print callback is the whole process's: keep it quiet (or
	 * verbose) for the fallback's failed modes only, and give the caller
	 * (a control loop linking librttq-signals may use libbpf itself) its
	 * own back, unless --verbose asked for libbpf's output.
	 */
	prev_print = libbpf_set_print(opts->verbose ? print_verbose
						    : print_quiet);
	for (m = first; m <= last; m++) {
		ret = try_mode(c, opts, m, why, sizeof(why), &stop, err);
		if (!ret || stop)
			break;
		/*
		 * A program of another family may be what the verifier of an
		 * older kernel refuses: rtt alone must still work, in the
		 * buffers already sized for more.
		 */
		if (c->signals != COLLECTOR_SIG_RTT && !c->rtt_unread) {
			unsigned int had = c->signals;

			c->signals = COLLECTOR_SIG_RTT;
			set_layout(c);
			if (!try_mode(c, opts, m, why, sizeof(why), &stop,
				      err)) {
				collector_logf(c, "signals other than rtt: off: their programs do not load with %s here",
					       mode_names[m]);
				ret = 0;
				break;
			}
			c->signals = had;
			set_layout(c);
		}
	}
	if (!opts->verbose)
		libbpf_set_print(prev_print);
	if (ret) {
		collector_close(c);
		if (stop)
			return ret;
		return rttq_fail(err, ret, "no attach point worked (%s)", why);
	}
	*out = c;
	return 0;
}

void collector_close(struct collector *c)
{
	uint32_t i;

	if (!c)
		return;
	signals_detach(c);
	flows_detach(c);
	events_detach(c);
	stages_detach(c);
	bpf_link__destroy(c->link);
	bpf_link__destroy(c->state_link);
	rttq_bpf__destroy(c->skel);
	counters_free(c);
	peer_map_free(c->naming.peers);
	cgroup_names_free(c->naming.cgroups);
	for (i = 0; c->prev && i <= c->max_groups; i++)
		free(c->prev[i]);
	free(c->prev);
	group_recycle_free(c->recycle);
	free(c->zeros);
	free(c->runq_prev);
	free(c->runq_cur);
	free(c->retired_all);
	hist_free(c->scratch);
	free(c->prev_all);
	free(c->all_cur);
	free(c->cur);
	free(c->percpu);
	free(c);
}

int collector_reload_peer_map(struct collector *c, struct rttq_error *err)
{
	if (!c->naming.peers)
		return rttq_fail(err, -ENOENT, "no --peer-map to reload");
	int rc = peer_map_load(c->naming.peers,
			       bpf_map__fd(c->skel->maps.peer_prefixes), err);

	/* After the trie: gid_slots entries of the old generation miss and
	 * look their address's label up again (kernel/group_key.h). */
	if (!rc)
		__atomic_add_fetch(&c->skel->bss->peer_gen, 1, __ATOMIC_SEQ_CST);
	return rc;
}

const char *collector_attach_mode(const struct collector *c)
{
	return mode_names[c->mode];
}

int collector_prog_fd(const struct collector *c)
{
	return c->prog ? bpf_program__fd(c->prog) : -ENOENT;
}

const struct kernel_budget *collector_budget(const struct collector *c)
{
	return &c->budget;
}

void collector_on_counters(struct collector *c, collector_counters_fn fn,
			   void *arg)
{
	c->counters_fn = fn;
	c->counters_arg = arg;
}

void collector_on_retire(struct collector *c, collector_retire_fn fn,
			 void *arg)
{
	c->retire_fn = fn;
	c->retire_arg = arg;
}

uint64_t collector_recycled(const struct collector *c)
{
	return group_recycle_count(c->recycle);
}

uint64_t collector_percpu_total(const struct collector *c, int map_fd)
{
	uint64_t *v, total = 0;
	uint32_t zero = 0;
	int cpu;

	v = calloc((size_t)c->ncpus, sizeof(*v));
	if (!v)
		return 0;
	if (!bpf_map_lookup_elem(map_fd, &zero, v))
		for (cpu = 0; cpu < c->ncpus; cpu++)
			total += v[cpu];
	free(v);
	return total;
}

uint64_t collector_overflow(const struct collector *c)
{
	return collector_percpu_total(c, bpf_map__fd(c->skel->maps.overflow));
}
