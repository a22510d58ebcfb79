/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Name table: a map from a string to a small number (a position in the
 * caller's array), by FNV-1a hashing and linear probing in a power-of-two
 * table kept at most half full.  The agent's /metrics groups and the series
 * table's groups both look names up this way, so the hash, the probing and
 * the rebuilding after a compaction live here once.
 */
#ifndef RTTQ_NAME_TABLE_H
#define RTTQ_NAME_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct name_slot;

/*
 * Embedded in its owner; all zero is an empty table.  The table does not
 * copy names: each one must stay valid and unchanged while it is in the
 * table (the owner's own copy, e.g. a group's strdup'ed name).
 */
struct name_table {
	struct name_slot *slots; /* cap of them; name NULL: empty */
	size_t cap;              /* power of two, 0 before the first add */
	size_t n;                /* names held, at most cap / 2 */
};

/**
 * name_hash() - 64-bit FNV-1a of the bytes of @s up to its NUL.
 * @s: the string.
 *
 * @return the hash (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
 */
RTTQ_API uint64_t name_hash(const char *s);

/**
 * name_table_reserve() - make room for @n names, so that adding up to @n
 * names in all never allocates (and so cannot fail with -ENOMEM).
 * @t: the table.
 * @n: names to hold.
 *
 * @return 0, -ENOMEM (the table is unchanged).
 */
RTTQ_API int name_table_reserve(struct name_table *t, size_t n);

/**
 * name_table_find() - look @name up.
 * @t: the table.
 * @name: the name.
 * @value: receives its value when found; may be NULL.
 *
 * @return 0, -ENOENT (not in the table).
 */
RTTQ_API int name_table_find(const struct name_table *t, const char *name,
			     uint32_t *value);

/**
 * name_table_add() - add @name with @value, growing the table when it
 * would be more than half full.
 * @t: the table.
 * @name: not copied: must stay valid while it is in the table.
 * @value: what name_table_find() gives back for @name.
 *
 * @return 0, -EEXIST (@name is already there; its value is kept), -ENOMEM.
 */
RTTQ_API int name_table_add(struct name_table *t, const char *name,
			    uint32_t value);

/**
 * name_table_clear() - forget every name but keep the room, so that names
 * are re-added without allocating (a rebuild after the owner compacted the
 * array the values point into).
 * @t: the table.
 */
RTTQ_API void name_table_clear(struct name_table *t);

/**
 * name_table_release() - free the slots; @t is then an empty table again.
 * @t: the table.
 */
RTTQ_API void name_table_release(struct name_table *t);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_NAME_TABLE_H */
