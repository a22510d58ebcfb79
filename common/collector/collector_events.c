// SPDX-License-Identifier: BSD-2-Clause
/*
 * The programs of kernel/events.h (collector_opts.events): which load,
 * the sampling threshold, the ring buffer's size, attaching them, and
 * what common/flows/event_reader.c reads (collector.h's
 * collector_event_fds()).  Apart from collector_signals.c because events
 * are no --signals family: only `rttq events` asks for them.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "collector_private.h"
#include "event_record.h"
#include "rttq.skel.h"

/* The programs of their own, by event type (retransmits have none). */
static struct bpf_program *event_prog(struct rttq_bpf *s, unsigned int i)
{
	return i == 0 ? s->progs.rttq_ev_rtt : s->progs.rttq_ev_drop;
}

/* SKB_CONSUMED's number in @btf's enum skb_drop_reason (0 without it:
 * only SKB_NOT_DROPPED_YET is no drop then). */
static uint32_t not_drop(const struct btf *btf)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	unsigned int i;
	int id;

	id = btf ? btf__find_by_name_kind(btf, "skb_drop_reason",
					  BTF_KIND_ENUM)
		 : -1;
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	for (i = 0; t && i < btf_vlen(t); i++) {
		const char *name;

		e = btf_enum(t) + i;
		name = btf__name_by_offset(btf, e->name_off);
		if (name && !strcmp(name, "SKB_CONSUMED") && e->val > 0)
			return (uint32_t)e->val;
	}
	return 0;
}

void events_probe(struct collector *c)
{
	/* Each type's tracepoint and the arguments its program reads. */
	static const struct {
		const char *tp;
		int args;
		const char *type;
	} tps[EVENT_TYPES] = {
		[EVENT_RTT] = { "tcp_probe", 2, "rtt" },
		[EVENT_RETRANS] = { "tcp_retransmit_skb", 2, "retrans" },
		[EVENT_DROP] = { "kfree_skb", 3, "drop" },
	};
	struct btf *btf;
	unsigned int t;

	if (!c->events_asked)
		return;
	btf = btf__load_vmlinux_btf();
	for (t = 0; t < EVENT_TYPES; t++) {
		if (!(c->events_asked & (1u << t)))
			continue;
		if (btf && signals_tp_args(btf, tps[t].tp) >= tps[t].args)
			continue;
		collector_logf(c, "events: %s off: no tracepoint %s with a %s in this kernel",
			       tps[t].type, tps[t].tp,
			       t == EVENT_DROP ? "drop reason" : "socket");
		c->events_asked &= ~(1u << t);
	}
	c->flows_retrans_err = btf && signals_tp_args(btf, "tcp_retransmit_skb") >= 3;
	c->event_not_drop = not_drop(btf);
	btf__free(btf);
}

int events_configure(struct collector *c, bool direct)
{
	struct rttq_bpf *s = c->skel;
	unsigned int types = direct ? c->events_asked : 0;
	long page = sysconf(_SC_PAGESIZE);
	int err;

	if (c->events_asked && !direct)
		collector_logf(c, "events: off: they need BTF-typed sockets (fentry or tp_btf)");
	c->events_on = types != 0;
	s->rodata->targ_ev_types = types;
	s->rodata->targ_ev_threshold = c->event_threshold;
	s->rodata->targ_ev_not_drop = c->event_not_drop;
	err = bpf_program__set_autoload(s->progs.rttq_ev_rtt,
					types & (1u << EVENT_RTT));
	if (!err)
		err = bpf_program__set_autoload(s->progs.rttq_ev_drop,
						types & (1u << EVENT_DROP));
	/* Retransmits come from the retransmit program's classifier. */
	if (!err && (types & (1u << EVENT_RETRANS)))
		err = collector_load_retrans(c);
	if (err)
		return err;
	return bpf_map__set_max_entries(s->maps.events,
					types ? EVENT_RING_BYTES
					      : (page > 0 ? (uint32_t)page : 4096));
}

void events_attach(struct collector *c)
{
	struct bpf_program *p;
	unsigned int i;

	for (i = 0; i < COLLECTOR_EVENT_PROGS; i++) {
		p = event_prog(c->skel, i);
		if (!bpf_program__autoload(p))
			continue;
		c->event_links[i] = bpf_program__attach(p);
		if (!c->event_links[i]) {
			collector_logf(c, "events: off: %s did not attach (%s)",
				       bpf_program__name(p), strerror(errno));
			events_detach(c);
			c->events_on = false;
			return;
		}
		collector_logf(c, "attached %s at %s", bpf_program__name(p),
			       bpf_program__section_name(p));
	}
}

void events_detach(struct collector *c)
{
	unsigned int i;

	for (i = 0; i < COLLECTOR_EVENT_PROGS; i++) {
		bpf_link__destroy(c->event_links[i]);
		c->event_links[i] = NULL;
	}
}

int collector_load_retrans(struct collector *c)
{
	struct rttq_bpf *s = c->skel;

	if (bpf_program__autoload(s->progs.rttq_retrans) ||
	    bpf_program__autoload(s->progs.rttq_retrans_old))
		return 0;
	return bpf_program__set_autoload(c->flows_retrans_err
						 ? s->progs.rttq_retrans
						 : s->progs.rttq_retrans_old,
					 true);
}

int collector_event_fds(const struct collector *c,
			struct collector_event_fds *out)
{
	if (!c->events_on)
		return -ENOENT;
	out->ring = bpf_map__fd(c->skel->maps.events);
	return 0;
}

uint64_t collector_events_lost(const struct collector *c)
{
	if (!c->events_on)
		return 0;
	return collector_percpu_total(c, bpf_map__fd(c->skel->maps.events_lost));
}
