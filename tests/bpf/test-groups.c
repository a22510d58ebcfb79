// SPDX-License-Identifier: BSD-2-Clause
/*
 * The group kinds beyond whole addresses and ports, on the running kernel:
 * prefixes (raddr/24/64, laddr/16), --peer-map labels (longest match over
 * IPv4 and IPv6, "peer:other", SIGHUP-style reloads good and bad), service
 * ports (accepted and opened connections, connections older than the
 * collector, and under raw_tp), and the combination peer,port.  The test runs in its own
 * network namespace with addresses on lo, and each grouping is checked
 * event for event against a control collector attached at the same time
 * that groups the same sockets by whole address or by both ports.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "collector_opts.h"
#include "kernel.h"
#include "group_lab.h"
#include "traffic.h"

#define EXCHANGES GROUP_LAB_EXCHANGES

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
	c_r24 = group_lab_open(&r24);
	c_l16 = group_lab_open(&l16);
	c_raddr = group_lab_open(&raddr);
	c_laddr = group_lab_open(&laddr);
	group_lab_drain(c_r24, &t[0], c_raddr, &t[2]);
	group_lab_drain(c_l16, &t[1], c_laddr, &t[3]);

	group_lab_flow("10.77.1.1", 0, "10.77.2.1", &x);
	group_lab_flow("10.77.1.2", 0, "10.77.2.2", &x);
	group_lab_flow("fd77:1::1", 0, "fd77:2::1", &x);
	group_lab_flow("fd77:1::2", 0, "fd77:2::1", &x);
	/* IPv4 on IPv6 sockets (a dual-stack server's IPv4 clients) takes the
	 * IPv4 length. */
	group_lab_flow("::ffff:10.77.1.1", 0, "::ffff:10.77.2.2", &x);
	group_lab_drain(c_r24, &t[0], c_raddr, &t[2]);
	group_lab_drain(c_l16, &t[1], c_laddr, &t[3]);

	group_lab_check(&t[0], "raddr:10.77.1.0/24",
		    tally_sum(&t[2], "raddr:10.77.1."));
	group_lab_check(&t[0], "raddr:10.77.2.0/24",
		    tally_sum(&t[2], "raddr:10.77.2."));
	group_lab_check(&t[0], "raddr:fd77:1::/64",
		    tally_sum(&t[2], "raddr:fd77:1::"));
	group_lab_check(&t[0], "raddr:fd77:2::/64",
		    tally_sum(&t[2], "raddr:fd77:2::"));
	/* Only prefixes: no whole address of ours is a group. */
	CHECK_CMP(tally_sum(&t[0], "raddr:10.77.1.1"), ==, 0);
	CHECK_CMP(tally_sum(&t[0], "raddr:fd77:1::1"), ==, 0);
	/* One length: IPv6 is cut to 16 bits as well. */
	group_lab_check(&t[1], "laddr:10.77.0.0/16",
		    tally_sum(&t[3], "laddr:10.77."));
	group_lab_check(&t[1], "laddr:fd77::/16", tally_sum(&t[3], "laddr:fd77:"));
	collector_close(c_laddr);
	collector_close(c_raddr);
	collector_close(c_l16);
	collector_close(c_r24);
	free(t);
}

/*
 * A new group asks first for the id hashed from its key
 * (kernel/group_ids.h): six keys in six ids mostly ask for taken ones,
 * and must still find the free ones, each its own, before a seventh key
 * overflows.
 */
