// SPDX-License-Identifier: BSD-2-Clause
/*
 * Command-line helpers (see cli.h).
 */
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
	return 2;
}
