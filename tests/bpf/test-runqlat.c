// SPDX-License-Identifier: BSD-2-Clause
/*
 * runqlat on the running kernel: two CPU-bound tasks (nice -5) pinned to
 * one CPU beside a task that wakes every 10 ms on the same CPU, and the same
 * waker alone on another CPU.  Each waker is in a cgroup v2 of its own
 * and read by a collector of its own with --cgroup, as a user would ask
 * for one workload's latency: the loaded waker's p50 lies between 0 and
 * one scheduler slice, and its p99 is above the idle one's.  Skips (77)
 * only where the kernel lacks BPF or cgroup v2 is not mounted; needs two
 * CPUs.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup_names.h"
#include "check.h"
#include "collector_opts.h"
#include "hist.h"
#include "kernel.h"
#include "metric.h"

#define WAKE_NS (10 * 1000 * 1000)
#define RUN_S 4
#define HOGS 2
#define HOG_NICE (-5)

/* Pins the calling process to @cpu. */
static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		_exit(3);
}

/* A child pinned to @cpu that spins until killed, at nice HOG_NICE. */
static pid_t hog(int cpu)
{
	volatile unsigned long n = 0;
	pid_t pid = fork();

	REQUIRE(pid >= 0, "fork: %s", strerror(errno));
	if (pid)
		return pid;
	pin(cpu);
	/*
	 * Heavier than the waker: at the same weight a task back from a
	 * 10 ms sleep nearly always preempts at once (its lag), and the
	 * CPU-bound tasks' slices would show in its tail only by chance.
	 */
	errno = 0;
	if (nice(HOG_NICE) == -1 && errno)
		_exit(6);
	for (;;)
		n++;
}

/*
 * A child in cgroup @dir, pinned to @cpu, that sleeps 10 ms at a time
 * for RUN_S seconds; it waits on @go first, so the collectors see it
 * from its first wake-up.  Each sleep is 0..1 ms longer than the last
 * (in turn), so the wake-ups fall at every phase of the tick and of the
 * CPU-bound tasks' slices instead of locking onto one.
 */
static pid_t waker(int cpu, const char *dir, int go)
{
	struct timespec ts = { 0, WAKE_NS };
	char path[4096], c;
	pid_t pid = fork();
	int fd, i;

	REQUIRE(pid >= 0, "fork: %s", strerror(errno));
	if (pid)
		return pid;
	pin(cpu);
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0\n", 2) != 2)
		_exit(4);
	close(fd);
	if (read(go, &c, 1) != 1)
		_exit(5);
	for (i = 0; i < RUN_S * 100; i++) {
		ts.tv_nsec = WAKE_NS + (i * 97 % 1000) * 1000;
		nanosleep(&ts, NULL);
	}
	_exit(0);
}

static void make_cgroup(const char *dir)
{
	REQUIRE(mkdir(dir, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", dir,
		strerror(errno));
}

/*
 * The scheduler's base slice: debugfs has it where mounted; else the
 * kernel's default, 0.75 ms x (1 + log2 of the CPUs up to 8).
 */
static double slice_us(void)
{
	const char *path = "/sys/kernel/debug/sched/base_slice_ns";
	unsigned long long ns = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN), f = 1;
	FILE *fp;

	fp = fopen(path, "re");
	if (fp && fscanf(fp, "%llu", &ns) == 1 && ns) {
		fclose(fp);
		printf("base slice %llu ns (debugfs)\n", ns);
		return ns / 1000.0;
	}
	if (fp)
		fclose(fp);
	for (cpus = cpus < 8 ? cpus : 8; cpus > 1; cpus >>= 1)
		f++;
	printf("base slice %ld us (the kernel's default for this CPU count)\n",
	       750 * f);
	return 750.0 * (double)f;
}

struct seen {
	struct hist *h;
	unsigned int other;  /* groups or metrics other than all's runqlat */
};

static int on_dist(const char *group, const char *metric,
		   const struct hist *delta, void *arg)
{
	struct seen *s = arg;

	if (strcmp(group, "all") || strcmp(metric, METRIC_RUNQLAT)) {
		s->other += strcmp(metric, METRIC_RUNQLAT) == 0;
		return 0;
	}
	CHECK_CMP(hist_merge(s->h, delta), ==, 0);
	return 0;
}

