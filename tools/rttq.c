// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq: the command-line tool.  Dispatches to one subcommand per file
 * (cmd_<name>.c), each declared in commands.h.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "counters", cmd_counters, "a group's TCP counters summed over a time range" },
	{ "flows", cmd_flows, "per-connection TCP statistics, live or at close (root)" },
	{ "events", cmd_events, "sampled RTT, retransmit and drop events as they happen (root)" },
	{ "latency", cmd_latency, "where a packet's time goes inside this host, live (root)" },
	{ "hist", cmd_hist, "live RTT histogram from the kernel (root)" },
	{ "query", cmd_query, "quantiles of stored RTTs over a time range" },
	{ "rollup", cmd_rollup, "build the fleet records of complete spans" },
	{ "signals", cmd_signals, "librttq-signals samples per interval; --validate its cost (root)" },
	{ "sketch", cmd_sketch, "run values through the quantile pipeline" },
	{ "store", cmd_store, "store init URL: set a store up for writers and readers" },
	{ "synth", cmd_synth, "write a synthetic fleet's records to a store" },
};

static void usage(FILE *out)
{
	size_t i;

	fprintf(out, "Usage: rttq COMMAND [OPTIONS]\n\nCommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(out, "\n'rttq COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "rttq: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
