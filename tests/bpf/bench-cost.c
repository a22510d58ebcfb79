// SPDX-License-Identifier: BSD-2-Clause
/*
 * BPF cost per event of the collector's program, from the kernel's own
 * accounting (BPF_ENABLE_STATS: run_time_ns / run_cnt per program), next
 * to an empty program and a bcc-tcprtt-style one on the same hook
 * (ref.bpf.o, argv[1]).  Two kinds of traffic: back-to-back ping-pong on
 * one or two connections (everything stays in cache: the hot loop), and
 * spaced traffic (traffic_spaced.h: many connections from many addresses,
 * milliseconds apart, as a real host sees them: the socket's and the
 * maps' lines are cold at each event).  In the spaced case each program
 * runs attached alone, taking turns with the others round after round
 * (so a neighbour's build loads the reference and each candidate alike),
 * then all at once in both orders (the first program on a tracepoint pays
 * for the socket's cold lines); ratios are taken per round and printed as
 * median (lowest-highest).  The rttq rows count
 * rtt alone (--signals rtt), as before jitter existed, and the "+ jitter"
 * rows the same grouping with jitter, what --signals costs on tcp_probe.
 * Prints ns/event.  An optional second argument runs one part only (hot,
 * spaced, or spaced-alone: the spaced programs attached alone), for quick
 * A/B runs.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check.h"
#include "collector.h"
#include "kernel.h"
#include "traffic.h"
#include "traffic_spaced.h"

#define ROUNDS 30
#define EXCHANGES 2000

#define NPROGS 11

/*
 * The spaced case: SPACED_ROUNDS rounds of SPACED_MS each.  On a 2-CPU
 * machine shared with builds a single run moves by a third; medians of
 * interleaved rounds (and their spread, printed) are what holds.
 */
#define SPACED_ROUNDS 9
#define SPACED_MS 1000

static const char *const names[NPROGS] = {
	"empty tp_btf program",
	"bcc-tcprtt-style, by raddr",
	"rttq tp_btf, group-by none",
	"rttq tp_btf, group-by raddr",
	"rttq tp_btf, raddr,rport",
	"rttq raw_tp, group-by none",
	"rttq raw_tp, group-by raddr",
	"rttq tp_btf, raddr,port,cgroup",
	"rttq tp_btf, peer,port",
	"rttq tp_btf, raddr + jitter",
	"rttq tp_btf, raddr, gid_slots only",
};

/* --peer-map for the peer,port rows: written by write_peer_map(). */
static char peer_map_path[] = "/tmp/rttq-bench-cost.XXXXXX";

struct cost {
	unsigned long long run_ns, runs;
};

static void prog_stats(int fd, struct cost *c)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	REQUIRE_CMP(bpf_obj_get_info_by_fd(fd, &info, &len), ==, 0);
	c->run_ns = info.run_time_ns;
	c->runs = info.run_cnt;
}

/* @signals: COLLECTOR_SIG_* (rtt alone, or rtt and jitter);
 * @no_direct: ids through gid_slots only (collector_opts). */
static struct collector *open_collector(const char *attach,
					unsigned int group_by,
					unsigned int signals, bool no_direct)
{
	struct collector_opts o = { .include_loopback = true,
				    .group_by = group_by, .attach = attach,
				    .signals = signals,
				    .no_gid_direct = no_direct };

	if (group_by & COLLECTOR_BY_PEER)
		o.peer_map = peer_map_path;
	struct rttq_error err = { 0 };
	struct collector *c = NULL;

	REQUIRE(collector_open(&o, &c, &err) == 0, "collector_open: %s",
		err.msg);
	return c;
}

/*
 * A peer map of the size a site keeps: the loopback peers of both cases
 * in two labelled /27s (the rest of 127/8 in a third), among a few
 * hundred prefixes the trie walks past.
 */
