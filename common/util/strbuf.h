/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A growable byte buffer, always NUL-terminated once it holds memory, so
 * it builds both text (SigV4 strings, DynamoDB keys) and binary encodings
 * (the codec).  A failed allocation is remembered: later appends do
 * nothing, and the builder checks once, at strbuf_detach() or ->oom.
 */
#ifndef RTTQ_STRBUF_H
#define RTTQ_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Start zeroed (STRBUF_INIT or memset): an empty buffer owns no memory. */
struct strbuf {
	char *buf;  /* the bytes, then a NUL; NULL until memory is needed */
	size_t len; /* bytes added, without the NUL */
	size_t cap; /* bytes allocated */
	bool oom;   /* an allocation failed: appends are ignored from then on */
};

#define STRBUF_INIT { 0 }

/**
 * strbuf_add() - append @n bytes, which may include NULs.
 * @b: the buffer.
 * @data: the bytes; may be NULL when @n is 0.
 * @n: how many.
 *
 * Sets @b->oom instead of appending when memory runs out (or @b->oom was
 * already set); the bytes added before stay.
 */
RTTQ_API void strbuf_add(struct strbuf *b, const void *data, size_t n);

/**
 * strbuf_adds() - append the NUL-terminated string @s (without its NUL).
 * @b: the buffer.
 * @s: the string.
 */
RTTQ_API void strbuf_adds(struct strbuf *b, const char *s);

/**
 * strbuf_addc() - append one byte.
 * @b: the buffer.
 * @c: the byte (may be '\0').
 */
RTTQ_API void strbuf_addc(struct strbuf *b, char c);

/**
 * strbuf_addf() - append printf-style formatted text.
 * @b: the buffer.
 * @fmt: the format, then its arguments.
 *
 * A format error (vsnprintf() failing) sets @b->oom like a failed
 * allocation: the result would be wrong either way.
 */
RTTQ_API void strbuf_addf(struct strbuf *b, const char *fmt, ...)
	RTTQ_PRINTF(2, 3);

/**
 * strbuf_reserve() - make room for @n more bytes now, so that appends up to
 * that size do not reallocate (a builder that knows its usual size).
 * @b: the buffer.
 * @n: bytes about to be added.
 *
 * Sets @b->oom when the memory cannot be had.
 */
RTTQ_API void strbuf_reserve(struct strbuf *b, size_t n);

/**
 * strbuf_detach() - take the bytes out of @b, which is left empty.
 * @b: the buffer.
 * @len: receives the length without the NUL; may be NULL.
 *
 * @return the malloc()ed, NUL-terminated bytes, now the caller's to free()
 * ("" when nothing was added); NULL when @b->oom is set or the empty
 * string cannot be allocated, after releasing whatever @b held.
 */
RTTQ_API char *strbuf_detach(struct strbuf *b, size_t *len);

/**
 * strbuf_release() - free the bytes and leave @b empty (and usable again).
 * @b: the buffer; its oom flag is cleared too.
 */
RTTQ_API void strbuf_release(struct strbuf *b);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_STRBUF_H */
