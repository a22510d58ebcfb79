// SPDX-License-Identifier: BSD-2-Clause
/*
 * End-to-end test of the collector on the running kernel: load and attach
 * kernel/rttq.bpf.c, push real TCP traffic over loopback, drain, and check
 * what a user relies on: the automatic mode takes the first attach point
 * of fentry, tp_btf, raw_tp, kprobe that works here and counts with it,
 * every attach point that works counts, RTTs are plausible, filters
 * exclude what they should (each beside a control that counts the same
 * traffic), groups are named as documented, a forced attach point
 * that cannot work fails naming it, and --signals hands out jitter,
 * handshakes and counters beside RTT, or nothing but RTT; and
 * collector_add_totals() takes "all" by index without groups.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buckets.h"
#include "check.h"
#include "collector_opts.h"
#include "counter_set.h"
#include "group_lab.h"
#include "hist.h"
#include "kernel.h"
#include "traffic.h"
#include "metric.h"

#define EXCHANGES 500

/* collector.h's attach points, in the order the automatic mode tries them
 * (common/collector/collector.c: the first that works wins). */
static const char *const modes[] = { "fentry", "tp_btf", "raw_tp", "kprobe" };
#define MODE_COUNT (sizeof(modes) / sizeof(modes[0]))

/* Which attach points load and attach here, each forced on its own. */
static bool works[MODE_COUNT];

/* What one drain saw: the "all" series and one named group. */
struct seen {
	const char *want;          /* group name to look for, or NULL */
	uint64_t all_count;
	double all_p50_us, all_max_us;
	uint64_t want_count;
	unsigned int groups;       /* callbacks other than "all" */
};

