/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Group names from kernel group keys (struct rttq_key, kernel/rttq.h):
 * "raddr:10.0.1.0/24,port:443", "peer:db-primary", "cgroup:/system.slice/
 * x.service".  Apart from the collector so the naming rules, which users
 * see in every store, API and dashboard, live in one short file.
 */
#ifndef RTTQ_GROUP_NAME_H
#define RTTQ_GROUP_NAME_H

#include <limits.h>
#include <stddef.h>

#include "cgroup_names.h"
#include "peer_map.h"
#include "rttq.h"

/* Room for every field at once: two addresses with prefixes, three ports,
 * a label and a cgroup path. */
#define GROUP_NAME_MAX (2 * 56 + 3 * 12 + PEER_MAP_LABEL_MAX + PATH_MAX + 64)

/*
 * Longest cgroup path a name holds, in bytes: stores keep group names
 * under 512 bytes (STORE_GROUP_MAX), and a Kubernetes container path is
 * about 200.  A longer path keeps its last components after "...".
 */
#define GROUP_NAME_CGROUP_MAX 320

/* What naming a key needs besides the key. */
struct group_naming {
	unsigned int group_by;             /* COLLECTOR_BY_* bits */
	unsigned int raddr_prefix4, raddr_prefix6; /* 0: whole, no "/N" */
	unsigned int laddr_prefix4, laddr_prefix6;
	struct peer_map *peers;            /* NULL: every label is "other" */
	struct cgroup_names *cgroups;      /* NULL only without cgroup */
};

/**
 * group_name_format() - the name of @k: the fields of @n->group_by in the
 * order laddr, raddr, lport, rport, peer, port, cgroup, joined by ','.
 * Addresses grouped by a prefix carry "/N"; a cgroup whose path is not
 * known (removed before it was seen) is "cgroup:id-ID", one longer than
 * GROUP_NAME_CGROUP_MAX is cut to ".../last/components".
 * @n: the naming settings (walks the cgroup tree again on a miss).
 * @k: the key.
 * @buf: receives the name, NUL-terminated (cut at @size).
 * @size: GROUP_NAME_MAX holds any name.
 */
void group_name_format(struct group_naming *n, const struct rttq_key *k,
		       char *buf, size_t size);

#endif /* RTTQ_GROUP_NAME_H */
