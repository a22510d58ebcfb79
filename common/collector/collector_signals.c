// SPDX-License-Identifier: BSD-2-Clause
/*
 * --signals (collector.h's COLLECTOR_SIG_*): which programs of
 * kernel/tcp_health.h, drops.h, bytes.h and node.h load and attach
 * beside the tcp_probe one.  The running kernel's BTF says which tracepoints exist
 * and with how many arguments (a program reading an argument the
 * tracepoint lacks would not load, and would fail the whole object), so a
 * missing hook turns off its own family or counters before load, said
 * once in the log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "collector_private.h"
#include "rttq.skel.h"

/* Bits of c->hooks: tracepoints this kernel has. */
enum {
	HOOK_RETRANS = 1u << 0,        /* tcp_retransmit_skb(sk, skb) */
	HOOK_RETRANS_ERR = 1u << 1,    /* ... with err: failures too */
	HOOK_SYNACK = 1u << 2,         /* tcp_retransmit_synack */
	HOOK_CONG = 1u << 3,           /* tcp_cong_state_set */
	HOOK_SEND = 1u << 4,           /* sock_send_length */
	HOOK_STATE = 1u << 5,          /* inet_sock_set_state */
	HOOK_RST_SENT = 1u << 6,       /* tcp_send_reset */
	HOOK_RST_RECEIVED = 1u << 7,   /* tcp_receive_reset */
	HOOK_DROP = 1u << 8,           /* kfree_skb(skb, location) */
	HOOK_DROP_REASON = 1u << 9,    /* ... with a reason */
	HOOK_RECV = 1u << 10,          /* sock_recv_length */
	HOOK_WAKEUP = 1u << 11,        /* sched_wakeup */
	HOOK_WAKEUP_NEW = 1u << 12,    /* sched_wakeup_new */
	HOOK_SWITCH = 1u << 13,        /* sched_switch(preempt, prev, next) */
	HOOK_SWITCH_STATE = 1u << 14,  /* ... with prev_state */
	HOOK_SOFTIRQ = 1u << 15,       /* softirq_entry */
	HOOK_SOFTIRQ_EXIT = 1u << 16,  /* softirq_exit */
};

/* The kernel refuses per-CPU values past this (PCPU_MIN_UNIT_SIZE). */
#define PERCPU_VALUE_MAX 32768u

int signals_tp_args(const struct btf *btf, const char *name)
{
	const struct btf_type *t;
	char type_name[128];
	int id;

	snprintf(type_name, sizeof(type_name), "btf_trace_%s", name);
	id = btf__find_by_name_kind(btf, type_name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return -1;
	t = btf__type_by_id(btf, id);
	t = t ? btf__type_by_id(btf, t->type) : NULL;   /* pointer */
	t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t) - 1;
}

/*
 * The number of softirq @name (NET_RX_SOFTIRQ, ...) in the running
 * kernel's BTF: an anonymous enum, so found by the value's name.
 * @return 0, or -ENOENT.
 */
static int softirq_vec(const struct btf *btf, const char *name, uint32_t *out)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	uint32_t id, n = btf__type_cnt(btf);
	unsigned int i;

	for (id = 1; id < n; id++) {
		t = btf__type_by_id(btf, id);
		if (!t || !btf_is_enum(t))
			continue;
		e = btf_enum(t);
		for (i = 0; i < btf_vlen(t); i++)
			if (!strcmp(btf__name_by_offset(btf, e[i].name_off),
				    name)) {
				*out = (uint32_t)e[i].val;
				return 0;
			}
	}
	return -ENOENT;
}

/*
 * The families of kernel/node.h, kernel/bytes.h and the sndbuf
 * distribution in @want that this kernel (c->hooks) and this g can
 * count; logs each one turned off.  @return @want less those.
 */
