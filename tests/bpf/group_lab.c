// SPDX-License-Identifier: BSD-2-Clause
/*
 * The lab network namespace and drain results by group name for the bpf
 * tests (group_lab.h).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "group_lab.h"
#include "hist.h"
#include "traffic.h"
#include "metric.h"

static const char *const lab_addrs[] = {
	"10.77.1.1", "10.77.1.2", "10.77.2.1", "10.77.2.2", "10.99.0.1",
	"10.99.0.2", "fd77:1::1", "fd77:1::2", "fd77:2::1",
};

void group_lab_up(void)
{
	char cmd[128];
	size_t i;

	REQUIRE(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s",
		strerror(errno));
	REQUIRE(system("ip link set lo up") == 0, "ip link set lo up");
	/* nodad: usable at once, not after duplicate address detection. */
	for (i = 0; i < sizeof(lab_addrs) / sizeof(lab_addrs[0]); i++) {
		snprintf(cmd, sizeof(cmd), "ip addr add %s dev lo%s",
			 lab_addrs[i],
			 strchr(lab_addrs[i], ':') ? " nodad" : "");
		REQUIRE(system(cmd) == 0, "%s", cmd);
	}
}

static int on_group(const char *group, const char *metric,
		    const struct hist *delta, void *arg)
{
	struct tally *t = arg;

	/* Other metrics are not this caller's (yet). */
	if (strcmp(metric, METRIC_RTT) != 0)
		return 0;
	REQUIRE(t->n < TALLY_MAX, "more than %d groups in one drain",
		TALLY_MAX);
	snprintf(t->g[t->n].name, sizeof(t->g[t->n].name), "%s", group);
	t->g[t->n].count = hist_count(delta);
	t->n++;
	return 0;
}

void tally_drain(struct collector *c, struct tally *t)
{
	struct rttq_error err = { 0 };

	memset(t, 0, sizeof(*t));
	REQUIRE(collector_drain(c, on_group, t, &err) == 0,
		"collector_drain: %s", err.msg);
}

uint64_t tally_get(const struct tally *t, const char *name)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->g[i].name, name))
			return t->g[i].count;
	return 0;
}

uint64_t tally_sum(const struct tally *t, const char *prefix)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (!strncmp(t->g[i].name, prefix, strlen(prefix)))
			sum += t->g[i].count;
	return sum;
}

void tally_print(const struct tally *t, const char *what, const char *prefix)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (!strncmp(t->g[i].name, prefix, strlen(prefix)))
			printf("  %s %s: %llu\n", what, t->g[i].name,
			       (unsigned long long)t->g[i].count);
}

struct collector *group_lab_open(const struct collector_opts *o)
{
	struct rttq_error err = { 0 };
	struct collector *c = NULL;

	REQUIRE(collector_open(o, &c, &err) == 0, "collector_open: %s",
		err.msg);
	return c;
}

void group_lab_flow(const char *server, uint16_t port, const char *client,
		    struct traffic_conn *t)
{
	REQUIRE_CMP(traffic_between(server, port, client, GROUP_LAB_EXCHANGES,
				    t), ==, 0);
}

/* A delayed ACK (TCP_DELACK_MAX, 200 ms) is the last event an exchange
 * leaves behind. */
void group_lab_drain(struct collector *a, struct tally *ta,
		     struct collector *b, struct tally *tb)
{
	usleep(250000);
	tally_drain(a, ta);
	tally_drain(b, tb);
}

void group_lab_check(const struct tally *t, const char *group, uint64_t want)
{
	uint64_t got = tally_get(t, group);

	printf("  %s: %llu (control %llu)\n", group, (unsigned long long)got,
	       (unsigned long long)want);
	CHECK(got == want, "%s: %llu events, the control counted %llu", group,
	      (unsigned long long)got, (unsigned long long)want);
	CHECK(want >= GROUP_LAB_EXCHANGES,
	      "%s: only %llu events for %d exchanges", group,
	      (unsigned long long)want, GROUP_LAB_EXCHANGES);
}
