// SPDX-License-Identifier: BSD-2-Clause
/*
 * End-to-end test of the collector on the running kernel: load and attach
 * kernel/rttq.bpf.c, push real TCP traffic over loopback, drain, and check
 * what a user relies on: the auto mode lands on a working attach point,
 * RTTs are counted and plausible, filters exclude what they should, groups
 * are named as documented, and a forced raw_tp attach works too.
 */
#undef NDEBUG
#include <arpa/inet.h>
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "collector_opts.h"
#include "hist.h"
#include "traffic.h"

#define EXCHANGES 500

/* What one drain saw: the "all" series and one named group. */
struct seen {
	const char *want;          /* group name to look for, or NULL */
	uint64_t all_count;
	double all_p50_us, all_max_us;
	uint64_t want_count;
	unsigned int groups;       /* callbacks other than "all" */
};

static int on_group(const char *group, const struct hist *delta, void *arg)
{
	struct seen *s = arg;

	assert(hist_count(delta) > 0);
	if (!strcmp(group, "all")) {
		s->all_count = hist_count(delta);
		s->all_p50_us = hist_quantile(delta, 0.5);
		s->all_max_us = hist_max_us(delta);
		return 0;
	}
	s->groups++;
	if (s->want && !strcmp(group, s->want))
		s->want_count += hist_count(delta);
	return 0;
}

static struct collector *open_or_die(const struct collector_opts *o)
{
	struct rttq_error err = { 0 };
	struct collector *c = NULL;

	if (collector_open(o, &c, &err)) {
		fprintf(stderr, "collector_open: %s\n", err.msg);
		exit(1);
	}
	/* Auto mode must land on tp_btf here, whatever the settings. */
	if (!o->attach && strcmp(collector_attach_mode(c), "tp_btf")) {
		fprintf(stderr, "auto mode attached %s, not tp_btf\n",
			collector_attach_mode(c));
		exit(1);
	}
	return c;
}

static void drain_or_die(struct collector *c, struct seen *s)
{
	struct rttq_error err = { 0 };

	if (collector_drain(c, on_group, s, &err)) {
		fprintf(stderr, "collector_drain: %s\n", err.msg);
		exit(1);
	}
}

static void traffic_or_die(int family, struct traffic_result *t)
{
	assert(traffic_run(family, EXCHANGES, t) == 0);
	assert(t->exchanges == EXCHANGES);
}

/* Auto mode attaches tp_btf here (fentry EPERM, no kprobes) and counts. */
static void test_auto_counts_loopback(void)
{
	struct collector_opts o = { .include_loopback = true,
				    .group_by = COLLECTOR_BY_RADDR };
	struct traffic_result t;
	struct collector *c = open_or_die(&o);
	struct seen s = { .want = "raddr:127.0.0.1" };

	printf("auto mode attached %s\n", collector_attach_mode(c));
	assert(!strcmp(collector_attach_mode(c), "tp_btf"));
	assert(collector_prog_fd(c) >= 0);
	drain_or_die(c, &s);       /* forget whatever came before */
	memset(&s, 0, sizeof(s));
	s.want = "raddr:127.0.0.1";
	traffic_or_die(AF_INET, &t);
	drain_or_die(c, &s);
	printf("all: %llu events, p50 %.1f us, max %.1f us; %s: %llu\n",
	       (unsigned long long)s.all_count, s.all_p50_us, s.all_max_us,
	       s.want, (unsigned long long)s.want_count);
	/* Both ends receive every message: at least one event per exchange. */
	assert(s.all_count >= EXCHANGES);
	assert(s.want_count >= EXCHANGES);
	assert(s.all_p50_us > 0 && s.all_p50_us < 1e6);
	assert(s.all_max_us > 0 && s.all_max_us < 1e6);
	assert(collector_overflow(c) == 0);

	/* New sockets of the same peer land in the same group. */
	memset(&s, 0, sizeof(s));
	s.want = "raddr:127.0.0.1";
	traffic_or_die(AF_INET, &t);
	traffic_or_die(AF_INET, &t);
	drain_or_die(c, &s);
	assert(s.want_count >= 2 * EXCHANGES);

	/* Deltas, not totals: a drain with no traffic of ours adds little. */
	memset(&s, 0, sizeof(s));
	s.want = "raddr:127.0.0.1";
	drain_or_die(c, &s);
	assert(s.want_count < EXCHANGES);
	collector_close(c);
}