static void write_peer_map(void)
{
	FILE *f;
	int fd, i;

	fd = mkstemp(peer_map_path);
	REQUIRE(fd >= 0, "mkstemp: %s", strerror(errno));
	f = fdopen(fd, "w");
	REQUIRE(f, "fdopen: %s", strerror(errno));
	fprintf(f, "127.0.0.0/8 loopback\n127.0.1.0/27 rack-a\n"
		"127.0.1.32/27 rack-b\n");
	for (i = 0; i < 256; i++)
		fprintf(f, "10.%d.0.0/16 zone-%d\n", i, i % 16);
	REQUIRE_CMP(fclose(f), ==, 0);
}

static struct bpf_link *attach_ref(struct bpf_object *obj, const char *name,
				   int *fd)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, name);
	struct bpf_link *link;

	REQUIRE(prog, "no program %s in the reference object", name);
	link = bpf_program__attach(prog);
	REQUIRE(link, "attach %s: %s", name, strerror(errno));
	*fd = bpf_program__fd(prog);
	return link;
}

/* Where the two ends of each flow run. */
enum placement {
	PLACE_FREE,      /* wherever the scheduler puts them */
	PLACE_TWO_CPUS,  /* client on CPU 0, server on CPU 1 */
	PLACE_ONE_CPU,   /* both on CPU 0 */
};

static void pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
		fprintf(stderr, "cannot pin to CPU %d\n", cpu);
}

static void *run_flow(void *arg)
{
	enum placement p = *(const enum placement *)arg;
	struct traffic_result t;
	int server_cpu = -1;

	if (p != PLACE_FREE) {
		pin_self(0);
		server_cpu = p == PLACE_TWO_CPUS ? 1 : 0;
	}
	REQUIRE_CMP(traffic_run_on(AF_INET, EXCHANGES, server_cpu, &t), ==, 0);
	return NULL;
}

/*
 * Best ns/event of each program over ROUNDS rounds of @flows concurrent
 * loopback connections (all to 127.0.0.1: with two flows both CPUs update
 * the same tcprtt-style hash entry, as a busy host talking to one peer
 * does, and its atomics contend; so do rttq's where one group takes
 * both flows, its counters being one copy for every CPU).
 */
static int by_value(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* Median, lowest and highest of @n values (sorted in place). */
struct spread {
	double med, lo, hi;
};

static struct spread spread_of(double *v, int n)
{
	struct spread s;

	qsort(v, (size_t)n, sizeof(double), by_value);
	s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.lo = v[0];
	s.hi = v[n - 1];
	return s;
}

static void measure(const int *fds, int flows, enum placement place,
		    double *best, struct spread *ratio)
{
	struct cost a[NPROGS], b[NPROGS];
	double ns[NPROGS], ratios[NPROGS][ROUNDS];
	pthread_t th[2];
	int i, r;

	REQUIRE_CMP(flows, >=, 1);
	REQUIRE_CMP(flows, <=, 2);
	for (i = 0; i < NPROGS; i++)
		best[i] = 1e18;
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < NPROGS; i++)
			prog_stats(fds[i], &a[i]);
		for (i = 0; i < flows; i++)
			REQUIRE_CMP(pthread_create(&th[i], NULL, run_flow,
						   &place), ==, 0);
		for (i = 0; i < flows; i++)
			pthread_join(th[i], NULL);
		for (i = 0; i < NPROGS; i++) {
			prog_stats(fds[i], &b[i]);
			REQUIRE_CMP(b[i].runs, >, a[i].runs);
			ns[i] = (double)(b[i].run_ns - a[i].run_ns) /
				(double)(b[i].runs - a[i].runs);
			if (ns[i] < best[i])
				best[i] = ns[i];
		}
		/* Same round, same events, same CPU placement for all. */
		for (i = 0; i < NPROGS; i++)
			ratios[i][r] = ns[i] / ns[1];
	}
	for (i = 0; i < NPROGS; i++)
		ratio[i] = spread_of(ratios[i], ROUNDS);
}

