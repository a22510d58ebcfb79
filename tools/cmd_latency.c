// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq latency: where a packet's time goes inside this host, live: the
 * stage distributions of --signals stages (kernel/stages.h: rx.stack,
 * rx.socket, tx.stack, tx.qdisc, sampled 1 in 64 packets) per group,
 * beside the group's RTT, from the same collector and drain as
 * `rttq hist` and the agent, so what it shows is what the agent stores.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "collector_opts.h"
#include "commands.h"
#include "hist.h"
#include "live_clock.h"
#include "metric.h"
#include "monoclock.h"
#include "numparse.h"

struct env {
	unsigned long interval_s;
	unsigned long duration_s;   /* 0: until SIGINT */
	struct collector_opts copts;
};

static const char usage_text[] =
"Usage: rttq latency [OPTIONS]\n"
"\n"
"Where a received or sent packet's time goes inside this host, per group,\n"
"every interval: rx.stack (driver hand-off to TCP), rx.socket (TCP to the\n"
"application's read), tx.stack (TCP's transmit to the device queue) and\n"
"tx.qdisc (device queue to the driver), from 1 in 64 packets, in\n"
"microseconds, beside the group's RTT.  Loads --signals stages.  Needs\n"
"root.\n"
"\n"
"Options:\n"
"  -i, --interval SEC     a table every SEC seconds (default 1)\n"
"  -d, --duration SEC     stop after SEC seconds (default: until Ctrl-C)\n";

static const char usage_tail[] =
"  -v, --verbose          libbpf debug output\n"
"  -h, --help             this text\n"
"\n"
"Columns: GROUP STAGE SAMPLES P50 P90 P99 MAX (us; MAX is the upper edge\n"
"of the highest bucket).\n";

static const struct option long_opts[] = {
	{ "interval", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
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

static int parse_args(int argc, char **argv, struct env *env)
{
	struct rttq_error err = { 0 };
	uint64_t v;
	int opt;

	optind = 1;
	env->interval_s = 1;
	while ((opt = getopt_long(argc, argv, "i:d:vh", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'i':
		case 'd':
			if (numparse_uint(opt == 'i' ? "--interval"
						     : "--duration",
					  optarg, 1, 86400 * 365, &v, &err)) {
				fprintf(stderr, "rttq latency: %s\n", err.msg);
				return CLI_EXIT_USAGE;
			}
			if (opt == 'i')
				env->interval_s = (unsigned long)v;
			else
				env->duration_s = (unsigned long)v;
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
				fprintf(stderr, "rttq latency: %s\n", err.msg);
				return CLI_EXIT_USAGE;
			}
		}
	}
	if (optind < argc)
		return cli_usage_error("rttq latency", "unexpected argument '%s'",
				       argv[optind]);
	if (collector_opts_check(&env->copts, &err)) {
		fprintf(stderr, "rttq latency: %s\n", err.msg);
		return CLI_EXIT_USAGE;
	}
	/* The stages, and rtt beside them; other families stay off. */
	env->copts.signals |= COLLECTOR_SIG_RTT | COLLECTOR_SIG_STAGES;
	return CLI_CONTINUE;
}

/* collector_group_fn: a row per stage (and rtt) that moved. */
static int print_row(const char *group, const char *metric,
		     const struct hist *delta, void *arg)
{
	const struct metric_dist *d = metric_dist_find(metric);
	unsigned int *rows = arg;
	double div;

	if (!d || (strcmp(metric, METRIC_RTT) && strcmp(d->unit, "us")))
		return 0;
	/* Stored in thousandths of the unit shown (metric.h): rtt in µs
	 * already, the stages in ns. */
	div = strcmp(metric, METRIC_RTT) ? 1000.0 : 1.0;
	printf("%-24s %-10s %9llu %10.3f %10.3f %10.3f %10.3f\n", group,
	       metric, (unsigned long long)hist_count(delta),
	       hist_quantile(delta, 0.50) / div,
	       hist_quantile(delta, 0.90) / div,
	       hist_quantile(delta, 0.99) / div, hist_max_us(delta) / div);
	(*rows)++;
	return 0;
}

static int print_table(struct collector *c)
{
	struct rttq_error err = { 0 };
	unsigned int rows = 0;
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm) && strftime(ts, sizeof(ts), "%H:%M:%S", &tm))
		printf("%s\n", ts);
	printf("%-24s %-10s %9s %10s %10s %10s %10s\n", "GROUP", "STAGE",
	       "SAMPLES", "P50", "P90", "P99", "MAX");
	if (collector_drain(c, print_row, &rows, &err) < 0) {
		fprintf(stderr, "rttq latency: %s\n", err.msg);
		return -1;
	}
	if (!rows)
		printf("no samples\n");
	putchar('\n');
	fflush(stdout);
	return 0;
}

int cmd_latency(int argc, char **argv)
{
	struct env env = { 0 };
	struct rttq_error err = { 0 };
	struct collector *c = NULL;
	int64_t end, next;
	int ret;

	ret = parse_args(argc, argv, &env);
	if (ret != CLI_CONTINUE)
		return ret;
	if (collector_open(&env.copts, &c, &err)) {
		fprintf(stderr, "rttq latency: %s\n", err.msg);
		return 1;
	}
	if (!(collector_signals(c) & COLLECTOR_SIG_STAGES)) {
		fprintf(stderr, "rttq latency: this kernel cannot give the stages (said above)\n");
		collector_close(c);
		return 1;
	}
	live_catch_signals(false);

	printf("Tracing packet stages via %s (1 in 64 packets), in us.\n\n",
	       collector_attach_mode(c));
	fflush(stdout);
	end = env.duration_s ? monoclock_ms() + (int64_t)env.duration_s * 1000
			     : INT64_MAX;
	next = monoclock_ms() + (int64_t)env.interval_s * 1000;
	ret = 0;
	while (!live_stop) {
		while (!live_stop && monoclock_ms() < next &&
		       monoclock_ms() < end)
			monoclock_sleep_ms(50);
		if (print_table(c)) {
			ret = 1;
			break;
		}
		if (monoclock_ms() >= end)
			break;
		next += (int64_t)env.interval_s * 1000;
	}
	collector_close(c);
	return ret;
}
