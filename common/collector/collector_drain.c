// SPDX-License-Identifier: BSD-2-Clause
/*
 * The collector's drain (collector.h): turns the kernel's cumulative u32
 * bucket counters (shared by all CPUs for groups, per CPU for the events
 * of no group) into per-group deltas by keeping the previous sum of every
 * group and subtracting in u32 arithmetic, so a drain never races an
 * increment; and hands recycled ids their last delta before giving them
 * back (group_recycle.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "buckets.h"
#include "collector_private.h"
#include "group_recycle.h"
#include "hist.h"
#include "metric.h"
#include "monoclock.h"
#include "rttq.h"
#include "rttq.skel.h"


/* The previous sums of group @gid, zero on first sight; NULL: no memory. */
static uint32_t *prev_of(struct collector *c, uint32_t gid)
{
	if (!c->prev[gid])
		c->prev[gid] = calloc(c->slots, sizeof(*c->prev[gid]));
	return c->prev[gid];
}

/* c->cur = sum over CPUs of the per-CPU value in c->percpu (mod 2^32). */
static void sum_cpus(struct collector *c)
{
	const uint8_t *base = c->percpu;
	uint32_t i;
	int cpu;

	memcpy(c->cur, base, c->slots * sizeof(*c->cur));
	for (cpu = 1; cpu < c->ncpus; cpu++) {
		const uint32_t *v = (const uint32_t *)(base + cpu * c->stride);

		for (i = 0; i < c->slots; i++)
			c->cur[i] += v[i];
	}
}

/*
 * Delta of c->cur against @prev into c->scratch, then @prev = c->cur.
 * u32 subtraction is exact across a wrap as long as fewer than 2^32 events
 * land in one bucket between two drains.
 * @return whether anything changed.
 */
static bool take_delta(struct collector *c, uint32_t *prev)
{
	bool any = false;
	uint32_t i, d;

	hist_reset(c->scratch);
	for (i = 0; i < c->slots; i++) {
		d = c->cur[i] - prev[i];
		if (d) {
			hist_add_slot(c->scratch, i, d);
			any = true;
		}
	}
	memcpy(prev, c->cur, c->slots * sizeof(*prev));
	return any;
}

/*
 * The counts of group id @gid (0: the events of no group) into c->cur.
 * Groups share one copy (group_counts); the rest is per CPU.
 */
static int read_counts(struct collector *c, uint32_t gid,
		       struct rttq_error *err)
{
	uint32_t zero = 0;

	if (gid) {
		if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.group_counts),
					&gid, c->cur))
			return rttq_fail(err, -errno,
					 "reading map group_counts: %s",
					 strerror(errno));
		return 0;
	}
	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.ungrouped_counts),
				&zero, c->percpu))
		return rttq_fail(err, -errno, "reading map ungrouped_counts: %s",
				 strerror(errno));
	sum_cpus(c);
	return 0;
}

/* Reads the counts of @gid into c->cur and adds them to c->all_cur. */
static int read_index(struct collector *c, uint32_t gid,
		      struct rttq_error *err)
{
	uint32_t i;
	int ret = read_counts(c, gid, err);

	if (ret)
		return ret;
	for (i = 0; i < c->slots; i++)
		c->all_cur[i] += c->cur[i];
	return 0;
}

/*
 * Recycle the ids of the groups idle since @now_ms - group_idle_ms
 * (group_recycle.h): once no program can count into them, hand each one's
 * last delta to @fn, add it to "all" (c->all_cur holds the sums the walk
 * read), and give the id back (zeroed).  c->retired_all gathers the zeroed sums, which
 * leave "all" from the next drain on.  Goes through every id whatever
 * @fn says, so none is read twice.
 * @return 0, the first non-zero value of @fn, or a negative errno.
 */
static int drain_retired(struct collector *c, int64_t now_ms,
			 collector_group_fn fn, void *arg,
			 struct rttq_error *err)
{
	char name[GROUP_NAME_MAX];
	const struct rttq_key *key;
	uint32_t n, i, s, gid, *prev;
	int ret, first = 0;