static void test_full_table(void)
{
	/* RTT alone: the other signals' programs also count the closes of
	 * the sockets of the tests before, whose keys would take ids. */
	struct collector_opts six = { .group_by = COLLECTOR_BY_RADDR,
				      .signals = COLLECTOR_SIG_RTT,
				      .max_groups = 6 };
	struct collector_opts raddr = { .group_by = COLLECTOR_BY_RADDR,
					.signals = COLLECTOR_SIG_RTT };
	static const char *const peers[] = {
		"raddr:10.77.1.1", "raddr:10.77.2.1", "raddr:10.77.1.2",
		"raddr:10.77.2.2", "raddr:fd77:1::1", "raddr:fd77:2::1",
	};
	struct collector *c_six, *c_raddr;
	struct tally *t = calloc(2, sizeof(*t));
	struct traffic_conn x;
	size_t i;

	check_section("--max-groups 6 holds six keys whichever ids they hash to");
	REQUIRE(t, "calloc");
	c_six = group_lab_open(&six);
	c_raddr = group_lab_open(&raddr);
	group_lab_drain(c_six, &t[0], c_raddr, &t[1]);

	group_lab_flow("10.77.1.1", 0, "10.77.2.1", &x);
	group_lab_flow("10.77.1.2", 0, "10.77.2.2", &x);
	group_lab_flow("fd77:1::1", 0, "fd77:2::1", &x);
	group_lab_drain(c_six, &t[0], c_raddr, &t[1]);
	for (i = 0; i < sizeof(peers) / sizeof(peers[0]); i++)
		group_lab_check(&t[0], peers[i], tally_get(&t[1], peers[i]));
	CHECK_CMP(tally_sum(&t[0], "raddr:"), ==, tally_sum(&t[1], "raddr:"));
	CHECK_CMP(collector_overflow(c_six), ==, 0);

	/* A seventh key finds no room; the six keep counting. */
	group_lab_flow("10.77.1.1", 0, "10.99.0.1", &x);
	group_lab_drain(c_six, &t[0], c_raddr, &t[1]);
	CHECK_CMP(tally_get(&t[0], "raddr:10.99.0.1"), ==, 0);
	CHECK_CMP(collector_overflow(c_six), >=, GROUP_LAB_EXCHANGES);
	group_lab_check(&t[0], "raddr:10.77.1.1",
			tally_get(&t[1], "raddr:10.77.1.1"));
	collector_close(c_raddr);
	collector_close(c_six);
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
	c_peer = group_lab_open(&peer);
	c_raddr = group_lab_open(&raddr);
	group_lab_drain(c_peer, &t[0], c_raddr, &t[1]);
	/* Opened now, talks after the reload below. */
	REQUIRE_CMP(traffic_conn_open("10.77.1.2", 0, "10.77.2.1", &old), ==,
		    0);

	group_lab_flow("10.77.1.1", 0, "10.77.2.1", &x);
	group_lab_flow("10.77.1.2", 0, "10.77.2.2", &x);
	group_lab_flow("fd77:1::1", 0, "fd77:2::1", &x);
	group_lab_flow("10.99.0.1", 0, "10.99.0.2", &x);
	REQUIRE_CMP(traffic_conn_exchange(&old, EXCHANGES), ==, 0);
	group_lab_drain(c_peer, &t[0], c_raddr, &t[1]);
	/* Server sides see the clients (10.77.2.x: lab), client sides the
	 * servers; 10.77.1.2 is its own /32. */
	group_lab_check(&t[0], "peer:db-primary",
		    tally_get(&t[1], "raddr:10.77.1.2"));
	group_lab_check(&t[0], "peer:lab",
		    tally_get(&t[1], "raddr:10.77.1.1") +
		    tally_sum(&t[1], "raddr:10.77.2."));
	group_lab_check(&t[0], "peer:v6-host", tally_get(&t[1], "raddr:fd77:1::1"));
	group_lab_check(&t[0], "peer:lab6", tally_get(&t[1], "raddr:fd77:2::1"));
	/* The rest of the host's traffic is "other" too: at least ours. */
	CHECK_CMP(tally_get(&t[0], "peer:other"), >=,
		  tally_sum(&t[1], "raddr:10.99.0."));
	CHECK_CMP(tally_sum(&t[1], "raddr:10.99.0."), >=, EXCHANGES);

	check_section("peer map reload: new labels for every socket, no count lost");
	write_file(path, "10.77.0.0/16 lab\n"
			 "10.77.1.2/32 db-replica\n"
			 "10.99.0.0/16 spare\n"
			 "fd77::/16 lab6\n");
	REQUIRE(collector_reload_peer_map(c_peer, &err) == 0,
		"reload: %s", err.msg);
	/* Counters are cumulative and untouched by a reload: nothing of
	 * ours since the last drain. */
	group_lab_drain(c_peer, &t[0], c_raddr, &t[1]);
	CHECK_CMP(tally_sum(&t[0], "peer:l") + tally_sum(&t[0], "peer:d") +
		  tally_sum(&t[0], "peer:v") + tally_sum(&t[0], "peer:s"), ==,
		  0);
	group_lab_flow("10.77.1.2", 0, "10.77.2.2", &x);
	group_lab_flow("10.99.0.1", 0, "10.99.0.2", &x);
	group_lab_flow("fd77:1::1", 0, "fd77:2::1", &x);
	group_lab_drain(c_peer, &t[0], c_raddr, &t[1]);
	group_lab_check(&t[0], "peer:db-replica",
		    tally_get(&t[1], "raddr:10.77.1.2"));
	group_lab_check(&t[0], "peer:spare", tally_sum(&t[1], "raddr:10.99.0."));
	group_lab_check(&t[0], "peer:lab6", tally_sum(&t[1], "raddr:fd77:"));
	CHECK_CMP(tally_get(&t[0], "peer:v6-host"), ==, 0);
	/* A socket resolved before the reload takes the new label from its
	 * next segment on: labels are looked up per address, not kept per
	 * socket (gid_slots, kernel/group_ids.h). */
	REQUIRE_CMP(traffic_conn_exchange(&old, EXCHANGES), ==, 0);
	group_lab_drain(c_peer, &t[0], c_raddr, &t[1]);
	group_lab_check(&t[0], "peer:db-replica",
		    tally_get(&t[1], "raddr:10.77.1.2"));
	CHECK_CMP(tally_get(&t[0], "peer:db-primary"), ==, 0);
	traffic_conn_close(&old);

	check_section("peer map reload of a bad file keeps the old map");
	write_file(path, "10.77.0.0/16 lab\n"
			 "# next: a typo\n"
			 "10.77.1.2/33 db-moved\n");
	CHECK_CMP(collector_reload_peer_map(c_peer, &err), ==, -EINVAL);
	snprintf(where, sizeof(where), "%s:3: ", path);
	CHECK_CONTAINS(err.msg, where);
	printf("  bad reload: %s\n", err.msg);
	group_lab_flow("10.77.1.2", 0, "10.77.2.2", &x);
	group_lab_drain(c_peer, &t[0], c_raddr, &t[1]);
	group_lab_check(&t[0], "peer:db-replica",
		    tally_get(&t[1], "raddr:10.77.1.2"));
	CHECK_CMP(tally_sum(&t[0], "peer:db-moved"), ==, 0);
	collector_close(c_raddr);
	collector_close(c_peer);

	check_section("peer:other holds exactly the unmatched peers");
	raddr.raddr.family = 0;
	REQUIRE_CMP(netaddr_parse_cidr("10.99.0.0/16", &raddr.raddr, &err),
		    ==, 0);
	peer.raddr = raddr.raddr;
	write_file(path, first_map);
	c_peer = group_lab_open(&peer);
	c_raddr = group_lab_open(&raddr);
	group_lab_drain(c_peer, &t[0], c_raddr, &t[1]);
	group_lab_flow("10.99.0.1", 0, "10.99.0.2", &x);
	group_lab_drain(c_peer, &t[0], c_raddr, &t[1]);
	group_lab_check(&t[0], "peer:other", tally_sum(&t[1], "raddr:10.99.0."));
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
	group_lab_check(tp, group, tally_get(tc, server) + tally_get(tc, client));
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
	c_port = group_lab_open(&port);
	c_ports = group_lab_open(&ports);
	printf("attached via %s\n", collector_attach_mode(c_port));

	check_section("port: accepted and opened connections by service port");
	/* Each flow's listener starts after the collectors loaded their
	 * listening ports: rttq_state marks its port as its first child is
	 * born (kernel/group_key.h), before the child's first segment. */
	group_lab_drain(c_port, &t[0], c_ports, &t[1]);
	group_lab_flow("10.77.1.2", 0, "10.77.2.2", &x);
	group_lab_drain(c_port, &t[0], c_ports, &t[1]);
	check_ports(&t[0], &t[1], &x);
	group_lab_flow("fd77:1::2", 0, "fd77:2::1", &x);
	group_lab_drain(c_port, &t[0], c_ports, &t[1]);
	check_ports(&t[0], &t[1], &x);

	check_section("port: connections older than the collector");
	REQUIRE_CMP(traffic_conn_exchange(&old, EXCHANGES), ==, 0);
	REQUIRE_CMP(traffic_conn_exchange(&old6, EXCHANGES), ==, 0);
	group_lab_drain(c_port, &t[0], c_ports, &t[1]);
	check_ports(&t[0], &t[1], &old);
	check_ports(&t[0], &t[1], &old6);
	traffic_conn_close(&old6);
	traffic_conn_close(&old);
	collector_close(c_ports);
	collector_close(c_port);
	free(t);
}