static void report(const char *what, const double *best,
		   const struct spread *ratio)
{
	int i;

	printf("BPF ns per event (run_time_ns / run_cnt, all attached at "
	       "once, best of %d rounds, %s, %d round trips each):\n",
	       ROUNDS, what, EXCHANGES);
	/*
	 * "net" leaves out what the empty program costs (mostly the stats
	 * clock reads and the tracepoint call), i.e. the work itself.
	 */
	for (i = 0; i < NPROGS; i++)
		printf("  %-30s %7.1f  %.2fx empty  %.2fx tcprtt-style  "
		       "net %5.1f (%.2fx tcprtt-style net)  per round %.2fx "
		       "tcprtt-style (%.2f-%.2f)\n",
		       names[i], best[i], best[i] / best[0],
		       best[i] / best[1], best[i] - best[0],
		       (best[i] - best[0]) / (best[1] - best[0]), ratio[i].med,
		       ratio[i].lo, ratio[i].hi);
	/* Sanity only: the goals are reported, timing is too noisy to gate. */
	for (i = 0; i < NPROGS; i++)
		REQUIRE(best[i] > 0 && best[i] < 10000, "%s: %.1f ns per event",
			names[i], best[i]);
}

/* -------------------------------------------------------------------------
 * Spaced traffic: programs attached alone, then together in both orders
 * ------------------------------------------------------------------------- */

/* A program of the spaced case: a reference one or a collector. */
struct spaced_prog {
	const char *name;
	const char *ref;       /* program in ref.bpf.o, or NULL: collector */
	unsigned int group_by; /* the collector's COLLECTOR_BY_* */
	unsigned int signals;  /* its COLLECTOR_SIG_*; 0: rtt alone */
	bool no_direct;        /* ids through gid_slots only: the A/B of
				* kernel/group_ids.h's gid_direct() */
	int base;              /* the row it adds to, printed as a ratio;
				* 0: none */
	struct bpf_link *link;
	struct collector *c;
	int fd;
	bool skip;             /* not in BENCH_COST_ROWS */
};

/* The rows "+ jitter" rows are compared with, round by round (#13's
 * goal). */
#define RADDR_ROW 3
#define ALL_BUT_JITTER_ROW 7

static struct spaced_prog spaced_progs[] = {
	{ .name = "empty tp_btf program", .ref = "ref_empty" },
	{ .name = "bcc-tcprtt-style, by raddr", .ref = "ref_tcprtt" },
	{ .name = "rttq tp_btf, group-by none" },
	{ .name = "rttq tp_btf, group-by raddr",
	  .group_by = COLLECTOR_BY_RADDR },
	{ .name = "rttq tp_btf, raddr,rport",
	  .group_by = COLLECTOR_BY_RADDR | COLLECTOR_BY_RPORT },
	{ .name = "rttq tp_btf, peer,port",
	  .group_by = COLLECTOR_BY_PEER | COLLECTOR_BY_PORT },
	{ .name = "rttq tp_btf, raddr + jitter",
	  .group_by = COLLECTOR_BY_RADDR,
	  .signals = COLLECTOR_SIG_RTT | COLLECTOR_SIG_JITTER,
	  .base = RADDR_ROW },
	/*
	 * The agent's default: every family's programs attached beside
	 * tcp_probe (retransmits, connections, drops on their own hooks),
	 * with and without jitter: #13's goal for what jitter adds to the
	 * tcp_probe program, each pair taken round by round.
	 */
	{ .name = "rttq tp_btf, raddr, every signal but jitter",
	  .group_by = COLLECTOR_BY_RADDR,
	  .signals = COLLECTOR_SIG_ALL & ~COLLECTOR_SIG_JITTER },
	{ .name = "rttq tp_btf, raddr, every signal",
	  .group_by = COLLECTOR_BY_RADDR, .signals = COLLECTOR_SIG_ALL,
	  .base = ALL_BUT_JITTER_ROW },
	/* raddr without gid_gens' direct path, round by round against the
	 * row that has it (peer,port never takes it: collector_configure.c). */
	{ .name = "rttq tp_btf, raddr, gid_slots only",
	  .group_by = COLLECTOR_BY_RADDR, .no_direct = true,
	  .base = RADDR_ROW },
};

