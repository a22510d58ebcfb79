// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq signals: the samples librttq-signals hands a control loop, one
 * line per interval, read through the library itself (so this is also
 * its smoke test); with --validate, what rttq costs the machine while
 * it counts: the BPF programs' run time from bpf_stats plus this
 * process's CPU time, against a target share of one core.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "cli.h"
#include "commands.h"
#include "live_clock.h"
#include "numparse.h"
#include "rttq/signals.h"

#define PROG "rttq signals"

/* Exit status of --validate when the overhead is above --target. */
#define EXIT_OVER_TARGET 3

/* Programs a handle attaches, at most (collector.h: one per hook). */
#define PROGS_MAX 32

struct env {
	double interval_s;
	double duration_s;          /* 0: until SIGINT */
	bool validate;
	double target_pct;          /* of one core */
	struct rttq_signals_opts opts;
};

static const char usage_text[] =
"Usage: rttq signals [OPTIONS]\n"
"\n"
"Print what librttq-signals hands a control loop, one line per interval:\n"
"RTT samples, bytes sent and received, drops, send-buffer pressure, network\n"
"softirq time and the RTT median.  Loads its own BPF programs (works with\n"
"or without rttq-agent); needs root.\n"
"\n"
"Options:\n"
"      --interval SEC     seconds per line, may be a fraction (default 1)\n"
"      --duration SEC     stop after SEC seconds (default: until Ctrl-C;\n"
"                         with --validate: 10)\n"
"      --validate         measure the machine's CPU for one interval first,\n"
"                         then report what rttq adds: BPF run time\n"
"                         (bpf_stats) plus this process's CPU time, as a\n"
"                         share of one core and of the machine; exit 3\n"
"                         when above --target\n"
"      --target PCT       --validate's limit, per cent of one core\n"
"                         (default 0.5)\n"
"      --lport PORT       count only connections on this local port\n"
"      --rport PORT       ... with this remote port\n"
"      --raddr CIDR       ... with a remote address in CIDR (10.0.0.0/8)\n"
"      --laddr CIDR       ... with a local address in CIDR\n"
"      --cgroup PATH      ... of processes in this cgroup v2 and below\n"
"      --include-loopback count 127.0.0.0/8 and ::1 peers too\n"
"  -h, --help             this text\n"
"\n"
"Line: [  1s] events 1234 | send 45.0 MB | recv 44.8 MB | drops 0 |\n"
"      sndbuf 32.1 % | softirq 1234 µs | rtt p50 0.210 ms\n"
"(MB = 10^6 bytes; sndbuf: mean of send queue / sk_sndbuf at each RTT\n"
"sample; drops and softirq time are the node's whatever the filters.)\n"
"\n"
"Exit status: 0 ok, 1 failure, 2 usage error, 3 --validate above target.\n";

enum {
	OPT_VALIDATE = 0x100,
	OPT_TARGET,
	OPT_LPORT,
	OPT_RPORT,
	OPT_RADDR,
	OPT_LADDR,
	OPT_CGROUP,
	OPT_LOOPBACK,
};

static const struct option long_opts[] = {
	{ "interval", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
	{ "validate", no_argument, NULL, OPT_VALIDATE },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "lport", required_argument, NULL, OPT_LPORT },
	{ "rport", required_argument, NULL, OPT_RPORT },
	{ "raddr", required_argument, NULL, OPT_RADDR },
	{ "laddr", required_argument, NULL, OPT_LADDR },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "include-loopback", no_argument, NULL, OPT_LOOPBACK },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_port(const char *flag, const char *text, uint16_t *out)
{
	struct rttq_error err = { 0 };
	uint64_t v;

	if (numparse_uint(flag, text, 1, 65535, &v, &err))
		return cli_usage_error(PROG, "%s", err.msg);
	*out = (uint16_t)v;
	return 0;
}

static int parse_real(const char *flag, const char *text, double min,
		      double max, double *out)
{
	struct rttq_error err = { 0 };

	if (numparse_real(flag, text, min, max, out, &err))
		return cli_usage_error(PROG, "%s", err.msg);
	return 0;
}

/* cli_spec.option: one option into the struct env at @ctx.  Addresses
 * and the cgroup are checked by rttq_signals_open(), which names them. */