/* A port filter naming an unused port counts nothing at all. */
static void test_unused_port_counts_nothing(void)
{
	struct collector_opts o = { .include_loopback = true, .rport = 9,
				    .lport = 9 };
	struct traffic_result t;
	struct collector *c = open_or_die(&o);
	struct seen s = { 0 };

	traffic_or_die(AF_INET, &t);
	drain_or_die(c, &s);
	assert(s.all_count == 0);
	collector_close(c);
}

/* Loopback is excluded by default; an lport filter isolates our server. */
static void test_loopback_excluded_by_default(void)
{
	struct collector_opts o = { 0 };
	struct traffic_result t;
	struct collector *c;
	struct seen s = { 0 };

	/* The port is only known after a run: filter on a finished one. */
	traffic_or_die(AF_INET, &t);
	o.lport = t.server_port;
	c = open_or_die(&o);
	drain_or_die(c, &s);
	assert(s.all_count == 0);
	collector_close(c);

	/* Same with groups, where the verdict is remembered per socket. */
	o.lport = 0;
	o.group_by = COLLECTOR_BY_RADDR;
	c = open_or_die(&o);
	traffic_or_die(AF_INET, &t);
	memset(&s, 0, sizeof(s));
	s.want = "raddr:127.0.0.1";
	drain_or_die(c, &s);
	assert(s.want_count == 0);
	collector_close(c);
}

/* laddr CIDR filters: 127.0.0.0/8 matches our traffic, 10.0.0.0/8 not. */
static void test_cidr_filters(void)
{
	struct collector_opts o = { .include_loopback = true,
				    .group_by = COLLECTOR_BY_LPORT };
	struct rttq_error err = { 0 };
	struct traffic_result t;
	struct collector *c;
	struct seen s = { 0 };
	char want[32];

	assert(collector_parse_addr("127.0.0.0/8", &o.laddr, &err) == 0);
	c = open_or_die(&o);
	traffic_or_die(AF_INET, &t);
	snprintf(want, sizeof(want), "lport:%u", t.server_port);
	s.want = want;
	drain_or_die(c, &s);
	assert(s.want_count >= EXCHANGES / 2);
	collector_close(c);

	assert(collector_parse_addr("10.0.0.0/8", &o.laddr, &err) == 0);
	c = open_or_die(&o);
	memset(&s, 0, sizeof(s));
	s.want = want;
	traffic_or_die(AF_INET, &t);
	snprintf(want, sizeof(want), "lport:%u", t.server_port);
	drain_or_die(c, &s);
	assert(s.want_count == 0);
	collector_close(c);

	/* An IPv6 prefix outside ::ffff:0:0/96 never matches IPv4 peers. */
	o.laddr.family = 0;
	assert(collector_parse_addr("fe80::/10", &o.raddr, &err) == 0);
	c = open_or_die(&o);
	memset(&s, 0, sizeof(s));
	traffic_or_die(AF_INET, &t);
	snprintf(want, sizeof(want), "lport:%u", t.server_port);
	s.want = want;
	drain_or_die(c, &s);
	assert(s.want_count == 0);
	collector_close(c);
}

/* IPv6 ::1 is grouped and named in IPv6 notation, with ports. */
static void test_ipv6_group_names(void)
{
	struct collector_opts o = {
		.include_loopback = true,
		.group_by = COLLECTOR_BY_RADDR | COLLECTOR_BY_RPORT,
	};
	struct traffic_result t;
	struct collector *c = open_or_die(&o);
	struct seen s = { 0 };
	char want[64];

	if (traffic_run(AF_INET6, EXCHANGES, &t)) {
		printf("no IPv6 loopback here; IPv6 naming not checked\n");
		collector_close(c);
		return;
	}
	/* The client's peer is the server: raddr ::1, rport server port. */
	snprintf(want, sizeof(want), "raddr:::1,rport:%u", t.server_port);
	s.want = want;
	drain_or_die(c, &s);
	printf("%s: %llu events\n", want, (unsigned long long)s.want_count);
	assert(s.want_count >= EXCHANGES / 2);
	collector_close(c);
}

