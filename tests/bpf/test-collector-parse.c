// SPDX-License-Identifier: BSD-2-Clause
/*
 * The collector's text parsers (no kernel needed): --group-by words and
 * --laddr/--raddr addresses with CIDR prefixes, at their edges.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "check.h"
#include "collector_opts.h"

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

	CHECK_CMP(collector_parse_addr("10.1.2.3", &f, &err), ==, 0);
	CHECK_CMP(f.family, ==, AF_INET);
	CHECK_CMP(f.prefix, ==, 32);
	CHECK(!memcmp(f.addr, v4, 4), "address %u.%u.%u.%u", f.addr[0],
	      f.addr[1], f.addr[2], f.addr[3]);
	CHECK_CMP(collector_parse_addr("10.0.0.0/8", &f, &err), ==, 0);
	CHECK_CMP(f.prefix, ==, 8);
	CHECK_CMP(collector_parse_addr("0.0.0.0/0", &f, &err), ==, 0);
	CHECK_CMP(f.prefix, ==, 0);
	CHECK_CMP(collector_parse_addr("fe80::1", &f, &err), ==, 0);
	CHECK_CMP(f.family, ==, AF_INET6);
	CHECK_CMP(f.prefix, ==, 128);
	CHECK_CMP(f.addr[0], ==, 0xfe);
	CHECK_CMP(collector_parse_addr("2001:db8::/32", &f, &err), ==, 0);
	CHECK_CMP(f.prefix, ==, 32);
	CHECK_CMP(collector_parse_addr("::ffff:10.0.0.0/104", &f, &err), ==, 0);
	CHECK_CMP(f.family, ==, AF_INET6);
	CHECK_CMP(f.prefix, ==, 104);

	CHECK_CMP(collector_parse_addr("10.0.0.0/33", &f, &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "0..32");
	CHECK_CMP(collector_parse_addr("fe80::/129", &f, &err), ==, -EINVAL);
	CHECK_CMP(collector_parse_addr("10.0.0.0/", &f, &err), ==, -EINVAL);
	CHECK_CMP(collector_parse_addr("10.0.0.0/-1", &f, &err), ==, -EINVAL);
	CHECK_CMP(collector_parse_addr("10.0.0.0/8x", &f, &err), ==, -EINVAL);
	CHECK_CMP(collector_parse_addr("10.0.0", &f, &err), ==, -EINVAL);
	CHECK_CMP(collector_parse_addr("host.example", &f, &err), ==, -EINVAL);
	CHECK_CMP(collector_parse_addr("", &f, &err), ==, -EINVAL);
	CHECK_CMP(collector_parse_addr("/8", &f, &err), ==, -EINVAL);
}

int main(void)
{
	test_group_by();
	test_addr();
	return check_report();
}