static int on_group(const char *group, const char *metric,
		    const struct hist *delta, void *arg)
{
	struct seen *s = arg;

	/* Other metrics are not this caller's (yet). */
	if (strcmp(metric, METRIC_RTT) != 0)
		return 0;
	CHECK(hist_count(delta) > 0, "group %s reported with no samples",
	      group);
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

/* The first attach point that works with @o forced to it, in the order of
 * the automatic mode; MODE_COUNT when none does. */
static size_t first_working_mode(const struct collector_opts *o)
{
	struct collector_opts forced = *o;
	struct rttq_error err = { 0 };
	struct collector *c;
	size_t m;

	for (m = 0; m < MODE_COUNT; m++) {
		forced.attach = modes[m];
		c = NULL;
		if (!collector_open(&forced, &c, &err)) {
			collector_close(c);
			return m;
		}
	}
	return MODE_COUNT;
}

/* Open @o; in automatic mode it must land on the first attach point that
 * works with these very settings. */
static struct collector *open_or_die(const struct collector_opts *o)
{
	struct rttq_error err = { 0 };
	struct collector *c = NULL;
	size_t want;

	REQUIRE(collector_open(o, &c, &err) == 0, "collector_open: %s",
		err.msg);
	if (!o->attach) {
		want = first_working_mode(o);
		CHECK(want < MODE_COUNT &&
		      !strcmp(collector_attach_mode(c), modes[want]),
		      "automatic mode attached %s; forced one by one, the "
		      "first that works is %s", collector_attach_mode(c),
		      want < MODE_COUNT ? modes[want] : "none");
	}
	return c;
}

static void drain_or_die(struct collector *c, struct seen *s)
{
	struct rttq_error err = { 0 };

	REQUIRE(collector_drain(c, on_group, s, &err) == 0,
		"collector_drain: %s", err.msg);
}

static void traffic_or_die(int family, struct traffic_result *t)
{
	REQUIRE_CMP(traffic_run(family, EXCHANGES, t), ==, 0);
	REQUIRE_CMP(t->exchanges, ==, EXCHANGES);
}

/* Try each attach point on its own; at least one must work. */
static void probe_modes(void)
{
	struct rttq_error err = { 0 };
	struct collector *c;
	size_t m, n = 0;

	check_section("each attach point forced on its own");
	for (m = 0; m < MODE_COUNT; m++) {
		struct collector_opts o = { .attach = modes[m] };
		int rc;

		c = NULL;
		rc = collector_open(&o, &c, &err);
		works[m] = rc == 0;
		n += works[m];
		if (works[m]) {
			printf("%s: attaches\n", modes[m]);
			CHECK_STR(collector_attach_mode(c), modes[m]);
			collector_close(c);
		} else {
			/* A forced mode that cannot work fails naming it
			 * and the step: "fentry: load: ...". */
			char needle[32];

			snprintf(needle, sizeof(needle), "%s: ", modes[m]);
			printf("%s: %s\n", modes[m], err.msg);
			CHECK(rc < 0 && !c, "%s: rc %d, collector %p", modes[m],
			      rc, (void *)c);
			CHECK_CONTAINS(err.msg, needle);
		}
	}
	REQUIRE(n > 0, "no attach point works on this kernel");
}

/*
 * The automatic mode takes the first attach point that works (checked in
 * open_or_die) and counts loopback RTTs with it.
 */
static void test_auto_counts_loopback(void)
{
	struct collector_opts o = { .include_loopback = true,
				    .group_by = COLLECTOR_BY_RADDR };
	struct traffic_result t;
	struct collector *c;
	struct seen s = { .want = "raddr:127.0.0.1" };

	check_section("automatic mode: the first attach point that works, "
		      "counting loopback RTTs");
	c = open_or_die(&o);
	printf("auto mode attached %s\n", collector_attach_mode(c));
	CHECK_CMP(collector_prog_fd(c), >=, 0);
	drain_or_die(c, &s);       /* forget whatever came before */
	memset(&s, 0, sizeof(s));
	s.want = "raddr:127.0.0.1";
	traffic_or_die(AF_INET, &t);
	drain_or_die(c, &s);
	printf("all: %llu events, p50 %.1f us, max %.1f us; %s: %llu\n",
	       (unsigned long long)s.all_count, s.all_p50_us, s.all_max_us,
	       s.want, (unsigned long long)s.want_count);
	/* Both ends receive every message: at least one event per exchange. */
	CHECK_CMP(s.all_count, >=, EXCHANGES);
	CHECK_CMP(s.want_count, >=, EXCHANGES);
	CHECK(s.all_p50_us > 0 && s.all_p50_us < 1e6, "p50 %.1f us",
	      s.all_p50_us);
	CHECK(s.all_max_us > 0 && s.all_max_us < 1e6, "max %.1f us",
	      s.all_max_us);
	CHECK_CMP(collector_overflow(c), ==, 0);

	/* New sockets of the same peer land in the same group. */
	memset(&s, 0, sizeof(s));
	s.want = "raddr:127.0.0.1";
	traffic_or_die(AF_INET, &t);
	traffic_or_die(AF_INET, &t);
	drain_or_die(c, &s);
	CHECK_CMP(s.want_count, >=, 2 * EXCHANGES);

	/* Deltas, not totals: right after a drain that counted at least
	 * 2 * EXCHANGES, a drain with no traffic of ours adds little. */
	memset(&s, 0, sizeof(s));
	s.want = "raddr:127.0.0.1";
	drain_or_die(c, &s);
	CHECK_CMP(s.want_count, <, EXCHANGES);
	collector_close(c);
}

/* Every attach point that works here counts, through its own code path
 * (direct loads for fentry and tp_btf, BPF_CORE_READ for raw_tp and
 * kprobe), with groups and a finer g. */
static void test_every_working_mode_counts(void)
{
	size_t m;

	check_section("every attach point that works counts loopback RTTs");
	for (m = 0; m < MODE_COUNT; m++) {
		struct collector_opts o = {
			.include_loopback = true,
			.group_by = COLLECTOR_BY_RADDR | COLLECTOR_BY_LPORT,
			.attach = modes[m], .sub_bits = 7,
		};
		struct traffic_result t;
		struct collector *c;
		struct seen s = { 0 };
		char want[64];

		if (!works[m])
			continue;
		c = open_or_die(&o);
		traffic_or_die(AF_INET, &t);
		snprintf(want, sizeof(want), "raddr:127.0.0.1,lport:%u",
			 t.server_port);
		s.want = want;
		drain_or_die(c, &s);
		printf("%s: all %llu events, p50 %.1f us; %s: %llu\n", modes[m],
		       (unsigned long long)s.all_count, s.all_p50_us, want,
		       (unsigned long long)s.want_count);
		CHECK(s.all_count >= EXCHANGES, "%s: %llu events", modes[m],
		      (unsigned long long)s.all_count);
		CHECK(s.want_count >= EXCHANGES / 2, "%s: %llu in %s",
		      modes[m], (unsigned long long)s.want_count, want);
		CHECK(s.all_p50_us > 0 && s.all_p50_us < 1e6, "%s: p50 %.1f us",
		      modes[m], s.all_p50_us);
		collector_close(c);
	}
}

/* --max-groups for collectors that group loopback traffic by port while
 * other tests run: they create groups faster than the default 256 holds. */
#define SHARED_LOOPBACK_GROUPS 4096

/* @group's count in @s: "all" or the group it looked for. */
static uint64_t count_of(const struct seen *s, const char *group)
{
	return strcmp(group, "all") ? s->want_count : s->all_count;
}

/*
 * A filter must count none of our traffic.  So that "none" says something
 * about the filter, not about a collector that counts nothing at all, a
 * control collector without the filter is attached at the same time and
 * must count at least @control_min of the same traffic.
 * @group_name: the group to count; "lport:" is completed with the server port.
 * @port: the port the server listens on (0: any).
 */
static void filtered_out(const char *what, const struct collector_opts *o,
			 const struct collector_opts *control,
			 const char *group_name, uint64_t control_min,
			 uint16_t port)
{
	struct traffic_result t;
	struct collector *c, *ctl;
	struct seen s = { 0 }, sc = { 0 };
	char group[64];

	c = open_or_die(o);
	ctl = open_or_die(control);
	drain_or_die(c, &s);       /* forget whatever came before */
	drain_or_die(ctl, &sc);
	REQUIRE_CMP(traffic_run_port(AF_INET, EXCHANGES, port, &t), ==, 0);
	if (!strcmp(group_name, "lport:"))
		snprintf(group, sizeof(group), "lport:%u", t.server_port);
	else
		snprintf(group, sizeof(group), "%s", group_name);
	memset(&s, 0, sizeof(s));
	memset(&sc, 0, sizeof(sc));
	s.want = sc.want = group;
	drain_or_die(c, &s);
	drain_or_die(ctl, &sc);
	printf("%s: %s %llu, control %llu\n", what, group,
	       (unsigned long long)count_of(&s, group),
	       (unsigned long long)count_of(&sc, group));
	CHECK(count_of(&sc, group) >= control_min,
	      "%s: the control counted %llu in %s, not %llu or more", what,
	      (unsigned long long)count_of(&sc, group), group,
	      (unsigned long long)control_min);
	CHECK(count_of(&s, group) == 0, "%s: %llu counted in %s", what,
	      (unsigned long long)count_of(&s, group), group);
	collector_close(ctl);
	collector_close(c);
}

/* A port filter naming an unused port counts nothing at all. */
static void test_unused_port_counts_nothing(void)
{
	struct collector_opts o = { .include_loopback = true, .rport = 9,
				    .lport = 9 };
	struct collector_opts control = { .include_loopback = true };

	check_section("a port filter on an unused port counts nothing");
	filtered_out("rport 9, lport 9", &o, &control, "all", EXCHANGES, 0);
}

/* Loopback is excluded by default; an lport filter isolates our server. */
static void test_loopback_excluded_by_default(void)
{
	struct collector_opts o = { 0 }, control = { .include_loopback = true };
	struct traffic_result t;

	check_section("loopback is excluded by default");
	/* The port is only known after a run: filter on it, then run on it
	 * again. */
	traffic_or_die(AF_INET, &t);
	o.lport = control.lport = t.server_port;
	filtered_out("default, lport filter", &o, &control, "all",
		     EXCHANGES / 2, t.server_port);

	/* Same with groups, where the verdict is remembered per socket. */
	o.lport = control.lport = 0;
	o.group_by = control.group_by = COLLECTOR_BY_RADDR;
	filtered_out("default, by raddr", &o, &control, "raddr:127.0.0.1",
		     EXCHANGES, 0);
}

/* laddr CIDR filters: 127.0.0.0/8 matches our traffic, 10.0.0.0/8 not. */
static void test_cidr_filters(void)
{
	/* Every loopback connection of the tests running beside this one is
	 * a group too (its client's ephemeral port): room for all of them,
	 * so ours never lands in overflow. */
	struct collector_opts o = { .include_loopback = true,
				    .group_by = COLLECTOR_BY_LPORT,
				    .max_groups = SHARED_LOOPBACK_GROUPS };
	struct collector_opts control = o;
	struct rttq_error err = { 0 };
	struct traffic_result t;
	struct collector *c;
	struct seen s = { 0 };
	char want[32];

	check_section("laddr and raddr CIDR filters");
	REQUIRE_CMP(netaddr_parse_cidr("127.0.0.0/8", &o.laddr, &err), ==,
		    0);
	c = open_or_die(&o);
	traffic_or_die(AF_INET, &t);
	snprintf(want, sizeof(want), "lport:%u", t.server_port);
	s.want = want;
	drain_or_die(c, &s);
	CHECK_CMP(s.want_count, >=, EXCHANGES / 2);
	collector_close(c);

	REQUIRE_CMP(netaddr_parse_cidr("10.0.0.0/8", &o.laddr, &err), ==,
		    0);
	filtered_out("laddr 10.0.0.0/8", &o, &control, "lport:",
		     EXCHANGES / 2, 0);

	/* An IPv6 prefix outside ::ffff:0:0/96 never matches IPv4 peers. */
	o.laddr.family = 0;
	REQUIRE_CMP(netaddr_parse_cidr("fe80::/10", &o.raddr, &err), ==, 0);
	filtered_out("raddr fe80::/10", &o, &control, "lport:",
		     EXCHANGES / 2, 0);
}

/* IPv6 ::1 is grouped and named in IPv6 notation, with ports. */
static void test_ipv6_group_names(void)
{
	struct collector_opts o = {
		.include_loopback = true,
		.group_by = COLLECTOR_BY_RADDR | COLLECTOR_BY_RPORT,
		.max_groups = SHARED_LOOPBACK_GROUPS, /* as in test_cidr_filters() */
	};
	struct traffic_result t;
	struct collector *c;
	struct seen s = { 0 };
	char want[64];

	check_section("IPv6 groups are named in IPv6 notation");
	c = open_or_die(&o);
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
	CHECK_CMP(s.want_count, >=, EXCHANGES / 2);
	collector_close(c);
}

/* A group map of one entry: the second group overflows, and says so. */
static void test_overflow_counted(void)
{
	struct collector_opts o = { .include_loopback = true,
				    .group_by = COLLECTOR_BY_LPORT,
				    .max_groups = 1 };
	struct traffic_result t;
	struct collector *c;
	struct seen s = { 0 };

	check_section("a group past max_groups is counted as overflow");
	c = open_or_die(&o);
	traffic_or_die(AF_INET, &t);   /* server and client lport differ */
	drain_or_die(c, &s);
	printf("max_groups 1: %u group(s), overflow %llu\n", s.groups,
	       (unsigned long long)collector_overflow(c));
	CHECK_CMP(s.groups, ==, 1);
	CHECK_CMP(collector_overflow(c), >, 0);
	collector_close(c);
}

/*
 * Every combination of settings passes the verifier with every attach
 * point that works here: rodata constants prune different branches, and
 * clang lays each variant out differently.
 */
static void test_every_setting_loads(void)
{
	struct rttq_error err = { 0 };
	struct collector_opts o;
	struct collector *c;
	unsigned int by, bits;
	size_t m;

	check_section("every combination of settings loads");
	for (m = 0; m < MODE_COUNT; m++) {
		if (!works[m])
			continue;
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
					netaddr_parse_cidr("10.0.0.0/8",
							     &o.laddr, &err);
					netaddr_parse_cidr("2001:db8::/32",
							     &o.raddr, &err);
				}
				o.sub_bits = 3 + (by + bits) % 5;
				c = NULL;
				CHECK(collector_open(&o, &c, &err) == 0,
				      "%s group_by %u bits %u: %s", modes[m],
				      by, bits, err.msg);
				collector_close(c);
			}
	}
}

