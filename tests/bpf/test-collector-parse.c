// SPDX-License-Identifier: BSD-2-Clause
/*
 * The collector's text parsers (no kernel needed): --group-by words with
 * prefix lengths, --laddr/--raddr addresses with CIDR prefixes,
 * --group-idle durations, and --peer-map files (the errors a user sees at
 * start or on SIGHUP), at their edges.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "collector_opts.h"
#include "peer_map.h"

static void test_group_by(void)
{
	struct rttq_error err = { 0 };
	struct collector_opts o = { .group_by = 99 };

	CHECK_CMP(collector_parse_group_by("none", &o, &err), ==, 0);
	CHECK_CMP(o.group_by, ==, 0);
	CHECK_CMP(collector_parse_group_by("raddr", &o, &err), ==, 0);
	CHECK_CMP(o.group_by, ==, COLLECTOR_BY_RADDR);
	CHECK_CMP(o.raddr_prefix4, ==, 0);
	CHECK_CMP(collector_parse_group_by("laddr,raddr,lport,rport", &o,
					   &err), ==, 0);
	CHECK_CMP(o.group_by, ==, 0xf);
	CHECK_CMP(collector_parse_group_by("rport,rport", &o, &err), ==, 0);
	CHECK_CMP(o.group_by, ==, COLLECTOR_BY_RPORT);
	CHECK_CMP(collector_parse_group_by("peer,port,cgroup", &o, &err), ==,
		  0);
	CHECK_CMP(o.group_by, ==,
		  COLLECTOR_BY_PEER | COLLECTOR_BY_PORT | COLLECTOR_BY_CGROUP);

	/* One length: IPv4 gets at most 32 of it, IPv6 all of it. */
	CHECK_CMP(collector_parse_group_by("raddr/24,port", &o, &err), ==, 0);
	CHECK_CMP(o.group_by, ==, COLLECTOR_BY_RADDR | COLLECTOR_BY_PORT);
	CHECK_CMP(o.raddr_prefix4, ==, 24);
	CHECK_CMP(o.raddr_prefix6, ==, 24);
	CHECK_CMP(collector_parse_group_by("raddr/64", &o, &err), ==, 0);
	CHECK_CMP(o.raddr_prefix4, ==, 32);
	CHECK_CMP(o.raddr_prefix6, ==, 64);
	/* Two lengths: IPv4, then IPv6; laddr apart from raddr. */
	CHECK_CMP(collector_parse_group_by("laddr/16/48,raddr", &o, &err), ==,
		  0);
	CHECK_CMP(o.laddr_prefix4, ==, 16);
	CHECK_CMP(o.laddr_prefix6, ==, 48);
	CHECK_CMP(o.raddr_prefix4, ==, 0);
	CHECK_CMP(o.raddr_prefix6, ==, 0);

	CHECK_CMP(collector_parse_group_by("raddr,bogus", &o, &err), ==,
		  -EINVAL);
	CHECK_CONTAINS(err.msg, "'bogus'");
	CHECK_CMP(collector_parse_group_by("raddr/0", &o, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "1..128");
	CHECK_CMP(collector_parse_group_by("raddr/129", &o, &err), ==,
		  -EINVAL);
	CHECK_CMP(collector_parse_group_by("raddr/33/64", &o, &err), ==,
		  -EINVAL);
	CHECK_CONTAINS(err.msg, "IPv4 length must be 1..32");
	CHECK_CMP(collector_parse_group_by("raddr/24/", &o, &err), ==,
		  -EINVAL);
	CHECK_CMP(collector_parse_group_by("raddr/24/64/8", &o, &err), ==,
		  -EINVAL);
	CHECK_CMP(collector_parse_group_by("port/24", &o, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "only raddr and laddr");
	CHECK_CMP(collector_parse_group_by("", &o, &err), ==, -EINVAL);
	CHECK_CMP(collector_parse_group_by("raddr,", &o, &err), ==, -EINVAL);
	CHECK_CMP(collector_parse_group_by("raddrx", &o, &err), ==, -EINVAL);
	/* A failure leaves the settings as they were. */
	CHECK_CMP(o.group_by, ==, COLLECTOR_BY_LADDR | COLLECTOR_BY_RADDR);
}

static void test_addr(void)
{
	static const unsigned char v4[4] = { 10, 1, 2, 3 };
	struct rttq_error err = { 0 };
	struct addr_filter f;

	CHECK_CMP(netaddr_parse_cidr("10.1.2.3", &f, &err), ==, 0);
	CHECK_CMP(f.family, ==, AF_INET);
	CHECK_CMP(f.prefix, ==, 32);
	CHECK(!memcmp(f.addr, v4, 4), "address %u.%u.%u.%u", f.addr[0],
	      f.addr[1], f.addr[2], f.addr[3]);
	CHECK_CMP(netaddr_parse_cidr("10.0.0.0/8", &f, &err), ==, 0);
	CHECK_CMP(f.prefix, ==, 8);
	CHECK_CMP(netaddr_parse_cidr("0.0.0.0/0", &f, &err), ==, 0);
	CHECK_CMP(f.prefix, ==, 0);
	CHECK_CMP(netaddr_parse_cidr("fe80::1", &f, &err), ==, 0);
	CHECK_CMP(f.family, ==, AF_INET6);
	CHECK_CMP(f.prefix, ==, 128);
	CHECK_CMP(f.addr[0], ==, 0xfe);
	CHECK_CMP(netaddr_parse_cidr("2001:db8::/32", &f, &err), ==, 0);
	CHECK_CMP(f.prefix, ==, 32);
	CHECK_CMP(netaddr_parse_cidr("::ffff:10.0.0.0/104", &f, &err), ==, 0);
	CHECK_CMP(f.family, ==, AF_INET6);
	CHECK_CMP(f.prefix, ==, 104);

	CHECK_CMP(netaddr_parse_cidr("10.0.0.0/33", &f, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "0..32");
	CHECK_CMP(netaddr_parse_cidr("fe80::/129", &f, &err), ==, -EINVAL);
	CHECK_CMP(netaddr_parse_cidr("10.0.0.0/", &f, &err), ==, -EINVAL);
	CHECK_CMP(netaddr_parse_cidr("10.0.0.0/-1", &f, &err), ==, -EINVAL);
	CHECK_CMP(netaddr_parse_cidr("10.0.0.0/8x", &f, &err), ==, -EINVAL);
	CHECK_CMP(netaddr_parse_cidr("10.0.0", &f, &err), ==, -EINVAL);
	CHECK_CMP(netaddr_parse_cidr("host.example", &f, &err), ==, -EINVAL);
	CHECK_CMP(netaddr_parse_cidr("", &f, &err), ==, -EINVAL);
	CHECK_CMP(netaddr_parse_cidr("/8", &f, &err), ==, -EINVAL);
}

/* Writes @text to a fresh temporary file; its path into @path. */
static void write_temp(char *path, size_t size, const char *text)
{
	int fd;

	snprintf(path, size, "/tmp/rttq-peers.XXXXXX");
	fd = mkstemp(path);
	REQUIRE(fd >= 0, "mkstemp");
	REQUIRE_CMP(write(fd, text, strlen(text)), ==, (ssize_t)strlen(text));
	close(fd);
}

/*
 * A file whose line @line is bad: refused with "FILE:LINE:" and @what,
 * before any map is touched (fd -1 would fail any write), and its new
 * labels forgotten.
 */
static void bad_map(const char *text, int code, unsigned int line,
		    const char *what)
{
	struct rttq_error err = { 0 };
	struct peer_map *m = NULL;
	char path[64], where[96];

	write_temp(path, sizeof(path), text);
	REQUIRE_CMP(peer_map_new(path, &m), ==, 0);
	CHECK_CMP(peer_map_load(m, -1, &err), ==, code);
	snprintf(where, sizeof(where), "%s:%u: ", path, line);
	CHECK_CONTAINS(err.msg, where);
	CHECK_CONTAINS(err.msg, what);
	CHECK_STR(peer_map_label(m, 1), PEER_MAP_OTHER);
	CHECK_CMP(peer_map_prefixes(m), ==, 0);
	peer_map_free(m);
	unlink(path);
}

static void test_peer_map_errors(void)
{
	struct rttq_error err = { 0 };
	struct peer_map *m = NULL;
	char path[64];

	bad_map("10.0.0.0/8 a\n10.1.2.3/16 b\n", -EINVAL, 2,
		"bits set past its prefix length");
	bad_map("# peers\n\n10.0.0.0/8   # no label\n", -EINVAL, 3,
		"one field");
	bad_map("10.0.0.0/8 a b\n", -EINVAL, 1, "more than two fields");
	bad_map("10.0.0.0/8 a\n\t10.0.0.0/8 b\n", -EINVAL, 2,
		"the same prefix as line 1");
	bad_map("fd00::/8 other\n", -EINVAL, 1, "kept for peers no prefix");
	bad_map("10.0.0.0/8 fresh\n10.0.0.0/33 x\n", -EINVAL, 2, "0..32");
	bad_map("10.0.0.0/8 a,b\n", -EINVAL, 1, "letters, digits");
	bad_map("db.example/32 a\n", -EINVAL, 1, "not an IPv4 or IPv6");

	/* Comments and blank lines only: valid, and no prefix. */
	write_temp(path, sizeof(path), "# nothing yet\n\n   \n");
	REQUIRE_CMP(peer_map_new(path, &m), ==, 0);
	CHECK_CMP(peer_map_load(m, -1, &err), ==, 0);
	CHECK_CMP(peer_map_prefixes(m), ==, 0);
	unlink(path);
	CHECK_CMP(peer_map_load(m, -1, &err), ==, -ENOENT);
	CHECK_CONTAINS(err.msg, path);
	peer_map_free(m);
}

static void test_group_idle(void)
{
	struct collector_opts o = { 0 };
	struct rttq_error err = { 0 };

	CHECK_CMP(collector_opts_parse(&o, COLLECTOR_OPT_GROUP_IDLE, "10m",
				       &err), ==, 0);
	CHECK_CMP(o.group_idle_ms, ==, 600000);
	CHECK_CMP(collector_opts_parse(&o, COLLECTOR_OPT_GROUP_IDLE, "250ms",
				       &err), ==, 0);
	CHECK_CMP(o.group_idle_ms, ==, 250);
	CHECK_CMP(collector_opts_parse(&o, COLLECTOR_OPT_GROUP_IDLE, "0",
				       &err), ==, -EINVAL);
	CHECK(strstr(err.msg, "--group-idle") != NULL, "%s", err.msg);
	CHECK_CMP(collector_opts_parse(&o, COLLECTOR_OPT_GROUP_IDLE, "ten",
				       &err), ==, -EINVAL);
	CHECK(strstr(err.msg, "'ten'") != NULL, "%s", err.msg);
	/* A bad value leaves the last good one. */
	CHECK_CMP(o.group_idle_ms, ==, 250);
}

/* --signals: the families by name, rtt always among them. */
static void test_signals(void)
{
	struct rttq_error err = { 0 };
	struct collector_opts o = { 0 };
	unsigned int bits = 0;

	check_section("--signals");
	CHECK_CMP(collector_parse_signals("rtt,jitter,retrans,conn,drops,"
					  "runqlat,softirq,bytes,sndbuf",
					  &bits, &err), ==, 0);
	CHECK_CMP(bits, ==, COLLECTOR_SIG_ALL);
	CHECK_CMP(collector_parse_signals("runqlat,bytes", &bits, &err), ==, 0);
	CHECK_CMP(bits, ==, COLLECTOR_SIG_RTT | COLLECTOR_SIG_RUNQLAT |
				    COLLECTOR_SIG_BYTES);
	CHECK_CMP(collector_parse_signals("drops", &bits, &err), ==, 0);
	CHECK_CMP(bits, ==, COLLECTOR_SIG_RTT | COLLECTOR_SIG_DROPS);
	CHECK_CMP(collector_opts_parse(&o, COLLECTOR_OPT_SIGNALS, "jitter",
				       &err), ==, 0);
	CHECK_CMP(o.signals, ==, COLLECTOR_SIG_RTT | COLLECTOR_SIG_JITTER);
	/* A bad word names itself and the list; nothing changes. */
	CHECK_CMP(collector_opts_parse(&o, COLLECTOR_OPT_SIGNALS,
				       "jitter,retransmits", &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "'retransmits'");
	CHECK_CONTAINS(err.msg, "rtt, jitter, retrans, conn, drops, "
				"runqlat, softirq, bytes, sndbuf");
	CHECK_CMP(o.signals, ==, COLLECTOR_SIG_RTT | COLLECTOR_SIG_JITTER);
	CHECK_CMP(collector_parse_signals("", &bits, &err), ==, -EINVAL);
	CHECK_CMP(collector_parse_signals("rtt,", &bits, &err), ==, -EINVAL);
}

int main(void)
{
	test_signals();
	test_group_by();
	test_addr();
	test_peer_map_errors();
	test_group_idle();
	return check_report();
}
