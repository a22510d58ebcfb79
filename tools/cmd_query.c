// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq query and rttq counters: quantiles of a stored distribution, or a
 * group's counters, over a time range, printed as the same JSON rttq-api
 * answers on /quantiles and /counters (common/query/answer_json.c and
 * answer_counters.c build both; common/query/planner.c chooses the
 * records).  One file: the two take the same range and selection.
 */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer_counters.h"
#include "answer_json.h"
#include "cli.h"
#include "commands.h"
#include "planner.h"
#include "series.h"
#include "store.h"
#include "timeparse.h"

struct query_env {
	const char *prog;      /* "rttq query" or "rttq counters" */
	const char *store_url;
	const char *from;
	const char *to;
	const char *quantiles; /* NULL: the defaults */
	const char *metric;    /* query: NULL is rtt */
	const char *names;     /* counters: NULL is every counter */
	const char *step;      /* counters: NULL is no points */
	struct planner_request req;
	struct answer_quantiles qs;
	struct answer_counter_names counter_names;
	int64_t step_s;
	const char *step_label;
};

/* What both commands take: the store, the range and the selection. */
#define USAGE_WHERE \
	"  --store URL     store to read (default " STORE_URL_DEFAULT ")\n" \
	"  --from TIME     first period start (required)\n" \
	"  --to TIME       last period start (required)\n" \
	"  --host H        one host (default: the whole fleet)\n" \
	"  --group G       group (default: all), e.g. raddr:10.0.0.2\n"
#define USAGE_END \
	"  --period SEC    only hosts and records of this base period (default:\n" \
	"                  each host's, as the store lists them; 5s, 1m ...)\n" \
	"  -h, --help      this text\n" \
	"\n" \
	"Exit status: 0 answered (also with no data), 1 store error, 2 usage.\n"
#define OPTIONS_WHERE \
	{ "store", required_argument, NULL, 's' }, \
	{ "from", required_argument, NULL, 'f' }, \
	{ "to", required_argument, NULL, 't' }, \
	{ "host", required_argument, NULL, 'H' }, \
	{ "group", required_argument, NULL, 'g' },
#define OPTIONS_END \
	{ "period", required_argument, NULL, 'p' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ NULL, 0, NULL, 0 },

static const char usage_text[] =
	"Usage: rttq query --from TIME --to TIME [OPTIONS]\n"
	"\n"
	"Quantiles of the RTT (or jitter, handshake) samples whose period\n"
	"starts in [from, to],\n"
	"in milliseconds, as JSON (the same answer as rttq-api /quantiles).\n"
	"TIME is RFC 3339 (2023-11-15T00:00:00Z, ...+02:00) or epoch seconds.\n"
	"\n"
	"Options:\n"
	USAGE_WHERE
	"  --q LIST        percentiles (default " ANSWER_QUANTILES_DEFAULT ")\n"
	"  --metric M      rtt (default), jitter, handshake, runqlat or sndbuf\n"
	USAGE_END;

static const char counters_usage_text[] =
	"Usage: rttq counters --from TIME --to TIME [OPTIONS]\n"
	"\n"
	"A group's counters (retrans.fast, segs.out, drops.tcp.REASON, ...)\n"
	"summed exactly over the periods starting in [from, to], with each\n"
	"one's rate per second, as JSON (the same answer as rttq-api /counters).\n"
	"TIME is RFC 3339 (2023-11-15T00:00:00Z, ...+02:00) or epoch seconds.\n"
	"\n"
	"Options:\n"
	USAGE_WHERE
	"  --names LIST    counters to show, globs: retrans.*,segs.out\n"
	"                  (default: every counter)\n"
	"  --step STEP     also the counters of each step: 1m, 5m, 1h or 1d\n"
	USAGE_END;

static const struct option long_options[] = {
	OPTIONS_WHERE
	{ "q", required_argument, NULL, 'q' },
	{ "metric", required_argument, NULL, 'm' },
	OPTIONS_END
};

static const struct option counters_long_options[] = {
	OPTIONS_WHERE
	{ "names", required_argument, NULL, 'n' },
	{ "step", required_argument, NULL, 'S' },
	OPTIONS_END
};


/* A period starts on a whole second: round from up and to down. */
static int parse_range(struct query_env *env)
{
	struct rttq_error err = { 0 };
	long nsec = 0;
	int64_t s;

	if (!env->from)
		return cli_usage_error(env->prog, "--from is required");
	if (timeparse_time(env->from, &s, &nsec, &err))
		return cli_flag_error(env->prog, "--from", &err);
	env->req.from_s = s + (nsec > 0);
	if (!env->to)
		return cli_usage_error(env->prog, "--to is required");
	if (timeparse_time(env->to, &s, NULL, &err))
		return cli_flag_error(env->prog, "--to", &err);
	env->req.to_s = s;
	if (env->req.from_s > env->req.to_s)
		return cli_usage_error(env->prog, "%s: '%s' is after --to", "--from",
				       env->from);
	return 0;
}

