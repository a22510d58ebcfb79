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

struct group_recycle {
	uint32_t max_groups;
	int64_t idle_ms;
	int64_t *active_ms;    /* max_groups + 1: last drain with counts */
	struct rttq_key *keys; /* max_groups + 1: key holding each id */
	uint32_t *unlinked;    /* max_groups: unlinked, not yet released */
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

/* gid_gens[@gid] += 1: sockets that cached the old value re-resolve. */
static int bump_generation(int fd, uint32_t gid)
{
	uint32_t gen;

	if (bpf_map_lookup_elem(fd, &gid, &gen))
		return -errno;
	gen++;
	if (bpf_map_update_elem(fd, &gid, &gen, BPF_ANY))
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

/* Take @gid from its key: the key first, then the generation (see
 * gid_lookup() in kernel/group_ids.h). */
static int unlink_one(struct group_recycle *r, int ids_fd, int gens_fd,
		      uint32_t gid, struct rttq_error *err)
{
	int rc;

	if (bpf_map_delete_elem(ids_fd, &r->keys[gid]) && errno != ENOENT)
		return rttq_fail(err, -errno,
				 "recycling group id %u: deleting its key from map group_ids: %s",
				 gid, strerror(errno));
	rc = bump_generation(gens_fd, gid);
	if (rc)
		return rttq_fail(err, rc,
				 "recycling group id %u: map gid_gens: %s",
				 gid, strerror(-rc));
	return 0;
}

int group_recycle_unlink(struct group_recycle *r, struct rttq_bpf *skel,
			 int64_t now_ms, uint32_t *count,
			 struct rttq_error *err)
{
	int ids_fd = bpf_map__fd(skel->maps.group_ids);
	int gens_fd = bpf_map__fd(skel->maps.gid_gens);
	uint32_t gid;
	int rc, first_rc = 0;

	r->first_new = r->nunlinked;
	for (gid = 1; gid <= r->max_groups; gid++) {
		if (r->active_ms[gid] == NOT_SEEN ||
		    now_ms - r->active_ms[gid] < r->idle_ms)
			continue;
		/* A failed id stays as it is, tried again next drain. */
		rc = unlink_one(r, ids_fd, gens_fd, gid,
				first_rc ? NULL : err);
		if (rc) {
			if (!first_rc)
				first_rc = rc;
			continue;
		}
		r->active_ms[gid] = NOT_SEEN;
		r->unlinked[r->nunlinked++] = gid;
	}
	*count = r->nunlinked - r->first_new;
	if (*count)
		wait_for_programs(skel);
	return first_rc;
}

uint32_t group_recycle_unlinked(const struct group_recycle *r, uint32_t i,
				const struct rttq_key **key)
{
	uint32_t gid = r->unlinked[r->first_new + i];

	*key = &r->keys[gid];
	return gid;
}

int group_recycle_release(struct group_recycle *r, struct rttq_bpf *skel,
			  const void *zeros, struct rttq_error *err)
{
	int counts_fd = bpf_map__fd(skel->maps.group_counts);
	int free_fd = bpf_map__fd(skel->maps.gid_free);
	uint32_t gid;

	while (r->nunlinked) {
		gid = r->unlinked[r->nunlinked - 1];
		/* Zeroed before it is queued: a new key starts from 0. */
		if (bpf_map_update_elem(counts_fd, &gid, zeros, BPF_ANY))
			return rttq_fail(err, -errno,
					 "recycling group id %u: zeroing map group_counts: %s",
					 gid, strerror(errno));
		if (bpf_map_update_elem(free_fd, NULL, &gid, BPF_ANY))
			return rttq_fail(err, -errno,
					 "recycling group id %u: queueing it in map gid_free: %s",
					 gid, strerror(errno));
		r->nunlinked--;
		r->recycled++;
	}
	return 0;
}

uint64_t group_recycle_count(const struct group_recycle *r)
{
	return r ? r->recycled : 0;
}
