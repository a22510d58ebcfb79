/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The agent's counters as Prometheus counter families.  Counter names are
 * dotted (metric.h: retrans.fast, drops.tcp.netfilter_drop); Prometheus
 * wants one family per kind with the rest as labels, so this maps each
 * name to its family and labels in one place:
 *
 *   retrans.CAUSE        rttq_retransmits_total{group,cause}
 *   conn.EVENT           rttq_connections_total{group,event}
 *   rst.DIRECTION        rttq_resets_total{group,direction}
 *   segs.out             rttq_segments_sent_total{group}
 *   loss.KIND            rttq_loss_episodes_total{group,kind}
 *   drops.PROTO.REASON   rttq_drops_total{proto,reason}   (group "all"
 *                        only: drops are counted node-wide)
 *   bytes.DIR.PROTO      rttq_bytes_total{group,direction,proto}
 *   softirq.VEC_ns       rttq_softirq_seconds_total{vec}   ("all" only,
 *                        in seconds)
 *   anything else        rttq_other_counters_total{group,counter}
 */
#ifndef RTTQ_AGENT_COUNTER_PROM_H
#define RTTQ_AGENT_COUNTER_PROM_H

#include <stddef.h>
#include <stdio.h>

struct counter_set;

/* Group @i of the caller's (0 <= @i < n): its name and its counters,
 * totals since the agent started. */
typedef void (*counter_prom_group_fn)(size_t i, const char **group,
				      const struct counter_set **counters,
				      const void *arg);

/**
 * counter_prom_put() - write every counter family above to @f, HELP and
 * TYPE lines always (so a scraper sees the family before it counts), then
 * one sample per counter, groups in the order given and counters in name
 * order.
 * @f: the stream (prom_text.h).
 * @n: how many groups.
 * @get: hands out group @i.
 * @arg: passed to @get.
 */
void counter_prom_put(FILE *f, size_t n, counter_prom_group_fn get,
		      const void *arg);

#endif /* RTTQ_AGENT_COUNTER_PROM_H */
