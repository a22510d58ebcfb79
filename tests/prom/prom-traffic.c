// SPDX-License-Identifier: BSD-2-Clause
/*
 * Loopback TCP traffic for the Prometheus test: CONNECTIONS fresh IPv4
 * connections (each with new ephemeral ports, hence new rport groups) of
 * EXCHANGES ping-pongs each, so the agent has samples and groups to export.
 *
 * Usage: prom-traffic CONNECTIONS EXCHANGES
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "traffic.h"

static int parse_count(const char *text, unsigned int *out)
{
	unsigned long v;
	char *end = NULL;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v == 0 ||
	    v > 100000) {
		fprintf(stderr, "prom-traffic: \"%s\" is not a count in 1..100000\n",
			text);
		return -EINVAL;
	}
	*out = (unsigned int)v;
	return 0;
}

int main(int argc, char **argv)
{
	struct traffic_result r;
	unsigned int connections, exchanges, i, done = 0;

	if (argc != 3 || parse_count(argv[1], &connections) ||
	    parse_count(argv[2], &exchanges)) {
		fprintf(stderr, "usage: prom-traffic CONNECTIONS EXCHANGES\n");
		return 2;
	}
	for (i = 0; i < connections; i++) {
		if (traffic_run(AF_INET, exchanges, &r) != 0)
			return 1;
		done += r.exchanges;
	}
	printf("%u exchanges over %u connections\n", done, connections);
	return 0;
}
