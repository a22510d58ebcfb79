// SPDX-License-Identifier: BSD-2-Clause
/*
 * The collector's counters (collector.h's collector_counters_fn): turns
 * the kernel's cumulative u64 counters of each group (kernel/tcp_health.h,
 * kernel/bytes.h), its node-wide drops by reason (kernel/drops.h) and
 * softirq times (kernel/node.h) into counter sets of deltas, named as
 * users see them.  Drop reasons are named from the
 * running kernel's BTF enum skb_drop_reason, never from a table built in
 * here: their numbers differ between kernels and backports.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "collector_private.h"
#include "rttq.skel.h"


/* The names of enum rttq_counter (rttq.h), in its order. */
static const char *const counter_names[RTTQ_COUNTERS] = {
	[RTTQ_C_RETRANS_FAST] = "retrans.fast",
	[RTTQ_C_RETRANS_TIMEOUT] = "retrans.timeout",
	[RTTQ_C_RETRANS_TLP] = "retrans.tlp",
	[RTTQ_C_RETRANS_SYN] = "retrans.syn",
	[RTTQ_C_SEGS_OUT] = "segs.out",
	[RTTQ_C_LOSS_RECOVERY] = "loss.recovery",
	[RTTQ_C_LOSS_TIMEOUT] = "loss.timeout",
	[RTTQ_C_CONN_OPENED] = "conn.opened",
	[RTTQ_C_CONN_ACCEPTED] = "conn.accepted",
	[RTTQ_C_CONN_FAILED] = "conn.failed",
	[RTTQ_C_RST_SENT] = "rst.sent",
	[RTTQ_C_RST_RECEIVED] = "rst.received",
	[RTTQ_C_BYTES_SENT_TCP] = "bytes.sent.tcp",
	[RTTQ_C_BYTES_RECV_TCP] = "bytes.received.tcp",
	[RTTQ_C_BYTES_SENT_UDP] = "bytes.sent.udp",
	[RTTQ_C_BYTES_RECV_UDP] = "bytes.received.udp",
	[RTTQ_C_CONN_CLOSED] = "conn.closed",
	[RTTQ_C_FLOW_BYTES_SENT] = "flow.bytes_sent",
	[RTTQ_C_FLOW_BYTES_RECEIVED] = "flow.bytes_received",
};

/* The names of the node's softirq times (rttq.h's RTTQ_SOFTIRQ_*). */
static const char *const softirq_names[RTTQ_SOFTIRQS] = {
	[RTTQ_SOFTIRQ_RX] = "softirq.net_rx_ns",
	[RTTQ_SOFTIRQ_TX] = "softirq.net_tx_ns",
};

static const char *const proto_names[RTTQ_DROP_PROTOS] = {
	[RTTQ_DROP_TCP] = "tcp",
	[RTTQ_DROP_UDP] = "udp",
	[RTTQ_DROP_OTHER] = "other",
};

#define DROP_WORDS (RTTQ_DROP_PROTOS * RTTQ_DROP_SLOTS)
#define ENUM_PREFIX "SKB_DROP_REASON_"

struct collector_counters {
	size_t hstride;              /* bytes per CPU of ungrouped_health */
	void *percpu;                /* one per-CPU lookup's worth */
	uint64_t cur[RTTQ_COUNTERS];
	uint64_t all_cur[RTTQ_COUNTERS];
	uint64_t prev_all[RTTQ_COUNTERS];
	uint64_t retired_all[RTTQ_COUNTERS];
	uint64_t *prev;              /* (max_groups + 1) * RTTQ_COUNTERS */
	uint64_t drop_cur[DROP_WORDS];
	uint64_t drop_prev[DROP_WORDS];
	uint64_t softirq_cur[RTTQ_SOFTIRQS];
	uint64_t softirq_prev[RTTQ_SOFTIRQS];
	uint64_t drops_cur, drops_prev; /* the node's drops total
					 * (collector_add_totals()) */
	char (*drop_names)[METRIC_NAME_MAX]; /* DROP_WORDS counter names */
	struct counter_set set;
};

void collector_drop_reasons(char (*reason)[METRIC_NAME_MAX])
{
	const struct btf_enum *e;
	const struct btf_type *t;
	struct btf *btf;
	unsigned int s, i;
	const char *name;
	char *q;
	int id;

	for (s = 0; s < RTTQ_DROP_SLOTS; s++)
		snprintf(reason[s], METRIC_NAME_MAX, "reason_%u", s);
	snprintf(reason[RTTQ_DROP_UNLISTED], METRIC_NAME_MAX, "unlisted");
	snprintf(reason[RTTQ_DROP_UNKNOWN], METRIC_NAME_MAX, "unknown");
	btf = btf__load_vmlinux_btf();
	id = btf ? btf__find_by_name_kind(btf, "skb_drop_reason",
					  BTF_KIND_ENUM)
		 : -1;
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	for (i = 0; t && i < btf_vlen(t); i++) {
		e = btf_enum(t) + i;
		name = btf__name_by_offset(btf, e->name_off);
		if (!name || e->val < 0 || e->val >= (int)RTTQ_DROP_UNLISTED)
			continue;
		if (!strncmp(name, ENUM_PREFIX, strlen(ENUM_PREFIX)))
			name += strlen(ENUM_PREFIX);
		else if (!strncmp(name, "SKB_", 4))
			name += 4;
		snprintf(reason[e->val], METRIC_NAME_MAX, "%s", name);
		for (q = reason[e->val]; *q; q++)
			*q = (char)tolower((unsigned char)*q);
	}
	btf__free(btf);
}

