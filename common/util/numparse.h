/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Strict parsing of numeric flag values, shared by every program: the whole
 * text must be the number, within bounds, or the error names the flag, the
 * text and what was expected ("--interval '0': expected an integer 1..60").
 */
#ifndef RTTQ_NUMPARSE_H
#define RTTQ_NUMPARSE_H

#include <stdint.h>

#include "error.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * numparse_uint() - parse a decimal integer in [@min, @max].
 * @flag: the flag's name for the message ("--interval").
 * @text: the value as given.
 * @min: smallest value accepted.
 * @max: largest value accepted.
 * @out: receives the value.
 * @err: receives the message; may be NULL.
 *
 * @return 0, -EINVAL (not an integer, a sign, trailing text, out of range).
 */
RTTQ_API int numparse_uint(const char *flag, const char *text, uint64_t min,
			   uint64_t max, uint64_t *out, struct rttq_error *err);

/**
 * numparse_real() - parse a finite decimal number in [@min, @max].
 * @flag: the flag's name for the message.
 * @text: the value as given.
 * @min: smallest value accepted.
 * @max: largest value accepted.
 * @out: receives the value.
 * @err: receives the message; may be NULL.
 *
 * @return 0, -EINVAL (not a number, trailing text, NaN, out of range).
 */
RTTQ_API int numparse_real(const char *flag, const char *text, double min,
			   double max, double *out, struct rttq_error *err);

/**
 * numparse_rate() - parse a sampling rate: a percentage ("1%", "0.5%",
 * "100%") or a fraction ("1/64"), above 0 and at most 1.
 * @flag: the flag's name for the message ("--sample").
 * @text: the value as given.
 * @out: receives the rate, in (0, 1].
 * @err: receives the message; may be NULL.
 *
 * @return 0, -EINVAL (neither form, trailing text, 0 or above 100 %).
 */
RTTQ_API int numparse_rate(const char *flag, const char *text, double *out,
			   struct rttq_error *err);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_NUMPARSE_H */