/*
 * The group kinds of kernel/group_key.h load with every attach point that
 * works here, alone and all together, with prefixes and the --cgroup
 * filter (the root cgroup: every socket), and with rttq_state where it
 * applies.
 */
static void test_every_group_kind_loads(void)
{
	static const unsigned int kinds[] = {
		COLLECTOR_BY_PEER, COLLECTOR_BY_PORT, COLLECTOR_BY_CGROUP,
		COLLECTOR_BY_PEER | COLLECTOR_BY_PORT, COLLECTOR_BY_MASK,
	};
	char path[] = "/tmp/rttq-test-collector.XXXXXX";
	struct rttq_error err = { 0 };
	struct collector_opts o;
	struct collector *c;
	size_t m, k;
	int fd, filter;

	check_section("every group kind loads, with and without --cgroup");
	fd = mkstemp(path);
	REQUIRE(fd >= 0, "mkstemp");
	REQUIRE(write(fd, "10.0.0.0/8 ten\nfd00::/8 ula\n", 28) == 28,
		"write");
	close(fd);
	for (m = 0; m < MODE_COUNT; m++) {
		if (!works[m])
			continue;
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			for (filter = 0; filter < 2; filter++) {
				memset(&o, 0, sizeof(o));
				o.attach = modes[m];
				o.group_by = kinds[k];
				o.max_groups = 16;
				if (kinds[k] & COLLECTOR_BY_PEER)
					o.peer_map = path;
				if (kinds[k] & COLLECTOR_BY_RADDR)
					REQUIRE_CMP(collector_parse_group_by(
						"raddr/24/64,laddr/16,lport,"
						"rport,peer,port,cgroup", &o,
						&err), ==, 0);
				if (filter)
					o.cgroup = "/";
				c = NULL;
				CHECK(collector_open(&o, &c, &err) == 0,
				      "%s group_by 0x%x cgroup %d: %s",
				      modes[m], kinds[k], filter, err.msg);
				collector_close(c);
			}
	}
	unlink(path);
}

