// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq synth: write a synthetic fleet's records (base periods, 1 h and 1 d
 * rollups) to a store through the agent's own path (series_table ->
 * store_put, common/series/synth.c), so the API can be tried and benchmarked
 * without root or real traffic.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "numparse.h"
#include "series.h"
#include "store.h"
#include "synth.h"
#include "timeparse.h"

#define HOSTS_MAX 100000
#define DAYS_MAX 3660
#define SAMPLES_DEFAULT 1000
#define SAMPLES_MAX 1000000
#define GROUPS_DEFAULT 3
#define PROGRESS_EVERY_NS 100000000L
#define WORKERS_MAX 16

struct synth_env {
	const char *store_url;
	uint64_t hosts;
	uint64_t days;
	uint64_t groups;
	uint64_t seed;
	uint64_t samples;
	uint64_t jobs;
	uint32_t period_s;
	int64_t end_s;
	bool has_end;
};

/* Shared by the workers: which host is next, and how far they got. */
struct fleet {
	const struct synth_env *env;
	atomic_uint_fast64_t next_host;  /* last host handed out */
	atomic_uint_fast64_t days_done;  /* host-days simulated */
	atomic_uint_fast64_t records;    /* records stored */
	atomic_uint workers_done;
	atomic_bool stop;                /* a worker failed */
};

/* One writer: its own store handle, as each agent has; SQLite's lock
 * takes turns between them while the others keep simulating. */
struct worker {
	pthread_t tid;
	struct fleet *fleet;
	struct synth_totals tot;
	uint64_t records, base;
	int rc;
	struct rttq_error err;
};

static const char usage_text[] =
	"Usage: rttq synth --store URL --hosts N --days D [OPTIONS]\n"
	"\n"
	"Writes D days of synthetic RTT records for N hosts, as N agents\n"
	"would have written them: base periods plus 5 m, 1 h and 1 d rollups, a\n"
	"daily busy peak per host, group \"all\" and K peer groups\n"
	"(raddr:10.0.0.1, raddr:10.0.0.2, ...).  Existing records with the\n"
	"same keys are replaced.  At the end, prints on stderr how many\n"
	"records and samples (in \"all\") were written.\n"
	"\n"
	"Options:\n"
	"  --store URL     store to write (required), e.g. sqlite:/tmp/demo.db\n"
	"  --hosts N       hosts host-1 .. host-N (required, 1..100000)\n"
	"  --days D        days of data ending at --end (required, 1..3660)\n"
	"  --groups K      peer groups per host (default 3, 0..64)\n"
	"  --seed S        same seed, same data (default 1)\n"
	"  --samples N     mean RTT samples per base period and host\n"
	"                  (default 1000; busy hours get more)\n"
	"  --period SEC    base period (default 60; 5s, 1m ...; divides 1 h)\n"
	"  --end TIME      when the agents stop (default: now); RFC 3339 or\n"
	"                  epoch seconds, rounded down to a period start\n"
	"  --jobs J        hosts simulated at once, each writing through its\n"
	"                  own store handle (default: CPUs, at most 16)\n"
	"  -h, --help      this text\n"
	"\n"
	"100 hosts x 30 days at 60 s periods is 4.3 million base records per\n"
	"group; that takes minutes (progress is shown on a terminal).\n"
	"\n"
	"Exit status: 0 written, 1 store error, 2 usage.\n";