#define NSPACED (sizeof(spaced_progs) / sizeof(spaced_progs[0]))

static void spaced_attach(struct bpf_object *obj, struct spaced_prog *p)
{
	if (p->ref) {
		p->link = attach_ref(obj, p->ref, &p->fd);
	} else {
		p->c = open_collector("tp_btf", p->group_by,
				      p->signals ? p->signals
						 : COLLECTOR_SIG_RTT,
				      p->no_direct);
		p->fd = collector_prog_fd(p->c);
	}
}

static void spaced_detach(struct spaced_prog *p)
{
	if (p->link)
		bpf_link__destroy(p->link);
	collector_close(p->c);
	p->link = NULL;
	p->c = NULL;
	p->fd = -1;
}

/*
 * ns/event of every attached program (fd >= 0) in each of @rounds runs
 * of @o's traffic, into runs[program][round].
 */
static void spaced_runs(const struct spaced_opts *o,
			double runs[][SPACED_ROUNDS], int rounds,
			unsigned long long *exchanges)
{
	struct cost a[NSPACED], b[NSPACED];
	struct spaced_result res;
	size_t i;
	int r;

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < NSPACED; i++)
			if (spaced_progs[i].fd >= 0)
				prog_stats(spaced_progs[i].fd, &a[i]);
		REQUIRE_CMP(traffic_spaced(o, &res), ==, 0);
		*exchanges += res.exchanges;
		for (i = 0; i < NSPACED; i++) {
			if (spaced_progs[i].fd < 0)
				continue;
			prog_stats(spaced_progs[i].fd, &b[i]);
			REQUIRE_CMP(b[i].runs, >, a[i].runs);
			runs[i][r] = (double)(b[i].run_ns - a[i].run_ns) /
				     (double)(b[i].runs - a[i].runs);
		}
	}
}

/*
 * One line per program: median ns/event over the rounds, and the ratio to
 * the empty program and to the reference taken round by round (each
 * round's programs ran next to each other in time, so a busy minute
 * moves both sides of a ratio), as median (lowest-highest); and for a
 * row with a base, the ratio to that row's (what jitter adds).
 */
static void spaced_report(const char *what, double runs[][SPACED_ROUNDS],
			  unsigned long long exchanges)
{
	double v[SPACED_ROUNDS];
	struct spread ns, e, t, x;
	size_t i;
	int r, b;

	printf("%s (%d rounds, %llu exchanges in all; ratios per round, "
	       "median (lowest-highest)):\n", what, SPACED_ROUNDS, exchanges);
	for (i = 0; i < NSPACED; i++) {
		if (spaced_progs[i].skip)
			continue;
		for (r = 0; r < SPACED_ROUNDS; r++)
			v[r] = runs[i][r];
		ns = spread_of(v, SPACED_ROUNDS);
		for (r = 0; r < SPACED_ROUNDS; r++)
			v[r] = runs[i][r] / runs[0][r];
		e = spread_of(v, SPACED_ROUNDS);
		for (r = 0; r < SPACED_ROUNDS; r++)
			v[r] = runs[i][r] / runs[1][r];
		t = spread_of(v, SPACED_ROUNDS);
		printf("  %-28s %7.1f  %.2fx empty (%.2f-%.2f)  %.2fx "
		       "tcprtt-style (%.2f-%.2f)", spaced_progs[i].name,
		       ns.med, e.med, e.lo, e.hi, t.med, t.lo, t.hi);
		b = spaced_progs[i].base;
		if (b && !spaced_progs[b].skip) {
			for (r = 0; r < SPACED_ROUNDS; r++)
				v[r] = runs[i][r] / runs[b][r];
			x = spread_of(v, SPACED_ROUNDS);
			printf("  %.3fx %s (%.3f-%.3f)", x.med,
			       spaced_progs[b].name + 5, x.lo, x.hi);
		}
		printf("\n");
		REQUIRE(ns.med > 0 && ns.med < 100000, "%s: %.1f ns per event",
			spaced_progs[i].name, ns.med);
	}
}

