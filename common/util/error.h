/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Errors as values: every rttq function returns 0 or a negative errno and,
 * when the caller passes a struct rttq_error, also a sentence a user can act
 * on ("store sqlite:/x.db: unable to open database file").  Callers that do
 * not care pass NULL.
 *
 * One code means one thing everywhere, so a caller can act on the code
 * alone (retry, overwrite, answer 4xx or 5xx) and never mistakes a network
 * fault for damaged data:
 *
 *   -EINVAL        the caller's or user's input is wrong (flag, parameter,
 *                  URL, a record to write)
 *   -EREMOTEIO     a server refused a request we built as invalid
 *                  (DynamoDB's ValidationException and its other client
 *                  errors): a fault on our side of the wire, never the
 *                  user's input, so never a 400
 *   -ENOMEM        out of memory
 *   -EBADMSG       a stored record is damaged: a record, digest, item or
 *                  spool frame fails validation.  Nothing else returns
 *                  it: a writer may replace what gave -EBADMSG.  (A
 *                  database file the engine cannot read is -EIO: the
 *                  store failed, not one record.)
 *   -ENOTSUP       (= -EOPNOTSUPP) not supported: stored data of a newer
 *                  schema or digest version than this build reads, an
 *                  operation the server does not offer
 *   -EPROTO        a server's reply broke its protocol (malformed HTTP,
 *                  JSON that is not what the API returns); may be retried
 *   -EKEYREJECTED  TLS: the server's certificate failed verification or
 *                  the handshake failed; retrying will not help
 *   -ECONNREFUSED, -ECONNRESET, -EHOSTUNREACH, -ENETUNREACH, -ETIMEDOUT
 *                  the network (transport) failed
 *   -ENOENT        a named thing does not exist (file, host name, table)
 *   -EMSGSIZE      a reply larger than we accept
 *   -EIO           a service or device failed at its job (HTTP 5xx after
 *                  the last retry, an SQLite I/O error or damaged file)
 *   -EBUSY         locked or throttled past the retries
 *   -EACCES        permission denied (file mode, AWS credentials)
 *   -ENOSPC, -EFBIG  no room left (disk, a bounded file or table)
 *   -ECANCELED     the caller gave up on the work (rttq-api's --timeout)
 *   -EAGAIN        no room now (a full queue); try again shortly
 *   -ESTALE        a conditional write found the stored record changed
 *                  since it was read (store_put_fleet(): a fleet span
 *                  marked stale again while it was rebuilt); nothing was
 *                  written, the next run redoes it
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
