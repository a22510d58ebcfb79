// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq-agent's log (see log.h).  The line is formatted first and written
 * with one fputs, so lines from the loop and the writer thread never mix.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#define PREFIX "rttq-agent: "

void agent_log(const char *fmt, ...)
{
	char line[1024];
	size_t n = sizeof(PREFIX) - 1;
	va_list ap;

	memcpy(line, PREFIX, n);
	/* One byte less than the room left, kept for the newline. */
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n += strlen(line + n);
	line[n++] = '\n';
	line[n] = '\0';
	fputs(line, stderr);
}

void agent_log_line(const char *line, void *arg)
{
	(void)arg;
	agent_log("%s", line);
}
