// SPDX-License-Identifier: BSD-2-Clause
/*
 * The group kinds beyond whole addresses and ports, on the running kernel:
 * prefixes (raddr/24/64, laddr/16), --peer-map labels (longest match over
 * IPv4 and IPv6, "peer:other", SIGHUP-style reloads good and bad), service
 * ports (accepted and opened connections, and connections older than the
 * collector), and the combination peer,port.  The test runs in its own
 * network namespace with addresses on lo, and each grouping is checked
 * event for event against a control collector attached at the same time
 * that groups the same sockets by whole address or by both ports.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "collector_opts.h"
#include "kernel.h"
#include "tally.h"
#include "traffic.h"

#define EXCHANGES 200

/* The lab: servers in 10.77.1.0/24 and fd77:1::/64, clients in
 * 10.77.2.0/24 and fd77:2::/64, and 10.99.0.0/16 for no label. */
static const char *const lab_addrs[] = {
	"10.77.1.1", "10.77.1.2", "10.77.2.1", "10.77.2.2", "10.99.0.1",
	"10.99.0.2", "fd77:1::1", "fd77:1::2", "fd77:2::1",
};

static void lab_up(void)
{
	char cmd[128];
	size_t i;

	REQUIRE(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s",
		strerror(errno));
	REQUIRE(system("ip link set lo up") == 0, "ip link set lo up");
	for (i = 0; i < sizeof(lab_addrs) / sizeof(lab_addrs[0]); i++) {
		snprintf(cmd, sizeof(cmd), "ip addr add %s dev lo%s",
			 lab_addrs[i],
			 strchr(lab_addrs[i], ':') ? " nodad" : "");
		REQUIRE(system(cmd) == 0, "%s", cmd);
	}
}

static struct collector *open_or_die(const struct collector_opts *o)
{
	struct rttq_error err = { 0 };
	struct collector *c = NULL;

	REQUIRE(collector_open(o, &c, &err) == 0, "collector_open: %s",
		err.msg);
	return c;
}

static void flow(const char *server, uint16_t port, const char *client,
		 struct traffic_conn *t)
{
	REQUIRE_CMP(traffic_between(server, port, client, EXCHANGES, t), ==,
		    0);
}

/*
 * Both drained once the traffic is quiet, so both saw the same events: a
 * delayed ACK (TCP_DELACK_MAX, 200 ms) is the last event an exchange
 * leaves behind.
 */
static void drain_pair(struct collector *a, struct tally *ta,
		       struct collector *b, struct tally *tb)
{
	usleep(250000);
	tally_drain(a, ta);
	tally_drain(b, tb);
}

/* @group of @t holds exactly @want events, and some. */
static void check_group(const struct tally *t, const char *group,
			uint64_t want)
{
	uint64_t got = tally_get(t, group);

	printf("  %s: %llu (control %llu)\n", group, (unsigned long long)got,
	       (unsigned long long)want);
	CHECK(got == want, "%s: %llu events, the control counted %llu", group,
	      (unsigned long long)got, (unsigned long long)want);
	CHECK(want >= EXCHANGES, "%s: only %llu events for %d exchanges",
	      group, (unsigned long long)want, EXCHANGES);
}

