// SPDX-License-Identifier: BSD-2-Clause
/*
 * The programs of kernel/flows.h (collector_opts.flows): which load,
 * their ring buffer's size, attaching them, and what common/flows reads
 * from them (collector.h's collector_flow_fds(), collector_group_names()).
 * Apart from collector_signals.c because `rttq flows` loads them all
 * whatever --signals says (--signals flows loads the close program alone).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "collector_private.h"
#include "flow_record.h"
#include "group_name.h"
#include "rttq.skel.h"

/* The flow programs but the iterator, each on its tracepoint, into
 * @progs (COLLECTOR_FLOW_PROGS); the state program last. */
static void flow_progs(struct rttq_bpf *s, struct bpf_program **progs)
{
	progs[0] = s->progs.rttq_flow_probe;
	progs[1] = s->progs.rttq_flow_send;
	progs[2] = s->progs.rttq_flow_recv;
	progs[3] = s->progs.rttq_flow_state;
}

void flows_probe(struct collector *c)
{
	/* What `rttq flows` reads; the counters need only the last. */
	static const char *const tps[] = { "tcp_probe", "sock_send_length",
					   "sock_recv_length",
					   "inet_sock_set_state" };
	struct btf *btf;
	size_t i;

	if (!c->flows_asked && !(c->signals & COLLECTOR_SIG_FLOWS))
		return;
	btf = btf__load_vmlinux_btf();
	for (i = 0; i < sizeof(tps) / sizeof(tps[0]); i++) {
		if (btf && signals_tp_args(btf, tps[i]) >= 0)
			continue;
		collector_logf(c, "flows: off: no tracepoint %s in this kernel",
			       tps[i]);
		c->flows_asked = false;
		if (i == sizeof(tps) / sizeof(tps[0]) - 1)
			c->signals &= ~COLLECTOR_SIG_FLOWS;
	}
	c->flows_retrans_err = btf && signals_tp_args(btf, "tcp_retransmit_skb") >= 3;
	btf__free(btf);
}

int flows_configure(struct collector *c, bool direct)
{
	struct rttq_bpf *s = c->skel;
	struct bpf_program *progs[COLLECTOR_FLOW_PROGS];
	bool counters = (c->signals & COLLECTOR_SIG_FLOWS) && direct;
	bool on = c->flows_asked && direct;
	long page = sysconf(_SC_PAGESIZE);
	size_t i;
	int err;

	if ((c->flows_asked || (c->signals & COLLECTOR_SIG_FLOWS)) && !direct)
		collector_logf(c, "flows: off: they need BTF-typed sockets (fentry or tp_btf)");
	c->flows_on = on;
	s->rodata->targ_flows_on = on;
	s->rodata->targ_flows_ring = on;
	s->rodata->targ_flows_counters = counters;
	flow_progs(s, progs);
	for (i = 0; i < COLLECTOR_FLOW_PROGS; i++) {
		err = bpf_program__set_autoload(
			progs[i], on || (counters &&
					 progs[i] == s->progs.rttq_flow_state));
		if (err)
			return err;
	}
	err = bpf_program__set_autoload(s->progs.rttq_flow_iter, on);
	if (err)
		return err;
	/* fast_retrans and timeouts come from the retransmit program. */
	if (on) {
		err = collector_load_retrans(c);
		if (err)
			return err;
	}
	return bpf_map__set_max_entries(s->maps.flow_closed,
					on ? FLOW_RING_BYTES
					   : (page > 0 ? (uint32_t)page : 4096));
}

void flows_attach(struct collector *c)
{
	struct bpf_program *progs[COLLECTOR_FLOW_PROGS];
	size_t i;

	flow_progs(c->skel, progs);
	for (i = 0; i < COLLECTOR_FLOW_PROGS; i++) {
		if (!bpf_program__autoload(progs[i]))
			continue;
		c->flow_links[i] = bpf_program__attach(progs[i]);
		if (!c->flow_links[i])
			goto fail;
		collector_logf(c, "attached %s at %s",
			       bpf_program__name(progs[i]),
			       bpf_program__section_name(progs[i]));
	}
	if (!c->flows_on)
		return;
	c->flow_iter = bpf_program__attach_iter(c->skel->progs.rttq_flow_iter,
						NULL);
	if (!c->flow_iter) {
		i = COLLECTOR_FLOW_PROGS;
		goto fail;
	}
	return;
fail:
	collector_logf(c, "flows: off: %s did not attach (%s)",
		       i < COLLECTOR_FLOW_PROGS ? bpf_program__name(progs[i])
						: "rttq_flow_iter",
		       strerror(errno));
	flows_detach(c);
	c->flows_on = false;
}

void flows_detach(struct collector *c)
{
	size_t i;

	for (i = 0; i < COLLECTOR_FLOW_PROGS; i++) {
		bpf_link__destroy(c->flow_links[i]);
		c->flow_links[i] = NULL;
	}
	bpf_link__destroy(c->flow_iter);
	c->flow_iter = NULL;
}

int collector_flow_fds(const struct collector *c, struct collector_flow_fds *out)
{
	if (!c->flows_on)
		return -ENOENT;
	out->iter_link = bpf_link__fd(c->flow_iter);
	out->closed_ring = bpf_map__fd(c->skel->maps.flow_closed);
	return 0;
}

uint64_t collector_flows_lost(const struct collector *c)
{
	if (!c->flows_on)
		return 0;
	return collector_percpu_total(c, bpf_map__fd(c->skel->maps.flow_lost));
}

int collector_group_names(struct collector *c, collector_name_fn fn,
			  void *arg)
{
	int ids_fd = bpf_map__fd(c->skel->maps.group_ids);
	struct rttq_key key, *prev = NULL;
	char name[GROUP_NAME_MAX];
	uint32_t gid;
	int rc;

	memset(&key, 0, sizeof(key));
	/* The map hashes the first key_size bytes; the rest stay zero. */
	while (!bpf_map_get_next_key(ids_fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(ids_fd, &key, &gid) || !gid)
			continue;
		group_name_format(&c->naming, &key, name, sizeof(name));
		rc = fn(gid, name, arg);
		if (rc)
			return rc;
	}
	return 0;
}
