// SPDX-License-Identifier: BSD-2-Clause
/*
 * Attaches the empty programs of bench/floor.bpf.c, one per hook named on
 * the command line (a hook named three times gets three), and holds them
 * until SIGINT or SIGTERM: bench/bench-floor.sh runs iperf3 beside it to
 * measure what the same hooks cost with nothing in them.  Prints
 * "attached PROG at tp_btf/HOOK id ID" per program on stdout, then
 * "ready".  With --calibrate instead: what an empty program costs per
 * run with bpf_stats off and on (its two clock reads a run are not free
 * on a virtual machine) and what bpf_stats reports for it: recv() from an
 * empty UDP socket (one sock_recv_length each) in a loop on CPU 0, with
 * none, one, two and five empty programs on that hook.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/* Copies of each hook's program in floor.bpf.c. */
#define COPIES 5
#define LINKS_MAX 64

/* --calibrate: REPS rounds of CALLS recv() calls a case. */
#define CALLS 100000
#define REPS 31

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = 1;
}

/* Whether @p is among the @n of @progs. */
static bool taken(struct bpf_program *const *progs, int n,
		  const struct bpf_program *p)
{
	int i;

	for (i = 0; i < n; i++)
		if (progs[i] == p)
			return true;
	return false;
}

/* The first copy of @hook's program in @obj not among @progs, or NULL. */
static struct bpf_program *next_copy(struct bpf_object *obj, const char *hook,
				     struct bpf_program *const *progs, int n)
{
	char name[128];
	struct bpf_program *p;
	int i;