/* raw_tp keeps nothing per socket: the listening ports decide each event. */
static void test_service_port_raw_tp(void)
{
	struct collector_opts port = { .group_by = COLLECTOR_BY_PORT,
				       .attach = "raw_tp" };
	struct collector_opts ports = { .group_by = COLLECTOR_BY_LPORT |
						    COLLECTOR_BY_RPORT };
	struct collector *c_port = NULL, *c_ports;
	struct tally *t = calloc(2, sizeof(*t));
	struct rttq_error err = { 0 };
	struct traffic_conn x;

	check_section("port under raw_tp: the listening ports decide");
	REQUIRE(t, "calloc");
	REQUIRE_CMP(traffic_conn_open("10.77.1.2", 0, "10.77.2.2", &x), ==, 0);
	if (collector_open(&port, &c_port, &err)) {
		printf("  raw_tp does not attach here (%s): not checked\n",
		       err.msg);
		traffic_conn_close(&x);
		free(t);
		return;
	}
	c_ports = group_lab_open(&ports);
	group_lab_drain(c_port, &t[0], c_ports, &t[1]);
	REQUIRE_CMP(traffic_conn_exchange(&x, EXCHANGES), ==, 0);
	group_lab_drain(c_port, &t[0], c_ports, &t[1]);
	check_ports(&t[0], &t[1], &x);
	traffic_conn_close(&x);
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
	c_both = group_lab_open(&both);
	c_raddr = group_lab_open(&raddr);
	group_lab_drain(c_both, &t[0], c_raddr, &t[1]);
	group_lab_flow("10.77.1.2", 0, "10.77.2.1", &x);
	group_lab_drain(c_both, &t[0], c_raddr, &t[1]);
	snprintf(group, sizeof(group), "peer:db-primary,port:%u",
		 x.server_port);
	group_lab_check(&t[0], group, tally_get(&t[1], "raddr:10.77.1.2"));
	snprintf(group, sizeof(group), "peer:lab,port:%u", x.server_port);
	group_lab_check(&t[0], group, tally_get(&t[1], "raddr:10.77.2.1"));
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
	group_lab_up();
	fd = mkstemp(path);
	REQUIRE(fd >= 0, "mkstemp");
	close(fd);
	test_prefixes();
	test_full_table();
	test_peer_map(path);
	test_service_port();
	test_service_port_raw_tp();
	test_peer_port(path);
	unlink(path);
	return check_report();
}