/* What drains with every signal saw of two groups: a connection's two
 * ends, grouped by the other end's address. */
struct signals_seen {
	uint64_t rtt, jitter, handshake, sndbuf; /* of both groups */
	struct counter_set opened, accepted; /* client's, server's group */
	unsigned int counter_calls;
};

#define LAB_SERVER "10.77.1.1"
#define LAB_CLIENT "10.77.2.1"

static int on_metric(const char *group, const char *metric,
		     const struct hist *delta, void *arg)
{
	struct signals_seen *s = arg;

	if (strcmp(group, "raddr:" LAB_SERVER) &&
	    strcmp(group, "raddr:" LAB_CLIENT))
		return 0;
	if (!strcmp(metric, METRIC_RTT))
		s->rtt += hist_count(delta);
	else if (!strcmp(metric, METRIC_JITTER))
		s->jitter += hist_count(delta);
	else if (!strcmp(metric, METRIC_HANDSHAKE))
		s->handshake += hist_count(delta);
	else if (!strcmp(metric, METRIC_SNDBUF))
		s->sndbuf += hist_count(delta);
	else
		CHECK(false, "unknown metric %s", metric);
	return 0;
}

static int on_counters(const char *group, const struct counter_set *delta,
		       void *arg)
{
	struct signals_seen *s = arg;

	CHECK(delta->n > 0, "%s: an empty counter set handed out", group);
	s->counter_calls++;
	if (!strcmp(group, "raddr:" LAB_SERVER))
		CHECK_CMP(counter_set_merge(&s->opened, delta), ==, 0);
	if (!strcmp(group, "raddr:" LAB_CLIENT))
		CHECK_CMP(counter_set_merge(&s->accepted, delta), ==, 0);
	return 0;
}