/*
 * BENCH_COST_ROWS=3,6 runs only those spaced rows (numbered from 0 as
 * printed) beside the empty program and the reference, which every ratio
 * needs: a quick A/B of two builds, run after run.
 */
static void select_rows(void)
{
	const char *rows = getenv("BENCH_COST_ROWS");
	char *end;
	unsigned long n;
	size_t i;

	if (!rows || !*rows)
		return;
	for (i = 2; i < NSPACED; i++)
		spaced_progs[i].skip = true;
	while (*rows) {
		n = strtoul(rows, &end, 10);
		REQUIRE(end != rows && n < NSPACED && (!*end || *end == ','),
			"BENCH_COST_ROWS: '%s' is not a list of rows 0-%zu",
			getenv("BENCH_COST_ROWS"), NSPACED - 1);
		spaced_progs[n].skip = false;
		rows = *end ? end + 1 : end;
	}
}

static void run_spaced(struct bpf_object *obj, bool alone_only)
{
	const struct spaced_opts o = {
		.conns = 256,
		.peers = 64,
		.gap_us = 5000,
		.duration_ms = SPACED_MS,
	};
	double runs[NSPACED][SPACED_ROUNDS], one[NSPACED][SPACED_ROUNDS];
	unsigned long long exchanges = 0;
	size_t i, k, j;
	int r;
	char what[160];

	for (i = 0; i < NSPACED; i++)
		spaced_progs[i].fd = -1;
	select_rows();
	printf("\nSpaced traffic: %u connections from %u addresses, one "
	       "64-byte exchange every %u ms on each, %u ms a run:\n",
	       o.conns, o.peers, o.gap_us / 1000, o.duration_ms);
	/*
	 * Alone: nothing else on the hook warms the socket's lines.  Round
	 * by round, every program takes its turn (forwards, then backwards
	 * the next round), so the reference and each candidate run minutes
	 * apart at most and a build next door loads both alike.
	 */
	for (r = 0; r < SPACED_ROUNDS; r++) {
		for (j = 0; j < NSPACED; j++) {
			i = r % 2 ? NSPACED - 1 - j : j;
			if (spaced_progs[i].skip)
				continue;
			spaced_attach(obj, &spaced_progs[i]);
			spaced_runs(&o, one, 1, &exchanges);
			runs[i][r] = one[i][0];
			spaced_detach(&spaced_progs[i]);
		}
	}
	spaced_report("BPF ns per event, each program attached alone, "
		      "interleaved", runs, exchanges);
	if (alone_only)
		return;
	/* Together, references first, then rttq first. */
	for (k = 0; k < 2; k++) {
		for (i = 0; i < NSPACED; i++) {
			j = k ? NSPACED - 1 - i : i;
			if (!spaced_progs[j].skip)
				spaced_attach(obj, &spaced_progs[j]);
		}
		exchanges = 0;
		spaced_runs(&o, runs, SPACED_ROUNDS, &exchanges);
		snprintf(what, sizeof(what), "BPF ns per event, all attached, "
			 "%s first", k ? "rttq" : "the references");
		spaced_report(what, runs, exchanges);
		for (i = 0; i < NSPACED; i++)
			spaced_detach(&spaced_progs[i]);
	}
}