	first = group_recycle_unlink(c->recycle, c->skel, now_ms, c->zeros, &n,
				     err);
	for (i = 0; i < n; i++) {
		gid = group_recycle_unlinked(c->recycle, i, &key);
		/* The walk read this id just now: prev_of() has its sums. */
		prev = prev_of(c, gid);
		if (!prev)
			continue;
		ret = read_counts(c, gid, err);
		if (ret) {
			/* Its last delta is lost; "all" stays consistent. */
			first = first ? first : ret;
			memcpy(c->cur, prev, c->slots * sizeof(*c->cur));
		}
		/* The walk added prev to "all"; the last counts replace it. */
		for (s = 0; s < c->slots; s++) {
			c->all_cur[s] += c->cur[s] - prev[s];
			c->retired_all[s] += c->cur[s];
		}
		group_name_format(&c->naming, key, name, sizeof(name));
		if (take_delta(c, prev)) {
			ret = fn(name, METRIC_RTT, c->scratch, arg);
			first = first ? first : ret;
		}
		memset(prev, 0, c->slots * sizeof(*prev));
		/* Told once the id is really back (tests pace on it). */
		ret = group_recycle_release(c->recycle, c->skel, i, c->zeros,
					    err);
		first = first ? first : ret;
		if (c->retire_fn)
			c->retire_fn(name, c->retire_arg);
	}
	return first;
}

int collector_drain(struct collector *c, collector_group_fn fn, void *arg,
		    struct rttq_error *err)
{
	struct rttq_key key, next;
	char name[GROUP_NAME_MAX];
	int64_t now_ms = monoclock_ms();
	uint32_t gid, *prev, i;
	void *prev_key = NULL;
	int ids_fd, ret;
	bool any;

	/* Without rttq_state (raw_tp, kprobe) the listening ports are all
	 * the kernel has to tell accepted from opened, and it looks each
	 * event up again: keep them current. */
	if ((c->group_by & COLLECTOR_BY_PORT) && !c->state_link) {
		ret = collector_write_listening(c, err);
		if (ret)
			return ret;
	}
	/* "all" is the sum of every index: the events of no group at 0,
	 * then each group, all cumulative, so their sum is too. */
	memset(c->all_cur, 0, c->slots * sizeof(*c->all_cur));
	ret = read_index(c, 0, err);
	if (ret)
		return ret;

	/*
	 * Only drain_retired() deletes keys, after this walk, so walking
	 * with get_next_key sees every key that existed when the walk
	 * began.  A group id is in group_ids only once it is final.
	 */
	ids_fd = bpf_map__fd(c->skel->maps.group_ids);
	memset(&key, 0, sizeof(key));
	memset(&next, 0, sizeof(next));
	while (c->group_by && !bpf_map_get_next_key(ids_fd, prev_key, &next)) {
		key = next;
		prev_key = &key;
		if (bpf_map_lookup_elem(ids_fd, &key, &gid) || !gid ||
		    gid > c->max_groups)
			continue;
		ret = read_index(c, gid, err);
		if (ret)
			return ret;
		prev = prev_of(c, gid);
		if (!prev)
			return rttq_fail(err, -ENOMEM,
					 "collector: no memory for a group");
		any = take_delta(c, prev);
		group_recycle_note(c->recycle, gid, &key, any, now_ms);
		if (!any)
			continue;
		group_name_format(&c->naming, &key, name, sizeof(name));
		ret = fn(name, METRIC_RTT, c->scratch, arg);
		if (ret)
			return ret;
	}
	if (c->group_by && errno != ENOENT)
		return rttq_fail(err, -errno, "walking map group_ids: %s",
				 strerror(errno));
	ret = c->recycle ? drain_retired(c, now_ms, fn, arg, err) : 0;
	memcpy(c->cur, c->all_cur, c->slots * sizeof(*c->cur));
	any = take_delta(c, c->prev_all);
	/* Zeroed ids no longer add to the kernel's sum: nor to ours. */
	for (i = 0; i < c->slots; i++)
		c->prev_all[i] -= c->retired_all[i];
	memset(c->retired_all, 0, c->slots * sizeof(*c->retired_all));
	if (any && !ret)
		return fn("all", METRIC_RTT, c->scratch, arg);
	return ret;
}
