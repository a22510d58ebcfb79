// SPDX-License-Identifier: BSD-2-Clause
/*
 * Counter names to Prometheus families and labels (counter_prom.h).  The
 * kernel names drop reasons itself (BTF enum skb_drop_reason), so the
 * families are chosen by the name's prefix, never by a list of names.
 */
#include <stdbool.h>
#include <string.h>

#include "counter_prom.h"
#include "counter_set.h"
#include "metric.h"
#include "prom_text.h"

enum family {
	FAM_RETRANS,
	FAM_CONN,
	FAM_RST,
	FAM_SEGS,
	FAM_LOSS,
	FAM_DROPS,
	FAM_FLOW,
	FAM_BYTES,
	FAM_SOFTIRQ,
	FAM_OTHER,
	FAMILIES,
};

static const struct {
	const char *prefix; /* with its dot; or the whole name (segs.out) */
	const char *name, *help;
	const char *label;  /* the label the rest of the name goes to */
	const char *label2; /* with it, the rest splits at its first dot:
			     * label gets the first part, label2 the other */
	bool node;          /* node-wide: "all" only, no group label */
	bool ns;            /* counted in ns ("_ns" ends the name),
			     * exported in seconds */
} families[FAMILIES] = {
	[FAM_RETRANS] = { "retrans.", "rttq_retransmits_total",
			  "Successful TCP retransmissions per group by cause (fast, timeout, tlp, syn).",
			  "cause" },
	[FAM_CONN] = { "conn.", "rttq_connections_total",
		       "TCP connections per group: opened (active), accepted (passive), failed (opened, closed before ESTABLISHED), closed (established ones, --signals flows).",
		       "event" },
	[FAM_RST] = { "rst.", "rttq_resets_total",
		      "TCP resets per group, sent or received.", "direction" },
	[FAM_SEGS] = { "segs.out", "rttq_segments_sent_total",
		       "TCP segments sent per group.", NULL },
	[FAM_LOSS] = { "loss.", "rttq_loss_episodes_total",
		       "TCP loss episodes entered per group: recovery (fast recovery) or timeout (RTO loss state).",
		       "kind" },
	[FAM_DROPS] = { "drops.", "rttq_drops_total",
			"Packets the kernel freed with a drop reason, node-wide, by protocol and reason (as the kernel names it).",
			"proto", "reason", true },
	[FAM_FLOW] = { "flow.", "rttq_closed_flow_bytes_total",
		       "Bytes of the TCP connections that closed, per group, as the kernel counted them over each connection's life (--signals flows).",
		       "kind" },
	[FAM_BYTES] = { "bytes.", "rttq_bytes_total",
			"Payload bytes of the send and receive calls per group, by direction (sent, received) and protocol (tcp, udp).",
			"direction", "proto" },
	[FAM_SOFTIRQ] = { "softirq.", "rttq_softirq_seconds_total",
			  "Time the CPUs spent in the network softirqs, node-wide, by vector (net_rx, net_tx).",
			  "vec", NULL, true, true },
	[FAM_OTHER] = { "", "rttq_other_counters_total",
			"Counters this agent has no family for, by name.",
			"counter" },
};

/*
 * The family of counter @name of @group; @a and @b receive the label
 * values (METRIC_NAME_MAX bytes each).
 */
static enum family classify(const char *group, const char *name, char *a,
			    char *b)
{
	const char *rest, *dot;
	size_t len;
	int f;

	for (f = 0; f < FAM_OTHER; f++) {
		len = strlen(families[f].prefix);
		if (strncmp(name, families[f].prefix, len) != 0)
			continue;
		rest = name + len;
		if (f == FAM_SEGS) {
			if (*rest)
				continue;
			return FAM_SEGS;
		}
		/* Node-wide counters are counted in "all" only. */
		if (families[f].node && strcmp(group, "all") != 0)
			break;
		len = strlen(rest);
		if (families[f].ns) {
			if (len < 3 || strcmp(rest + len - 3, "_ns") != 0)
				break;
			len -= 3;
		}
		if (!families[f].label2) {
			snprintf(a, METRIC_NAME_MAX, "%.*s", (int)len, rest);
			return (enum family)f;
		}
		dot = strchr(rest, '.');
		if (!dot)
			break;
		snprintf(a, METRIC_NAME_MAX, "%.*s", (int)(dot - rest), rest);
		snprintf(b, METRIC_NAME_MAX, "%s", dot + 1);
		return (enum family)f;
	}
	snprintf(a, METRIC_NAME_MAX, "%s", name);
	return FAM_OTHER;
}

static void put_sample(FILE *f, enum family fam, const char *group,
		       const char *a, const char *b, uint64_t v)
{
	struct prom_label labels[3];
	size_t n = 0;

	if (!families[fam].node)
		labels[n++] = (struct prom_label){ "group", group };
	if (families[fam].label)
		labels[n++] = (struct prom_label){ families[fam].label, a };
	if (families[fam].label2)
		labels[n++] = (struct prom_label){ families[fam].label2, b };
	if (families[fam].ns)
		prom_sample_double(f, families[fam].name, labels, n, v / 1e9);
	else
		prom_sample_u64(f, families[fam].name, labels, n, v);
}

void counter_prom_put(FILE *f, size_t n, counter_prom_group_fn get,
		      const void *arg)
{
	char a[METRIC_NAME_MAX], b[METRIC_NAME_MAX];
	int fam;

	/* A family's samples must be contiguous: one pass per family. */
	for (fam = 0; fam < FAMILIES; fam++) {
		prom_family(f, families[fam].name, "counter",
			    families[fam].help);
		for (size_t g = 0; g < n; g++) {
			const struct counter_set *c;
			const char *group;

			get(g, &group, &c, arg);
			for (size_t i = 0; i < c->n; i++)
				if (classify(group, c->v[i].name, a, b) ==
				    (enum family)fam)
					put_sample(f, (enum family)fam, group,
						   a, b, c->v[i].value);
		}
	}
}
