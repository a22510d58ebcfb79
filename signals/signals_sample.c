// SPDX-License-Identifier: BSD-2-Clause
/*
 * librttq-signals, the sample: rttq_signals_read_and_reset() is one
 * collector drain whose group "all" is folded into the few numbers a
 * control loop reads (counters summed by family, RTT and send-buffer
 * distributions reduced to quantiles and a mean), so a call costs one
 * read of the per-CPU maps and no allocation.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "buckets.h"
#include "collector.h"
#include "counter_set.h"
#include "hist.h"
#include "metric.h"
#include "signals_private.h"

/* sndbuf samples are thousandths of a per cent (metric.h): 100 % is
 * 100,000, pressure 1.0. */
#define SNDBUF_FULL 100000.0

/* Which sample field each counter family adds to. */
static const struct {
	const char *pattern;       /* counter_name_match() */
	size_t offset;             /* of the uint64_t in struct signals_acc */
} families[] = {
	{ "bytes.sent.*", offsetof(struct signals_acc, send_bytes) },
	{ "bytes.received.*", offsetof(struct signals_acc, recv_bytes) },
	{ "drops.*", offsetof(struct signals_acc, drops) },
	{ "retrans.*", offsetof(struct signals_acc, retransmits) },
	{ "softirq.*", offsetof(struct signals_acc, softirq_ns) },
};

uint64_t signals_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int signals_acc_init(struct signals_acc *acc)
{
	memset(acc, 0, sizeof(*acc));
	/* The collector's own default (signals_open.c sets no sub-bits),
	 * so its deltas merge. */
	if (hist_new(BUCKET_SUB_BITS_DEFAULT, &acc->rtt) ||
	    hist_new(BUCKET_SUB_BITS_DEFAULT, &acc->sndbuf))
		return -ENOMEM;
	return 0;
}

void signals_acc_free(struct signals_acc *acc)
{
	hist_free(acc->rtt);
	hist_free(acc->sndbuf);
	acc->rtt = acc->sndbuf = NULL;
}

/* collector_group_fn: the distributions of "all" (groups are off, so
 * "all" is the only group there is). */
static int on_dist(const char *group, const char *metric,
		   const struct hist *delta, void *arg)
{
	struct signals_acc *acc = arg;

	if (strcmp(group, "all") != 0)
		return 0;
	if (!strcmp(metric, METRIC_RTT))
		return hist_merge(acc->rtt, delta);
	if (!strcmp(metric, METRIC_SNDBUF))
		return hist_merge(acc->sndbuf, delta);
	return 0;
}

/* collector_counters_fn: node and connection counters of "all". */
static int on_counters(const char *group, const struct counter_set *delta,
		       void *arg)
{
	struct signals_acc *acc = arg;
	size_t i, f;

	if (strcmp(group, "all") != 0)
		return 0;
	for (i = 0; i < delta->n; i++)
		for (f = 0; f < sizeof(families) / sizeof(families[0]); f++)
			if (counter_name_match(families[f].pattern,
					       delta->v[i].name)) {
				*(uint64_t *)((char *)acc +
					      families[f].offset) +=
					delta->v[i].value;
				break;
			}
	return 0;
}

int signals_drain(struct rttq_signals *h)
{
	int ret;

	collector_on_counters(h->collector, on_counters, &h->acc);
	ret = collector_drain(h->collector, on_dist, &h->acc, &h->err);
	if (ret < 0 && !h->err.msg[0])
		rttq_fail(&h->err, ret, "rttq_signals_read_and_reset: %s",
			  strerror(-ret));
	return ret < 0 ? ret : 0;
}

/* @v as a pressure: 0..1 (a queue may pass sk_sndbuf a little). */
static double pressure(double v)
{
	v /= SNDBUF_FULL;
	return v > 1.0 ? 1.0 : v;
}

void signals_acc_take(struct signals_acc *acc, uint64_t interval_ns,
		      struct rttq_signal_sample *out)
{
	uint64_t n;

	memset(out, 0, sizeof(*out));
	out->interval_ns = interval_ns;
	out->send_bytes = acc->send_bytes;
	out->recv_bytes = acc->recv_bytes;
	out->drops = acc->drops;
	out->retransmits = acc->retransmits;
	out->softirq_ns = acc->softirq_ns;
	out->events = hist_count(acc->rtt);
	if (out->events) {
		out->rtt_p50_us = hist_quantile(acc->rtt, 0.50);
		out->rtt_p99_us = hist_quantile(acc->rtt, 0.99);
	}
	n = hist_count(acc->sndbuf);
	if (n) {
		out->sndbuf_pressure_avg =
			pressure(hist_sum_us(acc->sndbuf) / (double)n);
		out->sndbuf_pressure_max = pressure(hist_max_us(acc->sndbuf));
	}
	hist_reset(acc->rtt);
	hist_reset(acc->sndbuf);
	acc->send_bytes = acc->recv_bytes = acc->drops = 0;
	acc->retransmits = acc->softirq_ns = 0;
}

SIGNALS_API int rttq_signals_read_and_reset(struct rttq_signals *h,
					    struct rttq_signal_sample *out)
{
	uint64_t now;
	int ret;

	memset(&h->err, 0, sizeof(h->err));
	ret = signals_drain(h);
	if (ret) {
		memset(out, 0, sizeof(*out));
		return ret;
	}
	now = signals_now_ns();
	signals_acc_take(&h->acc, now - h->last_ns, out);
	h->last_ns = now;
	return 0;
}
