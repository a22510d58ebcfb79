/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Subcommands of the rttq CLI.  Each takes argv with argv[0] being the
 * subcommand's name and returns the process exit status (0 ok, 1 failure,
 * 2 usage error).
 */
#ifndef RTTQ_COMMANDS_H
#define RTTQ_COMMANDS_H

int cmd_counters(int argc, char **argv);
int cmd_flows(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_latency(int argc, char **argv);
int cmd_hist(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_rollup(int argc, char **argv);
int cmd_signals(int argc, char **argv);
int cmd_sketch(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_synth(int argc, char **argv);

#endif /* RTTQ_COMMANDS_H */