/* "drops.<proto>.<reason>" for every slot, by collector_drop_reasons(). */
static void name_drops(struct collector_counters *k)
{
	char reason[RTTQ_DROP_SLOTS][METRIC_NAME_MAX], full[2 * METRIC_NAME_MAX];
	unsigned int p, s;
	char *q;

	collector_drop_reasons(reason);
	for (p = 0; p < RTTQ_DROP_PROTOS; p++)
		for (s = 0; s < RTTQ_DROP_SLOTS; s++) {
			q = k->drop_names[p * RTTQ_DROP_SLOTS + s];
			snprintf(full, sizeof(full), "drops.%s.%.*s",
				 proto_names[p], METRIC_NAME_MAX, reason[s]);
			/* A name too long or odd for the store: by number. */
			if (strlen(full) < METRIC_NAME_MAX &&
			    metric_name_valid(full))
				memcpy(q, full, strlen(full) + 1);
			else
				snprintf(q, METRIC_NAME_MAX, "drops.%s.reason_%u",
					 proto_names[p], s);
		}
}

int counters_new(struct collector *c)
{
	struct collector_counters *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	c->counters = k;
	k->hstride = (sizeof(struct rttq_health) + 7) & ~(size_t)7;
	k->percpu = calloc((size_t)c->ncpus,
			   k->hstride > RTTQ_DROPS_SIZE ? k->hstride
							: RTTQ_DROPS_SIZE);
	k->prev = calloc(((size_t)c->max_groups + 1) * RTTQ_COUNTERS,
			 sizeof(*k->prev));
	k->drop_names = calloc(DROP_WORDS, sizeof(*k->drop_names));
	if (!k->percpu || !k->prev || !k->drop_names)
		return -ENOMEM;
	if (c->signals & COLLECTOR_SIG_DROPS)
		name_drops(k);
	return 0;
}

void counters_free(struct collector *c)
{
	struct collector_counters *k = c->counters;

	if (!k)
		return;
	counter_set_free(&k->set);
	free(k->drop_names);
	free(k->prev);
	free(k->percpu);
	free(k);
	c->counters = NULL;
}

void counters_begin(struct collector *c)
{
	memset(c->counters->all_cur, 0, sizeof(c->counters->all_cur));
}

int counters_read(struct collector *c, uint32_t gid, bool to_all,
		  struct rttq_error *err)
{
	struct collector_counters *k = c->counters;
	const struct rttq_health *h;
	uint32_t zero = 0, i;
	int cpu;

	if (!collector_health_on(c))
		return 0;
	if (gid) {
		if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.group_health),
					&gid, k->cur))
			return rttq_fail(err, -errno,
					 "reading map group_health: %s",
					 strerror(errno));
	} else {
		if (bpf_map_lookup_elem(
			    bpf_map__fd(c->skel->maps.ungrouped_health), &zero,
			    k->percpu))
			return rttq_fail(err, -errno,
					 "reading map ungrouped_health: %s",
					 strerror(errno));
		memset(k->cur, 0, sizeof(k->cur));
		for (cpu = 0; cpu < c->ncpus; cpu++) {
			h = (const void *)((const char *)k->percpu +
					   (size_t)cpu * k->hstride);
			for (i = 0; i < RTTQ_COUNTERS; i++)
				k->cur[i] += h->c[i];
		}
	}
	for (i = 0; to_all && i < RTTQ_COUNTERS; i++)
		k->all_cur[i] += k->cur[i];
	return 0;
}

/*
 * Deltas of @cur against @prev (u64, exact across a wrap) into the set
 * under @names, then @prev = @cur.  @return whether any moved.
 */
static bool take_counts(struct collector_counters *k, const uint64_t *cur,
			uint64_t *prev, size_t n, const char *const *names,
			const char (*names2)[METRIC_NAME_MAX])
{
	bool any = false;
	uint64_t d;
	size_t i;

	for (i = 0; i < n; i++) {
		d = cur[i] - prev[i];
		prev[i] = cur[i];
		if (!d)
			continue;
		any = true;
		/* Names are valid and few: only -ENOMEM can fail, and a
		 * lost counter then is better than a lost drain. */
		(void)counter_set_add(&k->set, names ? names[i] : names2[i], d);
	}
	return any;
}

bool counters_delta(struct collector *c, uint32_t gid)
{
	struct collector_counters *k = c->counters;

	counter_set_clear(&k->set);
	if (!collector_health_on(c))
		return false;
	return take_counts(k, k->cur, k->prev + (size_t)gid * RTTQ_COUNTERS,
			   RTTQ_COUNTERS, counter_names, NULL);
}

