// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq flows: per-connection TCP statistics straight from the kernel
 * (common/flows): a live table of every connection in every network
 * namespace, refreshed like top and sorted by any field, or one JSON
 * object per connection (--once --json); with --closed, a record per
 * connection as it closes, like bcc's tcplife, lost records counted.
 * Loads the collector with flows, so the agent's filters and groups
 * apply.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "collector_opts.h"
#include "commands.h"
#include "flow_format.h"
#include "flow_reader.h"
#include "live_clock.h"
#include "monoclock.h"
#include "numparse.h"
#include "strbuf.h"

#define ROWS_DEFAULT 20    /* table rows; JSON lists every connection */
#define ROWS_UNSET UINT64_MAX
#define SORT_DEFAULT "bytes_sent"

struct env {
	uint64_t interval_s;        /* table refresh */
	uint64_t duration_s;        /* 0: until SIGINT */
	uint64_t rows;              /* 0: all; ROWS_UNSET: by the output */
	int sort;                   /* flow_field_find() */
	bool once;
	bool json;
	bool closed;
	struct collector_opts copts;
};

/* A live connection kept for sorting. */
struct row {
	struct flow_record r;
	char *group;
	int sort;                   /* the field to sort by (qsort has no arg) */
};

struct rows {
	struct row *v;
	size_t n, cap;
};

static const char usage_text[] =
"Usage: rttq flows [OPTIONS]\n"
"\n"
"Per-connection TCP statistics from the kernel, for every connection in\n"
"every network namespace: a live table (like top), one JSON object per\n"
"connection (--once --json), or a record per connection as it closes\n"
"(--closed).  Needs root.\n"
"\n"
"Options:\n"
"  -i, --interval SEC     refresh the table every SEC seconds (default 1)\n"
"  -s, --sort FIELD       sort by FIELD (default " SORT_DEFAULT "): numbers\n"
"                         largest first, text in order\n"
"  -n, --rows N           show the first N connections (default: 20 in\n"
"                         the table, all as JSON; 0: all)\n"
"      --once             one table (or JSON list) and exit\n"
"  -j, --json             one JSON object per line instead of the table\n"
"      --closed           a record per connection as it closes\n"
"  -d, --duration SEC     stop after SEC seconds (default: until Ctrl-C)\n";

static const char usage_tail[] =
"  -v, --verbose          libbpf debug output\n"
"  -h, --help             this text\n"
"\n"
"Fields: laddr lport raddr rport state group duration_ms srtt_us\n"
"  min_rtt_us flight_size rwnd cwnd mss retrans_packets bytes_sent\n"
"  bytes_received fast_retrans timeouts app_wqueue app_wqueue_max\n"
"  rtt_samples rtt_sum_us read_bytes write_bytes (rttq(1) says what\n"
"  each is).\n"
"\n"
"Examples:\n"
"  rttq flows -s srtt_us -n 10          the 10 slowest connections, live\n"
"  rttq flows --once --json --rport 443 HTTPS connections now, as JSON\n"
"  rttq flows --closed -d 60            connections closing this minute\n";

enum {
	OPT_ONCE = COLLECTOR_OPT_END,
	OPT_CLOSED,
};

