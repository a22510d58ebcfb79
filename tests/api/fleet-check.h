/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper: the fleet rollup scenario both backends must pass (SQLite
 * in test-fleet.c, dynalite in tests/dynamo/test-dynamo-fleet.c): fleet
 * answers with rollups equal the per-host answers, late records make spans
 * stale until the next `rttq rollup` run, runs are idempotent, the fleet
 * host is never listed as a host.
 */
#ifndef RTTQ_TEST_FLEET_CHECK_H
#define RTTQ_TEST_FLEET_CHECK_H

#include <stdint.h>

#include "fill.h"
#include "fleet_rollup.h"
#include "planner.h"
#include "store.h"

/* 2026-01-05T00:00:00Z: a Monday, long before any test runs. */
#define FLEET_T0 INT64_C(1767571200)

/**
 * fleet_fill() - @hosts hosts ("host-01" ...) as agents with base period
 * @period_s write them, groups "all" and "raddr:10.0.0.9", over
 * [FLEET_T0, FLEET_T0 + @days days); ends the test on failure.
 */
void fleet_fill(const char *url, unsigned int hosts, uint32_t period_s,
		unsigned int days);

/**
 * fleet_rollup() - fleet_rollup_run() over the filled days with the real
 * clock; ends the test on failure.
 */
void fleet_rollup(struct store *st, uint32_t period_s, unsigned int days,
		  struct fleet_rollup_stats *stats);

/**
 * fleet_expect_same() - check @got (with fleet records) against @want
 * (PLANNER_NO_FLEET, the hosts' records): counts, hosts and extremes
 * equal, quantiles within 1 % of each other (two digests of the same
 * samples merged in another order) and, with @exact, each within 0.5 %
 * of the exact samples.
 * @what: names the answer in messages.
 * @exact: the exact samples of the range, sorted; NULL: not known.
 */
void fleet_expect_same(const char *what, const struct planner_answer *got,
		       const struct planner_answer *want,
		       const struct fill_truth *exact);

/**
 * fleet_expect_series() - planner_run_series() with and without fleet
 * records over [@from_s, @to_s] (base period filter @period_s, 0: none)
 * by @step_s: the same points, each as fleet_expect_same() without exact
 * samples, and at least @min_fleet fleet records used in all.
 */
void fleet_expect_series(struct store *st, uint32_t period_s, int64_t from_s,
			 int64_t to_s, int64_t step_s, size_t min_fleet);

/**
 * fleet_write_late() - a late record, as a spool replay writes it: one
 * more 60 s base period of samples at @at_s ("all"), host-01's samples
 * again under a host the rollup has not seen ("host-late").
 *
 * @return the samples written.
 */
uint64_t fleet_write_late(struct store *st, int64_t at_s);

/**
 * fleet_check_all() - the whole scenario on the store at @url (3 hosts,
 * 2 days, 60 s periods), opened through @url as given.
 */
void fleet_check_all(const char *url);

#endif /* RTTQ_TEST_FLEET_CHECK_H */
