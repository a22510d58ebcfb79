/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The metric model through one store backend (metric-check.c): records of
 * rtt, jitter, handshake and counter sets with the same host, group,
 * resolution and start stay apart in queries, the registry and the
 * finest period, and store_put() refuses bad metrics and counter sets.
 * Shared by the SQLite tests (tests/store) and the DynamoDB ones
 * (tests/dynamo), so both backends meet the same expectations.
 */
#ifndef RTTQ_TESTS_METRIC_CHECK_H
#define RTTQ_TESTS_METRIC_CHECK_H

struct store;

/**
 * metric_check_store() - the checks above on @st, an empty store (or one
 * without hosts named "m1", "m2"); failures are reported through check.h.
 */
void metric_check_store(struct store *st);

#endif /* RTTQ_TESTS_METRIC_CHECK_H */
