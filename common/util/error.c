// SPDX-License-Identifier: BSD-2-Clause
/*
 * Error recording helpers shared by every librttq module (see error.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int rttq_fail(struct rttq_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int rttq_error_prefix(struct rttq_error *err, const char *fmt, ...)
{
	char old[RTTQ_ERROR_MSG_MAX];
	size_t used;
	va_list ap;
	int n;

	if (!err)
		return 0;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	used = n < 0 ? 0 : (size_t)n;
	if (used < sizeof(err->msg))
		snprintf(err->msg + used, sizeof(err->msg) - used, ": %.*s",
			 (int)(sizeof(err->msg) - used), old);
	return err->code;
}