static int apply_option(int opt, const char *arg, void *ctx)
{
	struct env *env = ctx;

	switch (opt) {
	case 'i':
		return parse_real("--interval", arg, 0.01, 86400,
				  &env->interval_s);
	case 'd':
		return parse_real("--duration", arg, 0.01, 86400.0 * 365,
				  &env->duration_s);
	case OPT_VALIDATE:
		env->validate = true;
		return 0;
	case OPT_TARGET:
		return parse_real("--target", arg, 0.0001, 100,
				  &env->target_pct);
	case OPT_LPORT:
		return parse_port("--lport", arg, &env->opts.lport);
	case OPT_RPORT:
		return parse_port("--rport", arg, &env->opts.rport);
	case OPT_RADDR:
		env->opts.raddr = arg;
		return 0;
	case OPT_LADDR:
		env->opts.laddr = arg;
		return 0;
	case OPT_CGROUP:
		env->opts.cgroup = arg;
		return 0;
	case OPT_LOOPBACK:
		env->opts.include_loopback = 1;
		return 0;
	}
	return cli_usage_error(PROG, "unknown option");
}

static void print_sample(double elapsed_s, double interval_s,
			 const struct rttq_signal_sample *s)
{
	/* Whole seconds as the issue shows them; fractions when the
	 * interval has them. */
	if (interval_s == (double)(long)interval_s)
		printf("[%3.0fs]", elapsed_s);
	else
		printf("[%5.1fs]", elapsed_s);
	printf(" events %llu | send %.1f MB | recv %.1f MB | drops %llu | "
	       "sndbuf %.1f %% | softirq %llu µs | rtt p50 %.3f ms\n",
	       (unsigned long long)s->events, (double)s->send_bytes / 1e6,
	       (double)s->recv_bytes / 1e6, (unsigned long long)s->drops,
	       s->sndbuf_pressure_avg * 100.0,
	       (unsigned long long)(s->softirq_ns / 1000),
	       s->rtt_p50_us / 1000.0);
	fflush(stdout);
}

/* --- --validate: what rttq costs ---------------------------------------- */

/* The machine's CPU time from the first line of /proc/stat, in ticks. */
struct cpu_ticks {
	unsigned long long busy, total;
};

static int read_cpu_ticks(struct cpu_ticks *t)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return -errno;
	/* user nice system idle iowait irq softirq steal */
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 4)
		return -EIO;
	t->busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	t->total = t->busy + v[3] + v[4];
	return 0;
}

/* Busy share of the machine between @a and @b, 0..1. */
static double cpu_busy(const struct cpu_ticks *a, const struct cpu_ticks *b)
{
	unsigned long long total = b->total - a->total;

	return total ? (double)(b->busy - a->busy) / (double)total : 0.0;
}

static double process_cpu_s(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0.0;
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* What --validate reads at the start and at the end of the run. */
struct cost_point {
	double wall_s, process_s;
	struct cpu_ticks cpu;
	uint64_t run_ns[PROGS_MAX], runs[PROGS_MAX];
};

struct validator {
	struct rttq_signals *h;
	int stats_fd;               /* BPF_ENABLE_STATS; -1 when off */
	unsigned int n_progs;
	int fds[PROGS_MAX];
	const char *names[PROGS_MAX];
	double baseline;            /* machine busy share before attaching */
	struct cost_point start;
	uint64_t events;            /* RTT samples over the run */
};

static void cost_point_read(struct validator *v, struct cost_point *p)
{
	struct bpf_prog_info info;
	__u32 len;
	unsigned int i;

	p->wall_s = live_now_s();
	p->process_s = process_cpu_s();
	if (read_cpu_ticks(&p->cpu))
		memset(&p->cpu, 0, sizeof(p->cpu));
	for (i = 0; i < v->n_progs; i++) {
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(v->fds[i], &info, &len)) {
			p->run_ns[i] = p->runs[i] = 0;
			continue;
		}
		p->run_ns[i] = info.run_time_ns;
		p->runs[i] = info.run_cnt;
	}
}

/* Machine CPU for one interval before anything is attached. */
static int measure_baseline(struct validator *v, double interval_s)
{
	struct cpu_ticks a, b;
	int ret;

	ret = read_cpu_ticks(&a);
	if (ret) {
		fprintf(stderr, PROG ": /proc/stat: %s\n", strerror(-ret));
		return ret;
	}
	live_sleep_until(live_now_s() + (interval_s < 1.0 ? 1.0 : interval_s),
			 &live_stop);
	if (read_cpu_ticks(&b))
		return -EIO;
	v->baseline = cpu_busy(&a, &b);
	printf("baseline: machine CPU %.1f %% of %ld CPUs, before attaching\n",
	       v->baseline * 100.0, sysconf(_SC_NPROCESSORS_ONLN));
	return 0;
}

