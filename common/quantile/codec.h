/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Versioned, checksummed binary encoding of a t-digest with its count, sum,
 * min and max: the bytes every store record carries.  The byte layout is
 * specified at the top of codec.c.
 */
#ifndef RTTQ_CODEC_H
#define RTTQ_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct tdigest;

#define CODEC_VERSION 1
/* Upper bound on an encoded digest the decoder accepts. */
#define CODEC_MAX_BYTES (64 * 1024)

/* Codec errors, a reserved negative range below every errno. */
enum codec_error {
	CODEC_E_TRUNCATED = -4096, /* input ends inside a field */
	CODEC_E_MAGIC,             /* not a digest at all */
	CODEC_E_VERSION,           /* a version this build cannot read */
	CODEC_E_CHECKSUM,          /* CRC-32 mismatch: corrupted bytes */
	CODEC_E_OVERSIZED,         /* longer than CODEC_MAX_BYTES or trailing data */
	CODEC_E_INVALID,           /* well-formed but impossible values */
};

/**
 * codec_encode() - encode @td.
 * @td: digest (compressed as a side effect).
 * @out: receives a malloc'd buffer the caller frees.
 * @len: receives its length in bytes.
 *
 * @return 0, -ENOMEM.
 */
RTTQ_API int codec_encode(struct tdigest *td, uint8_t **out, size_t *len);

/**
 * codec_decode() - validate and decode bytes made by codec_encode().
 * @buf: the bytes.
 * @len: their length.
 * @out: receives the digest.
 * @err: receives a message naming the first problem found; may be NULL.
 *
 * @return 0, a CODEC_E_* code, -ENOMEM.
 */
RTTQ_API int codec_decode(const uint8_t *buf, size_t len, struct tdigest **out,
			  struct rttq_error *err);

/**
 * codec_strerror() - short description of a CODEC_E_* code.
 *
 * @return a static string ("unknown codec error" for other values).
 */
RTTQ_API const char *codec_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_CODEC_H */
