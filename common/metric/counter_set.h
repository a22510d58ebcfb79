/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A group's counters for one period: named exact u64 totals, kept sorted
 * by name, merged by adding (periods into rollups, hosts into fleet
 * answers) and stored as one record's bytes (metric METRIC_COUNTERS).
 *
 * Byte layout, version 1 (varint = LEB128, varint.h):
 *   0   2   magic "CS"
 *   2   1   version (1)
 *   3   var n: number of counters
 *   ..  var n times: name length (1 .. METRIC_NAME_MAX - 1), the name's
 *           bytes (metric_name_valid(), strictly increasing), the value
 *   ..  4   CRC-32 (zlib) of every byte before it, little-endian
 * An empty set is valid (a period with no counter moved is not written).
 */
#ifndef RTTQ_COUNTER_SET_H
#define RTTQ_COUNTER_SET_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "metric.h"
#include "rttq_export.h"
#include "strbuf.h"

#ifdef __cplusplus
extern "C" {
#endif

#define COUNTER_SET_MAX 4096 /* counters in one set; a decoder refuses more */

struct counter {
	char name[METRIC_NAME_MAX];
	uint64_t value;
};

struct counter_set {
	struct counter *v; /* sorted by name, names unique */
	size_t n, cap;
};

#define COUNTER_SET_INIT {NULL, 0, 0}

/** counter_set_free() - release @s's memory and leave it empty. */
RTTQ_API void counter_set_free(struct counter_set *s);

/** counter_set_clear() - remove every counter, keeping the memory for
 * the next period. */
RTTQ_API void counter_set_clear(struct counter_set *s);

/**
 * counter_set_add() - add @delta to counter @name (created at 0).
 *
 * @return 0; -EINVAL for a name metric_name_valid() refuses or a set
 *         already holding COUNTER_SET_MAX counters; -EOVERFLOW when the
 *         sum would pass 2^64 - 1 (the value is left unchanged); -ENOMEM.
 */
RTTQ_API int counter_set_add(struct counter_set *s, const char *name,
			     uint64_t delta);

/**
 * counter_set_merge() - add every counter of @src to @dst.
 *
 * @return 0 or counter_set_add()'s error (@dst then holds part of @src).
 */
RTTQ_API int counter_set_merge(struct counter_set *dst,
			       const struct counter_set *src);

/** counter_set_get() - the value of @name, 0 when absent. */
RTTQ_API uint64_t counter_set_get(const struct counter_set *s,
				  const char *name);

/**
 * counter_set_encode() - append @s in the byte layout above to @out.
 *
 * @return 0, or -ENOMEM (@out's error flag).
 */
RTTQ_API int counter_set_encode(const struct counter_set *s,
				struct strbuf *out);

/**
 * counter_set_decode() - replace @out's contents with the set in @p.
 * @err: receives what is wrong with the bytes; may be NULL.
 *
 * @return 0; -EBADMSG for bytes that are not a valid version-1 set
 *         (damaged stored data: bad magic, CRC, varint, name, order,
 *         trailing bytes); -ENOTSUP for a newer version; -ENOMEM.
 */
RTTQ_API int counter_set_decode(const uint8_t *p, size_t len,
				struct counter_set *out,
				struct rttq_error *err);

/**
 * counter_name_match() - whether counter @name matches @pattern, where
 * '*' stands for any run of characters (dots included: "retrans.*",
 * "drops.*.no_socket", "*").  Every other character matches itself.
 *
 * @return 1 on a match, else 0.
 */
RTTQ_API int counter_name_match(const char *pattern, const char *name);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_COUNTER_SET_H */