	for (i = 0; i < COPIES; i++) {
		snprintf(name, sizeof(name), "floor_%s_%d", hook, i);
		p = bpf_object__find_program_by_name(obj, name);
		if (!p)
			return NULL;
		if (!taken(progs, n, p))
			return p;
	}
	return NULL;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ns per recv() from the empty socket @fd (EAGAIN) over CALLS calls. */
static double syscall_ns(int fd)
{
	double t = now_ns();
	char c;
	int i;

	for (i = 0; i < CALLS; i++)
		if (recv(fd, &c, 1, MSG_DONTWAIT) >= 0)
			return -1;
	return (now_ns() - t) / CALLS;
}

/* Sum of run_time_ns and run_cnt of @progs[0..@n). */
static void stats_sum(struct bpf_program **progs, int n, double *ns,
		      double *runs)
{
	struct bpf_prog_info info;
	__u32 len;
	int i;

	*ns = *runs = 0;
	for (i = 0; i < n; i++) {
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(progs[i]), &info,
					    &len)) {
			*ns += (double)info.run_time_ns;
			*runs += (double)info.run_cnt;
		}
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Attach @progs[@from..@to) into @links; 0 or -1. */
static int attach_range(struct bpf_program **progs, struct bpf_link **links,
			int from, int to)
{
	int i;

	for (i = from; i < to; i++) {
		links[i] = bpf_program__attach(progs[i]);
		if (!links[i]) {
			fprintf(stderr, "bench-floor: attach %s: %s\n",
				bpf_program__name(progs[i]), strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * What recv() on @fd costs more with the first of @progs attached, with
 * the second beside it, and with each of three more, into @out[0..2]: the
 * medians over REPS rounds, each round's loops back to back so that a
 * disturbance hits them alike.  They differ: one program is called
 * straight from the tracepoint (a static call), two or more through its
 * list of probes, an indirect call each.
 */
static int extra_ns(struct bpf_program **progs, struct bpf_link **links,
		    int fd, double out[3])
{
	double d[3][REPS], t0, t1, t2, t5;
	int r, i, k;

	for (r = 0; r < REPS; r++) {
		t0 = syscall_ns(fd);
		if (attach_range(progs, links, 0, 1))
			return -1;
		t1 = syscall_ns(fd);
		if (attach_range(progs, links, 1, 2))
			return -1;
		t2 = syscall_ns(fd);
		if (attach_range(progs, links, 2, COPIES))
			return -1;
		t5 = syscall_ns(fd);
		for (i = 0; i < COPIES; i++) {
			bpf_link__destroy(links[i]);
			links[i] = NULL;
		}
		d[0][r] = t1 - t0;
		d[1][r] = t2 - t1;
		d[2][r] = (t5 - t2) / (COPIES - 2);
	}
	for (k = 0; k < 3; k++) {
		qsort(d[k], REPS, sizeof(d[k][0]), cmp_double);
		out[k] = d[k][REPS / 2];
	}
	return 0;
}

/* --calibrate: print what an empty tp_btf program costs per run. */
static int calibrate(const char *path)
{
	struct bpf_program *progs[COPIES], *p;
	struct bpf_link *links[COPIES] = { 0 };
	double off[3], on[3], ns0, runs0, ns1, runs1;
	struct bpf_object *obj;
	char name[64];
	cpu_set_t cpu0;
	int i, fd, stats_fd = -1, ret = 1;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		fprintf(stderr, "bench-floor: socket: %s\n", strerror(errno));
		return 1;
	}
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0))
		fprintf(stderr, "bench-floor: not pinned to CPU 0: %s\n",
			strerror(errno));
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "bench-floor: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, false);
	for (i = 0; i < COPIES; i++) {
		snprintf(name, sizeof(name), "floor_sock_recv_length_%d", i);
		progs[i] = bpf_object__find_program_by_name(obj, name);
		if (!progs[i])
			goto out;
		bpf_program__set_autoload(progs[i], true);
	}
	if (bpf_object__load(obj)) {
		fprintf(stderr, "bench-floor: load: %s\n", strerror(errno));
		goto out;
	}
	if (extra_ns(progs, links, fd, off))
		goto out;
	/* Runs counted with ours off: another process holds bpf_stats on
	 * (an fd from BPF_ENABLE_STATS), so "off" was on too. */
	stats_sum(progs, COPIES, &ns0, &runs0);
	if (runs0 > 0)
		printf("  (bpf_stats was on during the \"off\" loops: another process holds it, so both lines are with it on)\n");
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0) {
		fprintf(stderr, "bench-floor: bpf_stats: %s\n", strerror(errno));
		goto out;
	}
	stats_sum(progs, COPIES, &ns0, &runs0);
	if (extra_ns(progs, links, fd, on))
		goto out;
	stats_sum(progs, COPIES, &ns1, &runs1);
	printf("empty tp_btf program per run (recv() of an empty UDP socket on CPU 0, sock_recv_length, median of %d x %d calls):\n"
	       "  bpf_stats off: the first on a hook %.1f ns, the second %.1f ns, each further %.1f ns\n"
	       "  bpf_stats on:  the first on a hook %.1f ns, the second %.1f ns, each further %.1f ns; bpf_stats reports %.1f ns/run\n",
	       REPS, CALLS, off[0], off[1], off[2], on[0], on[1], on[2],
	       runs1 > runs0 ? (ns1 - ns0) / (runs1 - runs0) : 0.0);
	ret = 0;
out:
	if (stats_fd >= 0)
		close(stats_fd);
	for (i = 0; i < COPIES; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	struct bpf_program *progs[LINKS_MAX], *p;
	struct bpf_link *links[LINKS_MAX] = { 0 };
	sigset_t block, none;
	struct bpf_prog_info info;
	struct bpf_object *obj;
	struct sigaction sa;
	int i, n = 0, ret = 1;
	__u32 len;

	if (argc == 3 && !strcmp(argv[1], "--calibrate"))
		return calibrate(argv[2]);
	if (argc < 2 || argc - 2 > LINKS_MAX) {
		fprintf(stderr, "usage: bench-floor FLOOR.BPF.O [HOOK...] (at most %d)\n"
			"       bench-floor --calibrate FLOOR.BPF.O\n",
			LINKS_MAX);
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "bench-floor: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	/* Which copies load: the first k of a hook named k times. */
	for (i = 2; i < argc; i++) {
		p = next_copy(obj, argv[i], progs, n);
		if (!p) {
			fprintf(stderr, "bench-floor: no free program on hook '%s' (%d copies each)\n",
				argv[i], COPIES);
			goto out;
		}
		progs[n++] = p;
	}
	bpf_object__for_each_program(p, obj)
		bpf_program__set_autoload(p, taken(progs, n, p));
	if (n && bpf_object__load(obj)) {
		fprintf(stderr, "bench-floor: load: %s\n", strerror(errno));
		goto out;
	}
	for (i = 0; i < n; i++) {
		links[i] = bpf_program__attach(progs[i]);
		if (!links[i]) {
			fprintf(stderr, "bench-floor: attach %s: %s\n",
				bpf_program__name(progs[i]), strerror(errno));
			goto out;
		}
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		bpf_obj_get_info_by_fd(bpf_program__fd(progs[i]), &info, &len);
		printf("attached %s at %s id %u\n", bpf_program__name(progs[i]),
		       bpf_program__section_name(progs[i]), info.id);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	printf("ready\n");
	fflush(stdout);

	/* Blocked but for sigsuspend(): a signal between the test and the
	 * wait would otherwise be missed. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigemptyset(&none);
	while (!exiting)
		sigsuspend(&none);
	ret = 0;
out:
	for (i = 0; i < n; i++)
		bpf_link__destroy(links[i]);
	bpf_object__close(obj);
	return ret;
}
