/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Recycling of idle group ids, the user-space half of kernel/group_ids.h,
 * used by collector.c only.  It remembers when each id last counted an
 * event and, for the ids idle longer than the set time, does the kernel
 * side of a recycle in two steps around the collector's last read of
 * their counters: unlink (key deleted, running programs waited for,
 * generation bumped, waited for again), then release (counters zeroed,
 * id queued for the next new key).  Between the two no program can count into those ids.
 */
#ifndef RTTQ_GROUP_RECYCLE_H
#define RTTQ_GROUP_RECYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "rttq.h"

struct rttq_bpf;
struct group_recycle;

/**
 * group_recycle_new() - bookkeeping for ids 1..@max_groups.
 * @max_groups: ids the kernel hands out.
 * @idle_ms: how long an id may count nothing before it is recycled, > 0.
 * @out: receives the state.
 *
 * @return 0, -EINVAL (@idle_ms <= 0), -ENOMEM.
 */
int group_recycle_new(uint32_t max_groups, int64_t idle_ms,
		      struct group_recycle **out);

/** group_recycle_free() - free; NULL does nothing. */
void group_recycle_free(struct group_recycle *r);

/**
 * group_recycle_note() - what a drain saw of id @gid.
 * @key: the key that holds @gid now (copied on first sight).
 * @active: whether @gid counted anything since the previous drain.
 * @now_ms: monotonic milliseconds of the drain.
 *
 * An id seen for the first time counts as active at @now_ms.
 */
void group_recycle_note(struct group_recycle *r, uint32_t gid,
			const struct rttq_key *key, bool active,
			int64_t now_ms);

/**
 * group_recycle_unlink() - take the ids idle since @now_ms - idle_ms away
 * from their keys: delete each key from group_ids, wait for running
 * programs, bump each id's generation, wait again; then no program can
 * count into them.  After it, read each one's last counts
 * (group_recycle_unlinked()), then give it back (group_recycle_release()).
 * Ids whose release failed before are released first.
 * @skel: the loaded program.
 * @zeros: one per-CPU value of group_counts, all zero (also as long as
 *         a value of group_handshake and group_health).
 * @count: receives the number of ids unlinked, even on failure.
 * @err: names the first map operation that failed.
 *
 * @return 0, or the negative errno of the first map operation that
 *         failed (an id whose key could not be deleted is left as it was
 *         and tried again next time).
 */
int group_recycle_unlink(struct group_recycle *r, struct rttq_bpf *skel,
			 int64_t now_ms, const void *zeros, uint32_t *count,
			 struct rttq_error *err);

/**
 * group_recycle_unlinked() - the @i-th id the last unlink took and its key.
 * @i: below the count group_recycle_unlink() gave.
 *
 * @return the id.
 */
uint32_t group_recycle_unlinked(const struct group_recycle *r, uint32_t i,
				const struct rttq_key **key);

/**
 * group_recycle_release() - zero the counters of the @i-th id the last
 * unlink took and queue it for the next new key, once its last counts
 * were read.
 * @skel: the loaded program.
 * @i: below the count group_recycle_unlink() gave.
 * @zeros: one per-CPU value of group_counts, all zero (also as long as
 *         a value of group_handshake and group_health).
 * @err: names the failed map operation.
 *
 * @return 0 or the negative errno of the failed map operation (the next
 *         unlink tries again; the counts are not read again).
 */
int group_recycle_release(struct group_recycle *r, struct rttq_bpf *skel,
			  uint32_t i, const void *zeros,
			  struct rttq_error *err);

/** group_recycle_count() - ids recycled since group_recycle_new(). */
uint64_t group_recycle_count(const struct group_recycle *r);

#endif /* RTTQ_GROUP_RECYCLE_H */