/* --attach raw_tp works on its own (BPF_CORE_READ path). */
static void test_forced_raw_tp(void)
{
	struct collector_opts o = { .include_loopback = true,
				    .group_by = COLLECTOR_BY_RADDR |
						COLLECTOR_BY_LPORT,
				    .attach = "raw_tp", .sub_bits = 7 };
	struct traffic_result t;
	struct collector *c = open_or_die(&o);
	struct seen s = { 0 };
	char want[64];

	assert(!strcmp(collector_attach_mode(c), "raw_tp"));
	traffic_or_die(AF_INET, &t);
	snprintf(want, sizeof(want), "raddr:127.0.0.1,lport:%u", t.server_port);
	s.want = want;
	drain_or_die(c, &s);
	printf("raw_tp: all %llu events, p50 %.1f us; %s: %llu\n",
	       (unsigned long long)s.all_count, s.all_p50_us, want,
	       (unsigned long long)s.want_count);
	assert(s.all_count >= EXCHANGES);
	assert(s.want_count >= EXCHANGES / 2);
	assert(s.all_p50_us > 0 && s.all_p50_us < 1e6);
	collector_close(c);
}

/* A forced mode that cannot work fails with a message naming it. */
static void test_forced_fentry_fails_clearly(void)
{
	struct collector_opts o = { .attach = "fentry" };
	struct rttq_error err = { 0 };
	struct collector *c = NULL;
	int ret = collector_open(&o, &c, &err);

	if (!ret) {
		printf("fentry attaches on this kernel\n");
		collector_close(c);
		return;
	}
	printf("fentry: %s\n", err.msg);
	assert(ret < 0 && !c);
	assert(strstr(err.msg, "fentry: load:"));
}

/* A group map of one entry: the second group overflows, and says so. */
static void test_overflow_counted(void)
{
	struct collector_opts o = { .include_loopback = true,
				    .group_by = COLLECTOR_BY_LPORT,
				    .max_groups = 1 };
	struct traffic_result t;
	struct collector *c = open_or_die(&o);
	struct seen s = { 0 };

	traffic_or_die(AF_INET, &t);   /* server and client lport differ */
	drain_or_die(c, &s);
	printf("max_groups 1: %u group(s), overflow %llu\n", s.groups,
	       (unsigned long long)collector_overflow(c));
	assert(s.groups == 1);
	assert(collector_overflow(c) > 0);
	collector_close(c);
}

/*
 * Every combination of settings passes the verifier in both code paths
 * (direct loads for tp_btf, probe reads for raw_tp): rodata constants
 * prune different branches, and clang lays each variant out differently.
 */
static void test_every_setting_loads(void)
{
	static const char *const modes[] = { "tp_btf", "raw_tp" };
	struct rttq_error err = { 0 };
	struct collector_opts o;
	struct collector *c;
	unsigned int by, bits, m;

	for (m = 0; m < 2; m++)
		for (by = 0; by < 16; by++)
			for (bits = 0; bits < 8; bits++) {
				memset(&o, 0, sizeof(o));
				o.attach = modes[m];
				o.group_by = by;
				o.include_loopback = bits & 1;
				o.max_groups = 16;
				if (bits & 2) {
					o.lport = 80;
					o.rport = 443;
				}
				if (bits & 4) {
					collector_parse_addr("10.0.0.0/8",
							     &o.laddr, &err);
					collector_parse_addr("2001:db8::/32",
							     &o.raddr, &err);
				}
				o.sub_bits = 3 + (by + bits) % 5;
				c = NULL;
				if (collector_open(&o, &c, &err)) {
					fprintf(stderr, "%s group_by %u bits %u:"
						" %s\n", modes[m], by, bits,
						err.msg);
					exit(1);
				}
				collector_close(c);
			}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_auto_counts_loopback();
	test_unused_port_counts_nothing();
	test_loopback_excluded_by_default();
	test_cidr_filters();
	test_ipv6_group_names();
	test_forced_raw_tp();
	test_forced_fentry_fails_clearly();
	test_overflow_counted();
	test_every_setting_loads();
	printf("all collector tests passed\n");
	return 0;
}
