// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq hist: a live TCP RTT (or jitter, handshake, sndbuf, runqlat)
 * histogram straight from the kernel, in the manner of bcc's tcprtt.  Loads the collector
 * (same filters, groups and signals as rttq-agent), and every interval
 * prints per group a log2 view of the new events plus p50/p90/p99 taken
 * from the fine log-linear buckets, and with --counters the group's
 * counters (retransmits, connections, drops, ...) that moved.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buckets.h"
#include "cli.h"
#include "collector_opts.h"
#include "commands.h"
#include "counter_set.h"
#include "hist.h"
#include "live_clock.h"
#include "metric.h"
#include "numparse.h"

#define BAR_WIDTH 40
#define LOG2_ROWS 34  /* row 0 for value 0, row e + 1 for [2^e, 2^(e+1)) */

struct env {
	unsigned long interval_s;   /* 0: one summary at the end */
	unsigned long duration_s;   /* 0: until SIGINT */
	bool timestamp;
	bool milliseconds;
	bool extended;
	bool counters;              /* print each group's counters too */
	const char *metric;         /* a distribution (metric.h) */
	const struct metric_dist *dist; /* its entry: the unit */
	struct collector_opts copts;
};

static const char usage_text[] =
"Usage: rttq hist [OPTIONS]\n"
"\n"
"Summarize TCP RTT (the kernel's smoothed RTT of each socket, per received\n"
"segment) as histograms, per group; or its jitter (ss -ti's rttvar, per\n"
"received segment), handshakes (SYN sent to established, connections\n"
"this host opens), the send buffer's fill (sndbuf, per cent, per received\n"
"segment) or the node's run-queue latency (runqlat, group all).  Needs\n"
"root.\n"
"\n"
"Options:\n"
"  -M, --metric NAME      rtt (default), jitter, handshake, runqlat, sndbuf\n"
"                         or flow_duration (connections that closed, SYN\n"
"                         to close; loads --signals flows)\n"
"  -c, --counters         also print each group's counters that moved\n"
"                         (retrans.*, segs.out, conn.*, drops.*, ...)\n"
"  -i, --interval SEC     print a summary every SEC seconds\n"
"                         (default: one summary at the end)\n"
"  -d, --duration SEC     stop after SEC seconds (default: until Ctrl-C)\n"
"  -T, --timestamp        print the time of each summary\n"
"  -m, --milliseconds     histogram and quantiles in ms (default: us)\n"
"  -e, --extended         also print the average per group\n";

/* After the collector's options. */
static const char usage_tail[] =
"  -v, --verbose          libbpf debug output\n"
"  -h, --help             this text\n"
"\n"
"Examples:\n"
"  rttq hist -i 1 -d 10             1-second summaries for 10 seconds\n"
"  rttq hist -m -T --group-by raddr per peer, in ms, with timestamps\n"
"  rttq hist --rport 443 -e         HTTPS peers only, with averages\n"
"  rttq hist -M handshake -c -d 60  handshakes and counters for a minute\n"
"  rttq hist -M runqlat --cgroup /app -d 10\n"
"                                   run-queue latency of one cgroup's tasks\n";

