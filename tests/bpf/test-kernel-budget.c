// SPDX-License-Identifier: BSD-2-Clause
/*
 * --kernel-memory without a kernel: the bytes per group and per CPU the
 * loader counts, the groups a budget holds (1,000 on 96 CPUs within the
 * default 64 MiB is the goal), what is refused and what is capped, and
 * the option's bounds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buckets.h"
#include "check.h"
#include "collector.h"
#include "collector_opts.h"
#include "kernel_budget.h"
#include "rttq.h"

#define SLOTS5 BUCKET_SLOTS(5)
/* Bytes of a group's counters (enum rttq_counter, u64 each): 120 now. */
#define HEALTH ((unsigned int)sizeof(struct rttq_health))

static void test_formula(void)
{
	struct rttq_error err = { 0 };
	struct kernel_budget b;

	REQUIRE_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.mib = 64, .ncpus = 96, .words = SLOTS5,
			.key_size = RTTQ_KEY_SIZE_ALL, .max_groups = 1000,
			.explicit_max = true },
		&b, &err), ==, 0);
	/* 3,584 counter bytes shared by all CPUs, 32 generation and
	 * predicted slot key, 8 claim,
	 * 128 hash element (48 head + 56 key + 8 value + 8 list node, in
	 * the 128-byte class), 32 for its buckets. */
	CHECK_CMP(b.per_group, ==, 3584 + 32 + 8 + 128 + 32);
	/* Per CPU: the ungrouped counters (histogram, counters), the
	 * overflow counter and the drops map's 8 bytes when off; the unused
	 * index 0 of group_health. */
	CHECK_CMP(b.fixed, ==, 96 * (3584 + HEALTH + 8 + 8) + HEALTH + 8192 + 20480);
	CHECK_CMP(b.budget, ==, 64ull << 20);
	CHECK_CMP(b.ncpus, ==, 96);
	CHECK_CMP(b.groups, ==, 1000);
	CHECK_CMP(b.reserved, ==, b.fixed + 1000 * b.per_group);
	CHECK_CMP(b.fit, ==, ((64ull << 20) - b.fixed) / b.per_group);
	/* The goal: 1,000 groups on 96 CPUs in 64 MiB, with room to spare. */
	CHECK_CMP(b.reserved, <, 64ull << 20);
	CHECK_CMP(b.fit, >=, 10000);

	/* A shorter key (raddr) takes a smaller hash element, and its
	 * groups are found through the per-CPU gid_slots cache: 1,024
	 * entries of 32 bytes per CPU. */
	REQUIRE_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.mib = 64, .ncpus = 96, .words = SLOTS5,
			.key_size = RTTQ_KEY_SIZE_RADDR, .slots = true,
			.max_groups = 1000, .explicit_max = true },
		&b, &err), ==, 0);
	CHECK_CMP(b.per_group, ==, 3584 + 32 + 8 + 96 + 32);
	CHECK_CMP(b.fixed, ==, 96 * (3584 + HEALTH + 8 + 8) + HEALTH +
				       1024 * 96 * 32 + 8192 + 20480);
	CHECK_CMP(b.reserved, <, 64ull << 20);
	/* Which groupings use the cache: any without the local address or
	 * the cgroup (peer,port too: its slot key is the remote address and
	 * the service port), none without --group-by. */
	CHECK(kernel_budget_slots(COLLECTOR_BY_RADDR), "raddr uses gid_slots");
	CHECK(kernel_budget_slots(COLLECTOR_BY_RADDR | COLLECTOR_BY_RPORT),
	      "raddr,rport uses gid_slots");
	CHECK(kernel_budget_slots(COLLECTOR_BY_PEER | COLLECTOR_BY_PORT),
	      "peer,port uses gid_slots");
	CHECK(kernel_budget_slots(COLLECTOR_BY_RADDR | COLLECTOR_BY_PORT),
	      "raddr,port uses gid_slots");
	CHECK(!kernel_budget_slots(0), "no gid_slots without --group-by");
	CHECK(!kernel_budget_slots(COLLECTOR_BY_LADDR), "laddr: sk storage");
	CHECK(!kernel_budget_slots(COLLECTOR_BY_PEER | COLLECTOR_BY_CGROUP),
	      "peer,cgroup: sk storage");
	CHECK(!kernel_budget_slots(COLLECTOR_BY_RPORT | COLLECTOR_BY_PORT),
	      "rport,port: more than the slot key holds");
	CHECK(!kernel_budget_slots(COLLECTOR_BY_LPORT | COLLECTOR_BY_PEER),
	      "lport,peer: more than the slot key holds");
	/* Ports too; not a key with the local address (36 bytes). */
	REQUIRE_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.mib = 64, .ncpus = 96, .words = SLOTS5,
			.key_size = RTTQ_KEY_SIZE_PORTS, .slots = true,
			.max_groups = 1000, .explicit_max = true },
		&b, &err), ==, 0);
	CHECK_CMP(b.fixed, ==, 96 * (3584 + HEALTH + 8 + 8) + HEALTH +
				       1024 * 96 * 32 + 8192 + 20480);
	REQUIRE_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.mib = 64, .ncpus = 96, .words = SLOTS5,
			.key_size = RTTQ_KEY_SIZE_ADDRS, .max_groups = 1000,
			.explicit_max = true },
		&b, &err), ==, 0);
	CHECK_CMP(b.fixed, ==, 96 * (3584 + HEALTH + 8 + 8) + HEALTH + 8192 + 20480);
	/* Without --group-by the cache is not loaded at its size. */
	REQUIRE_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.mib = 64, .ncpus = 96, .words = SLOTS5,
			.key_size = RTTQ_KEY_SIZE_RADDR, .slots = true,
			.explicit_max = true },
		&b, &err), ==, 0);
	CHECK_CMP(b.fixed, ==, 96 * (3584 + HEALTH + 8 + 8) + HEALTH + 8192 + 20480);
	/* g = 7 and the peer trie: 65,536 nodes at most, each 40 bytes of
	 * head, 16 of address and 4 of label id (+ 8) in the 96-byte class;
	 * no MiB given: the default. */
	REQUIRE_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.ncpus = 4, .words = BUCKET_SLOTS(7),
			.key_size = RTTQ_KEY_SIZE_ALL, .peers = true,
			.max_groups = 10, .explicit_max = true },
		&b, &err), ==, 0);
	CHECK_CMP(b.budget, ==, 64ull << 20);
	CHECK_CMP(b.per_group, ==, BUCKET_SLOTS(7) * 4 + 32 + 8 + 128 + 32);
	CHECK_CMP(b.fixed, ==, 4 * (BUCKET_SLOTS(7) * 4 + HEALTH + 8 + 8) + HEALTH +
				       8192 + 20480 + 65536 * 96);

	/* Every signal: rtt, jitter, sndbuf and handshake histograms, HEALTH
	 * bytes of counters per group, and per CPU 6 KiB of drops, runqlat's
	 * histogram and the softirq times; still 1,000 groups on 96 CPUs
	 * within 64 MiB. */
	REQUIRE_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.mib = 64, .ncpus = 96, .words = 4 * SLOTS5,
			.key_size = RTTQ_KEY_SIZE_ALL, .health = true,
			.drops = true, .node_bytes = 3584 + 24,
			.max_groups = 1000, .explicit_max = true },
		&b, &err), ==, 0);
	CHECK_CMP(b.per_group, ==, 4 * 3584 + HEALTH + 32 + 8 + 128 + 32);
	CHECK_CMP(b.fixed, ==, 96 * (4 * 3584 + HEALTH + 8 + 6144 + 3608) + HEALTH +
				       8192 + 20480);
	CHECK_CMP(b.reserved, <, 64ull << 20);
	printf("every signal, 1,000 groups, 96 CPUs: %.1f MiB\n",
	       b.reserved / 1048576.0);
	/* The same by raddr: a smaller hash element, and the id cache's
	 * 3 MiB on 96 CPUs; 1,000 groups still fit. */
	REQUIRE_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.mib = 64, .ncpus = 96, .words = 4 * SLOTS5,
			.key_size = RTTQ_KEY_SIZE_RADDR, .slots = true,
			.health = true, .drops = true, .node_bytes = 3584 + 24,
			.max_groups = 1000, .explicit_max = true },
		&b, &err), ==, 0);
	CHECK_CMP(b.per_group, ==, 4 * 3584 + HEALTH + 32 + 8 + 96 + 32);
	CHECK_CMP(b.fixed, ==, 96 * (4 * 3584 + HEALTH + 8 + 6144 + 3608) + HEALTH +
				       1024 * 96 * 32 + 8192 + 20480);
	CHECK_CMP(b.reserved, <, 64ull << 20);
	printf("every signal by raddr, 1,000 groups, 96 CPUs: %" PRIu64
	       " + 1,000 x %" PRIu64 " = %.1f MiB, %u groups fit\n",
	       b.fixed, b.per_group, b.reserved / 1048576.0, b.fit);
}

