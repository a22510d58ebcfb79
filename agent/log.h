/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rttq-agent's log: one line per message on stderr (journald adds the
 * time), prefixed with the program name.  Safe from any thread: each line
 * is written in one call.
 */
#ifndef RTTQ_AGENT_LOG_H
#define RTTQ_AGENT_LOG_H

#include "rttq_export.h"

/** agent_log() - print one line; @fmt has no trailing newline. */
RTTQ_PRINTF(1, 2)
void agent_log(const char *fmt, ...);

/** agent_log_line() - agent_log() of @line, shaped as collector_log_fn
 * so the collector's attach lines read as the agent's. */
void agent_log_line(const char *line, void *arg);

#endif /* RTTQ_AGENT_LOG_H */
