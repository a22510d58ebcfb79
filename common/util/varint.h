/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * LEB128 varints, the integer encoding of every stored byte layout (the
 * digest codec, counter sets), kept in one place so every decoder refuses
 * a broken varint the same way.
 */
#ifndef RTTQ_VARINT_H
#define RTTQ_VARINT_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define VARINT_MAX_BYTES 10 /* 2^64 - 1 takes ten 7-bit groups */

/** varint_put() - append @v to @w, 7 bits a byte, low bits first. */
void varint_put(struct strbuf *w, uint64_t v);

/**
 * varint_get() - read one varint from @p[*@off .. @len) and advance *@off.
 * @why: receives what was wrong, for the caller's message.
 *
 * @return 0, or -EBADMSG when the input ends inside the varint, it is
 *         longer than VARINT_MAX_BYTES or its value exceeds 2^64 - 1.
 */
int varint_get(const uint8_t *p, size_t len, size_t *off, uint64_t *out,
	       const char **why);

#endif /* RTTQ_VARINT_H */