static const struct option long_opts[] = {
	{ "interval", required_argument, NULL, 'i' },
	{ "sort", required_argument, NULL, 's' },
	{ "rows", required_argument, NULL, 'n' },
	{ "once", no_argument, NULL, OPT_ONCE },
	{ "json", no_argument, NULL, 'j' },
	{ "closed", no_argument, NULL, OPT_CLOSED },
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

/* A value refused (@err names the flag): said on stderr. */
static int bad_value(const struct rttq_error *err)
{
	fprintf(stderr, "rttq flows: %s\n", err->msg);
	return CLI_EXIT_USAGE;
}

/* Parse argv into @env; see CLI_CONTINUE in cli.h for the result. */
static int parse_args(int argc, char **argv, struct env *env)
{
	struct rttq_error err = { 0 };
	int opt;

	optind = 1;
	env->interval_s = 1;
	env->rows = ROWS_UNSET;
	env->sort = flow_field_find(SORT_DEFAULT);
	while ((opt = getopt_long(argc, argv, "i:s:n:jd:vh", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'i':
			if (numparse_uint("--interval", optarg, 1, 86400,
					  &env->interval_s, &err))
				return bad_value(&err);
			break;
		case 'd':
			if (numparse_uint("--duration", optarg, 1, 86400 * 365,
					  &env->duration_s, &err))
				return bad_value(&err);
			break;
		case 'n':
			if (numparse_uint("--rows", optarg, 0, 1000000,
					  &env->rows, &err))
				return bad_value(&err);
			break;
		case 's':
			env->sort = flow_field_find(optarg);
			if (env->sort < 0) {
				fprintf(stderr, "rttq flows: --sort '%s': no such field; use one of %s\n",
					optarg, flow_field_names());
				return CLI_EXIT_USAGE;
			}
			break;
		case OPT_ONCE:
			env->once = true;
			break;
		case 'j':
			env->json = true;
			break;
		case OPT_CLOSED:
			env->closed = true;
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
						 &err))
				return bad_value(&err);
		}
	}
	if (optind < argc)
		return cli_usage_error("rttq flows", "unexpected argument '%s'",
				       argv[optind]);
	if (env->closed && env->once)
		return cli_usage_error("rttq flows",
				       "--once lists live connections; --closed waits for closing ones: use one");
	if (env->rows == ROWS_UNSET)
		env->rows = env->json ? 0 : ROWS_DEFAULT;
	/* Only flows are shown: the other families' programs stay off, and
	 * so does the rtt program, which nothing here drains. */
	if (!env->copts.signals)
		env->copts.signals = COLLECTOR_SIG_RTT;
	env->copts.rtt_unread = true;
	env->copts.flows = true;
	return CLI_CONTINUE;
}

/* ---------------------------------------------------------------------- */
/* Live connections                                                       */
/* ---------------------------------------------------------------------- */