static void test_limits(void)
{
	struct rttq_error err = { 0 };
	struct kernel_budget b;
	uint32_t fit;

	REQUIRE_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.mib = 64, .ncpus = 96, .words = SLOTS5,
			.key_size = RTTQ_KEY_SIZE_ALL, .max_groups = 1,
			.explicit_max = true },
		&b, &err), ==, 0);
	fit = b.fit;
	CHECK_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.mib = 64, .ncpus = 96, .words = SLOTS5,
			.key_size = RTTQ_KEY_SIZE_ALL, .max_groups = fit,
			.explicit_max = true },
		&b, &err), ==, 0);
	CHECK_CMP(b.reserved, <=, 64ull << 20);
	/* One more than fits, asked for: refused, saying what to change. */
	CHECK_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.mib = 64, .ncpus = 96, .words = SLOTS5,
			.key_size = RTTQ_KEY_SIZE_ALL, .max_groups = fit + 1,
			.explicit_max = true },
		&b, &err), ==, -E2BIG);
	CHECK_CONTAINS(err.msg, "--max-groups");
	CHECK_CONTAINS(err.msg, "--kernel-memory 64 MiB on 96 CPUs");
	CHECK_CONTAINS(err.msg, "3784 bytes per group");
	/* The same by default (not asked for): capped to what fits. */
	CHECK_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.mib = 64, .ncpus = 96, .words = SLOTS5,
			.key_size = RTTQ_KEY_SIZE_ALL, .max_groups = fit + 1 },
		&b, &err), ==, 0);
	CHECK_CMP(b.groups, ==, fit);
	/* Per-CPU maps alone beyond the budget: refused whatever the groups. */
	CHECK_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.mib = 1, .ncpus = 4096, .words = SLOTS5,
			.key_size = RTTQ_KEY_SIZE_ALL, .max_groups = 1 },
		&b, &err), ==, -E2BIG);
	CHECK_CONTAINS(err.msg, "no room for a group");
	/* Without --group-by nothing but the fixed part is reserved. */
	CHECK_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.mib = 1, .ncpus = 2, .words = SLOTS5,
			.key_size = RTTQ_KEY_SIZE_RADDR, .slots = true,
			.explicit_max = true },
		&b, &err), ==, 0);
	CHECK_CMP(b.reserved, ==, b.fixed);
	CHECK_CMP(kernel_budget_plan(&(struct kernel_budget_need){
			.mib = KERNEL_BUDGET_MAX_MIB + 1, .ncpus = 2,
			.words = SLOTS5, .key_size = RTTQ_KEY_SIZE_RADDR,
			.slots = true, .max_groups = 1, .explicit_max = true },
		&b, &err), ==, -EINVAL);
}

static void test_option(void)
{
	struct rttq_error err = { 0 };
	struct collector_opts o = { 0 };

	CHECK_CMP(collector_opts_parse(&o, COLLECTOR_OPT_KERNEL_MEMORY, "128",
				       &err), ==, 0);
	CHECK_CMP(o.kernel_memory_mib, ==, 128);
	CHECK_CMP(collector_opts_parse(&o, COLLECTOR_OPT_KERNEL_MEMORY, "0",
				       &err), ==, -EINVAL);
	CHECK_CONTAINS(err.msg, "--kernel-memory");
	CHECK_CMP(collector_opts_parse(&o, COLLECTOR_OPT_KERNEL_MEMORY,
				       "65537", &err), ==, -EINVAL);
	CHECK_CMP(collector_opts_parse(&o, COLLECTOR_OPT_KERNEL_MEMORY,
				       "64M", &err), ==, -EINVAL);
	CHECK_CMP(o.kernel_memory_mib, ==, 128);
}

int main(void)
{
	test_formula();
	test_limits();
	test_option();
	return check_report();
}