/* cli_spec.option: one option into the struct query_env at @ctx. */
static int parse_option(int opt, const char *arg, void *ctx)
{
	struct query_env *env = ctx;
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
	case 'H':
		if (!*arg)
			return cli_usage_error(env->prog, "--host: empty");
		env->req.host = arg;
		return 0;
	case 'g':
		if (!*arg)
			return cli_usage_error(env->prog, "--group: empty");
		env->req.group = arg;
		return 0;
	case 'q':
		env->quantiles = arg;
		return 0;
	case 'm':
		env->metric = arg;
		return 0;
	case 'n':
		env->names = arg;
		return 0;
	case 'S':
		env->step = arg;
		return 0;
	case 'p':
		if (series_parse_period(arg, &env->req.period_s, &err))
			return cli_flag_error(env->prog, "--period", &err);
		return 0;
	}
	return cli_usage_error(env->prog, "unknown option");
}

/* Parse argv into @env; see CLI_CONTINUE in cli.h for the result. */
static int parse_args(int argc, char **argv, const struct cli_spec *spec,
		      struct query_env *env)
{
	struct rttq_error err = { 0 };
	int rc;

	rc = cli_parse(spec, argc, argv, env);
	if (rc != CLI_CONTINUE)
		return rc;
	if (answer_quantiles_parse(env->quantiles, &env->qs, &err))
		return cli_flag_error(env->prog, "--q", &err);
	if (answer_metric_parse(env->metric, &env->req.metric, &err))
		return cli_flag_error(env->prog, "--metric", &err);
	if (answer_counter_names_parse(env->names, &env->counter_names, &err))
		return cli_flag_error(env->prog, "--names", &err);
	if (env->step && answer_step_parse(env->step, env->req.period_s,
					   &env->step_s, &env->step_label,
					   &err))
		return cli_flag_error(env->prog, "--step", &err);
	rc = parse_range(env);
	return rc ? rc : CLI_CONTINUE;
}

/* The answer of @env from @st into @json: /quantiles' or /counters'. */
static int answer(struct store *st, struct query_env *env, bool counters,
		  char **json, size_t *len, struct rttq_error *err)
{
	struct planner_answer ans = { 0 };
	size_t records_read = 0;
	int rc;

	if (counters)
		return answer_counters_json(st, &env->req, &env->counter_names,
					    env->step_s, env->step_label,
					    &records_read, json, len, err);
	rc = planner_run(st, &env->req, &ans, err);
	if (rc == 0 && answer_quantiles_json(&ans, &env->req, &env->qs, json,
					     len))
		rc = rttq_fail(err, -ENOMEM, "building the answer: out of "
			       "memory");
	planner_answer_clear(&ans);
	return rc;
}

static int run(int argc, char **argv, const struct cli_spec *spec,
	       bool counters)
{
	struct query_env env = {
		.prog = spec->prog,
		.store_url = STORE_URL_DEFAULT,
		.req.period_s = 0, /* each host's, from the store */
	};
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	char *json = NULL;
	size_t len = 0;
	int rc;

	rc = parse_args(argc, argv, spec, &env);
	if (rc != CLI_CONTINUE)
		return rc;

	rc = store_open_read(env.store_url, &st, &err);
	if (rc == 0)
		rc = answer(st, &env, counters, &json, &len, &err);
	if (rc) {
		fprintf(stderr, "%s: %s\n", env.prog, err.msg);
	} else if (fwrite(json, 1, len, stdout) != len || fflush(stdout)) {
		fprintf(stderr, "%s: writing the answer: %s\n", env.prog,
			strerror(errno));
		rc = -EIO;
	}
	free(json);
	store_close(st);
	return rc ? 1 : 0;
}

int cmd_query(int argc, char **argv)
{
	static const struct cli_spec spec = {
		.prog = "rttq query",
		.usage = usage_text,
		.options = long_options,
		.option = parse_option,
	};

	return run(argc, argv, &spec, false);
}

int cmd_counters(int argc, char **argv)
{
	static const struct cli_spec spec = {
		.prog = "rttq counters",
		.usage = counters_usage_text,
		.options = counters_long_options,
		.option = parse_option,
	};

	return run(argc, argv, &spec, true);
}