static int add_row(const struct flow_record *r, const char *group, void *arg)
{
	struct rows *rows = arg;
	struct row *v;

	if (rows->n == rows->cap) {
		rows->cap = rows->cap ? 2 * rows->cap : 256;
		v = realloc(rows->v, rows->cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		rows->v = v;
	}
	v = &rows->v[rows->n];
	v->r = *r;
	v->group = strdup(group);
	if (!v->group)
		return -ENOMEM;
	rows->n++;
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return flow_compare(&x->r, x->group, &y->r, y->group, x->sort);
}

static void rows_clear(struct rows *rows)
{
	size_t i;

	for (i = 0; i < rows->n; i++)
		free(rows->v[i].group);
	rows->n = 0;
}

/* One snapshot: read, sort, print. */
static int show_live(const struct env *env, struct collector *c,
		     struct rows *rows, bool tty)
{
	struct rttq_error err = { 0 };
	struct strbuf b = STRBUF_INIT;
	unsigned int skipped = 0;
	char ts[32];
	time_t t;
	size_t i, n;
	int rc;

	rows_clear(rows);
	rc = flows_live(c, add_row, rows, &skipped, &err);
	if (rc == -ENOMEM)
		rttq_fail(&err, rc, "out of memory");
	if (rc) {
		fprintf(stderr, "rttq flows: %s\n", err.msg);
		return -1;
	}
	for (i = 0; i < rows->n; i++)
		rows->v[i].sort = env->sort;
	if (rows->n) /* no connections: v may be NULL, which qsort() may not get */
		qsort(rows->v, rows->n, sizeof(rows->v[0]), row_cmp);
	n = env->rows && env->rows < rows->n ? env->rows : rows->n;
	if (env->json) {
		for (i = 0; i < n; i++) {
			b.len = 0;
			flow_json(&b, &rows->v[i].r, rows->v[i].group);
			printf("%.*s\n", (int)b.len, b.buf ? b.buf : "");
		}
		strbuf_release(&b);
		fflush(stdout);
		return 0;
	}
	if (tty && !env->once)
		fputs("\033[H\033[2J", stdout);
	t = time(NULL);
	strftime(ts, sizeof(ts), "%H:%M:%S", localtime(&t));
	printf("%s  %zu connections", ts, rows->n);
	if (skipped)
		printf(" (%u network namespaces could not be entered)", skipped);
	printf("\n");
	flow_table_header(stdout);
	for (i = 0; i < n; i++)
		flow_table_row(stdout, &rows->v[i].r, rows->v[i].group);
	if (!tty || env->once)
		printf("\n");
	fflush(stdout);
	return 0;
}

static int run_live(const struct env *env, struct collector *c)
{
	struct rows rows = { 0 };
	bool tty = isatty(STDOUT_FILENO);
	int64_t end, next;
	int ret = 0;

	next = monoclock_ms();
	end = env->duration_s ? next + (int64_t)env->duration_s * 1000
			      : INT64_MAX;
	while (!live_stop) {
		if (show_live(env, c, &rows, tty)) {
			ret = 1;
			break;
		}
		if (env->once)
			break;
		next += (int64_t)env->interval_s * 1000;
		/* Short naps, so Ctrl-C ends it at once. */
		while (!live_stop && monoclock_ms() < next &&
		       monoclock_ms() < end)
			monoclock_sleep_ms(50);
		if (monoclock_ms() >= end)
			break;
	}
	rows_clear(&rows);
	free(rows.v);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* Closed connections                                                     */
/* ---------------------------------------------------------------------- */

struct closed_out {
	const struct env *env;
	struct strbuf b;
	uint64_t records;
};

static int print_closed(const struct flow_record *r, const char *group,
			void *arg)
{
	struct closed_out *o = arg;

	o->records++;
	if (o->env->json) {
		o->b.len = 0;
		flow_json(&o->b, r, group);
		printf("%.*s\n", (int)o->b.len, o->b.buf ? o->b.buf : "");
	} else {
		flow_table_row(stdout, r, group);
	}
	return 0;
}

static int run_closed(const struct env *env, struct collector *c)
{
	struct closed_out o = { .env = env, .b = STRBUF_INIT };
	struct rttq_error err = { 0 };
	struct flows_closed *fc = NULL;
	uint64_t lost, lost_seen = 0;
	int64_t end;
	int rc, ret = 0;

	if (flows_closed_open(c, print_closed, &o, &fc, &err)) {
		fprintf(stderr, "rttq flows: %s\n", err.msg);
		return 1;
	}
	if (!env->json) {
		flow_table_header(stdout);
		fflush(stdout);
	}
	end = env->duration_s ? monoclock_ms() + (int64_t)env->duration_s * 1000
			      : INT64_MAX;
	while (!live_stop && monoclock_ms() < end) {
		rc = flows_closed_poll(fc, 100, &err);
		if (rc < 0 && rc != -EINTR) {
			fprintf(stderr, "rttq flows: %s\n", err.msg);
			ret = 1;
			break;
		}
		fflush(stdout);
		lost = flows_closed_lost(fc);
		if (lost != lost_seen) {
			fprintf(stderr, "rttq flows: %llu closed-connection records lost (the ring buffer was full)\n",
				(unsigned long long)(lost - lost_seen));
			lost_seen = lost;
		}
	}
	/* What closed before the end but was not read yet. */
	if (!ret)
		flows_closed_poll(fc, 0, &err);
	fflush(stdout);
	fprintf(stderr, "rttq flows: %llu closed connections, %llu lost\n",
		(unsigned long long)o.records,
		(unsigned long long)flows_closed_lost(fc));
	flows_closed_free(fc);
	strbuf_release(&o.b);
	return ret;
}

int cmd_flows(int argc, char **argv)
{
	struct env env = { 0 };
	struct rttq_error err = { 0 };
	struct collector *c = NULL;
	struct collector_flow_fds fds;
	int ret;

	ret = parse_args(argc, argv, &env);
	if (ret != CLI_CONTINUE)
		return ret;
	if (collector_open(&env.copts, &c, &err)) {
		fprintf(stderr, "rttq flows: %s\n", err.msg);
		return 1;
	}
	if (collector_flow_fds(c, &fds)) {
		fprintf(stderr, "rttq flows: this kernel cannot give per-connection statistics (said above)\n");
		collector_close(c);
		return 1;
	}
	live_catch_signals(false);

	ret = env.closed ? run_closed(&env, c) : run_live(&env, c);
	collector_close(c);
	return ret;
}
