/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The lab of the bpf tests that compare two collectors attached at once (a
 * grouping under test and a control grouping whose groups it must add up
 * to, event for event: both programs see every event of the same sockets):
 * a private network namespace with lab addresses on lo, and what a drain
 * reported, group by group.
 */
#ifndef RTTQ_TEST_GROUP_LAB_H
#define RTTQ_TEST_GROUP_LAB_H

#include <stdint.h>

#include "collector.h"

struct traffic_conn;

/* Round trips of each group_lab_flow(). */
#define GROUP_LAB_EXCHANGES 200

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
 * group_lab_up() - move the process into a network namespace of its own
 * with lo up and the lab addresses on it: servers in 10.77.1.0/24 and
 * fd77:1::/64 (10.77.1.1, .2; fd77:1::1, ::2), clients in 10.77.2.0/24 and
 * fd77:2::/64 (10.77.2.1, .2; fd77:2::1), and 10.99.0.1, .2 for peers no
 * label names.  Fails the test when that does not work.
 */
void group_lab_up(void);

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

/** group_lab_open() - collector_open(), failing the test on error. */
struct collector *group_lab_open(const struct collector_opts *o);

/**
 * group_lab_flow() - one fresh connection from @client to @server:@port
 * (0: any) with GROUP_LAB_EXCHANGES round trips, failing the test on
 * error; @t receives its ports.
 */
void group_lab_flow(const char *server, uint16_t port, const char *client,
		    struct traffic_conn *t);

/**
 * group_lab_drain() - wait until the traffic is quiet, then drain @a and
 * @b back to back, so both saw the same events.
 */
void group_lab_drain(struct collector *a, struct tally *ta,
		     struct collector *b, struct tally *tb);

/**
 * group_lab_check() - group @group of @t holds exactly @want events (what
 * the control counted), and @want is at least GROUP_LAB_EXCHANGES.
 */
void group_lab_check(const struct tally *t, const char *group, uint64_t want);

#endif /* RTTQ_TEST_GROUP_LAB_H */
