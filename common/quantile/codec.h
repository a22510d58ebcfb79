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
 * @err: receives a message naming the first problem found (truncated,
 *       not a digest, checksum mismatch, trailing bytes, impossible
 *       values, ...); may be NULL.
 *
 * @return 0; -EBADMSG for bytes that are not a valid digest (damaged or
 *         never a digest); -ENOTSUP for a format version newer than this
 *         build reads; -ENOMEM.
 */
RTTQ_API int codec_decode(const uint8_t *buf, size_t len, struct tdigest **out,
			  struct rttq_error *err);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_CODEC_H */
