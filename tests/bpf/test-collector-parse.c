// SPDX-License-Identifier: BSD-2-Clause
/*
 * The collector's text parsers (no kernel needed): --group-by words,
 * --laddr/--raddr addresses with CIDR prefixes and --group-idle
 * durations, at their edges.
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
	unsigned int bits = 99;

	CHECK_CMP(collector_parse_group_by("none", &bits, &err), ==, 0);
	CHECK_CMP(bits, ==, 0);
	CHECK_CMP(collector_parse_group_by("raddr", &bits, &err), ==, 0);
	CHECK_CMP(bits, ==, COLLECTOR_BY_RADDR);
	CHECK_CMP(collector_parse_group_by("laddr,raddr,lport,rport", &bits,
					   &err), ==, 0);
	CHECK_CMP(bits, ==, 0xf);
	CHECK_CMP(collector_parse_group_by("rport,rport", &bits, &err), ==, 0);
	CHECK_CMP(bits, ==, COLLECTOR_BY_RPORT);
	CHECK_CMP(collector_parse_group_by("raddr,peer", &bits, &err), ==,
		  -EINVAL);
	CHECK_CONTAINS(err.msg, "'peer'");
	CHECK_CMP(collector_parse_group_by("", &bits, &err), ==, -EINVAL);
	CHECK_CMP(collector_parse_group_by("raddr,", &bits, &err), ==, -EINVAL);
	CHECK_CMP(collector_parse_group_by("raddrx", &bits, &err), ==, -EINVAL);
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

int main(void)
{
	test_group_by();
	test_addr();
	test_group_idle();
	return check_report();
}
