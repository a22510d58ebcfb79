// SPDX-License-Identifier: BSD-2-Clause
/*
 * --group-by cgroup and --cgroup on the running kernel: the test moves
 * itself into a cgroup v2 it creates (and a child of it), talks, moves
 * back and talks again; the sockets made inside count in
 * "cgroup:/rttq-test-PID/child", and a --cgroup filter on the parent keeps
 * them and drops the others, event for event against a control collector
 * grouping by address.  Skips (77) only where cgroup v2 is not mounted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup_names.h"
#include "check.h"
#include "collector_opts.h"
#include "group_lab.h"
#include "kernel.h"
#include "traffic.h"

/* Moves this process into the cgroup at @dir (a full path). */
static void move_to(const char *dir)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	REQUIRE(fd >= 0, "%s: %s", path, strerror(errno));
	REQUIRE(write(fd, "0\n", 2) == 2, "moving into %s: %s", dir,
		strerror(errno));
	close(fd);
}

/* This process's cgroup v2 path ("0::/PATH" in /proc/self/cgroup). */
static void own_cgroup(char *out, size_t size)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "re");

	REQUIRE(f, "/proc/self/cgroup: %s", strerror(errno));
	out[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, size, "%s", line + 3);
		}
	fclose(f);
	REQUIRE(out[0] == '/', "no cgroup v2 line in /proc/self/cgroup");
}

int main(void)
{
	struct collector_opts by_cg = { .group_by = COLLECTOR_BY_CGROUP };
	struct collector_opts in_cg = { .group_by = COLLECTOR_BY_RADDR };
	struct collector_opts raddr = { .group_by = COLLECTOR_BY_RADDR };
	struct collector *c_by, *c_in, *c_raddr, *c_bad = NULL;
	struct tally *t = calloc(3, sizeof(*t));
	struct rttq_error err = { 0 };
	struct cgroup_names *cn = NULL;
	char home[4096], parent[64], child[80], dir[4200], cdir[4200];
	char group[4200], home_dir[4200];
	struct traffic_conn x;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	require_root("loading BPF and moving between cgroups");
	skip_unless_kernel(KERNEL_BPF);
	REQUIRE(t, "calloc");
	rc = cgroup_names_new(&cn, &err);
	if (rc == -ENOENT) {
		printf("SKIP: %s\n", err.msg);
		return EXIT_SKIP;
	}
	REQUIRE(rc == 0, "%s", err.msg);
	group_lab_up();
	own_cgroup(home, sizeof(home));
	snprintf(parent, sizeof(parent), "/rttq-test-%d", (int)getpid());
	snprintf(child, sizeof(child), "%s/child", parent);
	snprintf(dir, sizeof(dir), "%s%s", cgroup_names_mount(cn), parent);
	snprintf(cdir, sizeof(cdir), "%s%s", cgroup_names_mount(cn), child);
	snprintf(home_dir, sizeof(home_dir), "%s%s", cgroup_names_mount(cn),
		 strcmp(home, "/") ? home : "");
	printf("cgroup v2 at %s; this test in %s, then in %s\n",
	       cgroup_names_mount(cn), home, child);
	REQUIRE(mkdir(dir, 0755) == 0, "mkdir %s: %s", dir, strerror(errno));
	REQUIRE(mkdir(cdir, 0755) == 0, "mkdir %s: %s", cdir, strerror(errno));

	check_section("a --cgroup that does not exist is refused");
	in_cg.cgroup = "/rttq-test-no-such-cgroup";
	CHECK_CMP(collector_open(&in_cg, &c_bad, &err), ==, -ENOENT);
	CHECK_CONTAINS(err.msg, "no such cgroup");
	printf("  %s\n", err.msg);

	check_section("cgroup groups and the --cgroup filter");
	in_cg.cgroup = parent;
	c_by = group_lab_open(&by_cg);
	c_in = group_lab_open(&in_cg);
	c_raddr = group_lab_open(&raddr);
	group_lab_drain(c_by, &t[0], c_in, &t[1]);
	tally_drain(c_raddr, &t[2]);

	/* Both ends of this one are made inside (the accepted socket takes
	 * its listener's cgroup), those of the next one outside. */
	move_to(cdir);
	group_lab_flow("10.77.1.1", 0, "10.77.2.1", &x);
	move_to(home_dir);
	group_lab_flow("10.77.1.2", 0, "10.77.2.2", &x);
	group_lab_drain(c_by, &t[0], c_in, &t[1]);
	tally_drain(c_raddr, &t[2]);

	snprintf(group, sizeof(group), "cgroup:%s", child);
	group_lab_check(&t[0], group,
			tally_get(&t[2], "raddr:10.77.1.1") +
			tally_get(&t[2], "raddr:10.77.2.1"));
	/* The filter keeps the child's sockets, event for event ... */
	group_lab_check(&t[1], "raddr:10.77.1.1",
			tally_get(&t[2], "raddr:10.77.1.1"));
	group_lab_check(&t[1], "raddr:10.77.2.1",
			tally_get(&t[2], "raddr:10.77.2.1"));
	/* ... and nothing else, ours or the host's. */
	CHECK_CMP(tally_get(&t[1], "raddr:10.77.1.2"), ==, 0);
	CHECK_CMP(tally_get(&t[1], "raddr:10.77.2.2"), ==, 0);
	CHECK_CMP(tally_get(&t[1], "all"),
		  ==, tally_get(&t[1], "raddr:10.77.1.1") +
		      tally_get(&t[1], "raddr:10.77.2.1"));
	/* The sockets made outside are in the test's own cgroup. */
	snprintf(group, sizeof(group), "cgroup:%s", home);
	CHECK_CMP(tally_get(&t[0], group), >=,
		  tally_get(&t[2], "raddr:10.77.1.2") +
		  tally_get(&t[2], "raddr:10.77.2.2"));
	CHECK_CMP(tally_get(&t[2], "raddr:10.77.1.2"), >=,
		  GROUP_LAB_EXCHANGES);

	collector_close(c_raddr);
	collector_close(c_in);
	collector_close(c_by);
	CHECK(rmdir(cdir) == 0, "rmdir %s: %s", cdir, strerror(errno));
	CHECK(rmdir(dir) == 0, "rmdir %s: %s", dir, strerror(errno));
	cgroup_names_free(cn);
	free(t);
	return check_report();
}
