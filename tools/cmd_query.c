// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq query: quantiles of stored RTTs over a time range, printed as the
 * same JSON rttq-api answers on /quantiles (common/query/answer_json.c builds
 * both; common/query/planner.c chooses the records).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer_json.h"
#include "cli.h"
#include "commands.h"
#include "planner.h"
#include "series.h"
#include "store.h"
#include "timeparse.h"

struct query_env {
	const char *store_url;
	const char *from;
	const char *to;
	const char *quantiles; /* NULL: the defaults */
	struct planner_request req;
	struct answer_quantiles qs;
};

static const char usage_text[] =
	"Usage: rttq query --from TIME --to TIME [OPTIONS]\n"
	"\n"
	"Quantiles of the RTT samples whose period starts in [from, to],\n"
	"in milliseconds, as JSON (the same answer as rttq-api /quantiles).\n"
	"TIME is RFC 3339 (2023-11-15T00:00:00Z, ...+02:00) or epoch seconds.\n"
	"\n"
	"Options:\n"
	"  --store URL     store to read (default " STORE_URL_DEFAULT ")\n"
	"  --from TIME     first period start (required)\n"
	"  --to TIME       last period start (required)\n"
	"  --host H        one host (default: the whole fleet)\n"
	"  --group G       group (default: all), e.g. raddr:10.0.0.2\n"
	"  --q LIST        percentiles (default " ANSWER_QUANTILES_DEFAULT ")\n"
	"  --period SEC    only hosts and records of this base period (default:\n"
	"                  each host's, as the store lists them; 5s, 1m ...)\n"
	"  -h, --help      this text\n"
	"\n"
	"Exit status: 0 answered (also with no data), 1 store error, 2 usage.\n";

static const struct option long_options[] = {
	{ "store", required_argument, NULL, 's' },
	{ "from", required_argument, NULL, 'f' },
	{ "to", required_argument, NULL, 't' },
	{ "host", required_argument, NULL, 'H' },
	{ "group", required_argument, NULL, 'g' },
	{ "q", required_argument, NULL, 'q' },
	{ "period", required_argument, NULL, 'p' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define PROG "rttq query"

/* A period starts on a whole second: round from up and to down. */
static int parse_range(struct query_env *env)
{
	struct rttq_error err = { 0 };
	long nsec = 0;
	int64_t s;

	if (!env->from)
		return cli_usage_error(PROG, "--from is required");
	if (timeparse_time(env->from, &s, &nsec, &err))
		return cli_flag_error(PROG, "--from", &err);
	env->req.from_s = s + (nsec > 0);
	if (!env->to)
		return cli_usage_error(PROG, "--to is required");
	if (timeparse_time(env->to, &s, NULL, &err))
		return cli_flag_error(PROG, "--to", &err);
	env->req.to_s = s;
	if (env->req.from_s > env->req.to_s)
		return cli_usage_error(PROG, "%s: '%s' is after --to", "--from",
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
			return cli_usage_error(PROG, "--host: empty");
		env->req.host = arg;
		return 0;
	case 'g':
		if (!*arg)
			return cli_usage_error(PROG, "--group: empty");
		env->req.group = arg;
		return 0;
	case 'q':
		env->quantiles = arg;
		return 0;
	case 'p':
		if (series_parse_period(arg, &env->req.period_s, &err))
			return cli_flag_error(PROG, "--period", &err);
		return 0;
	}
	return cli_usage_error(PROG, "unknown option");
}

/* Parse argv into @env; see CLI_CONTINUE in cli.h for the result. */
static int parse_args(int argc, char **argv, struct query_env *env)
{
	static const struct cli_spec spec = {
		.prog = PROG,
		.usage = usage_text,
		.options = long_options,
		.option = parse_option,
	};
	struct rttq_error err = { 0 };
	int rc;

	rc = cli_parse(&spec, argc, argv, env);
	if (rc != CLI_CONTINUE)
		return rc;
	if (answer_quantiles_parse(env->quantiles, &env->qs, &err))
		return cli_flag_error(PROG, "--q", &err);
	rc = parse_range(env);
	return rc ? rc : CLI_CONTINUE;
}

int cmd_query(int argc, char **argv)
{
	struct query_env env = {
		.store_url = STORE_URL_DEFAULT,
		.req.period_s = 0, /* each host's, from the store */
	};
	struct planner_answer ans = { 0 };
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	char *json = NULL;
	size_t len = 0;
	int rc;

	rc = parse_args(argc, argv, &env);
	if (rc != CLI_CONTINUE)
		return rc;

	rc = store_open_read(env.store_url, &st, &err);
	if (rc) {
		fprintf(stderr, "rttq query: %s\n", err.msg);
		return 1;
	}
	rc = planner_run(st, &env.req, &ans, &err);
	if (rc) {
		fprintf(stderr, "rttq query: %s\n", err.msg);
		goto cleanup;
	}
	rc = answer_quantiles_json(&ans, &env.req, &env.qs, &json, &len);
	if (rc) {
		fprintf(stderr, "rttq query: building the answer: %s\n",
			strerror(-rc));
		goto cleanup;
	}
	if (fwrite(json, 1, len, stdout) != len || fflush(stdout)) {
		fprintf(stderr, "rttq query: writing the answer: %s\n",
			strerror(errno));
		rc = -EIO;
	}
cleanup:
	free(json);
	planner_answer_clear(&ans);
	store_close(st);
	return rc ? 1 : 0;
}
