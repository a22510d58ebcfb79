// SPDX-License-Identifier: BSD-2-Clause
/*
 * The collector's drain (collector.h): turns the kernel's cumulative u32
 * bucket counters (shared by all CPUs for groups, per CPU for the events
 * of no group) into per-group deltas of each distribution by keeping the
 * previous sum of every group and subtracting in u32 arithmetic, so a
 * drain never races an increment; hands each group's counters to the
 * counters sink (collector_counters.c); and hands recycled ids their last
 * delta before giving them back (group_recycle.c).
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
		c->prev[gid] = calloc(c->words, sizeof(*c->prev[gid]));
	return c->prev[gid];
}

/*
 * @words u32 of @dst = sum over CPUs of the per-CPU value in c->percpu,
 * @stride bytes apart (mod 2^32).
 */
static void sum_cpus(struct collector *c, uint32_t *dst, uint32_t words,
		     size_t stride)
{
	const uint8_t *base = c->percpu;
	uint32_t i;
	int cpu;

	memcpy(dst, base, words * sizeof(*dst));
	for (cpu = 1; cpu < c->ncpus; cpu++) {
		const uint32_t *v = (const uint32_t *)(base + cpu * stride);

		for (i = 0; i < words; i++)
			dst[i] += v[i];
	}
}

/*
 * Delta of the distribution at word @off of @cur (the sum of its @copies
 * copies, @stride words apart: one per CPU, or 1) against @prev added to
 * @dst (NULL: dropped), then @prev = that sum there.  u32 arithmetic is
 * exact across a wrap as long as fewer than 2^32 events land in one
 * bucket between two drains.
 * @return whether anything changed.
 */
static bool add_delta(struct collector *c, struct hist *dst,
		      const uint32_t *cur, size_t stride, int copies,
		      uint32_t *prev, uint32_t off)
{
	uint32_t i, j, d, moved, sum[8];
	const uint32_t *v;
	bool any = false;
	int k;

	/* Most buckets never move between two drains: a block of 8 (slots
	 * come in multiples of 2^g, g >= 3) is summed and compared without
	 * a branch per word, and only a block that moved is walked and
	 * written. */
	for (i = off; i < off + c->slots; i += 8) {
		memcpy(sum, cur + i, sizeof(sum));
		for (k = 1; k < copies; k++) {
			v = cur + (size_t)k * stride + i;
			for (j = 0; j < 8; j++)
				sum[j] += v[j];
		}
		moved = 0;
		for (j = 0; j < 8; j++)
			moved |= sum[j] ^ prev[i + j];
		if (!moved)
			continue;
		any = true;
		for (j = 0; j < 8; j++) {
			d = sum[j] - prev[i + j];
			if (d && dst)
				hist_add_slot(dst, i + j - off, d);
			prev[i + j] = sum[j];
		}
	}
	return any;
}

_Static_assert(BUCKET_SLOTS(BUCKET_SUB_BITS_MIN) % 8 == 0,
	       "add_delta() compares slots 8 at a time");

/* add_delta() into c->scratch emptied first: the delta handed out. */
static bool take_delta(struct collector *c, const uint32_t *cur,
		       uint32_t *prev, uint32_t off)
{
	hist_reset(c->scratch);
	return add_delta(c, c->scratch, cur, 0, 1, prev, off);
}

/* Whether distribution @d is counted (rtt always; the others at a word
 * offset of their own when on). */
static bool dist_on(const struct collector *c, uint32_t d)
{
	return d == RTTQ_DIST_RTT || c->dist_off[d];
}

static const char *const dist_metric[RTTQ_DISTS] = {
	[RTTQ_DIST_RTT] = METRIC_RTT,
	[RTTQ_DIST_JITTER] = METRIC_JITTER,
	[RTTQ_DIST_HANDSHAKE] = METRIC_HANDSHAKE,
	[RTTQ_DIST_SNDBUF] = METRIC_SNDBUF,
	[RTTQ_DIST_FLOW_DURATION] = METRIC_FLOW_DURATION,
	[RTTQ_DIST_RX_STACK] = METRIC_RX_STACK,
	[RTTQ_DIST_RX_SOCKET] = METRIC_RX_SOCKET,
	[RTTQ_DIST_TX_STACK] = METRIC_TX_STACK,
	[RTTQ_DIST_TX_QDISC] = METRIC_TX_QDISC,
};

/*
 * runqlat's delta since the last drain into c->scratch: the per-CPU
 * histograms summed over CPUs.  @moved: whether any wait was counted.
 */
static int runqlat_delta(struct collector *c, bool *moved,
			 struct rttq_error *err)
{
	uint32_t zero = 0;

