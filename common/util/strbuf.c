// SPDX-License-Identifier: BSD-2-Clause
/*
 * The growable buffer of strbuf.h.  Capacity doubles from 64 bytes, so n
 * appends cost O(n) copies in all; every size computation is checked
 * against SIZE_MAX before it is made.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

#define STRBUF_FIRST_CAP 64

void strbuf_reserve(struct strbuf *b, size_t n)
{
	size_t want, cap;
	char *p;

	if (b->oom)
		return;
	/* len + n + 1 (the NUL) must not wrap. */
	if (n > SIZE_MAX - b->len - 1) {
		b->oom = true;
		return;
	}
	want = b->len + n + 1;
	if (want <= b->cap)
		return;
	cap = b->cap ? b->cap : STRBUF_FIRST_CAP;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	p = realloc(b->buf, cap);
	if (!p) {
		b->oom = true;
		return;
	}
	p[b->len] = '\0';
	b->buf = p;
	b->cap = cap;
}

void strbuf_add(struct strbuf *b, const void *data, size_t n)
{
	strbuf_reserve(b, n);
	if (b->oom)
		return;
	if (n)
		memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void strbuf_adds(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

void strbuf_addc(struct strbuf *b, char c)
{
	strbuf_add(b, &c, 1);
}

void strbuf_addf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	strbuf_reserve(b, (size_t)n);
	if (b->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *strbuf_detach(struct strbuf *b, size_t *len)
{
	char *p;

	if (!b->oom && !b->buf)
		strbuf_reserve(b, 0);
	if (b->oom) {
		strbuf_release(b);
		return NULL;
	}
	p = b->buf;
	if (len)
		*len = b->len;
	memset(b, 0, sizeof(*b));
	return p;
}

void strbuf_release(struct strbuf *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}
