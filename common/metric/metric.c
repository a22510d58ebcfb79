// SPDX-License-Identifier: BSD-2-Clause
/*
 * Metric names (metric.h): one spelling rule for the store, the API and
 * Prometheus labels.
 */
#include <string.h>

#include "metric.h"

int metric_name_valid(const char *name)
{
	size_t i, len = strlen(name);

	if (len == 0 || len >= METRIC_NAME_MAX || name[0] == '.' ||
	    name[len - 1] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (c == '.' && name[i + 1] == '.')
			return 0;
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

const char *metric_or_rtt(const char *metric)
{
	return metric && metric[0] ? metric : METRIC_RTT;
}
