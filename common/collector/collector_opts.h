/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The collector's command-line options (--group-by, --lport, --rport,
 * --laddr, --raddr, --include-loopback, --attach, --max-groups,
 * --kernel-memory, --group-idle, --signals, --sub-bits, --peer-map,
 * --cgroup), parsed
 * into struct collector_opts and described in --help the same way by every program that loads the collector: rttq-agent and
 * `rttq hist`.
 */
#ifndef RTTQ_COLLECTOR_OPTS_H
#define RTTQ_COLLECTOR_OPTS_H

#include <getopt.h>
#include <stdint.h>
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
	COLLECTOR_OPT_PEER_MAP,
	COLLECTOR_OPT_CGROUP,
	COLLECTOR_OPT_GROUP_IDLE,
	COLLECTOR_OPT_KERNEL_MEMORY,
	COLLECTOR_OPT_SIGNALS,
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
	{ "peer-map", required_argument, NULL, COLLECTOR_OPT_PEER_MAP },      \
	{ "cgroup", required_argument, NULL, COLLECTOR_OPT_CGROUP },          \
	{ "group-idle", required_argument, NULL, COLLECTOR_OPT_GROUP_IDLE },  \
	{ "kernel-memory", required_argument, NULL,                           \
	  COLLECTOR_OPT_KERNEL_MEMORY },                                      \
	{ "signals", required_argument, NULL, COLLECTOR_OPT_SIGNALS }

/**
 * collector_opts_parse() - apply one option getopt_long() returned.
 * @o: the settings to fill.
 * @opt: the option's value, COLLECTOR_OPT_*.
 * @value: its argument (optarg; kept as is for --attach, --peer-map and
 *         --cgroup, so it must outlive @o); NULL for --include-loopback.
 * @err: receives a message naming the flag and the bad text; may be NULL.
 *
 * @return 0, -EINVAL (bad value), -ENOENT (@opt is not a collector option:
 *         @o and @err are untouched).
 */
int collector_opts_parse(struct collector_opts *o, int opt, const char *value,
			 struct rttq_error *err);

/**
 * collector_opts_check() - the checks that need every option at once, run
 * after the last collector_opts_parse(): --group-by peer needs --peer-map,
 * and --peer-map is only read with --group-by peer.
 * @o: the settings.
 * @err: names the options; may be NULL.
 *
 * @return 0, -EINVAL.
 */
int collector_opts_check(const struct collector_opts *o,
			 struct rttq_error *err);

/**
 * collector_opts_usage() - the --help lines of the collector's options.
 * @out: where to print them.
 * @indent: spaces before each flag.
 * @column: where descriptions start (flags are padded to it).
 */
void collector_opts_usage(FILE *out, int indent, int column);

/**
 * collector_parse_group_by() - parse "raddr,rport" or "raddr/24/64,port"
 * into @o->group_by (COLLECTOR_BY_* bits; "none" gives 0) and the prefix
 * lengths of raddr and laddr.  "raddr/N" cuts IPv4 peers to min(N, 32)
 * bits and IPv6 peers to N; "raddr/N/M" cuts IPv4 to N (1..32) and IPv6
 * to M (1..128).
 * @text: the option value.
 * @o: receives group_by and raddr_prefix4/6, laddr_prefix4/6 (all set,
 *     0 for a whole address); untouched on failure.
 * @err: names the unknown word or bad length; may be NULL.
 *
 * @return 0, -EINVAL.
 */
int collector_parse_group_by(const char *text, struct collector_opts *o,
			     struct rttq_error *err);

/**
 * collector_parse_signals() - parse "rtt,jitter,drops" into
 * COLLECTOR_SIG_* bits (rtt is always among them).
 * @text: the --signals value: comma-separated rtt, jitter, retrans, conn,
 *        drops, runqlat, softirq, bytes, sndbuf.
 * @out: receives the bits; untouched on failure.
 * @err: names the unknown word; may be NULL.
 *
 * @return 0, -EINVAL.
 */
int collector_parse_signals(const char *text, unsigned int *out,
			    struct rttq_error *err);

/**
 * collector_metric_signal() - the --signals family that counts
 * distribution @metric (metric.h).
 * @metric: "rtt", "jitter", "handshake", "runqlat" or "sndbuf".
 *
 * @return its COLLECTOR_SIG_* bit, or 0 when the collector counts no
 *         such distribution.
 */
unsigned int collector_metric_signal(const char *metric);

#endif /* RTTQ_COLLECTOR_OPTS_H */
