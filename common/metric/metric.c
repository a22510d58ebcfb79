// SPDX-License-Identifier: BSD-2-Clause
/*
 * Metric names (metric.h): one spelling rule for the store, the API and
 * Prometheus labels, and the one list of distributions every surface
 * (API, CLI, agent) accepts.
 */
#include <string.h>

#include "metric.h"

int metric_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len >= METRIC_NAME_MAX || name[0] == '.' ||
	    name[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.' && name[i + 1] == '.')
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

const char *metric_or_rtt(const char *metric)
{
	return metric && metric[0] ? metric : METRIC_RTT;
}

static const struct metric_dist dists[] = {
	{ METRIC_RTT, "ms", "TCP smoothed RTT (srtt) per segment received" },
	{ METRIC_JITTER, "ms", "TCP RTT jitter (mdev, as ss -ti prints it)" },
	{ METRIC_HANDSHAKE, "ms",
	  "time from SYN sent to ESTABLISHED, connections this host opened" },
	{ METRIC_RUNQLAT, "ms", "run-queue latency: wake-up to running" },
	{ METRIC_SNDBUF, "%", "send buffer queued, per cent of sk_sndbuf" },
	{ METRIC_FLOW_DURATION, "ms",
	  "lifetime of TCP connections that closed, SYN to close" },
	{ METRIC_RX_STACK, "us",
	  "received packet, driver hand-off (netif_receive_skb) to TCP" },
	{ METRIC_RX_SOCKET, "us",
	  "received data, TCP to the application's read that took it" },
	{ METRIC_TX_STACK, "us",
	  "sent segment, TCP's transmit to queued to the device" },
	{ METRIC_TX_QDISC, "us",
	  "sent packet, queued to the device to the driver's transmit" },
};

const struct metric_dist *metric_dist_find(const char *name)
{
	size_t i;

	for (i = 0; name && i < sizeof(dists) / sizeof(dists[0]); i++)
		if (!strcmp(name, dists[i].name))
			return &dists[i];
	return NULL;
}

const struct metric_dist *metric_dist_at(unsigned int i)
{
	return i < sizeof(dists) / sizeof(dists[0]) ? &dists[i] : NULL;
}
