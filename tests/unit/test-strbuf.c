// SPDX-License-Identifier: BSD-2-Clause
/*
 * The growable buffer of common/util/strbuf.h: growth across many doublings
 * with the bytes intact, binary bytes with NULs inside, formatted appends,
 * the sticky out-of-memory flag (a size that cannot be had sets it) and who
 * owns the bytes after strbuf_detach() and strbuf_release().
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "strbuf.h"

static void test_empty(void)
{
	struct strbuf b = STRBUF_INIT;
	size_t len = 99;
	char *s;

	check_section("an empty buffer detaches as \"\" and owns nothing");
	CHECK(!b.buf && b.len == 0 && !b.oom, "STRBUF_INIT is not empty");
	strbuf_add(&b, NULL, 0);
	CHECK(b.len == 0 && !b.oom, "adding nothing changed the buffer");
	s = strbuf_detach(&b, &len);
	CHECK(s && *s == '\0' && len == 0, "detach of nothing: \"%s\" len %zu",
	      s ? s : "(null)", len);
	CHECK(!b.buf && b.len == 0 && b.cap == 0, "detach left bytes behind");
	free(s);
	strbuf_release(&b);
}

static void test_growth(void)
{
	struct strbuf b = STRBUF_INIT;
	size_t i, bad = 0;

	check_section("growth keeps every byte and the NUL after them");
	for (i = 0; i < 100000; i++)
		strbuf_addc(&b, (char)('a' + i % 26));
	CHECK(!b.oom && b.len == 100000, "len %zu oom %d", b.len, b.oom);
	CHECK(b.cap > b.len, "cap %zu leaves no room for the NUL", b.cap);
	for (i = 0; i < b.len; i++)
		bad += b.buf[i] != (char)('a' + i % 26);
	CHECK(bad == 0, "%zu bytes changed while growing", bad);
	CHECK(b.buf[b.len] == '\0', "no NUL after the bytes");
	strbuf_release(&b);
	CHECK(!b.buf && b.len == 0 && b.cap == 0, "release left bytes behind");

	strbuf_adds(&b, "usable again");
	CHECK(b.len == 12 && strcmp(b.buf, "usable again") == 0,
	      "after release: \"%s\"", b.buf ? b.buf : "(null)");
	strbuf_release(&b);
}

static void test_binary(void)
{
	static const unsigned char bytes[] = { 0, 1, 0, 0xff, 'x', 0 };
	struct strbuf b = STRBUF_INIT;
	size_t len = 0;
	char *p;

	check_section("binary bytes with NULs inside keep their length");
	strbuf_add(&b, bytes, sizeof(bytes));
	strbuf_addc(&b, '\0');
	strbuf_add(&b, bytes, sizeof(bytes));
	CHECK(b.len == 2 * sizeof(bytes) + 1, "len %zu", b.len);
	p = strbuf_detach(&b, &len);
	CHECK(p && len == 2 * sizeof(bytes) + 1, "detached len %zu", len);
	CHECK(p && memcmp(p, bytes, sizeof(bytes)) == 0 &&
	      p[sizeof(bytes)] == '\0' &&
	      memcmp(p + sizeof(bytes) + 1, bytes, sizeof(bytes)) == 0,
	      "bytes changed");
	CHECK(p && p[len] == '\0', "no NUL after binary bytes");
	free(p);
}

static void test_text(void)
{
	struct strbuf b = STRBUF_INIT;
	char *s, big[300];

	check_section("strings, bytes and formatted text append in order");
	strbuf_adds(&b, "d#");
	strbuf_addc(&b, 'h');
	strbuf_addf(&b, "#%u#%s", 60u, "all");
	CHECK(strcmp(b.buf, "d#h#60#all") == 0, "got \"%s\"", b.buf);
	/* A formatted append longer than the first allocation. */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	strbuf_addf(&b, "[%s]", big);
	CHECK(b.len == 10 + 2 + sizeof(big) - 1 && b.buf[10] == '[' &&
	      b.buf[b.len - 1] == ']' && b.buf[b.len] == '\0',
	      "long format: len %zu", b.len);
	s = strbuf_detach(&b, NULL);
	CHECK(s && strncmp(s, "d#h#60#all[zzz", 14) == 0, "detached \"%.20s\"",
	      s ? s : "(null)");
	free(s);
}

static void test_reserve(void)
{
	struct strbuf b = STRBUF_INIT;
	char *before;
	size_t i;

	check_section("reserved room takes appends without moving the bytes");
	strbuf_reserve(&b, 512);
	CHECK(!b.oom && b.cap >= 513 && b.len == 0, "cap %zu", b.cap);
	CHECK(b.buf && b.buf[0] == '\0', "reserved buffer is not a string");
	before = b.buf;
	for (i = 0; i < 512; i++)
		strbuf_addc(&b, 'r');
	CHECK(b.buf == before, "appends within the reserve reallocated");
	strbuf_release(&b);
}

static void test_oom(void)
{
	struct strbuf b = STRBUF_INIT;

	check_section("out of memory sticks until detach or release");
	strbuf_adds(&b, "kept");
	/* len + SIZE_MAX wraps: the same path as a failed realloc(). */
	strbuf_reserve(&b, SIZE_MAX);
	CHECK(b.oom, "an impossible size did not set oom");
	CHECK(b.len == 4 && strcmp(b.buf, "kept") == 0,
	      "bytes before the failure changed");
	strbuf_adds(&b, "more");
	strbuf_addc(&b, 'c');
	strbuf_addf(&b, "%d", 42);
	CHECK(b.oom && b.len == 4, "appends after oom: len %zu", b.len);
	CHECK(strbuf_detach(&b, NULL) == NULL, "detach after oom gave bytes");
	CHECK(!b.buf && !b.oom && b.len == 0, "detach after oom kept state");

	strbuf_add(&b, "x", SIZE_MAX);
	CHECK(b.oom && b.len == 0, "a huge add did not set oom");
	strbuf_release(&b);
	CHECK(!b.oom && !b.buf, "release kept the oom flag");
	strbuf_adds(&b, "fresh");
	CHECK(!b.oom && strcmp(b.buf, "fresh") == 0, "not usable after release");
	strbuf_release(&b);
}

int main(void)
{
	test_empty();
	test_growth();
	test_binary();
	test_text();
	test_reserve();
	test_oom();
	return check_report();
}
