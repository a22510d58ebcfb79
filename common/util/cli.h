/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Command-line helpers shared by rttq-api and the rttq subcommands: one
 * shape for usage errors, so every program says what was wrong and where
 * to look the same way.
 */
#ifndef RTTQ_CLI_H
#define RTTQ_CLI_H

#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * cli_usage_error() - print "PROG: MESSAGE" and "Try 'PROG --help'." on
 * stderr.
 * @prog: the program as users type it ("rttq query").
 * @fmt: printf-style message naming the bad flag or value.
 *
 * @return 2, the exit status for a usage error.
 */
RTTQ_API int cli_usage_error(const char *prog, const char *fmt, ...)
	RTTQ_PRINTF(2, 3);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_CLI_H */
