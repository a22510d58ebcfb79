/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rttq-agent's options: what its command line asks for (agent_opts.c).
 */
#ifndef RTTQ_AGENT_OPTS_H
#define RTTQ_AGENT_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "collector.h"
#include "netaddr.h"
#include "store.h"

struct agent_opts {
	const char *store_url;
	char host[STORE_HOST_MAX];
	int64_t interval_ms;
	uint32_t period_s;
	uint32_t duration_s; /* 0: until a signal */
	uint32_t day_groups; /* series table bound; 0: DAY_GROUPS_PER_ID per
			      * kernel group id */
	const char *spool_dir; /* NULL: no spool */
	uint32_t queue_max;    /* records in memory; 0: bytes bound only */
	uint32_t spool_max_mib; /* spool file bound */
	double compression;
	uint32_t flow_log_ppm; /* --flow-log; 0: off */
	struct collector_opts collector;
	struct netaddr_listen metrics; /* --metrics */
	bool metrics_on;
	bool metrics_given;            /* not the default: failing to bind
					* it is fatal */
};

/** agent_opts_init() - @o with every default. */
void agent_opts_init(struct agent_opts *o);

/**
 * agent_opts_parse() - parse argv into @o (agent_opts_init() first).
 * Usage errors are logged naming the flag.
 *
 * @return CLI_CONTINUE (cli.h), or the exit status: 0 after --help,
 *         CLI_EXIT_USAGE for a bad option.
 */
int agent_opts_parse(int argc, char **argv, struct agent_opts *o);

#endif /* RTTQ_AGENT_OPTS_H */
