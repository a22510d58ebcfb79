/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Times and durations as users type them: RFC 3339 date-times (Z or an
 * offset, fractional seconds allowed) or integer epoch seconds, and
 * durations such as "400d", "12h", "5m", "30s" or "60".  Strict: the whole
 * text must parse, every field must be in range, and errors quote the text.
 */
#ifndef RTTQ_TIMEPARSE_H
#define RTTQ_TIMEPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Latest accepted time: 9999-12-31T23:59:59Z, the last RFC 3339 second. */
#define TIMEPARSE_MAX_S INT64_C(253402300799)
/* Room for "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define TIMEPARSE_RFC3339_LEN 21

/**
 * timeparse_time() - parse an RFC 3339 date-time or integer epoch seconds.
 * @text: e.g. "2023-11-15T00:00:00Z", "2023-11-15T01:30:00.25+01:30",
 *        "1700006400".
 * @sec_out: receives whole UTC epoch seconds (floor of the instant).
 * @nsec_out: receives the fraction, 0..999999999 ns; may be NULL.
 * @err: receives a message quoting @text; may be NULL.
 *
 * Accepts years 0000..9999 after applying the offset, resulting in an
 * instant in [0, TIMEPARSE_MAX_S]; 'T' or 't' between date and time; 'Z',
 * 'z' or +hh:mm / -hh:mm.  Leap seconds (second 60) are refused.
 *
 * @return 0, -EINVAL for anything else (trailing text, Feb 30, hour 24,
 *         an instant before 1970, ...).
 */
RTTQ_API int timeparse_time(const char *text, int64_t *sec_out,
			    long *nsec_out, struct rttq_error *err);

/**
 * timeparse_duration() - parse a duration: digits, then optionally one of
 * s, m, h, d (seconds when absent).
 * @text: e.g. "400d", "1h", "5s", "60".
 * @sec_out: receives seconds, > 0.
 * @err: receives a message quoting @text; may be NULL.
 *
 * @return 0, -EINVAL (empty, zero, unknown unit, trailing text), -ERANGE
 *         (more than TIMEPARSE_MAX_S seconds).
 */
RTTQ_API int timeparse_duration(const char *text, int64_t *sec_out,
				struct rttq_error *err);

/**
 * timeparse_duration_ms() - parse a duration that may be shorter than a
 * second: digits, then optionally one of ms, s, m, h, d (seconds when
 * absent, as timeparse_duration()).
 * @text: e.g. "250ms", "10m", "5".
 * @ms_out: receives milliseconds, > 0.
 * @err: receives a message quoting @text; may be NULL.
 *
 * @return 0, -EINVAL (empty, zero, unknown unit, trailing text), -ERANGE
 *         (more than TIMEPARSE_MAX_S seconds).
 */
RTTQ_API int timeparse_duration_ms(const char *text, int64_t *ms_out,
				   struct rttq_error *err);

/**
 * timeparse_format() - write @sec as "YYYY-MM-DDTHH:MM:SSZ".
 * @sec: UTC epoch seconds, 0..TIMEPARSE_MAX_S.
 * @buf: at least TIMEPARSE_RFC3339_LEN bytes.
 * @len: size of @buf.
 *
 * @return 0, -EINVAL when @sec is out of range or @buf too small (then
 *         @buf holds "" if it has room for it).
 */
RTTQ_API int timeparse_format(int64_t sec, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_TIMEPARSE_H */