/* After the last delayed ACK (as group_lab_drain()). */
static void drain_signals(struct collector *c, struct signals_seen *s)
{
	struct rttq_error err = { 0 };

	usleep(250000);
	REQUIRE(collector_drain(c, on_metric, s, &err) == 0,
		"collector_drain: %s", err.msg);
}

static void free_signals(struct signals_seen *s)
{
	counter_set_free(&s->opened);
	counter_set_free(&s->accepted);
	memset(s, 0, sizeof(*s));
}

/*
 * --signals: by default every family the kernel has; each group's jitter
 * beside its RTT (one value per event), the handshake of the connection
 * its client opened and the counters of both ends; across recycled ids
 * each connection counted once; with rtt alone, one program and nothing
 * else handed out.  Lab addresses in a namespace of our own (group_lab.h),
 * so no other traffic of this host lands in these groups.
 */
static void test_signals(void)
{
	struct collector_opts o = { .group_by = COLLECTOR_BY_RADDR };
	struct signals_seen s = { 0 };
	struct traffic_conn t;
	struct collector *c;
	const char *names[32];
	int fds[32];
	unsigned int n, i;

	check_section("--signals: jitter, handshake and counters per group");
	group_lab_up();
	c = open_or_die(&o);
	CHECK_CMP(collector_signals(c), ==, COLLECTOR_SIG_ALL);
	n = collector_prog_fds(c, fds, names, 32);
	for (i = 0; i < n && i < 32; i++)
		printf("program %u at %s\n", i, names[i]);
	CHECK_CMP(n, >=, 5);
	collector_on_counters(c, on_counters, &s);
	group_lab_flow(LAB_SERVER, 0, LAB_CLIENT, &t);
	drain_signals(c, &s);
	printf("rtt %llu, jitter %llu, handshake %llu; client's group: "
	       "segs.out %llu, conn.opened %llu; server's: conn.accepted %llu\n",
	       (unsigned long long)s.rtt, (unsigned long long)s.jitter,
	       (unsigned long long)s.handshake,
	       (unsigned long long)counter_set_get(&s.opened, "segs.out"),
	       (unsigned long long)counter_set_get(&s.opened, "conn.opened"),
	       (unsigned long long)counter_set_get(&s.accepted,
						   "conn.accepted"));
	CHECK_CMP(s.rtt, >=, 2 * GROUP_LAB_EXCHANGES);
	/* The same events: one jitter and one sndbuf value beside every
	 * srtt. */
	CHECK_CMP(s.jitter, ==, s.rtt);
	CHECK_CMP(s.sndbuf, ==, s.rtt);
	/* What one end's calls sent, the other's received: exactly. */
	printf("client's group: bytes.sent.tcp %llu, bytes.received.tcp %llu; "
	       "server's: %llu, %llu\n",
	       (unsigned long long)counter_set_get(&s.opened, "bytes.sent.tcp"),
	       (unsigned long long)counter_set_get(&s.opened,
						   "bytes.received.tcp"),
	       (unsigned long long)counter_set_get(&s.accepted,
						   "bytes.sent.tcp"),
	       (unsigned long long)counter_set_get(&s.accepted,
						   "bytes.received.tcp"));
	CHECK_CMP(counter_set_get(&s.opened, "bytes.sent.tcp"), >, 0);
	CHECK_CMP(counter_set_get(&s.opened, "bytes.sent.tcp"), ==,
		  counter_set_get(&s.accepted, "bytes.received.tcp"));
	CHECK_CMP(counter_set_get(&s.accepted, "bytes.sent.tcp"), ==,
		  counter_set_get(&s.opened, "bytes.received.tcp"));
	CHECK_CMP(s.handshake, ==, 1);
	CHECK_CMP(counter_set_get(&s.opened, "conn.opened"), ==, 1);
	CHECK_CMP(counter_set_get(&s.opened, "conn.accepted"), ==, 0);
	CHECK_CMP(counter_set_get(&s.accepted, "conn.accepted"), ==, 1);
	CHECK_CMP(counter_set_get(&s.opened, "segs.out"), >=,
		  GROUP_LAB_EXCHANGES);
	CHECK_CMP(counter_set_get(&s.opened, "retrans.fast"), ==, 0);
	collector_close(c);
	free_signals(&s);

	/* Recycled ids: counters start again from zero under a new id. */
	o.group_idle_ms = 200;
	c = open_or_die(&o);
	collector_on_counters(c, on_counters, &s);
	for (i = 0; i < 3; i++) {
		group_lab_flow(LAB_SERVER, 0, LAB_CLIENT, &t);
		drain_signals(c, &s);
		usleep(400 * 1000);
		/* Idle past --group-idle: this drain recycles the ids. */
		drain_signals(c, &s);
	}
	CHECK_CMP(collector_recycled(c), >=, 4);
	CHECK_CMP(counter_set_get(&s.opened, "conn.opened"), ==, 3);
	CHECK_CMP(counter_set_get(&s.accepted, "conn.accepted"), ==, 3);
	CHECK_CMP(s.handshake, ==, 3);
	collector_close(c);
	free_signals(&s);
	o.group_idle_ms = 0;

	o.signals = COLLECTOR_SIG_RTT;
	c = open_or_die(&o);
	CHECK_CMP(collector_signals(c), ==, COLLECTOR_SIG_RTT);
	CHECK_CMP(collector_prog_fds(c, fds, NULL, 32), ==, 1);
	collector_on_counters(c, on_counters, &s);
	group_lab_flow(LAB_SERVER, 0, LAB_CLIENT, &t);
	drain_signals(c, &s);
	CHECK_CMP(s.rtt, >=, 2 * GROUP_LAB_EXCHANGES);
	CHECK_CMP(s.jitter + s.handshake + s.sndbuf + s.counter_calls, ==, 0);
	collector_close(c);
	free_signals(&s);
}

