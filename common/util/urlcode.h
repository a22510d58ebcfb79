/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Hex and URL percent-encoding (RFC 3986 2.1), written once: SigV4 hashes
 * in lowercase hex and re-encodes paths and queries canonically, and store
 * URLs carry %-escaped parameters.  Encoders append to a strbuf, so the
 * caller checks for out-of-memory once, when the buffer is detached.
 */
#ifndef RTTQ_URLCODE_H
#define RTTQ_URLCODE_H

#include <stddef.h>

#include "rttq_export.h"
#include "strbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

/* urlcode_encode() flags */
#define URLCODE_KEEP_SLASH 0x1u /* '/' stays as is (a path, not a segment) */

/* urlcode_decode() flags */
#define URLCODE_PLUS_SPACE 0x1u /* '+' stands for a space (HTML forms) */
#define URLCODE_STRICT 0x2u     /* a '%' without two hex digits is an error,
				 * not a literal '%' */

/**
 * urlcode_hex_encode() - write @n bytes as lowercase hex.
 * @in: the bytes.
 * @n: how many.
 * @out: receives 2 * @n hex digits and a NUL (2 * @n + 1 bytes).
 */
RTTQ_API void urlcode_hex_encode(const void *in, size_t n, char *out);

/**
 * urlcode_encode() - append @s[0..@n) percent-encoded: RFC 3986 unreserved
 * bytes (A-Z a-z 0-9 - . _ ~) as they are, every other byte as %XX with
 * uppercase hex, as SigV4's canonical request wants.
 * @b: the buffer; its oom flag reports a failed allocation.
 * @s: the bytes (may hold NULs).
 * @n: how many.
 * @flags: 0 or URLCODE_KEEP_SLASH.
 */
RTTQ_API void urlcode_encode(struct strbuf *b, const char *s, size_t n,
			     unsigned int flags);

/**
 * urlcode_decode() - append @s[0..@n) with every %XX (either case of hex)
 * turned back into its byte.
 * @b: the buffer; its oom flag reports a failed allocation.
 * @s: the text.
 * @n: how many bytes of it.
 * @flags: URLCODE_PLUS_SPACE, URLCODE_STRICT, or both, or 0: '+' is
 * then a plus and a stray '%' is copied as it is.
 *
 * @return 0, or -EINVAL with URLCODE_STRICT when a '%' is not followed by
 * two hex digits (what was decoded before it stays in @b).
 */
RTTQ_API int urlcode_decode(struct strbuf *b, const char *s, size_t n,
			    unsigned int flags);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_URLCODE_H */
