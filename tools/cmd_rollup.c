// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq rollup: build the fleet records (common/query/fleet_rollup.c) for
 * the complete spans of a recent range, and rebuild those marked stale by
 * late records.  One-shot and idempotent, for a timer
 * (dist/systemd/rttq-rollup.timer).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "fleet_rollup.h"
#include "series.h"
#include "store.h"
#include "timeparse.h"

struct rollup_env {
	const char *store_url;
	const char *from;
	const char *to;
	const char *grace;
	struct fleet_rollup_opts o;
};

#define PROG "rttq rollup"

static const char usage_text[] =
	"Usage: rttq rollup --store URL [OPTIONS]\n"
	"\n"
	"Builds the fleet records (host '*') of every group for the complete\n"
	"5-minute, hour and day spans that ended at least GRACE ago, and\n"
	"rebuilds those a late record marked stale, so fleet queries read\n"
	"them instead of every host.  Running it again builds nothing new.\n"
	"TIME is RFC 3339 or epoch seconds; DUR is 90, 90s, 5m, 2h, 1d ...\n"
	"\n"
	"Options:\n"
	"  --store URL     store to roll up (required; set up by the agent or\n"
	"                  `rttq store init`)\n"
	"  --from TIME     first span start (default: 2 days ago)\n"
	"  --to TIME       last span start (default: now)\n"
	"  --grace DUR     build a span only this long after it ended\n"
	"                  (default: 2 base periods + 60 s; at least 60 s)\n"
	"  --period SEC    the agents' longest base period, for the default\n"
	"                  grace (default 60; 5s, 1m ...); spans are built\n"
	"                  from every host at its own base periods\n"
	"  -h, --help      this text\n"
	"\n"
	"Prints one line: groups, spans built, rebuilt, left for the next run\n"
	"(marked again while built) and already fresh.\n"
	"Exit status: 0 done, 1 store error, 2 usage.\n";

static const struct option long_options[] = {
	{ "store", required_argument, NULL, 's' },
	{ "from", required_argument, NULL, 'f' },
	{ "to", required_argument, NULL, 't' },
	{ "grace", required_argument, NULL, 'G' },
	{ "period", required_argument, NULL, 'p' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* cli_spec.option: one option into the struct rollup_env at @ctx. */
static int parse_option(int opt, const char *arg, void *ctx)
{
	struct rollup_env *env = ctx;
	struct rttq_error err = { 0 };

	switch (opt) {
	case 's':
		env->store_url = arg;
		return 0;
	case 'f':
		env->from = arg;
		return 0;
	case 't':
		env->to = arg;
		return 0;
	case 'G':
		env->grace = arg;
		return 0;
	case 'p':
		if (series_parse_period(arg, &env->o.period_s, &err))
			return cli_flag_error(PROG, "--period", &err);
		return 0;
	}
	return cli_usage_error(PROG, "unknown option");
}

/* The range and grace, once the period is known. */
static int parse_times(struct rollup_env *env)
{
	struct rttq_error err = { 0 };
	struct fleet_rollup_opts *o = &env->o;

	o->from_s = o->now_s - FLEET_LOOKBACK_DEFAULT_S;
	o->to_s = o->now_s;
	o->grace_s = fleet_rollup_grace_default(o->period_s);
	if (env->from && timeparse_time(env->from, &o->from_s, NULL, &err))
		return cli_flag_error(PROG, "--from", &err);
	if (env->to && timeparse_time(env->to, &o->to_s, NULL, &err))
		return cli_flag_error(PROG, "--to", &err);
	if (o->from_s > o->to_s)
		return cli_usage_error(PROG, "--from is after --to");
	if (env->grace) {
		if (timeparse_duration(env->grace, &o->grace_s, &err))
			return cli_flag_error(PROG, "--grace", &err);
		if (o->grace_s < STORE_LATE_S)
			return cli_usage_error(PROG, "--grace: '%s' is below "
					       "%d s (records written later "
					       "than that are marked stale; "
					       "earlier ones are not)",
					       env->grace, STORE_LATE_S);
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct rollup_env *env)
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
	rc = parse_times(env);
	return rc ? rc : CLI_CONTINUE;
}

int cmd_rollup(int argc, char **argv)
{
	struct rollup_env env = {
		.o.period_s = SERIES_PERIOD_DEFAULT_S,
		.o.now_s = time(NULL),
	};
	struct fleet_rollup_stats stats = { 0 };
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	int rc;

	rc = parse_args(argc, argv, &env);
	if (rc != CLI_CONTINUE)
		return rc;
	/* The read-only open creates and configures nothing; the writes are
	 * fleet records only (PutItem on DynamoDB). */
	rc = store_open_read(env.store_url, &st, &err);
	if (rc) {
		fprintf(stderr, PROG ": %s\n", err.msg);
		return 1;
	}
	rc = fleet_rollup_run(st, &env.o, &stats, &err);
	printf("rttq rollup: %zu groups: %zu spans built, %zu rebuilt, "
	       "%zu left for the next run, %zu fresh%s%s\n", stats.groups,
	       stats.built, stats.rebuilt, stats.raced, stats.fresh,
	       stats.levels_skipped ? "; some levels not built: a host's "
				      "base period does not fit them" : "",
	       rc ? " (stopped by an error)" : "");
	if (rc)
		fprintf(stderr, PROG ": %s\n", err.msg);
	store_close(st);
	return rc ? 1 : 0;
}
