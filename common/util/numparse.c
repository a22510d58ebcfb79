// SPDX-License-Identifier: BSD-2-Clause
/*
 * Strict numeric flag parsing (see numparse.h): strto* with errno cleared,
 * the end pointer at the terminating NUL, and a range check.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

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

int numparse_rate(const char *flag, const char *text, double *out,
		  struct rttq_error *err)
{
	const char *slash = strchr(text, '/');
	size_t n = strlen(text);
	char *end;
	double a, b;

	errno = 0;
	if (n && text[n - 1] == '%') {
		a = strtod(text, &end);
		b = 100;
		if (end != text + n - 1)
			goto bad;
	} else if (slash) {
		a = strtod(text, &end);
		if (end != slash)
			goto bad;
		b = strtod(slash + 1, &end);
		if (end == slash + 1 || *end)
			goto bad;
	} else {
		goto bad;
	}
	/* Both finite and positive, so a / b is a number. */
	if (errno || !(a > 0 && b > 0 && a <= b && b < 1e18))
		goto bad;
	*out = a / b;
	return 0;
bad:
	return rttq_fail(err, -EINVAL, "%s '%s': expected a rate above 0 "
			 "and at most 100%%: N%% or A/B (1%%, 1/64)",
			 flag, text);
}
