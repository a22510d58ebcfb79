// SPDX-License-Identifier: BSD-2-Clause
/*
 * Name table (see name_table.h): open addressing with linear probing.
 * Names are never removed one by one (owners drop many at once, then
 * clear and re-add the rest), so no tombstones are needed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "name_table.h"

#define CAP_MIN 16

struct name_slot {
	const char *name; /* NULL: empty */
	uint32_t value;
};

uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/* The slot holding @name, or the empty slot where it would go. */
static struct name_slot *probe(struct name_slot *slots, size_t cap,
			       const char *name)
{
	size_t mask = cap - 1;
	size_t i = name_hash(name) & mask;

	while (slots[i].name && strcmp(slots[i].name, name) != 0)
		i = (i + 1) & mask;
	return &slots[i];
}

/* Move every name into a table of @cap slots (a power of two > 2 * n). */
static int rehash(struct name_table *t, size_t cap)
{
	struct name_slot *slots = calloc(cap, sizeof(*slots));
	size_t i;

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++)
		if (t->slots[i].name)
			*probe(slots, cap, t->slots[i].name) = t->slots[i];
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

int name_table_reserve(struct name_table *t, size_t n)
{
	size_t cap = t->cap ? t->cap : CAP_MIN;

	/* At most half full: n names need 2 * n slots. */
	while (cap / 2 < n) {
		if (cap > SIZE_MAX / 4)
			return -ENOMEM;
		cap *= 2;
	}
	return cap == t->cap ? 0 : rehash(t, cap);
}

int name_table_find(const struct name_table *t, const char *name,
		    uint32_t *value)
{
	const struct name_slot *s;

	if (!t->cap)
		return -ENOENT;
	s = probe(t->slots, t->cap, name);
	if (!s->name)
		return -ENOENT;
	if (value)
		*value = s->value;
	return 0;
}

int name_table_add(struct name_table *t, const char *name, uint32_t value)
{
	struct name_slot *s;
	int rc;

	if (name_table_find(t, name, NULL) == 0)
		return -EEXIST;
	rc = name_table_reserve(t, t->n + 1);
	if (rc)
		return rc;
	s = probe(t->slots, t->cap, name);
	s->name = name;
	s->value = value;
	t->n++;
	return 0;
}

void name_table_clear(struct name_table *t)
{
	if (t->cap)
		memset(t->slots, 0, t->cap * sizeof(*t->slots));
	t->n = 0;
}

void name_table_release(struct name_table *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