static void test_prefixes(void)
{
	struct collector_opts r24 = { 0 }, l16 = { 0 };
	struct collector_opts raddr = { .group_by = COLLECTOR_BY_RADDR };
	struct collector_opts laddr = { .group_by = COLLECTOR_BY_LADDR };
	struct collector *c_r24, *c_l16, *c_raddr, *c_laddr;
	struct tally *t = calloc(4, sizeof(*t));
	struct rttq_error err = { 0 };
	struct traffic_conn x;

	check_section("raddr/24/64 and laddr/16 add up their addresses");
	REQUIRE(t, "calloc");
	REQUIRE_CMP(collector_parse_group_by("raddr/24/64", &r24, &err), ==, 0);
	REQUIRE_CMP(collector_parse_group_by("laddr/16", &l16, &err), ==, 0);
	c_r24 = open_or_die(&r24);
	c_l16 = open_or_die(&l16);
	c_raddr = open_or_die(&raddr);
	c_laddr = open_or_die(&laddr);
	drain_pair(c_r24, &t[0], c_raddr, &t[2]);
	drain_pair(c_l16, &t[1], c_laddr, &t[3]);

	flow("10.77.1.1", 0, "10.77.2.1", &x);
	flow("10.77.1.2", 0, "10.77.2.2", &x);
	flow("fd77:1::1", 0, "fd77:2::1", &x);
	flow("fd77:1::2", 0, "fd77:2::1", &x);
	drain_pair(c_r24, &t[0], c_raddr, &t[2]);
	drain_pair(c_l16, &t[1], c_laddr, &t[3]);

	check_group(&t[0], "raddr:10.77.1.0/24",
		    tally_sum(&t[2], "raddr:10.77.1."));
	check_group(&t[0], "raddr:10.77.2.0/24",
		    tally_sum(&t[2], "raddr:10.77.2."));
	check_group(&t[0], "raddr:fd77:1::/64",
		    tally_sum(&t[2], "raddr:fd77:1::"));
	check_group(&t[0], "raddr:fd77:2::/64",
		    tally_sum(&t[2], "raddr:fd77:2::"));
	/* Only prefixes: no whole address of ours is a group. */
	CHECK_CMP(tally_sum(&t[0], "raddr:10.77.1.1"), ==, 0);
	CHECK_CMP(tally_sum(&t[0], "raddr:fd77:1::1"), ==, 0);
	/* One length: IPv6 is cut to 16 bits as well. */
	check_group(&t[1], "laddr:10.77.0.0/16",
		    tally_sum(&t[3], "laddr:10.77."));
	check_group(&t[1], "laddr:fd77::/16", tally_sum(&t[3], "laddr:fd77:"));
	collector_close(c_laddr);
	collector_close(c_raddr);
	collector_close(c_l16);
	collector_close(c_r24);
	free(t);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	REQUIRE(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	REQUIRE(fclose(f) == 0, "%s", path);
}

static const char first_map[] =
	"# the lab, broad to narrow\n"
	"10.77.0.0/16 lab\n"
	"10.77.1.2/32   db-primary   # one host\n"
	"\n"
	"fd77::/16 lab6\n"
	"fd77:1::1/128 v6-host\n";

static void test_peer_map(const char *path)
{
	struct collector_opts peer = { .group_by = COLLECTOR_BY_PEER,
				       .peer_map = path };
	struct collector_opts raddr = { .group_by = COLLECTOR_BY_RADDR };
	struct collector *c_peer, *c_raddr;
	struct tally *t = calloc(2, sizeof(*t));
	struct rttq_error err = { 0 };
	struct traffic_conn x, old;
	char where[128];

	check_section("peer map: longest prefix, IPv4 and IPv6");
	REQUIRE(t, "calloc");
	write_file(path, first_map);
	c_peer = open_or_die(&peer);
	c_raddr = open_or_die(&raddr);
	drain_pair(c_peer, &t[0], c_raddr, &t[1]);
	/* Opened now, talks after the reload below. */
	REQUIRE_CMP(traffic_conn_open("10.77.1.2", 0, "10.77.2.1", &old), ==,
		    0);

	flow("10.77.1.1", 0, "10.77.2.1", &x);
	flow("10.77.1.2", 0, "10.77.2.2", &x);
	flow("fd77:1::1", 0, "fd77:2::1", &x);
	flow("10.99.0.1", 0, "10.99.0.2", &x);
	REQUIRE_CMP(traffic_conn_exchange(&old, EXCHANGES), ==, 0);
	drain_pair(c_peer, &t[0], c_raddr, &t[1]);
	/* Server sides see the clients (10.77.2.x: lab), client sides the
	 * servers; 10.77.1.2 is its own /32. */
	check_group(&t[0], "peer:db-primary",
		    tally_get(&t[1], "raddr:10.77.1.2"));
	check_group(&t[0], "peer:lab",
		    tally_get(&t[1], "raddr:10.77.1.1") +
		    tally_sum(&t[1], "raddr:10.77.2."));
	check_group(&t[0], "peer:v6-host", tally_get(&t[1], "raddr:fd77:1::1"));
	check_group(&t[0], "peer:lab6", tally_get(&t[1], "raddr:fd77:2::1"));
	/* The rest of the host's traffic is "other" too: at least ours. */
	CHECK_CMP(tally_get(&t[0], "peer:other"), >=,
		  tally_sum(&t[1], "raddr:10.99.0."));
	CHECK_CMP(tally_sum(&t[1], "raddr:10.99.0."), >=, EXCHANGES);

	check_section("peer map reload: new labels for new sockets, no count lost");
	write_file(path, "10.77.0.0/16 lab\n"
			 "10.77.1.2/32 db-replica\n"
			 "10.99.0.0/16 spare\n"
			 "fd77::/16 lab6\n");
	REQUIRE(collector_reload_peer_map(c_peer, &err) == 0,
		"reload: %s", err.msg);
	/* Counters are cumulative and untouched by a reload: nothing of
	 * ours since the last drain. */
	drain_pair(c_peer, &t[0], c_raddr, &t[1]);
	CHECK_CMP(tally_sum(&t[0], "peer:l") + tally_sum(&t[0], "peer:d") +
		  tally_sum(&t[0], "peer:v") + tally_sum(&t[0], "peer:s"), ==,
		  0);
	flow("10.77.1.2", 0, "10.77.2.2", &x);
	flow("10.99.0.1", 0, "10.99.0.2", &x);
	flow("fd77:1::1", 0, "fd77:2::1", &x);
	drain_pair(c_peer, &t[0], c_raddr, &t[1]);
	check_group(&t[0], "peer:db-replica",
		    tally_get(&t[1], "raddr:10.77.1.2"));
	check_group(&t[0], "peer:spare", tally_sum(&t[1], "raddr:10.99.0."));
	check_group(&t[0], "peer:lab6", tally_sum(&t[1], "raddr:fd77:"));
	CHECK_CMP(tally_get(&t[0], "peer:v6-host"), ==, 0);
	/* A socket resolved before the reload keeps its label. */
	REQUIRE_CMP(traffic_conn_exchange(&old, EXCHANGES), ==, 0);
	drain_pair(c_peer, &t[0], c_raddr, &t[1]);
	check_group(&t[0], "peer:db-primary",
		    tally_get(&t[1], "raddr:10.77.1.2"));
	CHECK_CMP(tally_get(&t[0], "peer:db-replica"), ==, 0);
	traffic_conn_close(&old);

	check_section("peer map reload of a bad file keeps the old map");
	write_file(path, "10.77.0.0/16 lab\n"
			 "# next: a typo\n"
			 "10.77.1.2/33 db-moved\n");
	CHECK_CMP(collector_reload_peer_map(c_peer, &err), ==, -EINVAL);
	snprintf(where, sizeof(where), "%s:3: ", path);
	CHECK_CONTAINS(err.msg, where);
	printf("  bad reload: %s\n", err.msg);
	flow("10.77.1.2", 0, "10.77.2.2", &x);
	drain_pair(c_peer, &t[0], c_raddr, &t[1]);
	check_group(&t[0], "peer:db-replica",
		    tally_get(&t[1], "raddr:10.77.1.2"));
	CHECK_CMP(tally_sum(&t[0], "peer:db-moved"), ==, 0);
	collector_close(c_raddr);
	collector_close(c_peer);

	check_section("peer:other holds exactly the unmatched peers");
	raddr.raddr.family = 0;
	REQUIRE_CMP(collector_parse_addr("10.99.0.0/16", &raddr.raddr, &err),
		    ==, 0);
	peer.raddr = raddr.raddr;
	write_file(path, first_map);
	c_peer = open_or_die(&peer);
	c_raddr = open_or_die(&raddr);
	drain_pair(c_peer, &t[0], c_raddr, &t[1]);
	flow("10.99.0.1", 0, "10.99.0.2", &x);
	drain_pair(c_peer, &t[0], c_raddr, &t[1]);
	check_group(&t[0], "peer:other", tally_sum(&t[1], "raddr:10.99.0."));
	collector_close(c_raddr);
	collector_close(c_peer);

	check_section("a malformed peer map is refused at start");
	write_file(path, "10.77.0.0/16 lab\n10.77.1.0/24\n");
	{
		struct collector *c = NULL;

		peer.raddr.family = 0;
		CHECK_CMP(collector_open(&peer, &c, &err), ==, -EINVAL);
		CHECK(!c, "a collector despite the bad file");
		snprintf(where, sizeof(where), "%s:2: ", path);
		CHECK_CONTAINS(err.msg, where);
		printf("  at start: %s\n", err.msg);
	}
	free(t);
}

/* port:P holds both ends of connections to P; client ports never show. */
static void check_ports(const struct tally *tp, const struct tally *tc,
			const struct traffic_conn *x)
{
	char group[64], server[64], client[64];

	snprintf(group, sizeof(group), "port:%u", x->server_port);
	snprintf(server, sizeof(server), "lport:%u,rport:%u", x->server_port,
		 x->client_port);
	snprintf(client, sizeof(client), "lport:%u,rport:%u", x->client_port,
		 x->server_port);
	CHECK_CMP(tally_get(tc, server), >=, EXCHANGES);
	CHECK_CMP(tally_get(tc, client), >=, EXCHANGES);
	check_group(tp, group, tally_get(tc, server) + tally_get(tc, client));
	snprintf(group, sizeof(group), "port:%u", x->client_port);
	CHECK(tally_get(tp, group) == 0, "client port %u became a group",
	      x->client_port);
}

static void test_service_port(void)
{
	struct collector_opts port = { .group_by = COLLECTOR_BY_PORT };
	struct collector_opts ports = { .group_by = COLLECTOR_BY_LPORT |
						    COLLECTOR_BY_RPORT };
	struct collector *c_port, *c_ports;
	struct tally *t = calloc(2, sizeof(*t));
	struct traffic_conn x, old, old6;

	REQUIRE(t, "calloc");
	/* Established before the collectors: no state change seen, so the
	 * listening ports decide. */
	REQUIRE_CMP(traffic_conn_open("10.77.1.1", 0, "10.77.2.1", &old), ==,
		    0);
	REQUIRE_CMP(traffic_conn_open("fd77:1::1", 0, "fd77:2::1", &old6), ==,
		    0);
	c_port = open_or_die(&port);
	c_ports = open_or_die(&ports);
	printf("attached via %s\n", collector_attach_mode(c_port));

	check_section("port: accepted and opened connections by service port");
	drain_pair(c_port, &t[0], c_ports, &t[1]);
	flow("10.77.1.2", 0, "10.77.2.2", &x);
	drain_pair(c_port, &t[0], c_ports, &t[1]);
	check_ports(&t[0], &t[1], &x);
	flow("fd77:1::2", 0, "fd77:2::1", &x);
	drain_pair(c_port, &t[0], c_ports, &t[1]);
	check_ports(&t[0], &t[1], &x);

	check_section("port: connections older than the collector");
	REQUIRE_CMP(traffic_conn_exchange(&old, EXCHANGES), ==, 0);
	REQUIRE_CMP(traffic_conn_exchange(&old6, EXCHANGES), ==, 0);
	drain_pair(c_port, &t[0], c_ports, &t[1]);
	check_ports(&t[0], &t[1], &old);
	check_ports(&t[0], &t[1], &old6);
	traffic_conn_close(&old6);
	traffic_conn_close(&old);
	collector_close(c_ports);
	collector_close(c_port);
	free(t);
}

static void test_peer_port(const char *path)
{
	struct collector_opts both = {
		.group_by = COLLECTOR_BY_PEER | COLLECTOR_BY_PORT,
		.peer_map = path,
	};
	struct collector_opts raddr = { .group_by = COLLECTOR_BY_RADDR };
	struct collector *c_both, *c_raddr;
	struct tally *t = calloc(2, sizeof(*t));
	struct traffic_conn x;
	char group[64];

	check_section("peer,port: both fields, in that order");
	REQUIRE(t, "calloc");
	write_file(path, first_map);
	c_both = open_or_die(&both);
	c_raddr = open_or_die(&raddr);
	drain_pair(c_both, &t[0], c_raddr, &t[1]);
	flow("10.77.1.2", 0, "10.77.2.1", &x);
	drain_pair(c_both, &t[0], c_raddr, &t[1]);
	snprintf(group, sizeof(group), "peer:db-primary,port:%u",
		 x.server_port);
	check_group(&t[0], group, tally_get(&t[1], "raddr:10.77.1.2"));
	snprintf(group, sizeof(group), "peer:lab,port:%u", x.server_port);
	check_group(&t[0], group, tally_get(&t[1], "raddr:10.77.2.1"));
	collector_close(c_raddr);
	collector_close(c_both);
	free(t);
}

int main(void)
{
	char path[] = "/tmp/rttq-test-groups.XXXXXX";
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	require_root("loading BPF and a network namespace");
	skip_unless_kernel(KERNEL_BPF);
	lab_up();
	fd = mkstemp(path);
	REQUIRE(fd >= 0, "mkstemp");
	close(fd);
	test_prefixes();
	test_peer_map(path);
	test_service_port();
	test_peer_port(path);
	unlink(path);
	return check_report();
}
