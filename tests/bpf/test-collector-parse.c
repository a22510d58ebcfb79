// SPDX-License-Identifier: BSD-2-Clause
/*
 * The collector's text parsers (no kernel needed): --group-by words and
 * --laddr/--raddr addresses with CIDR prefixes, at their edges.
 */
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "collector_opts.h"

static void test_group_by(void)
{
	struct rttq_error err = { 0 };
	unsigned int bits = 99;

	assert(collector_parse_group_by("none", &bits, &err) == 0 && !bits);
	assert(collector_parse_group_by("raddr", &bits, &err) == 0);
	assert(bits == COLLECTOR_BY_RADDR);
	assert(collector_parse_group_by("laddr,raddr,lport,rport", &bits,
					&err) == 0);
	assert(bits == 0xf);
	assert(collector_parse_group_by("rport,rport", &bits, &err) == 0);
	assert(bits == COLLECTOR_BY_RPORT);
	assert(collector_parse_group_by("raddr,peer", &bits, &err) ==
	       -EINVAL);
	assert(strstr(err.msg, "'peer'"));
	assert(collector_parse_group_by("", &bits, &err) == -EINVAL);
	assert(collector_parse_group_by("raddr,", &bits, &err) == -EINVAL);
	assert(collector_parse_group_by("raddrx", &bits, &err) == -EINVAL);
}

static void test_addr(void)
{
	static const unsigned char v4[4] = { 10, 1, 2, 3 };
	struct rttq_error err = { 0 };
	struct addr_filter f;

	assert(collector_parse_addr("10.1.2.3", &f, &err) == 0);
	assert(f.family == AF_INET && f.prefix == 32);
	assert(!memcmp(f.addr, v4, 4));
	assert(collector_parse_addr("10.0.0.0/8", &f, &err) == 0);
	assert(f.prefix == 8);
	assert(collector_parse_addr("0.0.0.0/0", &f, &err) == 0);
	assert(f.prefix == 0);
	assert(collector_parse_addr("fe80::1", &f, &err) == 0);
	assert(f.family == AF_INET6 && f.prefix == 128 && f.addr[0] == 0xfe);
	assert(collector_parse_addr("2001:db8::/32", &f, &err) == 0);
	assert(f.prefix == 32);
	assert(collector_parse_addr("::ffff:10.0.0.0/104", &f, &err) == 0);
	assert(f.family == AF_INET6 && f.prefix == 104);

	assert(collector_parse_addr("10.0.0.0/33", &f, &err) == -EINVAL);
	assert(strstr(err.msg, "0..32"));
	assert(collector_parse_addr("fe80::/129", &f, &err) == -EINVAL);
	assert(collector_parse_addr("10.0.0.0/", &f, &err) == -EINVAL);
	assert(collector_parse_addr("10.0.0.0/-1", &f, &err) == -EINVAL);
	assert(collector_parse_addr("10.0.0.0/8x", &f, &err) == -EINVAL);
	assert(collector_parse_addr("10.0.0", &f, &err) == -EINVAL);
	assert(collector_parse_addr("host.example", &f, &err) == -EINVAL);
	assert(collector_parse_addr("", &f, &err) == -EINVAL);
	assert(collector_parse_addr("/8", &f, &err) == -EINVAL);
}

int main(void)
{
	test_group_by();
	test_addr();
	printf("collector parser tests passed\n");
	return 0;
}