static unsigned int probe_node(struct collector *c, unsigned int want)
{
	uint32_t dists;

	if ((want & COLLECTOR_SIG_RUNQLAT) &&
	    (~c->hooks & (HOOK_WAKEUP | HOOK_WAKEUP_NEW | HOOK_SWITCH))) {
		collector_logf(c, "runqlat: off: no tracepoint %s in this kernel",
			       !(c->hooks & HOOK_SWITCH) ? "sched_switch" :
			       !(c->hooks & HOOK_WAKEUP) ? "sched_wakeup"
							 : "sched_wakeup_new");
		want &= ~COLLECTOR_SIG_RUNQLAT;
	}
	if ((want & COLLECTOR_SIG_SOFTIRQ) &&
	    (~c->hooks & (HOOK_SOFTIRQ | HOOK_SOFTIRQ_EXIT))) {
		collector_logf(c, "softirq: off: no tracepoint softirq_entry or softirq_exit in this kernel");
		want &= ~COLLECTOR_SIG_SOFTIRQ;
	}
	/* No fallback (cgroup_skb would see packets, not calls): off. */
	if ((want & COLLECTOR_SIG_BYTES) &&
	    (~c->hooks & (HOOK_SEND | HOOK_RECV))) {
		collector_logf(c, "bytes: off: no tracepoint %s in this kernel",
			       c->hooks & HOOK_SEND ? "sock_recv_length"
						    : "sock_send_length");
		want &= ~COLLECTOR_SIG_BYTES;
	}
	/* rtt, jitter and sndbuf share the per-CPU value of the events of
	 * no group: at g = 7 three do not fit. */
	dists = 1 + !!(want & COLLECTOR_SIG_JITTER) + 1;
	if ((want & COLLECTOR_SIG_SNDBUF) &&
	    dists * c->slots * 4 > PERCPU_VALUE_MAX) {
		collector_logf(c, "sndbuf: off at --sub-bits %u with jitter on: "
			       "their per-CPU histograms would pass the kernel's "
			       "%u bytes (turn jitter off, or a lower --sub-bits)",
			       c->sub_bits, PERCPU_VALUE_MAX);
		want &= ~COLLECTOR_SIG_SNDBUF;
	}
	return want;
}

void signals_probe(struct collector *c, unsigned int asked)
{
	/* Each hook and the arguments its program reads. */
	static const struct {
		const char *tp;
		int args;
		unsigned int bit;
	} hooks[] = {
		{ "tcp_retransmit_skb", 2, HOOK_RETRANS },
		{ "tcp_retransmit_skb", 3, HOOK_RETRANS_ERR },
		{ "tcp_retransmit_synack", 2, HOOK_SYNACK },
		{ "tcp_cong_state_set", 2, HOOK_CONG },
		{ "sock_send_length", 1, HOOK_SEND },
		{ "inet_sock_set_state", 3, HOOK_STATE },
		{ "tcp_send_reset", 1, HOOK_RST_SENT },
		{ "tcp_receive_reset", 1, HOOK_RST_RECEIVED },
		{ "kfree_skb", 2, HOOK_DROP },
		{ "kfree_skb", 3, HOOK_DROP_REASON },
		{ "sock_recv_length", 1, HOOK_RECV },
		{ "sched_wakeup", 1, HOOK_WAKEUP },
		{ "sched_wakeup_new", 1, HOOK_WAKEUP_NEW },
		{ "sched_switch", 3, HOOK_SWITCH },
		{ "sched_switch", 4, HOOK_SWITCH_STATE },
		{ "softirq_entry", 1, HOOK_SOFTIRQ },
		{ "softirq_exit", 1, HOOK_SOFTIRQ_EXIT },
	};
	struct btf *btf = btf__load_vmlinux_btf();
	unsigned int want = (asked ? asked : COLLECTOR_SIG_ALL) |
			    COLLECTOR_SIG_RTT;
	size_t i;

	c->hooks = 0;
	for (i = 0; btf && i < sizeof(hooks) / sizeof(hooks[0]); i++)
		if (signals_tp_args(btf, hooks[i].tp) >= hooks[i].args)
			c->hooks |= hooks[i].bit;
	if ((want & COLLECTOR_SIG_SOFTIRQ) && btf &&
	    (softirq_vec(btf, "NET_RX_SOFTIRQ", &c->vec_rx) ||
	     softirq_vec(btf, "NET_TX_SOFTIRQ", &c->vec_tx))) {
		collector_logf(c, "softirq: off: no NET_RX_SOFTIRQ or NET_TX_SOFTIRQ in this kernel's BTF");
		want &= ~COLLECTOR_SIG_SOFTIRQ;
	}
	btf__free(btf);
	want = probe_node(c, want);
	if ((want & COLLECTOR_SIG_RETRANS) &&
	    !(c->hooks & HOOK_RETRANS && c->hooks & HOOK_STATE)) {
		collector_logf(c, "retrans: off: no tracepoint %s in this kernel",
			       c->hooks & HOOK_STATE ? "tcp_retransmit_skb"
						     : "inet_sock_set_state");
		want &= ~COLLECTOR_SIG_RETRANS;
	}
	if (want & COLLECTOR_SIG_RETRANS) {
		if (!(c->hooks & HOOK_SYNACK))
			collector_logf(c, "retrans.syn: SYN-ACKs not counted: no tracepoint tcp_retransmit_synack in this kernel");
		if (!(c->hooks & HOOK_CONG))
			collector_logf(c, "loss.recovery, loss.timeout: off: no tracepoint tcp_cong_state_set in this kernel");
		if (!(c->hooks & HOOK_SEND))
			collector_logf(c, "segs.out: counted when a connection closes: no tracepoint sock_send_length in this kernel");
	}
	if ((want & COLLECTOR_SIG_CONN) && !(c->hooks & HOOK_STATE)) {
		collector_logf(c, "conn: off: no tracepoint inet_sock_set_state in this kernel");
		want &= ~COLLECTOR_SIG_CONN;
	}
	if ((want & COLLECTOR_SIG_CONN) &&
	    (~c->hooks & (HOOK_RST_SENT | HOOK_RST_RECEIVED)))
		collector_logf(c, "rst.sent, rst.received: not every one counted: no tracepoint tcp_send_reset or tcp_receive_reset in this kernel");
	if ((want & COLLECTOR_SIG_DROPS) && !(c->hooks & HOOK_DROP)) {
		collector_logf(c, "drops: off: no tracepoint kfree_skb in this kernel");
		want &= ~COLLECTOR_SIG_DROPS;
	}
	if ((want & COLLECTOR_SIG_DROPS) && !(c->hooks & HOOK_DROP_REASON))
		collector_logf(c, "drops: this kernel gives no drop reasons: every drop counts as drops.<proto>.unknown");
	c->signals = want;
}

