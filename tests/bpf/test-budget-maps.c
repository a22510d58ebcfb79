// SPDX-License-Identifier: BSD-2-Clause
/*
 * --kernel-memory against the real kernel: the loaded maps have the sizes
 * the budget planned (read back through the program's map ids), what the
 * kernel says they take (fdinfo memlock) stays within what the agent
 * reports as reserved, and --max-groups beyond the budget is refused
 * before anything is loaded.  Prints each map's size on this host.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "buckets.h"
#include "check.h"
#include "collector_opts.h"
#include "kernel.h"
#include "kernel_budget.h"
#include "rttq.h"

#define MAX_MAPS 32
#define MAX_PROGS 32

/* What the kernel charges for map @fd (fdinfo "memlock:"), bytes. */
static uint64_t map_memlock(int fd)
{
	char path[64], line[256];
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	REQUIRE(f, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %" SCNu64, &v) == 1)
			break;
	fclose(f);
	return v;
}

struct map_seen {
	char name[BPF_OBJ_NAME_LEN];
	struct bpf_map_info info;
	uint64_t memlock;
};

/* The maps of every program of @c (each once), into @out; @return how
 * many. */
static unsigned int maps_of(struct collector *c, struct map_seen *out)
{
	uint32_t ids[MAX_MAPS], seen[MAX_MAPS], len, n = 0, i, k, j, mlen, m;
	struct bpf_prog_info pinfo;
	int fds[MAX_PROGS], fd;
	unsigned int progs;

	progs = collector_prog_fds(c, fds, NULL, MAX_PROGS);
	for (k = 0; k < progs && k < MAX_PROGS; k++) {
		memset(&pinfo, 0, sizeof(pinfo));
		len = sizeof(pinfo);
		pinfo.nr_map_ids = MAX_MAPS;
		pinfo.map_ids = (uintptr_t)ids;
		REQUIRE_CMP(bpf_obj_get_info_by_fd(fds[k], &pinfo, &len), ==, 0);
		m = pinfo.nr_map_ids < MAX_MAPS ? pinfo.nr_map_ids : MAX_MAPS;
		for (i = 0; i < m && n < MAX_MAPS; i++) {
			for (j = 0; j < n && seen[j] != ids[i]; j++)
				;
			if (j < n)
				continue;
			seen[n] = ids[i];
			fd = bpf_map_get_fd_by_id(ids[i]);
			REQUIRE(fd >= 0, "map id %u: %s", ids[i],
				strerror(errno));
			memset(&out[n].info, 0, sizeof(out[n].info));
			mlen = sizeof(out[n].info);
			REQUIRE_CMP(bpf_obj_get_info_by_fd(fd, &out[n].info,
							   &mlen), ==, 0);
			snprintf(out[n].name, sizeof(out[n].name), "%s",
				 out[n].info.name);
			out[n].memlock = map_memlock(fd);
			close(fd);
			n++;
		}
	}
	return n;
}

static const struct map_seen *find(const struct map_seen *m, unsigned int n,
				   const char *name)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!strcmp(m[i].name, name))
			return &m[i];
	CHECK(false, "no map %s", name);
	return NULL;
}

