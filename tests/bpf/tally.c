// SPDX-License-Identifier: BSD-2-Clause
/*
 * Drain results by group name for the bpf tests (tally.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "hist.h"
#include "tally.h"

static int on_group(const char *group, const struct hist *delta, void *arg)
{
	struct tally *t = arg;

	REQUIRE(t->n < TALLY_MAX, "more than %d groups in one drain",
		TALLY_MAX);
	snprintf(t->g[t->n].name, sizeof(t->g[t->n].name), "%s", group);
	t->g[t->n].count = hist_count(delta);
	t->n++;
	return 0;
}

void tally_drain(struct collector *c, struct tally *t)
{
	struct rttq_error err = { 0 };

	memset(t, 0, sizeof(*t));
	REQUIRE(collector_drain(c, on_group, t, &err) == 0,
		"collector_drain: %s", err.msg);
}

uint64_t tally_get(const struct tally *t, const char *name)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->g[i].name, name))
			return t->g[i].count;
	return 0;
}

uint64_t tally_sum(const struct tally *t, const char *prefix)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (!strncmp(t->g[i].name, prefix, strlen(prefix)))
			sum += t->g[i].count;
	return sum;
}

void tally_print(const struct tally *t, const char *what, const char *prefix)
{
	unsigned int i;

	for (i = 0; i < t->n; i++)
		if (!strncmp(t->g[i].name, prefix, strlen(prefix)))
			printf("  %s %s: %llu\n", what, t->g[i].name,
			       (unsigned long long)t->g[i].count);
}
