// SPDX-License-Identifier: BSD-2-Clause
/*
 * group_cache.h: the names of a round, filled by a walk of the kernel's
 * group_ids map (collector_group_names()) at each index missed, so a
 * refresh or a poll of many records costs a walk per new group at most.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "group_cache.h"

static int names_put(uint32_t idx, const char *name, void *arg)
{
	struct group_cache *n = arg;
	char **p;

	if (idx >= n->cap) {
		p = realloc(n->by_idx, ((size_t)idx + 1) * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + n->cap, 0, (idx + 1 - n->cap) * sizeof(*p));
		n->by_idx = p;
		n->cap = idx + 1;
	}
	free(n->by_idx[idx]);
	n->by_idx[idx] = strdup(name);
	return n->by_idx[idx] ? 0 : -ENOMEM;
}

void group_cache_forget(struct group_cache *n)
{
	uint32_t i;

	for (i = 0; i < n->cap; i++) {
		free(n->by_idx[i]);
		n->by_idx[i] = NULL;
	}
}

void group_cache_free(struct group_cache *n)
{
	group_cache_forget(n);
	free(n->by_idx);
}

const char *group_cache_name(struct group_cache *n, uint32_t idx)
{
	if (!idx)
		return "all";
	if (idx < n->cap && n->by_idx[idx])
		return n->by_idx[idx];
	/*
	 * Walk again at each index missed: a group may have got its id
	 * after the last walk (the iterator classifies idle sockets as it
	 * goes).  One still missing is kept as "?" for the round, so each
	 * costs one walk at most.  Out of memory leaves names out: "?".
	 */
	collector_group_names(n->c, names_put, n);
	if (idx < n->cap && n->by_idx[idx])
		return n->by_idx[idx];
	names_put(idx, "?", n);
	return "?";
}
