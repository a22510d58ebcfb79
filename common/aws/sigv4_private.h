/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to SigV4 (sigv4.c, sigv4_canonical.c): what building the
 * canonical request takes from the signing steps, and the builder the
 * signing steps call.
 */
#ifndef RTTQ_SIGV4_PRIVATE_H
#define RTTQ_SIGV4_PRIVATE_H

#include <stdbool.h>

#include "sigv4.h"
#include "strbuf.h"

static inline bool has_text(const char *s)
{
	return s && *s;
}

/**
 * sigv4_finish_string() - hand the string built in @b over to *@out (an
 * empty string when nothing was added); an allocation failure during any
 * append is reported here, once.
 * @b: the buffer, left empty.
 * @out: receives the malloc()ed string, or NULL.
 * @err: receives the message; may be NULL.
 * @what: what was built, for the message ("string to sign").
 *
 * @return 0, or -ENOMEM.
 */
int sigv4_finish_string(struct strbuf *b, char **out, struct rttq_error *err,
			const char *what);

/**
 * sigv4_sha256_hex() - SHA-256 of @n bytes as lowercase hex.
 * @data: the bytes; may be NULL when @n is 0.
 * @n: how many.
 * @out: receives the digest.
 * @err: receives the message; may be NULL.
 *
 * @return 0, or -EIO when OpenSSL fails.
 */
int sigv4_sha256_hex(const void *data, size_t n,
		     char out[SIGV4_HEX_LEN + 1], struct rttq_error *err);

/**
 * sigv4_check_params() - what every step needs: parameters with a
 * well-formed timestamp.
 * @p: the parameters; may be NULL (refused).
 * @err: receives the message; may be NULL.
 *
 * @return 0, or -EINVAL.
 */
int sigv4_check_params(const struct sigv4_params *p, struct rttq_error *err);

/**
 * sigv4_session_token() - the session token to send, if any.
 * @p: the parameters.
 *
 * @return the token, or NULL when the credentials have none.
 */
const char *sigv4_session_token(const struct sigv4_params *p);

/**
 * sigv4_build_canonical() - step 1, with its by-products
 * (sigv4_canonical.c).
 * @req: the request, checked here.
 * @p: the parameters (timestamp, flags, credentials for the token).
 * @s: receives the signed header list, the headers to add, the payload
 * hash and X-Amz-Date.
 * @out: receives the malloc()ed canonical request.
 * @err: receives the message; may be NULL.
 *
 * @return 0, -EINVAL (a malformed request or parameters), -ENOMEM, or
 * -EIO (OpenSSL).
 */
int sigv4_build_canonical(const struct sigv4_request *req,
			  const struct sigv4_params *p, struct sigv4_signed *s,
			  char **out, struct rttq_error *err);

#endif /* RTTQ_SIGV4_PRIVATE_H */
