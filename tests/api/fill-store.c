// SPDX-License-Identifier: BSD-2-Clause
/*
 * fill-store: command-line front of tests/api/fill.c for the shell-driven
 * integration tests.  Usage:
 *   fill-store URL HOST PERIOD_S START_S END_S SAMPLES SEED [GROUP]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "fill.h"

static int parse_i64(const char *text, const char *what, int64_t *out)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < 0) {
		fprintf(stderr, "fill-store: %s '%s' is not a number\n", what,
			text);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	struct fill_spec spec = { 0 };
	int64_t period = 0, samples = 0, seed = 0;
	uint64_t fed = 0;

	if (argc != 8 && argc != 9) {
		fprintf(stderr, "usage: fill-store URL HOST PERIOD_S START_S "
			"END_S SAMPLES SEED [GROUP]\n");
		return 2;
	}
	spec.url = argv[1];
	spec.host = argv[2];
	if (parse_i64(argv[3], "period", &period) ||
	    parse_i64(argv[4], "start", &spec.start_s) ||
	    parse_i64(argv[5], "end", &spec.end_s) ||
	    parse_i64(argv[6], "samples", &samples) ||
	    parse_i64(argv[7], "seed", &seed))
		return 2;
	spec.period_s = (uint32_t)period;
	spec.samples = (unsigned int)samples;
	spec.seed = (uint64_t)seed;
	spec.extra_group = argc == 9 ? argv[8] : NULL;
	if (fill_store(&spec, &fed))
		return 1;
	printf("%" PRIu64 "\n", fed);
	return 0;
}
