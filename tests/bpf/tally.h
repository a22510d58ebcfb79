/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What a drain reported, group by group, for the bpf tests that compare
 * two collectors attached at once: a grouping under test and a control
 * grouping whose groups it must add up to, event for event (both programs
 * see every event of the same sockets).
 */
#ifndef RTTQ_TEST_TALLY_H
#define RTTQ_TEST_TALLY_H

#include <stdint.h>

#include "collector.h"

#define TALLY_MAX 512
#define TALLY_NAME_MAX 320

struct tally {
	unsigned int n;
	struct {
		char name[TALLY_NAME_MAX];
		uint64_t count;
	} g[TALLY_MAX];
};

/**
 * tally_drain() - drain @c into a fresh @t (its groups' event counts).
 * Fails the test when the drain fails.
 */
void tally_drain(struct collector *c, struct tally *t);

/** tally_get() - events of group @name, 0 when it did not report. */
uint64_t tally_get(const struct tally *t, const char *name);

/** tally_sum() - events of every group whose name starts with @prefix. */
uint64_t tally_sum(const struct tally *t, const char *prefix);

/** tally_print() - "  name: count" lines of groups starting with @prefix. */
void tally_print(const struct tally *t, const char *what, const char *prefix);

#endif /* RTTQ_TEST_TALLY_H */