	*moved = false;
	if (!(c->signals & COLLECTOR_SIG_RUNQLAT))
		return 0;
	if (bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.runqlat_counts),
				&zero, c->percpu))
		return rttq_fail(err, -errno, "reading map runqlat_counts: %s",
				 strerror(errno));
	sum_cpus(c, c->runq_cur, c->slots,
		 ((size_t)c->slots * 4 + 7) & ~(size_t)7);
	*moved = take_delta(c, c->runq_cur, c->runq_prev, 0);
	return 0;
}

/*
 * Every distribution of c->cur that moved against @prev to @fn, then the
 * counters of @gid (counters_delta(); "all": counters_all()) to the
 * counters sink, under @name; @prev = c->cur.
 * @active: receives whether anything moved; may be NULL.
 * @return 0, the first non-zero value of a callback, or a negative errno.
 */
static int hand_out(struct collector *c, const char *name, uint32_t gid,
		    bool all, uint32_t *prev, collector_group_fn fn,
		    void *arg, bool *active, struct rttq_error *err)
{
	bool any = false, moved;
	int ret = 0, r;
	uint32_t d;

	for (d = 0; d < RTTQ_DISTS; d++) {
		if (!dist_on(c, d))
			continue;
		moved = take_delta(c, c->cur, prev, c->dist_off[d]);
		any |= moved;
		if (moved && !ret)
			ret = fn(name, dist_metric[d], c->scratch, arg);
	}
	if (all) {
		r = runqlat_delta(c, &moved, err);
		if (r)
			return ret ? ret : r;
		if (moved && !ret)
			ret = fn(name, METRIC_RUNQLAT, c->scratch, arg);
		r = counters_all(c, err);
		if (r)
			return ret ? ret : r;
		moved = counters_set(c)->n > 0;
	} else {
		moved = counters_delta(c, gid);
	}
	any |= moved;
	if (moved && !ret && c->counters_fn)
		ret = c->counters_fn(name, counters_set(c), c->counters_arg);
	if (active)
		*active = any;
	return ret;
}

/* One lookup of @gid in @map into @dst, naming the map on failure. */
static int lookup(const struct bpf_map *map, uint32_t gid, void *dst,
		  struct rttq_error *err)
{
	if (bpf_map_lookup_elem(bpf_map__fd(map), &gid, dst))
		return rttq_fail(err, -errno, "reading map %s: %s",
				 bpf_map__name(map), strerror(errno));
	return 0;
}

/*
 * A per-CPU distribution of the events of no group kept in a map of its
 * own (@map), summed into c->cur at word @off.
 */
static int read_apart(struct collector *c, const struct bpf_map *map,
		      uint32_t off, uint32_t words, struct rttq_error *err)
{
	int ret = lookup(map, 0, c->percpu, err);

	if (!ret)
		sum_cpus(c, c->cur + off, words,
			 ((size_t)words * 4 + 7) & ~(size_t)7);
	return ret;
}

/* A distribution kept in maps of its own, one per group and one per CPU
 * for the events of no group (rttq.h), at word @off of c->cur. */
struct apart {
	const struct bpf_map *grouped, *ungrouped;
	uint32_t off, words;
};

/* The distributions apart that are on (handshake, flow_duration, the
 * stages) into @out. @return how many. */
static unsigned int aparts(const struct collector *c, struct apart out[3])
{
	const struct rttq_bpf *m = c->skel;
	const struct apart all[3] = {
		{ m->maps.group_handshake, m->maps.ungrouped_handshake,
		  c->dist_off[RTTQ_DIST_HANDSHAKE], c->slots },
		{ m->maps.group_flow_duration, m->maps.ungrouped_flow_duration,
		  c->dist_off[RTTQ_DIST_FLOW_DURATION], c->slots },
		{ m->maps.group_stages, m->maps.ungrouped_stages,
		  c->dist_off[RTTQ_DIST_RX_STACK], RTTQ_STAGES * c->slots },
	};
	unsigned int i, n = 0;

	for (i = 0; i < 3; i++)
		if (all[i].off)
			out[n++] = all[i];
	return n;
}

/*
 * The counts of the events of no group into c->cur: the distributions
 * apart first, then ungrouped_counts' words (rtt, jitter, sndbuf), read
 * last so that their per-CPU copies stay in c->percpu, and summed into
 * c->cur only when @sum (collector_add_totals() sums them as it compares
 * them).
 */
static int read_ungrouped(struct collector *c, bool sum,
			  struct rttq_error *err)
{
	struct apart a[3];
	unsigned int i, n = aparts(c, a);
	int ret = 0;

