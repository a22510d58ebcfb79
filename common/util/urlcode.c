// SPDX-License-Identifier: BSD-2-Clause
/*
 * Hex and percent-encoding of urlcode.h.  SigV4 and the store URL parser
 * each had their own hex digit table and %XX decoder; they differ only in
 * how they treat '+' and a stray '%', which are now flags.
 */
#include <errno.h>
#include <stdbool.h>

#include "urlcode.h"

/* Value of one hex digit, either case; -1 for anything else. */
static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void urlcode_hex_encode(const void *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = in;
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static bool is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

void urlcode_encode(struct strbuf *b, const char *s, size_t n,
		    unsigned int flags)
{
	static const char digits[] = "0123456789ABCDEF";
	bool keep_slash = flags & URLCODE_KEEP_SLASH;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char pct[3];

		if (is_unreserved(c) || (keep_slash && c == '/')) {
			strbuf_addc(b, (char)c);
			continue;
		}
		pct[0] = '%';
		pct[1] = digits[c >> 4];
		pct[2] = digits[c & 0xf];
		strbuf_add(b, pct, 3);
	}
}

int urlcode_decode(struct strbuf *b, const char *s, size_t n,
		   unsigned int flags)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '%') {
			hi = i + 2 < n ? hex_digit(s[i + 1]) : -1;
			lo = i + 2 < n ? hex_digit(s[i + 2]) : -1;
			if (hi >= 0 && lo >= 0) {
				strbuf_addc(b, (char)(hi << 4 | lo));
				i += 2;
				continue;
			}
			if (flags & URLCODE_STRICT)
				return -EINVAL;
		}
		if (s[i] == '+' && (flags & URLCODE_PLUS_SPACE))
			strbuf_addc(b, ' ');
		else
			strbuf_addc(b, s[i]);
	}
	return 0;
}