/* Whether family @sig is on and hook @hook is there. */
static bool on(const struct collector *c, unsigned int sig, unsigned int hook)
{
	return (c->signals & sig) && (c->hooks & hook) == hook;
}

int signals_configure(struct collector *c, bool direct)
{
	struct rttq_bpf *s = c->skel;
	bool retrans = c->signals & COLLECTOR_SIG_RETRANS;
	bool conn = c->signals & COLLECTOR_SIG_CONN;
	bool runqlat = c->signals & COLLECTOR_SIG_RUNQLAT;
	bool softirq = c->signals & COLLECTOR_SIG_SOFTIRQ;
	struct {
		struct bpf_program *prog;
		bool load;
	} progs[] = {
		{ s->progs.rttq_retrans, on(c, COLLECTOR_SIG_RETRANS,
					    HOOK_RETRANS_ERR) },
		{ s->progs.rttq_retrans_old,
		  retrans && !(c->hooks & HOOK_RETRANS_ERR) },
		{ s->progs.rttq_retrans_synack, on(c, COLLECTOR_SIG_RETRANS,
						   HOOK_SYNACK) },
		{ s->progs.rttq_cong_state, on(c, COLLECTOR_SIG_RETRANS,
					       HOOK_CONG) },
		{ s->progs.rttq_send_length,
		  on(c, COLLECTOR_SIG_RETRANS, HOOK_SEND) ||
			  on(c, COLLECTOR_SIG_BYTES, HOOK_SEND) },
		{ s->progs.rttq_recv_length, on(c, COLLECTOR_SIG_BYTES,
						HOOK_RECV) },
		{ s->progs.rttq_wakeup, runqlat },
		{ s->progs.rttq_wakeup_new, runqlat },
		{ s->progs.rttq_switch, runqlat &&
					(c->hooks & HOOK_SWITCH_STATE) },
		{ s->progs.rttq_switch_old, runqlat &&
					    !(c->hooks & HOOK_SWITCH_STATE) },
		{ s->progs.rttq_softirq_entry, softirq },
		{ s->progs.rttq_softirq_exit, softirq },
		{ s->progs.rttq_rst_sent, on(c, COLLECTOR_SIG_CONN,
					     HOOK_RST_SENT) },
		{ s->progs.rttq_rst_received, on(c, COLLECTOR_SIG_CONN,
						 HOOK_RST_RECEIVED) },
		{ s->progs.rttq_drop, on(c, COLLECTOR_SIG_DROPS,
					 HOOK_DROP_REASON) },
		{ s->progs.rttq_drop_noreason,
		  (c->signals & COLLECTOR_SIG_DROPS) &&
			  !(c->hooks & HOOK_DROP_REASON) },
		/* Marks the port of each listener's child in listen_ports
		 * (a tp_btf program); raw_tp and kprobe rely on the
		 * listening ports rewritten at every drain. */
		{ s->progs.rttq_state,
		  ((c->group_by & COLLECTOR_BY_PORT) && direct) || retrans ||
			  conn },
	};
	size_t i;
	int err = 0;

	_Static_assert(sizeof(progs) / sizeof(progs[0]) == COLLECTOR_SIG_PROGS,
		       "COLLECTOR_SIG_PROGS counts the programs");
	s->rodata->targ_jitter_off = c->dist_off[RTTQ_DIST_JITTER];
	s->rodata->targ_segs_on = retrans;
	s->rodata->targ_conn_on = conn;
	s->rodata->targ_bytes_on = c->signals & COLLECTOR_SIG_BYTES;
	s->rodata->targ_sndbuf_off = c->dist_off[RTTQ_DIST_SNDBUF];
	s->rodata->targ_vec_rx = c->vec_rx;
	s->rodata->targ_vec_tx = c->vec_tx;
	for (i = 0; !err && i < COLLECTOR_SIG_PROGS; i++) {
		c->sig_progs[i] = progs[i].prog;
		err = bpf_program__set_autoload(progs[i].prog, progs[i].load);
	}
	return err;
}

