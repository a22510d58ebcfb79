// SPDX-License-Identifier: BSD-2-Clause
/*
 * Recycling of idle group ids (group_recycle.h): per id, when it last
 * counted and which key holds it; and the map operations of a recycle in
 * the order kernel/group_ids.h relies on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "group_recycle.h"
#include "monoclock.h"
#include "rttq.skel.h"

#define NOT_SEEN INT64_MIN /* active_ms of an id no drain has seen */
#define RCU_FALLBACK_MS 20 /* see wait_for_programs() */
/* In unlinked[]: an id whose generation could not be bumped.  A socket
 * may still hold it, so it is read one last time but never reused. */
#define RETIRED_FOR_GOOD 0x80000000u

struct group_recycle {
	uint32_t max_groups;
	int64_t idle_ms;
	int64_t *active_ms;    /* max_groups + 1: last drain with counts */
	struct rttq_key *keys; /* max_groups + 1: key holding each id */
	uint32_t *unlinked;    /* max_groups: unlinked, not yet released
				* (0: released) */
	uint32_t nunlinked;
	uint32_t first_new;    /* unlinked[first_new..]: the last unlink's */
	uint64_t recycled;
};

int group_recycle_new(uint32_t max_groups, int64_t idle_ms,
		      struct group_recycle **out)
{
	struct group_recycle *r;
	uint32_t gid;

	*out = NULL;
	if (idle_ms <= 0)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->max_groups = max_groups;
	r->idle_ms = idle_ms;
	r->active_ms = calloc((size_t)max_groups + 1, sizeof(*r->active_ms));
	r->keys = calloc((size_t)max_groups + 1, sizeof(*r->keys));
	r->unlinked = calloc(max_groups, sizeof(*r->unlinked));
	if (!r->active_ms || !r->keys || !r->unlinked) {
		group_recycle_free(r);
		return -ENOMEM;
	}
	for (gid = 0; gid <= max_groups; gid++)
		r->active_ms[gid] = NOT_SEEN;
	*out = r;
	return 0;
}

void group_recycle_free(struct group_recycle *r)
{
	if (!r)
		return;
	free(r->unlinked);
	free(r->keys);
	free(r->active_ms);
	free(r);
}

void group_recycle_note(struct group_recycle *r, uint32_t gid,
			const struct rttq_key *key, bool active,
			int64_t now_ms)
{
	if (!gid || gid > r->max_groups)
		return;
	if (r->active_ms[gid] == NOT_SEEN) {
		r->keys[gid] = *key;
		active = true;
	}
	if (active)
		r->active_ms[gid] = now_ms;
}

/*
 * gid_gens[@gid].gen += 1: sockets that cached the old value re-resolve,
 * and the slot key the entry names stops matching (kgen != gen + 1).  The
 * rest of the entry is written back as it was: no program writes it
 * while the id is held (only the claimant of a free id does).
 */
static int bump_generation(int fd, uint32_t gid)
{
	struct rttq_gid_gen g;

	if (bpf_map_lookup_elem(fd, &gid, &g))
		return -errno;
	g.gen++;
	if (bpf_map_update_elem(fd, &gid, &g, BPF_ANY))
		return -errno;
	return 0;
}

/*
 * Returns once every program that was running has finished: the kernel
 * calls synchronize_rcu() after user space updates a map-in-map (so that
 * no program still holds the old inner map), and the programs run under
 * RCU.  One wait serves every id of a drain.  Should the update fail, a
 * sleep far longer than any program run stands in for it.
 */
static void wait_for_programs(struct rttq_bpf *skel)
{
	int inner = bpf_map__fd(skel->maps.rcu_sync_inner);
	uint32_t zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(skel->maps.rcu_sync), &zero,
				&inner, BPF_ANY))
		monoclock_sleep_ms(RCU_FALLBACK_MS);
}