	for (i = 0; !ret && i < n; i++)
		ret = read_apart(c, a[i].ungrouped, a[i].off, a[i].words, err);
	if (!ret)
		ret = lookup(c->skel->maps.ungrouped_counts, 0, c->percpu, err);
	if (!ret && sum)
		sum_cpus(c, c->cur, collector_counts_words(c), c->stride);
	return ret;
}

/*
 * The counts of group id @gid (0: the events of no group) into c->cur:
 * group_counts' words (rtt, jitter, sndbuf), then the distributions
 * apart.  Groups share one copy; the rest is per CPU.
 */
static int read_counts(struct collector *c, uint32_t gid,
		       struct rttq_error *err)
{
	struct apart a[3];
	unsigned int i, n = aparts(c, a);
	int ret;

	if (!gid)
		return read_ungrouped(c, true, err);
	ret = lookup(c->skel->maps.group_counts, gid, c->cur, err);
	for (i = 0; !ret && i < n; i++)
		ret = lookup(a[i].grouped, gid, c->cur + a[i].off, err);
	return ret;
}

/*
 * Reads the counts and counters of @gid into c->cur (and the counters'
 * current sums) and adds them to "all"'s.
 */
static int read_index(struct collector *c, uint32_t gid,
		      struct rttq_error *err)
{
	uint32_t i;
	int ret = read_counts(c, gid, err);

	if (!ret)
		ret = counters_read(c, gid, true, err);
	if (ret)
		return ret;
	for (i = 0; i < c->words; i++)
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
		/* "all" gets the difference to the walk's read, below. */
		if (!ret)
			ret = counters_read(c, gid, false, err);
		if (ret) {
			/* Its last delta is lost; "all" stays consistent. */
			first = first ? first : ret;
			memcpy(c->cur, prev, c->words * sizeof(*c->cur));
		}
		/* The walk added prev to "all"; the last counts replace it. */
		for (s = 0; s < c->words; s++) {
			c->all_cur[s] += c->cur[s] - prev[s];
			c->retired_all[s] += c->cur[s];
		}
		counters_retire(c, gid, !ret);
		group_name_format(&c->naming, key, name, sizeof(name));
		ret = hand_out(c, name, gid, false, prev, fn, arg, NULL, err);
		first = first ? first : ret;
		memset(prev, 0, c->words * sizeof(*prev));
		counters_forget(c, gid);
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
	memset(c->all_cur, 0, c->words * sizeof(*c->all_cur));
	counters_begin(c);
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
		group_name_format(&c->naming, &key, name, sizeof(name));
		ret = hand_out(c, name, gid, false, prev, fn, arg, &any, err);
		group_recycle_note(c->recycle, gid, &key, any, now_ms);
		if (ret)
			return ret;
	}
	if (c->group_by && errno != ENOENT)
		return rttq_fail(err, -errno, "walking map group_ids: %s",
				 strerror(errno));
	ret = c->recycle ? drain_retired(c, now_ms, fn, arg, err) : 0;
	memcpy(c->cur, c->all_cur, c->words * sizeof(*c->cur));
	if (!ret)
		ret = hand_out(c, "all", 0, true, c->prev_all, fn, arg, NULL,
			       err);
	else
		memcpy(c->prev_all, c->cur, c->words * sizeof(*c->cur));
	/* Zeroed ids no longer add to the kernel's sum: nor to ours. */
	for (i = 0; i < c->words; i++)
		c->prev_all[i] -= c->retired_all[i];
	memset(c->retired_all, 0, c->words * sizeof(*c->retired_all));
	return ret;
}

int collector_add_totals(struct collector *c, struct collector_totals *t,
			 struct rttq_error *err)
{
	uint32_t words = collector_counts_words(c), d, off;
	int ret;

	if (c->group_by)
		return rttq_fail(err, -EINVAL,
				 "collector_add_totals: groups are on: their sum needs collector_drain()");
	/* Everything is read before any previous sum moves, so a failed
	 * lookup leaves @t and the next call's deltas as they were. */
	counters_begin(c);
	ret = counters_read(c, 0, true, err);
	if (!ret)
		ret = read_ungrouped(c, false, err);
	if (!ret)
		ret = counters_add_totals(c, t, err);
	if (ret)
		return ret;
	for (d = 0; d < RTTQ_DISTS; d++) {
		if (!dist_on(c, d))
			continue;
		off = c->dist_off[d];
		/* ungrouped_counts' copies are still per CPU in c->percpu. */
		if (off < words)
			add_delta(c, t->dist[d], c->percpu, c->stride / 4,
				  c->ncpus, c->prev_all, off);
		else
			add_delta(c, t->dist[d], c->cur, 0, 1, c->prev_all,
				  off);
	}
	return 0;
}
