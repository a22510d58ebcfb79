/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Command-line helpers shared by every program: one convention for what
 * parsing the options returns, one shape for usage errors (so every program
 * says what was wrong and where to look the same way), and the getopt loop
 * of the programs that have no short options but -h.
 */
#ifndef RTTQ_CLI_H
#define RTTQ_CLI_H

#include "error.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct option;

/*
 * What every program's parse_args() returns: CLI_CONTINUE when the program
 * goes on, else the exit status to leave with at once (CLI_EXIT_HELP after
 * --help was printed, CLI_EXIT_USAGE after a usage error was reported).
 * main() then reads
 *
 *	rc = parse_args(argc, argv, &env);
 *	if (rc != CLI_CONTINUE)
 *		return rc;
 */
#define CLI_CONTINUE (-1)
#define CLI_EXIT_HELP 0
#define CLI_EXIT_USAGE 2

/* A program whose options cli_parse() reads. */
struct cli_spec {
	const char *prog;              /* as users type it: "rttq query" */
	const char *usage;             /* --help text, printed on stdout */
	const struct option *options;  /* getopt_long() table; the value
					* 'h' is --help */
	/* Applies one option (not --help) to @ctx: 0, or the exit status
	 * of a usage error it reported (cli_usage_error()). */
	int (*option)(int opt, const char *arg, void *ctx);
};

/**
 * cli_usage_error() - print "PROG: MESSAGE" and "Try 'PROG --help'." on
 * stderr.
 * @prog: the program as users type it ("rttq query").
 * @fmt: printf-style message naming the bad flag or value.
 *
 * @return CLI_EXIT_USAGE, the exit status for a usage error.
 */
RTTQ_API int cli_usage_error(const char *prog, const char *fmt, ...)
	RTTQ_PRINTF(2, 3);

/**
 * cli_flag_error() - cli_usage_error() for a flag whose value a parser
 * refused: "PROG: FLAG: MESSAGE".
 * @prog: the program as users type it.
 * @flag: the flag ("--period").
 * @err: what the parser said about the value.
 *
 * @return CLI_EXIT_USAGE.
 */
RTTQ_API int cli_flag_error(const char *prog, const char *flag,
			    const struct rttq_error *err);

/**
 * cli_parse() - read @argv's options with getopt_long(): -h/--help prints
 * @spec->usage, every other option goes to @spec->option, and a missing
 * value, an unknown option or an argument that is not an option is a usage
 * error ("needs a value", "unknown option", "unexpected argument").
 * @spec: the program's options.
 * @argc: as main() got it (from a subcommand's name on for `rttq CMD`).
 * @argv: ditto.
 * @ctx: passed to @spec->option.
 *
 * @return CLI_CONTINUE, CLI_EXIT_HELP, CLI_EXIT_USAGE or the non-zero
 *         status @spec->option returned.
 */
RTTQ_API int cli_parse(const struct cli_spec *spec, int argc, char **argv,
		       void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_CLI_H */