/* Zero @gid's counters, then clear its claim: a new key starts from 0. */
static int release_one(struct group_recycle *r, struct rttq_bpf *skel,
		       uint32_t gid, const void *zeros, struct rttq_error *err)
{
	/* The per-group maps of a family that is off have one entry:
	 * nothing there. */
	const struct bpf_map *maps[] = { skel->maps.group_counts,
					 skel->maps.group_handshake,
					 skel->maps.group_health,
					 skel->maps.group_flow_duration,
					 skel->maps.group_stages };
	const uint32_t free_id = 0;
	size_t i;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (gid < bpf_map__max_entries(maps[i]) &&
		    bpf_map_update_elem(bpf_map__fd(maps[i]), &gid, zeros,
					BPF_ANY))
			return rttq_fail(err, -errno,
					 "recycling group id %u: zeroing map %s: %s",
					 gid, bpf_map__name(maps[i]),
					 strerror(errno));
	/* The id's holder clears its claim: programs only claim free ids
	 * (kernel/group_ids.h), so nothing races it. */
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.gid_taken), &gid,
				&free_id, BPF_ANY))
		return rttq_fail(err, -errno,
				 "recycling group id %u: freeing it in map gid_taken: %s",
				 gid, strerror(errno));
	__atomic_add_fetch(&skel->bss->gid_releases, 1, __ATOMIC_SEQ_CST);
	r->recycled++;
	return 0;
}

int group_recycle_unlink(struct group_recycle *r, struct rttq_bpf *skel,
			 int64_t now_ms, const void *zeros, uint32_t *count,
			 struct rttq_error *err)
{
	int ids_fd = bpf_map__fd(skel->maps.group_ids);
	int gens_fd = bpf_map__fd(skel->maps.gid_gens);
	uint32_t gid, i, n;
	int rc, first_rc = 0;

	/* Ids whose release failed before, counts read already: retry. */
	for (i = 0, n = 0; i < r->nunlinked; i++) {
		gid = r->unlinked[i];
		if (gid && !(gid & RETIRED_FOR_GOOD) &&
		    release_one(r, skel, gid, zeros, NULL))
			r->unlinked[n++] = gid;
	}
	r->nunlinked = n;

	/* The keys first: new sockets of those keys get new ids. */
	r->first_new = r->nunlinked;
	for (gid = 1; gid <= r->max_groups; gid++) {
		if (r->active_ms[gid] == NOT_SEEN ||
		    now_ms - r->active_ms[gid] < r->idle_ms)
			continue;
		if (bpf_map_delete_elem(ids_fd, &r->keys[gid]) &&
		    errno != ENOENT) {
			/* Left as it is, tried again next drain. */
			if (!first_rc)
				first_rc = rttq_fail(err, -errno,
						     "recycling group id %u: deleting its key from map group_ids: %s",
						     gid, strerror(errno));
			continue;
		}
		r->active_ms[gid] = NOT_SEEN;
		r->unlinked[r->nunlinked++] = gid;
	}
	*count = r->nunlinked - r->first_new;
	if (!*count)
		return first_rc;
	/*
	 * Then, once no program that found those keys still runs, the
	 * generations: a socket that cached one of these ids re-resolves
	 * its key from its next event on.  Once programs that saw the old
	 * generation have ended too, nothing counts into these ids.
	 */
	wait_for_programs(skel);
	for (i = r->first_new; i < r->nunlinked; i++) {
		rc = bump_generation(gens_fd, r->unlinked[i]);
		if (!rc)
			continue;
		if (!first_rc)
			first_rc = rttq_fail(err, rc,
					     "recycling group id %u: map gid_gens: %s; the id is not used again",
					     r->unlinked[i], strerror(-rc));
		r->unlinked[i] |= RETIRED_FOR_GOOD;
	}
	wait_for_programs(skel);
	return first_rc;
}

uint32_t group_recycle_unlinked(const struct group_recycle *r, uint32_t i,
				const struct rttq_key **key)
{
	uint32_t gid = r->unlinked[r->first_new + i] & ~RETIRED_FOR_GOOD;

	*key = &r->keys[gid];
	return gid;
}

int group_recycle_release(struct group_recycle *r, struct rttq_bpf *skel,
			  uint32_t i, const void *zeros, struct rttq_error *err)
{
	uint32_t *gid = &r->unlinked[r->first_new + i];
	int rc = 0;

	if (!(*gid & RETIRED_FOR_GOOD))
		rc = release_one(r, skel, *gid, zeros, err);
	if (!rc)
		*gid = 0; /* done: dropped from the list by the next unlink */
	return rc;
}

uint64_t group_recycle_count(const struct group_recycle *r)
{
	return r ? r->recycled : 0;
}