void counters_retire(struct collector *c, uint32_t gid, bool ok)
{
	struct collector_counters *k = c->counters;
	uint64_t *prev = k->prev + (size_t)gid * RTTQ_COUNTERS;
	uint32_t i;

	if (!ok)
		memcpy(k->cur, prev, sizeof(k->cur));
	/* The walk added prev to "all"; the last counts replace it. */
	for (i = 0; i < RTTQ_COUNTERS; i++) {
		k->all_cur[i] += k->cur[i] - prev[i];
		k->retired_all[i] += k->cur[i];
	}
}

/* Zero @gid's previous sums once its last delta went out. */
void counters_forget(struct collector *c, uint32_t gid)
{
	memset(c->counters->prev + (size_t)gid * RTTQ_COUNTERS, 0,
	       RTTQ_COUNTERS * sizeof(uint64_t));
}

/*
 * The node's small per-CPU counters (node_counts: kernel/node_counts.h)
 * summed over CPUs: the softirq times into k->softirq_cur, the drops
 * total into k->drops_cur.
 */
static int node_read(struct collector *c, struct rttq_error *err)
{
	struct collector_counters *k = c->counters;
	const size_t stride = (sizeof(struct rttq_node_counts) + 7) & ~(size_t)7;
	const struct rttq_node_counts *v;
	uint32_t zero = 0, i;
	int cpu;

	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.node_counts), &zero,
				k->percpu))
		return rttq_fail(err, -errno, "reading map node_counts: %s",
				 strerror(errno));
	memset(k->softirq_cur, 0, sizeof(k->softirq_cur));
	k->drops_cur = 0;
	for (cpu = 0; cpu < c->ncpus; cpu++) {
		v = (const void *)((const char *)k->percpu +
				   (size_t)cpu * stride);
		for (i = 0; i < RTTQ_SOFTIRQS; i++)
			k->softirq_cur[i] += v->ns[i];
		k->drops_cur += v->drops;
	}
	return 0;
}

/* "all"'s counters against their previous sums, which then move. */
static void take_all(struct collector_counters *k, uint64_t *delta)
{
	uint32_t i;

	for (i = 0; i < RTTQ_COUNTERS; i++) {
		if (delta)
			delta[i] += k->all_cur[i] - k->prev_all[i];
		/* Zeroed ids no longer add to the kernel's sum: nor to ours. */
		k->prev_all[i] = k->all_cur[i] - k->retired_all[i];
	}
	memset(k->retired_all, 0, sizeof(k->retired_all));
}

int counters_all(struct collector *c, struct rttq_error *err)
{
	struct collector_counters *k = c->counters;
	const uint64_t *v;
	uint32_t zero = 0, i;
	int cpu, r;

	counter_set_clear(&k->set);
	if (collector_health_on(c)) {
		take_counts(k, k->all_cur, k->prev_all, RTTQ_COUNTERS,
			    counter_names, NULL);
		take_all(k, NULL);
	}
	if (c->signals & COLLECTOR_SIG_SOFTIRQ) {
		r = node_read(c, err);
		if (r)
			return r;
		take_counts(k, k->softirq_cur, k->softirq_prev, RTTQ_SOFTIRQS,
			    softirq_names, NULL);
	}
	if (!(c->signals & COLLECTOR_SIG_DROPS))
		return 0;
	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.drops), &zero,
				k->percpu))
		return rttq_fail(err, -errno, "reading map drops: %s",
				 strerror(errno));
	memset(k->drop_cur, 0, sizeof(k->drop_cur));
	for (cpu = 0; cpu < c->ncpus; cpu++) {
		v = (const void *)((const char *)k->percpu +
				   (size_t)cpu * RTTQ_DROPS_SIZE);
		for (i = 0; i < DROP_WORDS; i++)
			k->drop_cur[i] += v[i];
	}
	take_counts(k, k->drop_cur, k->drop_prev, DROP_WORDS, NULL,
		    (const char (*)[METRIC_NAME_MAX])k->drop_names);
	return 0;
}

int counters_add_totals(struct collector *c, struct collector_totals *t,
			struct rttq_error *err)
{
	struct collector_counters *k = c->counters;
	bool softirq = c->signals & COLLECTOR_SIG_SOFTIRQ;
	bool drops = c->signals & COLLECTOR_SIG_DROPS;
	uint32_t i;
	int r;

	/* One small lookup for both: the drops by reason, 6 KiB per CPU,
	 * are not read (a control loop wants how many, not why). */
	if (softirq || drops) {
		r = node_read(c, err);
		if (r)
			return r;
	}
	if (collector_health_on(c))
		take_all(k, t->counters);
	for (i = 0; softirq && i < RTTQ_SOFTIRQS; i++) {
		t->softirq_ns[i] += k->softirq_cur[i] - k->softirq_prev[i];
		k->softirq_prev[i] = k->softirq_cur[i];
	}
	if (drops) {
		t->drops += k->drops_cur - k->drops_prev;
		k->drops_prev = k->drops_cur;
	}
	return 0;
}

const struct counter_set *counters_set(const struct collector *c)
{
	return &c->counters->set;
}