static void test_sizes(void)
{
	struct collector_opts o = { .group_by = COLLECTOR_BY_RADDR,
				    .max_groups = 1000,
				    .kernel_memory_mib = 64,
				    .attach = "tp_btf" };
	struct rttq_error err = { 0 };
	const struct kernel_budget *b;
	struct map_seen maps[MAX_MAPS];
	const struct map_seen *m;
	struct collector *c = NULL;
	uint64_t total = 0;
	unsigned int n, i;

	REQUIRE(collector_open(&o, &c, &err) == 0, "collector_open: %s",
		err.msg);
	b = collector_budget(c);
	CHECK_CMP(b->groups, ==, 1000);
	CHECK_CMP(b->ncpus, ==, libbpf_num_possible_cpus());
	n = maps_of(c, maps);
	printf("maps of --group-by raddr --max-groups 1000 on %d possible "
	       "CPUs (memlock as the kernel charges it):\n", b->ncpus);
	for (i = 0; i < n; i++) {
		printf("  %-16s type %2u  max_entries %7u  value %5u B  "
		       "memlock %9" PRIu64 " B\n", maps[i].name,
		       maps[i].info.type, maps[i].info.max_entries,
		       maps[i].info.value_size, maps[i].memlock);
		total += maps[i].memlock;
	}
	printf("  total %" PRIu64 " B; planned %" PRIu64 " B reserved "
	       "(%" PRIu64 " fixed + %" PRIu64 " per group), %u groups fit "
	       "in 64 MiB\n", total, b->reserved, b->fixed, b->per_group,
	       b->fit);

	m = find(maps, n, "group_counts");
	if (m) {
		/* One copy for all CPUs: what keeps 1,000 groups small. */
		CHECK_CMP(m->info.type, ==, BPF_MAP_TYPE_ARRAY);
		CHECK_CMP(m->info.max_entries, ==, 1001);
		/* Every signal by default: rtt, jitter and sndbuf side by
		 * side. */
		CHECK_CMP(m->info.value_size, ==, 3 * BUCKET_SLOTS(5) * 4);
		CHECK_CMP(m->memlock, <, 1001ull * 3 * BUCKET_SLOTS(5) * 4 + 4096);
	}
	m = find(maps, n, "ungrouped_count");  /* names stop at 15 bytes */
	if (m) {
		CHECK_CMP(m->info.type, ==, BPF_MAP_TYPE_PERCPU_ARRAY);
		CHECK_CMP(m->info.max_entries, ==, 1);
		CHECK_CMP(m->info.value_size, ==, 3 * BUCKET_SLOTS(5) * 4);
	}
	/* Node-wide, per CPU: runqlat's histogram, the softirq times. */
	m = find(maps, n, "runqlat_counts");
	if (m) {
		CHECK_CMP(m->info.type, ==, BPF_MAP_TYPE_PERCPU_ARRAY);
		CHECK_CMP(m->info.value_size, ==, BUCKET_SLOTS(5) * 4);
	}
	m = find(maps, n, "node_counts");
	if (m)
		CHECK_CMP(m->info.value_size, ==, sizeof(struct rttq_node_counts));
	/* Handshakes apart, and the counters: one entry per group too. */
	m = find(maps, n, "group_handshake");
	if (m) {
		CHECK_CMP(m->info.max_entries, ==, 1001);
		CHECK_CMP(m->info.value_size, ==, BUCKET_SLOTS(5) * 4);
	}
	m = find(maps, n, "group_health");
	if (m) {
		CHECK_CMP(m->info.max_entries, ==, 1001);
		CHECK_CMP(m->info.value_size, ==, sizeof(struct rttq_health));
	}
	m = find(maps, n, "group_ids");
	if (m)
		CHECK_CMP(m->info.max_entries, ==, 1000);
	m = find(maps, n, "gid_gens");
	if (m)
		CHECK_CMP(m->info.max_entries, ==, 1001);
	m = find(maps, n, "gid_taken");
	if (m)
		CHECK_CMP(m->info.max_entries, ==, 1001);
	/* raddr's ids are found through a per-CPU cache of fixed size. */
	m = find(maps, n, "gid_slots");
	if (m) {
		CHECK_CMP(m->info.type, ==, BPF_MAP_TYPE_ARRAY);
		CHECK_CMP(m->info.max_entries, ==,
			  RTTQ_GID_SLOTS * libbpf_num_possible_cpus());
		CHECK_CMP(m->info.value_size, ==, RTTQ_GID_SLOT_BYTES);
	}
	/* The plan is an upper bound on what the kernel charges. */
	CHECK_CMP(total, <=, b->reserved);
	CHECK_CMP(b->reserved, <=, 64ull << 20);
	collector_close(c);

	/* rtt alone: the maps of the other signals keep one small entry. */
	o.signals = COLLECTOR_SIG_RTT;
	REQUIRE(collector_open(&o, &c, &err) == 0, "collector_open: %s",
		err.msg);
	n = maps_of(c, maps);
	m = find(maps, n, "group_counts");
	if (m)
		CHECK_CMP(m->info.value_size, ==, BUCKET_SLOTS(5) * 4);
	/* The other signals' maps are loaded but used by no program here:
	 * the plan counts them at their small size. */
	for (i = 0, total = 0; i < n; i++)
		total += maps[i].memlock;
	b = collector_budget(c);
	printf("  --signals rtt: total %" PRIu64 " B; planned %" PRIu64 " B\n",
	       total, b->reserved);
	CHECK_CMP(total, <=, b->reserved);
	collector_close(c);
}

static void test_refused(void)
{
	struct collector_opts o = { .group_by = COLLECTOR_BY_RADDR,
				    .kernel_memory_mib = 1,
				    .attach = "tp_btf" };
	struct rttq_error err = { 0 };
	struct collector *c = NULL;
	uint32_t fit;

	/* As many as fit in 1 MiB load; one more is refused, unloaded. */
	o.max_groups = 1;
	REQUIRE(collector_open(&o, &c, &err) == 0, "collector_open: %s",
		err.msg);
	fit = collector_budget(c)->fit;
	collector_close(c);
	c = NULL;
	CHECK_CMP(fit, >, 1);
	o.max_groups = fit;
	CHECK(collector_open(&o, &c, &err) == 0, "%s", err.msg);
	collector_close(c);
	c = NULL;
	o.max_groups = fit + 1;
	CHECK_CMP(collector_open(&o, &c, &err), ==, -E2BIG);
	CHECK(c == NULL, "no collector on a refusal");
	CHECK_CONTAINS(err.msg, "does not fit in --kernel-memory 1 MiB");
	CHECK_CONTAINS(err.msg, "raise --kernel-memory or lower --max-groups");
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	require_root("loading BPF");
	skip_unless_kernel(KERNEL_BPF);
	test_sizes();
	test_refused();
	return check_report();
}