/* The hot loop: every program attached at once, three placements. */
static void run_hot(struct bpf_object *obj)
{
	struct collector *c[9];
	const unsigned int rtt = COLLECTOR_SIG_RTT;
	struct bpf_link *links[2];
	double best[NPROGS];
	struct spread ratio[NPROGS];
	int fds[NPROGS], i;

	/*
	 * All attached at once: every program runs on the very same events,
	 * so machine noise hits them alike and the ratios are fair.
	 */
	links[0] = attach_ref(obj, "ref_empty", &fds[0]);
	links[1] = attach_ref(obj, "ref_tcprtt", &fds[1]);
	/* tp_btf named, not the automatic choice: the labels say tp_btf. */
	c[0] = open_collector("tp_btf", 0, rtt, false);
	c[1] = open_collector("tp_btf", COLLECTOR_BY_RADDR, rtt, false);
	c[2] = open_collector("tp_btf",
			      COLLECTOR_BY_RADDR | COLLECTOR_BY_RPORT, rtt, false);
	c[3] = open_collector("raw_tp", 0, rtt, false);
	c[4] = open_collector("raw_tp", COLLECTOR_BY_RADDR, rtt, false);
	/* The key kinds of kernel/group_key.h: worked out once per socket,
	 * so an event should cost what it costs by raddr. */
	c[5] = open_collector("tp_btf", COLLECTOR_BY_RADDR | COLLECTOR_BY_PORT |
				      COLLECTOR_BY_CGROUP, rtt, false);
	c[6] = open_collector("tp_btf", COLLECTOR_BY_PEER | COLLECTOR_BY_PORT,
			      rtt, false);
	/* jitter: one more bucket add on the value tcp_probe looked up. */
	c[7] = open_collector("tp_btf", COLLECTOR_BY_RADDR,
			      rtt | COLLECTOR_SIG_JITTER, false);
	/* The A/B of gid_gens' direct path (kernel/group_ids.h). */
	c[8] = open_collector("tp_btf", COLLECTOR_BY_RADDR, rtt, true);
	for (i = 0; i < 9; i++)
		fds[2 + i] = collector_prog_fd(c[i]);

	/*
	 * The tcprtt-style program's atomics on one shared hash entry cost
	 * more when events for one peer arrive on several CPUs (on loopback
	 * each end's receive runs on the other end's CPU), so its cost moves
	 * with placement: pinned both ways, then left to the scheduler.  The
	 * per-round ratio compares programs on the very same events.
	 */
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
		measure(fds, 1, PLACE_TWO_CPUS, best, ratio);
		report("one flow, ends on CPUs 0 and 1", best, ratio);
	}
	measure(fds, 1, PLACE_ONE_CPU, best, ratio);
	report("one flow, both ends on CPU 0", best, ratio);
	measure(fds, 2, PLACE_FREE, best, ratio);
	report("two concurrent flows to one peer, unpinned", best, ratio);

	for (i = 0; i < 9; i++)
		collector_close(c[i]);
	bpf_link__destroy(links[0]);
	bpf_link__destroy(links[1]);
}

int main(int argc, char **argv)
{
	const char *part = argc == 3 ? argv[2] : "all";
	struct bpf_object *obj;
	int stats_fd;

	REQUIRE(argc == 2 || argc == 3,
		"usage: bench-cost REF_BPF_OBJECT [hot|spaced|spaced-alone]");
	REQUIRE(!strcmp(part, "all") || !strcmp(part, "hot") ||
		!strcmp(part, "spaced") || !strcmp(part, "spaced-alone"),
		"bench-cost: unknown part '%s' (hot, spaced or spaced-alone)",
		part);
	require_root("loading BPF");
	skip_unless_kernel(KERNEL_BPF);
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	REQUIRE_CMP(stats_fd, >=, 0);
	obj = bpf_object__open_file(argv[1], NULL);
	REQUIRE(obj, "open %s: %s", argv[1], strerror(errno));
	REQUIRE_CMP(bpf_object__load(obj), ==, 0);
	write_peer_map();
	if (!strcmp(part, "all") || !strcmp(part, "hot"))
		run_hot(obj);
	if (strcmp(part, "hot"))
		run_spaced(obj, !strcmp(part, "spaced-alone"));
	bpf_object__close(obj);
	unlink(peer_map_path);
	close(stats_fd);
	return 0;
}
