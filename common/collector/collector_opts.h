/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The collector's command-line options (--group-by, --lport, --rport,
 * --laddr, --raddr, --include-loopback, --attach, --max-groups,
 * --group-idle, --sub-bits), parsed into struct collector_opts and described in --help
 * the same way by every program that loads the collector: rttq-agent and
 * `rttq hist`.
 */
#ifndef RTTQ_COLLECTOR_OPTS_H
#define RTTQ_COLLECTOR_OPTS_H

#include <getopt.h>
#include <stdio.h>

#include "collector.h"
#include "error.h"

/* getopt_long() values of the collector's options; a program numbers its
 * own long-only options from COLLECTOR_OPT_END. */
enum collector_opt {
	COLLECTOR_OPT_GROUP_BY = 0x1000,
	COLLECTOR_OPT_LPORT,
	COLLECTOR_OPT_RPORT,
	COLLECTOR_OPT_LADDR,
	COLLECTOR_OPT_RADDR,
	COLLECTOR_OPT_INCLUDE_LOOPBACK,
	COLLECTOR_OPT_ATTACH,
	COLLECTOR_OPT_MAX_GROUPS,
	COLLECTOR_OPT_SUB_BITS,
	COLLECTOR_OPT_GROUP_IDLE,
	COLLECTOR_OPT_END,
};

/* The struct option entries of the collector's options, for a program's
 * getopt_long() table. */
#define COLLECTOR_LONG_OPTIONS                                                \
	{ "group-by", required_argument, NULL, COLLECTOR_OPT_GROUP_BY },      \
	{ "lport", required_argument, NULL, COLLECTOR_OPT_LPORT },            \
	{ "rport", required_argument, NULL, COLLECTOR_OPT_RPORT },            \
	{ "laddr", required_argument, NULL, COLLECTOR_OPT_LADDR },            \
	{ "raddr", required_argument, NULL, COLLECTOR_OPT_RADDR },            \
	{ "include-loopback", no_argument, NULL,                              \
	  COLLECTOR_OPT_INCLUDE_LOOPBACK },                                   \
	{ "attach", required_argument, NULL, COLLECTOR_OPT_ATTACH },          \
	{ "max-groups", required_argument, NULL, COLLECTOR_OPT_MAX_GROUPS },  \
	{ "sub-bits", required_argument, NULL, COLLECTOR_OPT_SUB_BITS },      \
	{ "group-idle", required_argument, NULL, COLLECTOR_OPT_GROUP_IDLE }

/**
 * collector_opts_parse() - apply one option getopt_long() returned.
 * @o: the settings to fill.
 * @opt: the option's value, COLLECTOR_OPT_*.
 * @value: its argument (optarg; kept as is for --attach, so it must
 *         outlive @o); NULL for --include-loopback.
 * @err: receives a message naming the flag and the bad text; may be NULL.
 *
 * @return 0, -EINVAL (bad value), -ENOENT (@opt is not a collector option:
 *         @o and @err are untouched).
 */
int collector_opts_parse(struct collector_opts *o, int opt, const char *value,
			 struct rttq_error *err);

/**
 * collector_opts_usage() - the --help lines of the collector's options.
 * @out: where to print them.
 * @indent: spaces before each flag.
 * @column: where descriptions start (flags are padded to it).
 */
void collector_opts_usage(FILE *out, int indent, int column);

/**
 * collector_parse_group_by() - parse "raddr,rport" into COLLECTOR_BY_* bits
 * ("none" gives 0).
 * @text: the option value.
 * @out: receives the bits.
 * @err: names the unknown word; may be NULL.
 *
 * @return 0, -EINVAL.
 */
int collector_parse_group_by(const char *text, unsigned int *out,
			     struct rttq_error *err);

/**
 * collector_parse_addr() - parse "10.0.0.0/8", "fe80::1", "10.1.2.3".
 * @text: the option value.
 * @out: receives the filter (family 0 on failure).
 * @err: names the bad text; may be NULL.
 *
 * @return 0, -EINVAL.
 */
int collector_parse_addr(const char *text, struct addr_filter *out,
			 struct rttq_error *err);

#endif /* RTTQ_COLLECTOR_OPTS_H */