static const struct option long_opts[] = {
	{ "interval", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
	{ "timestamp", no_argument, NULL, 'T' },
	{ "milliseconds", no_argument, NULL, 'm' },
	{ "extended", no_argument, NULL, 'e' },
	{ "metric", required_argument, NULL, 'M' },
	{ "counters", no_argument, NULL, 'c' },
	COLLECTOR_LONG_OPTIONS,
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fputs(usage_text, out);
	collector_opts_usage(out, 6, 25);
	fputs(usage_tail, out);
}

/* A bounded integer flag, or a message naming it on stderr. */
static int parse_ulong(const char *what, const char *text, unsigned long min,
		       unsigned long max, unsigned long *out)
{
	struct rttq_error err = { 0 };
	char flag[32];
	uint64_t v;

	snprintf(flag, sizeof(flag), "--%s", what);
	if (numparse_uint(flag, text, min, max, &v, &err)) {
		fprintf(stderr, "rttq hist: %s\n", err.msg);
		return -EINVAL;
	}
	*out = (unsigned long)v;
	return 0;
}

/* Parse argv into @env; see CLI_CONTINUE in cli.h for the result. */
static int parse_args(int argc, char **argv, struct env *env)
{
	struct rttq_error err = { 0 };
	unsigned int sig;
	int opt;

	optind = 1;
	env->metric = METRIC_RTT;
	env->dist = metric_dist_find(METRIC_RTT);
	while ((opt = getopt_long(argc, argv, "i:d:TmeM:cvh", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (parse_ulong("interval", optarg, 1, 86400 * 365,
					&env->interval_s))
				return CLI_EXIT_USAGE;
			break;
		case 'd':
			if (parse_ulong("duration", optarg, 1, 86400 * 365,
					&env->duration_s))
				return CLI_EXIT_USAGE;
			break;
		case 'T':
			env->timestamp = true;
			break;
		case 'm':
			env->milliseconds = true;
			break;
		case 'e':
			env->extended = true;
			break;
		case 'M':
			env->dist = metric_dist_find(optarg);
			if (!env->dist || !collector_metric_signal(optarg)) {
				fprintf(stderr, "rttq hist: --metric '%s': use rtt, jitter, handshake, runqlat, sndbuf or flow_duration\n",
					optarg);
				return CLI_EXIT_USAGE;
			}
			env->metric = env->dist->name;
			break;
		case 'c':
			env->counters = true;
			break;
		case 'v':
			env->copts.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_HELP;
		case '?':
			usage(stderr);
			return CLI_EXIT_USAGE;
		default:
			if (collector_opts_parse(&env->copts, opt, optarg,
						 &err)) {
				fprintf(stderr, "rttq hist: %s\n", err.msg);
				return CLI_EXIT_USAGE;
			}
		}
	}
	if (optind < argc) {
		fprintf(stderr, "rttq hist: unexpected argument '%s'\n",
			argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (collector_opts_check(&env->copts, &err)) {
		fprintf(stderr, "rttq hist: %s\n", err.msg);
		return CLI_EXIT_USAGE;
	}
	sig = collector_metric_signal(env->metric);
	/* Flows are not among the default signals: this metric asks. */
	if (!env->copts.signals && !(sig & COLLECTOR_SIG_ALL))
		env->copts.signals = COLLECTOR_SIG_ALL | sig;
	if (env->copts.signals && !(env->copts.signals & sig)) {
		fprintf(stderr, "rttq hist: --metric %s needs --signals %s\n",
			env->metric,
			sig == COLLECTOR_SIG_CONN ? "conn" :
			sig == COLLECTOR_SIG_FLOWS ? "flows" : env->metric);
		return CLI_EXIT_USAGE;
	}
	return CLI_CONTINUE;
}

/*
 * What the samples of @env's metric are shown in: per cent for sndbuf
 * (stored in thousandths of one, metric.h), else us or, with -m, ms.
 * @return whether shown in thousands of the stored unit.
 */
static bool shown_scaled(const struct env *env, const char **unit)
{
	bool pct = !strcmp(env->dist->unit, "%");

	*unit = pct ? "%" : env->milliseconds ? "ms" : "us";
	return pct || env->milliseconds;
}

/* Row of the log2 view for @value: 0 for 0, else floor(log2 v) + 1. */
static unsigned int log2_row(uint64_t value)
{
	unsigned int row = 0;

	while (value) {
		row++;
		value >>= 1;
	}
	return row;
}

static void print_bar(uint64_t count, uint64_t max)
{
	unsigned int stars = max ? (unsigned int)(count * BAR_WIDTH / max) : 0;
	unsigned int i;

	putchar('|');
	for (i = 0; i < BAR_WIDTH; i++)
		putchar(i < stars ? '*' : ' ');
	putchar('|');
}

/*
 * The log2 view: fine buckets never straddle a power of two (each power of
 * two is split into whole sub-buckets), so in us every fine bucket falls in
 * exactly one row.  In ms (or per cent) a bucket goes to the row of its
 * lower edge.
 */
static void print_log2(const struct env *env, const struct hist *h)
{
	uint64_t rows[LOG2_ROWS] = { 0 }, count, max = 0, lo;
	unsigned int g = hist_sub_bits(h), r, first = LOG2_ROWS, last = 0;
	uint32_t index = 0;
	const char *unit;
	bool scaled = shown_scaled(env, &unit);

	while (hist_next_slot(h, &index, &count)) {
		lo = bucket_lo(index, g);
		r = log2_row(scaled ? lo / 1000 : lo);
		rows[r] += count;
		index++;
	}
	for (r = 0; r < LOG2_ROWS; r++) {
		if (!rows[r])
			continue;
		if (r < first)
			first = r;
		last = r;
		if (rows[r] > max)
			max = rows[r];
	}
	if (first == LOG2_ROWS)
		return;
	printf("%24s : count      distribution\n",
	       !strcmp(unit, "%") ? "percent" : scaled ? "msecs" : "usecs");
	for (r = first; r <= last; r++) {
		uint64_t row_lo = r ? 1ull << (r - 1) : 0;
		uint64_t row_hi = r ? (1ull << r) - 1 : 0;

		printf("%10llu -> %-10llu : %-10llu ", (unsigned long long)row_lo,
		       (unsigned long long)row_hi, (unsigned long long)rows[r]);
		print_bar(rows[r], max);
		putchar('\n');
	}
}

/* What print_group() needs across one drain. */
struct summary {
	const struct env *env;
	unsigned int groups;        /* groups printed so far */
};

static int print_group(const char *group, const char *metric,
		       const struct hist *delta, void *arg)
{
	struct summary *sum = arg;
	const struct env *env = sum->env;
	const char *unit;
	double div = shown_scaled(env, &unit) ? 1000.0 : 1.0;
	uint64_t n = hist_count(delta);

	if (strcmp(metric, env->metric) != 0)
		return 0;
	printf("%s: %llu events, p50 %.3f %s, p90 %.3f %s, p99 %.3f %s", group,
	       (unsigned long long)n, hist_quantile(delta, 0.50) / div, unit,
	       hist_quantile(delta, 0.90) / div, unit,
	       hist_quantile(delta, 0.99) / div, unit);
	/* Drained counts know the bucket, not the value: avg from midpoints. */
	if (env->extended && n)
		printf(", avg %.3f %s", hist_sum_us(delta) / (double)n / div,
		       unit);
	putchar('\n');
	print_log2(env, delta);
	putchar('\n');
	sum->groups++;
	return 0;
}

/* collector_counters_fn: the counters of @group that moved, one a line. */
static int print_counters(const char *group, const struct counter_set *delta,
			  void *arg)
{
	struct summary *sum = arg;
	size_t i;

	if (!sum->env->counters)
		return 0;
	printf("%s counters:\n", group);
	for (i = 0; i < delta->n; i++)
		printf("  %-40s %llu\n", delta->v[i].name,
		       (unsigned long long)delta->v[i].value);
	putchar('\n');
	sum->groups++;
	return 0;
}

static int print_summary(const struct env *env, struct collector *c,
			 uint64_t *overflow_seen)
{
	struct summary sum = { .env = env };
	struct rttq_error err = { 0 };
	uint64_t overflow;
	char ts[32];
	time_t now;
	struct tm tm;

	if (env->timestamp) {
		now = time(NULL);
		if (localtime_r(&now, &tm) &&
		    strftime(ts, sizeof(ts), "%H:%M:%S", &tm))
			printf("%s\n", ts);
	}
	collector_on_counters(c, print_counters, &sum);
	if (collector_drain(c, print_group, &sum, &err) < 0) {
		fprintf(stderr, "rttq hist: %s\n", err.msg);
		return -1;
	}
	if (!sum.groups)
		printf("no events\n\n");
	overflow = collector_overflow(c);
	if (overflow != *overflow_seen) {
		printf("overflow: %llu events found no free group "
		       "(raise --max-groups)\n\n",
		       (unsigned long long)(overflow - *overflow_seen));
		*overflow_seen = overflow;
	}
	fflush(stdout);
	return 0;
}

/* SIGHUP: read --peer-map again, as the agent does; a bad file keeps the
 * map in use.  On stderr, so the histograms on stdout stay clean. */
static void reload_peer_map(struct collector *c, const char *path)
{
	struct rttq_error err = { 0 };

	live_reload = 0;
	if (collector_reload_peer_map(c, &err))
		fprintf(stderr, "rttq hist: SIGHUP: keeping the previous peer "
			"map: %s\n", err.msg);
	else
		fprintf(stderr, "rttq hist: SIGHUP: peer map %s reloaded\n",
			path);
}

int cmd_hist(int argc, char **argv)
{
	struct env env = { 0 };
	struct rttq_error err = { 0 };
	struct collector *c = NULL;
	double start, end, next;
	uint64_t overflow_seen = 0;
	int ret;

	ret = parse_args(argc, argv, &env);
	if (ret != CLI_CONTINUE)
		return ret;

	if (collector_open(&env.copts, &c, &err)) {
		fprintf(stderr, "rttq hist: %s\n", err.msg);
		return 1;
	}

	live_catch_signals(env.copts.peer_map != NULL);

	printf("Tracing %s via %s",
	       !strcmp(env.metric, METRIC_RTT) ? "TCP RTT" :
	       !strcmp(env.metric, METRIC_RUNQLAT) ? "run-queue latency"
						   : env.metric,
	       collector_attach_mode(c));
	if (env.duration_s)
		printf(" for %lu s.\n\n", env.duration_s);
	else
		printf("... Hit Ctrl-C to end.\n\n");
	fflush(stdout);

	start = live_now_s();
	end = env.duration_s ? start + (double)env.duration_s : INFINITY;
	next = env.interval_s ? start + (double)env.interval_s : end;
	ret = 0;
	while (!live_stop) {
		live_sleep_until(next < end ? next : end, &live_stop);
		if (live_reload) {
			reload_peer_map(c, env.copts.peer_map);
			if (live_now_s() < (next < end ? next : end) - 1e-3)
				continue;
		}
		if (print_summary(&env, c, &overflow_seen)) {
			ret = 1;
			break;
		}
		if (live_now_s() >= end - 1e-3)
			break;
		if (env.interval_s)
			next += (double)env.interval_s;
	}
	collector_close(c);
	return ret;
}
