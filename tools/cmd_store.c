// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq store init URL: set a store up (SQLite file and schema, or the
 * DynamoDB table with its TTL) with the rights of whoever runs it, so
 * that the readers (rttq-api, rttq query) never need more than read
 * permissions.  rttq-agent does the same when it starts.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "store.h"

#define PROG "rttq store"

static const char usage_text[] =
	"Usage: rttq store init URL\n"
	"\n"
	"Sets up the store at URL: creates the SQLite file and its schema (or\n"
	"migrates an older schema), or the DynamoDB table (key pk S + ts N,\n"
	"on-demand) with TTL on its 'expires' attribute.  Running it again\n"
	"changes nothing.  rttq-agent does the same when it starts; run this\n"
	"where rttq-api or rttq query start first, so that they need only read\n"
	"permissions.  URL: sqlite:PATH or dynamodb:TABLE[?region=R&endpoint=U].\n"
	"\n"
	"Options:\n"
	"  -h, --help  this text\n";

static const struct option long_options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int no_option(int opt, const char *arg, void *ctx)
{
	return cli_usage_error(PROG, "unknown option");
}

int cmd_store(int argc, char **argv)
{
	static const struct cli_spec spec = {
		.prog = PROG,
		.usage = usage_text,
		.options = long_options,
		.option = no_option,
	};
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	int rc;

	/* "init" and URL are the operands: options come before them. */
	if (argc >= 2 && argv[1][0] == '-') {
		rc = cli_parse(&spec, argc, argv, NULL);
		if (rc != CLI_CONTINUE)
			return rc;
	}
	if (argc < 2 || strcmp(argv[1], "init") != 0)
		return cli_usage_error(PROG, "expected 'init URL'");
	if (argc != 3 || !argv[2][0])
		return cli_usage_error(PROG, "init: expected one store URL");
	rc = store_open(argv[2], &st, &err);
	if (rc) {
		fprintf(stderr, "%s: %s\n", PROG, err.msg);
		return 1;
	}
	store_close(st);
	printf("%s: %s is set up\n", PROG, argv[2]);
	return 0;
}