static const struct option long_options[] = {
	{ "store", required_argument, NULL, 's' },
	{ "hosts", required_argument, NULL, 'n' },
	{ "days", required_argument, NULL, 'd' },
	{ "groups", required_argument, NULL, 'g' },
	{ "seed", required_argument, NULL, 'S' },
	{ "samples", required_argument, NULL, 'm' },
	{ "period", required_argument, NULL, 'p' },
	{ "end", required_argument, NULL, 'e' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define PROG "rttq synth"

static int parse_uint(const char *flag, const char *text, uint64_t min,
		      uint64_t max, uint64_t *out)
{
	struct rttq_error err = { 0 };

	if (numparse_uint(flag, text, min, max, out, &err))
		return cli_usage_error(PROG, "%s", err.msg);
	return 0;
}

/* cli_spec.option: one option into the struct synth_env at @ctx. */
static int parse_option(int opt, const char *arg, void *ctx)
{
	struct synth_env *env = ctx;
	struct rttq_error err = { 0 };

	switch (opt) {
	case 's':
		if (!*arg)
			return cli_usage_error(PROG, "--store: empty");
		env->store_url = arg;
		return 0;
	case 'n':
		return parse_uint("--hosts", arg, 1, HOSTS_MAX, &env->hosts);
	case 'd':
		return parse_uint("--days", arg, 1, DAYS_MAX, &env->days);
	case 'g':
		return parse_uint("--groups", arg, 0, SYNTH_GROUPS_MAX,
				  &env->groups);
	case 'S':
		return parse_uint("--seed", arg, 0, UINT64_MAX / 4, &env->seed);
	case 'm':
		return parse_uint("--samples", arg, 1, SAMPLES_MAX,
				  &env->samples);
	case 'p':
		if (series_parse_period(arg, &env->period_s, &err))
			return cli_flag_error(PROG, "--period", &err);
		return 0;
	case 'j':
		return parse_uint("--jobs", arg, 1, WORKERS_MAX, &env->jobs);
	case 'e':
		if (timeparse_time(arg, &env->end_s, NULL, &err))
			return cli_flag_error(PROG, "--end", &err);
		env->has_end = true;
		return 0;
	}
	return cli_usage_error(PROG, "unknown option");
}

/* Parse argv into @env; see CLI_CONTINUE in cli.h for the result. */
static int parse_args(int argc, char **argv, struct synth_env *env)
{
	static const struct cli_spec spec = {
		.prog = PROG,
		.usage = usage_text,
		.options = long_options,
		.option = parse_option,
	};
	int rc;

	rc = cli_parse(&spec, argc, argv, env);
	if (rc != CLI_CONTINUE)
		return rc;
	if (!env->store_url)
		return cli_usage_error(PROG, "--store is required");
	if (!env->hosts)
		return cli_usage_error(PROG, "--hosts is required");
	if (!env->days)
		return cli_usage_error(PROG, "--days is required");
	if (!env->has_end)
		env->end_s = time(NULL);
	env->end_s -= ((env->end_s % env->period_s) + env->period_s) %
		      env->period_s;
	return CLI_CONTINUE;
}

static int64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int count_day(unsigned int days_done, void *arg)
{
	struct fleet *f = arg;

	atomic_fetch_add(&f->days_done, 1);
	return atomic_load(&f->stop) ? -1 : 0;
}

/* "host-07" of 10: zero-padded so names sort in host order. */
static void host_name(char *buf, size_t len, uint64_t i, uint64_t hosts)
{
	int width = snprintf(NULL, 0, "%" PRIu64, hosts);

	snprintf(buf, len, "host-%0*" PRIu64, width, i);
}

static int run_hosts(struct worker *wk, struct synth_writer *w)
{
	struct fleet *f = wk->fleet;
	const struct synth_env *env = f->env;
	uint64_t before = 0;
	char name[32];
	int rc = 0;

	while (rc == 0 && !atomic_load(&f->stop)) {
		uint64_t i = atomic_fetch_add(&f->next_host, 1) + 1;
		struct synth_host h = {
			.name = name,
			.seed = env->seed * 1000003u + i,
			.groups = (unsigned int)env->groups,
			.period_s = env->period_s,
			.start_s = env->end_s - (int64_t)env->days * SERIES_DAY_S,
			.end_s = env->end_s,
			.samples = (unsigned int)env->samples,
		};

		if (i > env->hosts)
			break;
		host_name(name, sizeof(name), i, env->hosts);
		rc = synth_host_run(&h, w, count_day, f, &wk->tot, &wk->err);
		atomic_fetch_add(&f->records, synth_writer_records(w) - before);
		before = synth_writer_records(w);
	}
	if (rc == 0)
		rc = synth_writer_flush(w, &wk->err);
	atomic_fetch_add(&f->records, synth_writer_records(w) - before);
	return rc;
}

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct synth_writer *w = NULL;
	struct store *st = NULL;
	int rc;

	rc = store_open(wk->fleet->env->store_url, &st, &wk->err);
	if (rc == 0) {
		rc = synth_writer_new(st, 0, &w);
		if (rc)
			rttq_fail(&wk->err, rc, "out of memory");
	}
	if (rc == 0)
		rc = run_hosts(wk, w);
	if (w) {
		wk->records = synth_writer_records(w);
		wk->base = synth_writer_base_records(w);
	}
	synth_writer_free(w);
	store_close(st);
	wk->rc = rc;
	if (rc)
		atomic_store(&wk->fleet->stop, true);
	atomic_fetch_add(&wk->fleet->workers_done, 1);
	return NULL;
}

/* "\r host 12/100 day 3/30 ..." on a terminal, every PROGRESS_EVERY_NS
 * until the workers are done. */
static void watch_progress(struct fleet *f, unsigned int workers)
{
	const struct timespec pause = { .tv_nsec = PROGRESS_EVERY_NS };
	bool tty = isatty(STDERR_FILENO), shown = false;
	int64_t started_ns = monotonic_ns();
	uint64_t days = f->env->days, hosts = f->env->hosts;

	while (atomic_load(&f->workers_done) < workers) {
		uint64_t done = atomic_load(&f->days_done);
		uint64_t host = done / days + 1;

		nanosleep(&pause, NULL);
		if (!tty)
			continue;
		if (host > hosts)
			host = hosts;
		fprintf(stderr,
			"\r host %" PRIu64 "/%" PRIu64 " day %" PRIu64
			"/%" PRIu64 "  %" PRIu64 " records  %.0f s ",
			host, hosts, done - (host - 1) * days, days,
			(uint64_t)atomic_load(&f->records),
			(double)(monotonic_ns() - started_ns) / 1e9);
		shown = true;
	}
	if (shown)
		fputc('\n', stderr);
}

static unsigned int worker_count(const struct synth_env *env)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	/* Handles on a private in-memory store would each get their own. */
	if (strstr(env->store_url, ":memory:"))
		return 1;
	if (env->jobs)
		return (unsigned int)env->jobs;
	if (cpus < 1)
		cpus = 1;
	return cpus > WORKERS_MAX ? WORKERS_MAX : (unsigned int)cpus;
}

