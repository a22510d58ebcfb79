/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Group names by the index a kernel record carries (flow_record.group,
 * event_record.group), for the readers of common/flows: read from the
 * kernel in a walk of its map when an index is missed, kept until
 * group_cache_forget() (once per refresh or ring buffer poll: ids are
 * recycled, so a name is not kept longer).
 */
#ifndef RTTQ_GROUP_CACHE_H
#define RTTQ_GROUP_CACHE_H

#include <stdint.h>

struct collector;

/* Zero it but for .c, the collector whose groups it names. */
struct group_cache {
	struct collector *c;
	char **by_idx;        /* cap entries, NULL: not a group when read */
	uint32_t cap;
};

/**
 * group_cache_name() - the name of group index @idx: "all" for 0, "?"
 * for an index no group has (recycled, or out of memory reading them);
 * an index missed walks the kernel's map again, once a round.
 *
 * @return the name, valid until the next group_cache_forget().
 */
const char *group_cache_name(struct group_cache *n, uint32_t idx);

/** group_cache_forget() - a new round: names are read again when asked. */
void group_cache_forget(struct group_cache *n);

/** group_cache_free() - free the names (not @n itself). */
void group_cache_free(struct group_cache *n);

#endif /* RTTQ_GROUP_CACHE_H */
