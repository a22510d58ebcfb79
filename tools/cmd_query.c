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
	"  --period SEC    the agents' base period (default 60; 5s, 1m ...)\n"
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

#define usage_error(...) cli_usage_error("rttq query", __VA_ARGS__)

static int parse_period(struct query_env *env, const char *text)
{
	struct rttq_error err = { 0 };

	if (series_parse_period(text, &env->req.period_s, &err))
		return usage_error("--period: %s", err.msg);
	return 0;
}

/* A period starts on a whole second: round from up and to down. */
static int parse_range(struct query_env *env)
{
	struct rttq_error err = { 0 };
	long nsec = 0;
	int64_t s;

	if (!env->from)
		return usage_error("--from is required");
	if (timeparse_time(env->from, &s, &nsec, &err))
		return usage_error("%s: %s", "--from", err.msg);
	env->req.from_s = s + (nsec > 0);
	if (!env->to)
		return usage_error("--to is required");
	if (timeparse_time(env->to, &s, NULL, &err))
		return usage_error("%s: %s", "--to", err.msg);
	env->req.to_s = s;
	if (env->req.from_s > env->req.to_s)
		return usage_error("%s: '%s' is after --to", "--from",
				   env->from);
	return 0;
}

static int parse_args(int argc, char **argv, struct query_env *env)
{
	struct rttq_error err = { 0 };
	int opt, rc;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", long_options, NULL)) !=
	       -1) {
		switch (opt) {
		case 's':
			env->store_url = optarg;
			break;
		case 'f':
			env->from = optarg;
			break;
		case 't':
			env->to = optarg;
			break;
		case 'H':
			if (!*optarg)
				return usage_error("--host: empty");
			env->req.host = optarg;
			break;
		case 'g':
			if (!*optarg)
				return usage_error("--group: empty");
			env->req.group = optarg;
			break;
		case 'q':
			env->quantiles = optarg;
			break;
		case 'p':
			rc = parse_period(env, optarg);
			if (rc)
				return rc;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		case ':':
			return usage_error("%s: %s", argv[optind - 1],
					   "needs a value");
		default:
			return usage_error("unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (answer_quantiles_parse(env->quantiles, &env->qs, &err))
		return usage_error("%s: %s", "--q", err.msg);
	return parse_range(env);
}

int cmd_query(int argc, char **argv)
{
	struct query_env env = {
		.store_url = STORE_URL_DEFAULT,
		.req.period_s = SERIES_PERIOD_DEFAULT_S,
	};
	struct planner_answer ans = { 0 };
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	char *json = NULL;
	size_t len = 0;
	int rc;

	rc = parse_args(argc, argv, &env);
	if (rc)
		return rc < 0 ? 0 : rc;

	rc = store_open(env.store_url, &st, &err);
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
