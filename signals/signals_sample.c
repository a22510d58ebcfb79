// SPDX-License-Identifier: BSD-2-Clause
/*
 * librttq-signals, the sample: rttq_signals_read_and_reset() is one
 * collector_add_totals() (the collector's drain of "all" by index: three
 * per-CPU map lookups, no names, no callbacks) folded into the few
 * numbers a control loop reads (counters summed by family, RTT and
 * send-buffer distributions reduced to quantiles and a mean), with no
 * allocation.
 */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "buckets.h"
#include "collector.h"
#include "hist.h"
#include "signals_private.h"

/* sndbuf samples are thousandths of a per cent (metric.h): 100 % is
 * 100,000, pressure 1.0. */
#define SNDBUF_FULL 100000.0

uint64_t signals_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int signals_acc_init(struct collector_totals *acc)
{
	memset(acc, 0, sizeof(*acc));
	/* The collector's own default (signals_open.c sets no sub-bits),
	 * so its deltas add. */
	if (hist_new(BUCKET_SUB_BITS_DEFAULT, &acc->dist[RTTQ_DIST_RTT]) ||
	    hist_new(BUCKET_SUB_BITS_DEFAULT, &acc->dist[RTTQ_DIST_SNDBUF]))
		return -ENOMEM;
	return 0;
}

void signals_acc_free(struct collector_totals *acc)
{
	hist_free(acc->dist[RTTQ_DIST_RTT]);
	hist_free(acc->dist[RTTQ_DIST_SNDBUF]);
	acc->dist[RTTQ_DIST_RTT] = acc->dist[RTTQ_DIST_SNDBUF] = NULL;
}

int signals_drain(struct rttq_signals *h)
{
	int ret = collector_add_totals(h->collector, &h->acc, &h->err);

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

/* The sum of @acc's counters @first .. @last (enum rttq_counter). */
static uint64_t family(const struct collector_totals *acc,
		       enum rttq_counter first, enum rttq_counter last)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = first; i <= last; i++)
		sum += acc->counters[i];
	return sum;
}

void signals_acc_take(struct collector_totals *acc, uint64_t interval_ns,
		      struct rttq_signal_sample *out)
{
	struct hist *rtt = acc->dist[RTTQ_DIST_RTT];
	struct hist *sndbuf = acc->dist[RTTQ_DIST_SNDBUF];
	uint64_t n;

	memset(out, 0, sizeof(*out));
	out->interval_ns = interval_ns;
	/* The families the header documents: bytes.sent.*,
	 * bytes.received.*, retrans.*, softirq.* and drops.*. */
	out->send_bytes = acc->counters[RTTQ_C_BYTES_SENT_TCP] +
			  acc->counters[RTTQ_C_BYTES_SENT_UDP];
	out->recv_bytes = acc->counters[RTTQ_C_BYTES_RECV_TCP] +
			  acc->counters[RTTQ_C_BYTES_RECV_UDP];
	out->retransmits = family(acc, RTTQ_C_RETRANS_FAST, RTTQ_C_RETRANS_SYN);
	out->softirq_ns = acc->softirq_ns[RTTQ_SOFTIRQ_RX] +
			  acc->softirq_ns[RTTQ_SOFTIRQ_TX];
	out->drops = acc->drops;
	out->events = hist_count(rtt);
	if (out->events) {
		out->rtt_p50_us = hist_quantile(rtt, 0.50);
		out->rtt_p99_us = hist_quantile(rtt, 0.99);
		hist_reset(rtt);
	}
	n = hist_count(sndbuf);
	if (n) {
		out->sndbuf_pressure_avg =
			pressure(hist_sum_us(sndbuf) / (double)n);
		out->sndbuf_pressure_max = pressure(hist_max_us(sndbuf));
		/* An empty one is reset already: 7 KiB not written. */
		hist_reset(sndbuf);
	}
	memset(acc->counters, 0, sizeof(acc->counters));
	memset(acc->softirq_ns, 0, sizeof(acc->softirq_ns));
	acc->drops = 0;
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
