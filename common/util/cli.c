// SPDX-License-Identifier: BSD-2-Clause
/*
 * Command-line helpers (see cli.h).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int cli_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	return CLI_EXIT_USAGE;
}

int cli_flag_error(const char *prog, const char *flag,
		   const struct rttq_error *err)
{
	return cli_usage_error(prog, "%s: %s", flag, err->msg);
}

int cli_parse(const struct cli_spec *spec, int argc, char **argv, void *ctx)
{
	int opt, rc;

	/* Messages are ours; restart for `rttq CMD` after rttq's own argv. */
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, ":h", spec->options, NULL)) !=
	       -1) {
		switch (opt) {
		case 'h':
			fputs(spec->usage, stdout);
			return CLI_EXIT_HELP;
		case ':':
			return cli_usage_error(spec->prog, "%s: needs a value",
					       argv[optind - 1]);
		case '?':
			return cli_usage_error(spec->prog,
					       "unknown option '%s'",
					       argv[optind - 1]);
		default:
			rc = spec->option(opt, optarg, ctx);
			if (rc)
				return rc;
		}
	}
	if (optind < argc)
		return cli_usage_error(spec->prog, "unexpected argument '%s'",
				       argv[optind]);
	return CLI_CONTINUE;
}
