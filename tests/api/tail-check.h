/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper: fleet queries ending at now, on both backends (SQLite in
 * test-tail.c, dynalite in tests/dynamo/test-dynamo-fleet.c).  What the
 * fleet records do not cover yet is read from every host's base and
 * 5-minute records at once (store_fine_records(), checked on its own
 * first); the answers must equal the per-host ones for a fleet of 60 s
 * and 10 s hosts, a partial 5-minute span at the start, a second group,
 * series, a step a host's period does not fit, and a late record.
 */
#ifndef RTTQ_TEST_TAIL_CHECK_H
#define RTTQ_TEST_TAIL_CHECK_H

/**
 * tail_check_all() - the scenario on the store at @url (4 hosts, the last
 * 2 hours, half of them at 60 s and half at 10 s); ends the test on a
 * failed step.
 */
void tail_check_all(const char *url);

#endif /* RTTQ_TEST_TAIL_CHECK_H */