/*
 * Turn bpf_stats on for as long as the fd stays open: the kernel
 * counts while any such fd exists and goes back to what the sysctl says
 * when the last one closes, so nothing has to be restored by hand.
 */
static int validator_start(struct validator *v)
{
	v->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (v->stats_fd < 0) {
		fprintf(stderr, PROG ": --validate: enabling bpf_stats: %s\n",
			strerror(errno));
		return -1;
	}
	v->n_progs = rttq_signals_prog_fds(v->h, v->fds, v->names, PROGS_MAX);
	if (v->n_progs > PROGS_MAX)
		v->n_progs = PROGS_MAX;
	cost_point_read(v, &v->start);
	return 0;
}

/* Print the report; @return the exit status (0 or EXIT_OVER_TARGET). */
static int validator_report(struct validator *v, double target_pct)
{
	struct cost_point end;
	double wall, bpf_s = 0.0, proc_s, core_pct, machine_pct;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int i;

	cost_point_read(v, &end);
	wall = end.wall_s - v->start.wall_s;
	if (wall <= 0.0)
		return 0;
	printf("\nvalidate: %.1f s, %.0f RTT events/s, machine CPU %.1f %% "
	       "(baseline %.1f %%)\n", wall, (double)v->events / wall,
	       cpu_busy(&v->start.cpu, &end.cpu) * 100.0,
	       v->baseline * 100.0);
	for (i = 0; i < v->n_progs; i++) {
		uint64_t ns = end.run_ns[i] - v->start.run_ns[i];
		uint64_t runs = end.runs[i] - v->start.runs[i];

		bpf_s += (double)ns / 1e9;
		if (!runs)
			continue;
		printf("  bpf %-32s %10.0f runs/s %7.0f ns/run %7.3f %% of a core\n",
		       v->names[i] ? v->names[i] : "?", (double)runs / wall,
		       (double)ns / (double)runs,
		       (double)ns / 1e9 / wall * 100.0);
	}
	proc_s = end.process_s - v->start.process_s;
	core_pct = (bpf_s + proc_s) / wall * 100.0;
	machine_pct = ncpus > 0 ? core_pct / (double)ncpus : core_pct;
	printf("overhead: bpf %.3f %% + process %.3f %% = %.3f %% of one core, "
	       "%.3f %% of the machine (%ld CPUs); target %.3g %% of one core: %s\n",
	       bpf_s / wall * 100.0, proc_s / wall * 100.0, core_pct,
	       machine_pct, ncpus, target_pct,
	       core_pct <= target_pct ? "ok" : "ABOVE");
	return core_pct <= target_pct ? 0 : EXIT_OVER_TARGET;
}

int cmd_signals(int argc, char **argv)
{
	static const struct cli_spec spec = {
		.prog = PROG,
		.usage = usage_text,
		.options = long_opts,
		.option = apply_option,
	};
	struct env env = { .interval_s = 1.0, .target_pct = 0.5 };
	struct validator v = { .stats_fd = -1 };
	struct rttq_signal_sample s;
	double start, end, next;
	int ret;

	ret = cli_parse(&spec, argc, argv, &env);
	if (ret != CLI_CONTINUE)
		return ret;
	if (env.validate && !env.duration_s)
		env.duration_s = 10;

	live_catch_signals(false);

	if (env.validate && measure_baseline(&v, env.interval_s))
		return 1;
	ret = rttq_signals_open(&v.h, &env.opts);
	if (ret) {
		fprintf(stderr, PROG ": %s\n", rttq_signals_last_error(NULL));
		return ret == -EINVAL ? CLI_EXIT_USAGE : 1;
	}
	if (env.validate && validator_start(&v)) {
		rttq_signals_close(v.h);
		return 1;
	}

	start = live_now_s();
	end = env.duration_s ? start + env.duration_s : 1e300;
	next = start + env.interval_s;
	ret = 0;
	while (!live_stop) {
		live_sleep_until(next < end ? next : end, &live_stop);
		if (rttq_signals_read_and_reset(v.h, &s)) {
			fprintf(stderr, PROG ": %s\n",
				rttq_signals_last_error(v.h));
			ret = 1;
			break;
		}
		v.events += s.events;
		print_sample(live_now_s() - start, env.interval_s, &s);
		if (live_now_s() >= end - 1e-3)
			break;
		next += env.interval_s;
	}
	if (env.validate && !ret)
		ret = validator_report(&v, env.target_pct);
	if (v.stats_fd >= 0)
		close(v.stats_fd);
	rttq_signals_close(v.h);
	return ret;
}