/*
 * collector_add_totals(), the drain librttq-signals makes: refused with
 * groups on; without, the loopback exchanges come back as RTT samples and
 * bytes by index, and a second call adds only what happened since.
 */
static void test_totals(void)
{
	struct collector_opts o = { .include_loopback = true,
				    .group_by = COLLECTOR_BY_RPORT };
	struct rttq_error err = { 0 };
	struct collector_totals t = { 0 };
	struct traffic_result tr;
	struct collector *c;
	uint64_t sent;
	const uint64_t bytes = (uint64_t)EXCHANGES * 64;

	check_section("collector_add_totals: \"all\" by index, no groups");
	c = open_or_die(&o);
	CHECK_CMP(collector_add_totals(c, &t, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "groups");
	collector_close(c);

	o.group_by = 0;
	c = open_or_die(&o);
	REQUIRE(hist_new(BUCKET_SUB_BITS_DEFAULT, &t.dist[RTTQ_DIST_RTT]) == 0,
		"hist_new");
	REQUIRE(collector_add_totals(c, &t, &err) == 0,
		"collector_add_totals: %s", err.msg);
	memset(t.counters, 0, sizeof(t.counters));
	hist_reset(t.dist[RTTQ_DIST_RTT]);
	traffic_or_die(AF_INET, &tr);
	REQUIRE(collector_add_totals(c, &t, &err) == 0,
		"collector_add_totals: %s", err.msg);
	sent = t.counters[RTTQ_C_BYTES_SENT_TCP];
	printf("totals: %llu RTT samples, bytes.sent.tcp %llu, "
	       "bytes.received.tcp %llu\n",
	       (unsigned long long)hist_count(t.dist[RTTQ_DIST_RTT]),
	       (unsigned long long)sent,
	       (unsigned long long)t.counters[RTTQ_C_BYTES_RECV_TCP]);
	/* Both ends are on this host: each 64-byte message is sent once
	 * and received once, in each direction. */
	CHECK_CMP(sent, >=, 2 * bytes);
	CHECK_CMP(t.counters[RTTQ_C_BYTES_RECV_TCP], >=, 2 * bytes);
	CHECK_CMP(hist_count(t.dist[RTTQ_DIST_RTT]), >=, EXCHANGES);
	REQUIRE(collector_add_totals(c, &t, &err) == 0,
		"collector_add_totals: %s", err.msg);
	CHECK(t.counters[RTTQ_C_BYTES_SENT_TCP] - sent < bytes,
	      "a second call added %llu bytes with no exchange in between",
	      (unsigned long long)(t.counters[RTTQ_C_BYTES_SENT_TCP] - sent));
	hist_free(t.dist[RTTQ_DIST_RTT]);
	collector_close(c);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	require_root("loading BPF");
	skip_unless_kernel(KERNEL_BPF);
	probe_modes();
	test_auto_counts_loopback();
	test_every_working_mode_counts();
	test_unused_port_counts_nothing();
	test_loopback_excluded_by_default();
	test_cidr_filters();
	test_ipv6_group_names();
	test_overflow_counted();
	test_every_setting_loads();
	test_every_group_kind_loads();
	test_signals();
	test_totals();
	return check_report();
}