int cmd_synth(int argc, char **argv)
{
	struct synth_env env = {
		.groups = GROUPS_DEFAULT,
		.seed = 1,
		.samples = SAMPLES_DEFAULT,
		.period_s = SERIES_PERIOD_DEFAULT_S,
	};
	struct fleet f = { .env = &env };
	struct worker *wk = NULL;
	struct synth_totals tot = { 0 };
	int64_t started_ns = monotonic_ns();
	uint64_t recs = 0, base = 0;
	unsigned int n, i, started = 0;
	int rc;

	rc = parse_args(argc, argv, &env);
	if (rc != CLI_CONTINUE)
		return rc;

	n = worker_count(&env);
	if (n > env.hosts)
		n = (unsigned int)env.hosts;
	wk = calloc(n, sizeof(*wk));
	if (!wk) {
		fprintf(stderr, "rttq synth: out of memory\n");
		return 1;
	}
	for (i = 0; i < n; i++) {
		wk[i].fleet = &f;
		rc = pthread_create(&wk[i].tid, NULL, worker_main, &wk[i]);
		if (rc) {
			fprintf(stderr, "rttq synth: cannot start a thread: %s\n",
				strerror(rc));
			atomic_store(&f.stop, true);
			break;
		}
		started++;
	}
	watch_progress(&f, started);
	for (i = 0; i < started; i++) {
		pthread_join(wk[i].tid, NULL);
		if (wk[i].rc && rc == 0) {
			fprintf(stderr, "rttq synth: %s\n", wk[i].err.msg);
			rc = wk[i].rc;
		}
		recs += wk[i].records;
		base += wk[i].base;
		tot.samples += wk[i].tot.samples;
		tot.group_samples += wk[i].tot.group_samples;
	}
	free(wk);
	if (rc)
		return 1;
	fprintf(stderr,
		"rttq synth: wrote %" PRIu64 " records (%" PRIu64
		" base, %" PRIu64 " rollups), %" PRIu64
		" samples in \"all\", %" PRIu64 " in peer groups, in %.1f s\n",
		recs, base, recs - base, tot.samples, tot.group_samples,
		(double)(monotonic_ns() - started_ns) / 1e9);
	return 0;
}
