// SPDX-License-Identifier: BSD-2-Clause
/*
 * LEB128 varints (varint.h).
 */
#include <errno.h>

#include "varint.h"

void varint_put(struct strbuf *w, uint64_t v)
{
	uint8_t b[VARINT_MAX_BYTES];
	size_t n = 0;

	do {
		b[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	strbuf_add(w, b, n);
}

int varint_get(const uint8_t *p, size_t len, size_t *off, uint64_t *out,
	       const char **why)
{
	uint64_t v = 0;
	unsigned int shift = 0;

	for (;;) {
		uint8_t b;

		if (*off >= len) {
			*why = "input ends inside a varint";
			return -EBADMSG;
		}
		b = p[(*off)++];
		if (shift == 63 && (b & 0x7e)) {
			*why = "varint over 2^64";
			return -EBADMSG;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
		shift += 7;
		if (shift > 63) {
			*why = "varint longer than 10 bytes";
			return -EBADMSG;
		}
	}
	*out = v;
	return 0;
}
