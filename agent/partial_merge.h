/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Partial base records written by two runs of the agent for one period.
 * An agent that stops writes the period it was in as partial; one that
 * starts again before that period ends writes its own partial record under
 * the same key.  Written as is, the second would replace the first and
 * lose the samples the first run counted, so the writer merges the stored
 * one into it first (agent/writer.c says when, so nothing counts twice).
 */
#ifndef RTTQ_AGENT_PARTIAL_MERGE_H
#define RTTQ_AGENT_PARTIAL_MERGE_H

#include <stdbool.h>

#include "error.h"

struct store;
struct store_record;

/**
 * partial_merge_stored() - merge into @rec the partial record stored under
 * its key, if there is one.
 * @st: the store.
 * @rec: a partial base record (periods 0) of any metric, whose digest is
 *       malloc'd and owned by the caller; on a merge its digest is
 *       replaced (the old one freed) and count, sum, min and max cover
 *       both (for METRIC_COUNTERS: every counter is the exact sum of the
 *       two, and count the number of counters).
 * @merged: set to whether a stored record was merged.
 * @err: names the record and the problem.
 *
 * A stored record that is complete, or byte-for-byte @rec itself, is left
 * out.
 *
 * @return 0 (merged or nothing to merge), the store's error (read failed:
 *         try again later), -EBADMSG for a stored digest or counter set
 *         that is damaged (or whose sum with ours passes 2^64 - 1) or
 *         -ENOTSUP for one of a newer format (for both, @rec is left as
 *         it was), -ENOMEM.
 */
int partial_merge_stored(struct store *st, struct store_record *rec,
			 bool *merged, struct rttq_error *err);

#endif /* RTTQ_AGENT_PARTIAL_MERGE_H */
