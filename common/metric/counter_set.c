// SPDX-License-Identifier: BSD-2-Clause
/*
 * Counter sets (counter_set.h): a sorted array, because a set holds tens
 * of counters, is built once per period and merged in name order, where a
 * hash would only add allocation and lose the order the bytes need.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "counter_set.h"
#include "varint.h"

#define MAGIC0 'C'
#define MAGIC1 'S'
#define VERSION 1
#define CRC_BYTES 4

void counter_set_free(struct counter_set *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

void counter_set_clear(struct counter_set *s)
{
	s->n = 0;
}

/* Index of @name, or of where it would go (*found 0). */
static size_t find(const struct counter_set *s, const char *name, int *found)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->v[mid].name, name);

		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

int counter_set_add(struct counter_set *s, const char *name, uint64_t delta)
{
	int found;
	size_t i = find(s, name, &found);

	if (found) {
		if (s->v[i].value > UINT64_MAX - delta)
			return -EOVERFLOW;
		s->v[i].value += delta;
		return 0;
	}
	if (!metric_name_valid(name) || s->n >= COUNTER_SET_MAX)
		return -EINVAL;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct counter *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(s->v[0]));
	strcpy(s->v[i].name, name);
	s->v[i].value = delta;
	s->n++;
	return 0;
}

int counter_set_merge(struct counter_set *dst, const struct counter_set *src)
{
	size_t i;

	for (i = 0; i < src->n; i++) {
		int rc = counter_set_add(dst, src->v[i].name, src->v[i].value);

		if (rc)
			return rc;
	}
	return 0;
}

uint64_t counter_set_get(const struct counter_set *s, const char *name)
{
	int found;
	size_t i = find(s, name, &found);

	return found ? s->v[i].value : 0;
}

int counter_set_encode(const struct counter_set *s, struct strbuf *out)
{
	size_t start = out->len, i;
	uint32_t crc;
	uint8_t b[CRC_BYTES];

	strbuf_addc(out, MAGIC0);
	strbuf_addc(out, MAGIC1);
	strbuf_addc(out, VERSION);
	varint_put(out, s->n);
	for (i = 0; i < s->n; i++) {
		size_t len = strlen(s->v[i].name);

		varint_put(out, len);
		strbuf_add(out, s->v[i].name, len);
		varint_put(out, s->v[i].value);
	}
	if (out->oom)
		return -ENOMEM;
	crc = (uint32_t)crc32(0, (const Bytef *)out->buf + start,
			      (uInt)(out->len - start));
	for (i = 0; i < CRC_BYTES; i++)
		b[i] = (uint8_t)(crc >> (8 * i));
	strbuf_add(out, b, CRC_BYTES);
	return out->oom ? -ENOMEM : 0;
}

static int damaged(struct rttq_error *err, const char *why)
{
	return rttq_fail(err, -EBADMSG, "damaged counter set: %s", why);
}

int counter_set_decode(const uint8_t *p, size_t len, struct counter_set *out,
		       struct rttq_error *err)
{
	size_t off = 3, body, i;
	uint64_t n;
	uint32_t crc = 0;
	const char *why;
	int rc;

	counter_set_clear(out);
	if (len < 3 + 1 + CRC_BYTES || p[0] != MAGIC0 || p[1] != MAGIC1)
		return damaged(err, "no \"CS\" header");
	if (p[2] != VERSION)
		return rttq_fail(err, p[2] > VERSION ? -ENOTSUP : -EBADMSG,
				 "counter set version %u (this build reads %d)",
				 p[2], VERSION);
	body = len - CRC_BYTES;
	for (i = 0; i < CRC_BYTES; i++)
		crc |= (uint32_t)p[body + i] << (8 * i);
	if (crc != (uint32_t)crc32(0, p, (uInt)body))
		return damaged(err, "CRC mismatch");
	rc = varint_get(p, body, &off, &n, &why);
	if (rc)
		return damaged(err, why);
	if (n > COUNTER_SET_MAX)
		return damaged(err, "more counters than a set holds");
	for (i = 0; i < n; i++) {
		char name[METRIC_NAME_MAX];
		uint64_t name_len, value;

		rc = varint_get(p, body, &off, &name_len, &why);
		if (rc)
			return damaged(err, why);
		if (name_len == 0 || name_len >= METRIC_NAME_MAX ||
		    name_len > body - off)
			return damaged(err, "counter name length out of range");
		memcpy(name, p + off, name_len);
		name[name_len] = '\0';
		off += name_len;
		if (!metric_name_valid(name))
			return damaged(err, "counter name with characters "
					    "outside [a-z0-9_.]");
		if (out->n && strcmp(out->v[out->n - 1].name, name) >= 0)
			return damaged(err, "counter names out of order");
		rc = varint_get(p, body, &off, &value, &why);
		if (rc)
			return damaged(err, why);
		rc = counter_set_add(out, name, value);
		if (rc)
			return rttq_fail(err, rc, "counter set: out of memory");
	}
	if (off != body)
		return damaged(err, "bytes after the last counter");
	return 0;
}

int counter_name_match(const char *pattern, const char *name)
{
	/* Greedy glob with one backtrack point: linear enough for names of
	 * at most 63 bytes. */
	const char *star = NULL, *retry = NULL;

	while (*name) {
		if (*pattern == '*') {
			star = pattern++;
			retry = name;
		} else if (*pattern == *name) {
			pattern++;
			name++;
		} else if (star) {
			pattern = star + 1;
			name = ++retry;
		} else {
			return 0;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}