int main(void)
{
	struct collector_opts o = { .signals = COLLECTOR_SIG_RUNQLAT };
	struct collector *loaded = NULL, *idle = NULL;
	struct seen sl = { 0 }, si = { 0 };
	struct cgroup_names *cn = NULL;
	struct rttq_error err = { 0 };
	char dl[4096], di[4096], nl[128], ni[128];
	pid_t hogs[HOGS], wl, wi;
	double slice, p50l, p99l, p50i, p99i;
	int go[2], status, i, cpu_l, cpu_i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	require_root("loading BPF and making cgroups");
	skip_unless_kernel(KERNEL_BPF);
	if (cgroup_names_new(&cn, &err)) {
		printf("SKIP: %s\n", err.msg);
		return EXIT_SKIP;
	}
	REQUIRE(sysconf(_SC_NPROCESSORS_ONLN) >= 2,
		"a loaded and an idle CPU need two CPUs");
	cpu_i = 0;
	cpu_l = 1;
	snprintf(nl, sizeof(nl), "/rttq-runq-loaded-%d", (int)getpid());
	snprintf(ni, sizeof(ni), "/rttq-runq-idle-%d", (int)getpid());
	snprintf(dl, sizeof(dl), "%s%s", cgroup_names_mount(cn), nl);
	snprintf(di, sizeof(di), "%s%s", cgroup_names_mount(cn), ni);
	make_cgroup(dl);
	make_cgroup(di);
	slice = slice_us();

	REQUIRE_CMP(hist_new(5, &sl.h), ==, 0);
	REQUIRE_CMP(hist_new(5, &si.h), ==, 0);
	o.cgroup = nl;
	REQUIRE(collector_open(&o, &loaded, &err) == 0, "collector_open: %s",
		err.msg);
	REQUIRE(collector_signals(loaded) & COLLECTOR_SIG_RUNQLAT,
		"runqlat off on a kernel with sched_switch");
	o.cgroup = ni;
	REQUIRE(collector_open(&o, &idle, &err) == 0, "collector_open: %s",
		err.msg);
	/* What happened before the wakers started is not theirs. */
	CHECK_CMP(collector_drain(loaded, on_dist, &sl, &err), ==, 0);
	CHECK_CMP(collector_drain(idle, on_dist, &si, &err), ==, 0);
	hist_reset(sl.h);
	hist_reset(si.h);

	REQUIRE(pipe(go) == 0, "pipe: %s", strerror(errno));
	for (i = 0; i < HOGS; i++)
		hogs[i] = hog(cpu_l);
	wl = waker(cpu_l, dl, go[0]);
	wi = waker(cpu_i, di, go[0]);
	usleep(200 * 1000);
	REQUIRE(write(go[1], "gg", 2) == 2, "pipe write");
	REQUIRE(waitpid(wl, &status, 0) == wl && WIFEXITED(status) &&
			WEXITSTATUS(status) == 0, "loaded waker failed: %d",
		status);
	REQUIRE(waitpid(wi, &status, 0) == wi && WIFEXITED(status) &&
			WEXITSTATUS(status) == 0, "idle waker failed: %d",
		status);
	for (i = 0; i < HOGS; i++) {
		kill(hogs[i], SIGKILL);
		waitpid(hogs[i], NULL, 0);
	}
	CHECK_CMP(collector_drain(loaded, on_dist, &sl, &err), ==, 0);
	CHECK_CMP(collector_drain(idle, on_dist, &si, &err), ==, 0);

	p50l = hist_quantile(sl.h, 0.50);
	p99l = hist_quantile(sl.h, 0.99);
	p50i = hist_quantile(si.h, 0.50);
	p99i = hist_quantile(si.h, 0.99);
	printf("waker beside %d CPU-bound tasks on CPU %d: %llu waits, p50 %.1f us, p99 %.1f us\n",
	       HOGS, cpu_l, (unsigned long long)hist_count(sl.h), p50l, p99l);
	printf("waker alone on CPU %d: %llu waits, p50 %.1f us, p99 %.1f us\n",
	       cpu_i, (unsigned long long)hist_count(si.h), p50i, p99i);
	/* Every 10 ms for RUN_S s, and only the waker's (its cgroup). */
	CHECK_CMP(hist_count(sl.h), >=, RUN_S * 100 * 8 / 10);
	CHECK_CMP(hist_count(sl.h), <=, RUN_S * 100 + 20);
	CHECK_CMP(hist_count(si.h), >=, RUN_S * 100 * 8 / 10);
	CHECK_CMP(hist_count(si.h), <=, RUN_S * 100 + 20);
	CHECK_CMP(p50l, >=, 0.0);
	CHECK_CMP(p50l, <=, slice);
	CHECK_CMP(p99l, >, p99i);
	CHECK_CMP(sl.other + si.other, ==, 0);

	collector_close(loaded);
	collector_close(idle);
	hist_free(sl.h);
	hist_free(si.h);
	rmdir(dl);
	rmdir(di);
	cgroup_names_free(cn);
	return check_report();
}
