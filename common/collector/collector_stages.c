// SPDX-License-Identifier: BSD-2-Clause
/*
 * The programs of kernel/stages.h (--signals stages): whether the kernel
 * has their tracepoints, loading them only when asked (five hooks on
 * every packet's path: never in the default families), the sampling
 * threshold, and attaching them.  The distributions they fill are
 * drained with the others (collector_drain.c).
 */
#include <errno.h>
#include <string.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "collector_private.h"
#include "rttq.skel.h"

static void stage_progs(struct rttq_bpf *s, struct bpf_program **progs)
{
	progs[0] = s->progs.rttq_stage_rx;
	progs[1] = s->progs.rttq_stage_tcp;
	progs[2] = s->progs.rttq_stage_read;
	progs[3] = s->progs.rttq_stage_queue;
	progs[4] = s->progs.rttq_stage_xmit;
}

void stages_probe(struct collector *c)
{
	/* By stage_progs()'s order, with the arguments each reads. */
	static const struct {
		const char *tp;
		int args;
	} tps[COLLECTOR_STAGE_PROGS] = {
		{ "netif_receive_skb", 1 }, { "tcp_probe", 2 },
		{ "sock_recv_length", 3 }, { "net_dev_queue", 1 },
		{ "net_dev_xmit", 4 },
	};
	struct btf *btf;
	size_t i;

	if (!(c->signals & COLLECTOR_SIG_STAGES))
		return;
	btf = btf__load_vmlinux_btf();
	for (i = 0; i < COLLECTOR_STAGE_PROGS; i++) {
		if (btf && signals_tp_args(btf, tps[i].tp) >= tps[i].args)
			continue;
		collector_logf(c, "stages: off: no tracepoint %s in this kernel",
			       tps[i].tp);
		c->signals &= ~COLLECTOR_SIG_STAGES;
		break;
	}
	btf__free(btf);
}

int stages_configure(struct collector *c, bool direct)
{
	struct rttq_bpf *s = c->skel;
	struct bpf_program *progs[COLLECTOR_STAGE_PROGS];
	bool on = (c->signals & COLLECTOR_SIG_STAGES) && direct;
	size_t i;
	int err = 0;

	if ((c->signals & COLLECTOR_SIG_STAGES) && !direct)
		collector_logf(c, "stages: off: they need BTF-typed sockets (fentry or tp_btf)");
	s->rodata->targ_stage_threshold = c->stage_threshold;
	stage_progs(s, progs);
	for (i = 0; !err && i < COLLECTOR_STAGE_PROGS; i++)
		err = bpf_program__set_autoload(progs[i], on);
	/* Unused, the marks' arrays shrink to one slot. */
	if (!err && !on)
		err = bpf_map__set_max_entries(s->maps.stage_rx, 1);
	if (!err && !on)
		err = bpf_map__set_max_entries(s->maps.stage_tx, 1);
	return err;
}

void stages_attach(struct collector *c)
{
	struct bpf_program *progs[COLLECTOR_STAGE_PROGS];
	size_t i;

	stage_progs(c->skel, progs);
	for (i = 0; i < COLLECTOR_STAGE_PROGS; i++) {
		if (!bpf_program__autoload(progs[i]))
			continue;
		c->stage_links[i] = bpf_program__attach(progs[i]);
		if (!c->stage_links[i]) {
			collector_logf(c, "stages: off: %s did not attach (%s): the stage distributions stay empty",
				       bpf_program__name(progs[i]),
				       strerror(errno));
			stages_detach(c);
			return;
		}
		collector_logf(c, "attached %s at %s",
			       bpf_program__name(progs[i]),
			       bpf_program__section_name(progs[i]));
	}
}

void stages_detach(struct collector *c)
{
	size_t i;

	for (i = 0; i < COLLECTOR_STAGE_PROGS; i++) {
		bpf_link__destroy(c->stage_links[i]);
		c->stage_links[i] = NULL;
	}
}
