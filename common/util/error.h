/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Errors as values: librttq functions return 0 or a negative errno and, when
 * the caller passes a struct rttq_error, also a sentence a user can act on
 * ("store sqlite:/x.db: unable to open database file").  Callers that do not
 * care pass NULL.
 */
#ifndef RTTQ_ERROR_H
#define RTTQ_ERROR_H

#include <stddef.h>

#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RTTQ_ERROR_MSG_MAX 512

struct rttq_error {
	int code;                      /* negative errno or module code */
	char msg[RTTQ_ERROR_MSG_MAX];  /* human-readable, never holds secrets */
};

/**
 * rttq_fail() - record an error and return its code.
 * @err: where to record it; may be NULL.
 * @code: negative errno or module error code (returned as is).
 * @fmt: printf-style message naming what was wrong.
 *
 * @return @code, so callers can write `return rttq_fail(err, -EINVAL, ...)`.
 */
RTTQ_API int rttq_fail(struct rttq_error *err, int code, const char *fmt, ...)
	RTTQ_PRINTF(3, 4);

/**
 * rttq_error_prefix() - prepend context to an already recorded message.
 * @err: the error to amend; may be NULL.
 * @fmt: printf-style prefix; ": " is inserted before the old message.
 *
 * @return err->code (or 0 when @err is NULL).
 */
RTTQ_API int rttq_error_prefix(struct rttq_error *err, const char *fmt, ...)
	RTTQ_PRINTF(2, 3);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_ERROR_H */
