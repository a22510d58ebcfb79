/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test helper: fleet queries ending at now, on both backends (SQLite in
 * test-tail.c, dynalite in tests/dynamo/test-dynamo-fleet.c).  What the
 * fleet records do not cover yet is read from every host's base and
 * 5-minute records at once (store_fine_records(), checked on its own
 * first); the answers must equal the per-host ones for a fleet of 60 s
 * and 10 s hosts, a partial 5-minute span at the start, a second group,
 * series, a step a host's period does not fit, a late record, and the
 * metrics beside rtt (jitter, counters).
 */
#ifndef RTTQ_TEST_TAIL_CHECK_H
#define RTTQ_TEST_TAIL_CHECK_H

#include <stdint.h>

#include "store.h"

/* What tail_put_metrics() writes per period: jitter samples, and the
 * counter segs.out (retrans.fast is the host's index + 1). */
#define TAIL_JITTER_SAMPLES 20
#define TAIL_SEGS_OUT 100

/**
 * tail_check_all() - the scenario on the store at @url (4 hosts, the last
 * 2 hours, half of them at 60 s and half at 10 s); ends the test on a
 * failed step.
 */
void tail_check_all(const char *url);

/**
 * tail_put_metrics() - @host's (index @h) jitter digest of
 * TAIL_JITTER_SAMPLES samples and counter set {segs.out: TAIL_SEGS_OUT,
 * retrans.fast: @h + 1} for each of the @minutes 60 s periods of group
 * "all" before @end_s (a multiple of 60), in one put, as its agent writes
 * them; ends the test on a failure.
 */
void tail_put_metrics(struct store *st, const char *host, unsigned int h,
		      int64_t end_s, unsigned int minutes);

#endif /* RTTQ_TEST_TAIL_CHECK_H */