void signals_attach(struct collector *c)
{
	struct bpf_program *p;
	struct bpf_link *link;
	unsigned int i;

	if (c->prog)
		collector_logf(c, "attached %s at %s",
			       bpf_program__name(c->prog),
			       bpf_program__section_name(c->prog));
	c->nsig = 0;
	for (i = 0; i < COLLECTOR_SIG_PROGS; i++) {
		p = c->sig_progs[i];
		/* Attached already, before the tcp_probe program. */
		if (p == c->skel->progs.rttq_state) {
			if (c->state_link)
				collector_logf(c, "attached %s at %s",
					       bpf_program__name(p),
					       bpf_program__section_name(p));
			continue;
		}
		if (!bpf_program__autoload(p))
			continue;
		link = bpf_program__attach(p);
		if (!link) {
			collector_logf(c, "%s at %s: not attached (%s): its counters stay off",
				       bpf_program__name(p),
				       bpf_program__section_name(p),
				       strerror(errno));
			continue;
		}
		collector_logf(c, "attached %s at %s", bpf_program__name(p),
			       bpf_program__section_name(p));
		c->sig_attached[c->nsig] = p;
		c->sig_links[c->nsig++] = link;
	}
}

void signals_detach(struct collector *c)
{
	unsigned int i;

	for (i = 0; i < c->nsig; i++)
		bpf_link__destroy(c->sig_links[i]);
	c->nsig = 0;
}

unsigned int collector_signals(const struct collector *c)
{
	return c->signals;
}

unsigned int collector_prog_fds(const struct collector *c, int *fds,
				const char **names, unsigned int max)
{
	struct bpf_program *p;
	unsigned int n = 0, i;

	for (i = 0; i < c->nsig + 2; i++) {
		if (i == 0)
			p = c->prog;
		else if (i == 1)
			p = c->state_link ? c->skel->progs.rttq_state : NULL;
		else
			p = c->sig_attached[i - 2];
		if (!p)
			continue;
		if (n < max) {
			fds[n] = bpf_program__fd(p);
			if (names)
				names[n] = bpf_program__section_name(p);
		}
		n++;
	}
	return n;
}
