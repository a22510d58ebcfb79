// SPDX-License-Identifier: BSD-2-Clause
/*
 * Name table of common/util/name_table.h: the FNV-1a test vectors, finds
 * and adds across growth, duplicates refused, a reserved table that never
 * grows, and a clear-and-rebuild after dropping names.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "name_table.h"

#define NAMES 1000

static char names[NAMES][16];

static void test_hash(void)
{
	check_section("FNV-1a 64 test vectors");
	CHECK(name_hash("") == 0xcbf29ce484222325ull, "empty");
	CHECK(name_hash("a") == 0xaf63dc4c8601ec8cull, "\"a\"");
	CHECK(name_hash("foobar") == 0x85944171f73967e8ull, "\"foobar\"");
}

static void test_add_find_grow(void)
{
	struct name_table t = { 0 };
	uint32_t v = 0;
	size_t i;

	check_section("add and find across growth");
	CHECK(name_table_find(&t, "all", &v) == -ENOENT, "empty table");
	for (i = 0; i < NAMES; i++) {
		snprintf(names[i], sizeof(names[i]), "raddr:%zu", i);
		CHECK(name_table_add(&t, names[i], (uint32_t)i) == 0, "add %zu",
		      i);
	}
	CHECK(t.n == NAMES && t.cap >= 2 * NAMES, "n %zu cap %zu", t.n, t.cap);
	CHECK((t.cap & (t.cap - 1)) == 0, "cap %zu not a power of two", t.cap);
	for (i = 0; i < NAMES; i++)
		CHECK(name_table_find(&t, names[i], &v) == 0 && v == i,
		      "find %s: %u", names[i], v);
	CHECK(name_table_find(&t, "raddr:1000", NULL) == -ENOENT, "absent");
	CHECK(name_table_add(&t, "raddr:7", 99) == -EEXIST, "duplicate");
	CHECK(name_table_find(&t, "raddr:7", &v) == 0 && v == 7,
	      "duplicate changed the value: %u", v);
	name_table_release(&t);
	CHECK(!t.slots && !t.cap && !t.n, "release leaves an empty table");
	name_table_release(&t);
}

/* The series table's use: reserve, fill, drop some, clear, re-add. */
static void test_reserve_clear_rebuild(void)
{
	struct name_table t = { 0 };
	const void *slots;
	size_t cap, i, w = 0;
	uint32_t v;

	check_section("reserve, then clear and rebuild without allocating");
	CHECK(name_table_reserve(&t, 100) == 0, "reserve");
	cap = t.cap;
	slots = t.slots;
	CHECK(cap >= 200, "cap %zu", cap);
	for (i = 0; i < 100; i++)
		name_table_add(&t, names[i], (uint32_t)i);
	CHECK(t.cap == cap && t.slots == slots, "grew within the reserve");
	/* Keep every third name, compacted to the front. */
	name_table_clear(&t);
	CHECK(t.n == 0 && name_table_find(&t, names[0], NULL) == -ENOENT,
	      "clear forgets");
	for (i = 0; i < 100; i += 3)
		CHECK(name_table_add(&t, names[i], (uint32_t)w++) == 0,
		      "re-add %zu", i);
	CHECK(t.cap == cap && t.slots == slots, "rebuild allocated");
	for (i = 0; i < 100; i++) {
		int rc = name_table_find(&t, names[i], &v);

		if (i % 3)
			CHECK(rc == -ENOENT, "%s still there", names[i]);
		else
			CHECK(rc == 0 && v == i / 3, "%s: rc %d value %u",
			      names[i], rc, v);
	}
	CHECK(name_table_reserve(&t, 10) == 0 && t.cap == cap,
	      "a smaller reserve shrank the table");
	name_table_release(&t);
}

int main(void)
{
	test_hash();
	test_add_find_grow();
	test_reserve_clear_rebuild();
	return check_report();
}
