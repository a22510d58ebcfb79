// SPDX-License-Identifier: BSD-2-Clause
/*
 * Strict numeric flag parsing (see numparse.h): strto* with errno cleared,
 * the end pointer at the terminating NUL, and a range check.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "numparse.h"

int numparse_uint(const char *flag, const char *text, uint64_t min,
		  uint64_t max, uint64_t *out, struct rttq_error *err)
{
	unsigned long long v;
	char *end;

	errno = 0;
	/* strtoull accepts "-1" (as a huge value) and leading blanks. */
	v = isdigit((unsigned char)text[0]) ? strtoull(text, &end, 10) : 0;
	if (!isdigit((unsigned char)text[0]) || errno || *end || v < min ||
	    v > max)
		return rttq_fail(err, -EINVAL, "%s '%s': expected an integer "
				 "%" PRIu64 "..%" PRIu64, flag, text, min, max);
	*out = v;
	return 0;
}

int numparse_real(const char *flag, const char *text, double min,
		  double max, double *out, struct rttq_error *err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !(v >= min && v <= max))
		return rttq_fail(err, -EINVAL, "%s '%s': expected a number "
				 "%g..%g", flag, text, min, max);
	*out = v;
	return 0;
}
