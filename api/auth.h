/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bearer-token authentication of rttq-api (--auth-token-file).  The token
 * is kept only as its SHA-256, and a presented credential is hashed and
 * compared with CRYPTO_memcmp, so neither its length nor its first wrong
 * byte shows in the time a refusal takes.
 */
#ifndef RTTQ_API_AUTH_H
#define RTTQ_API_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

#define AUTH_DIGEST_LEN 32 /* SHA-256 */
#define AUTH_TOKEN_MAX 4096 /* bytes of token file accepted */

struct auth {
	unsigned char digest[AUTH_DIGEST_LEN]; /* SHA-256 of the token */
};

/**
 * auth_load_token() - read the token from @path into @a.
 * @a: receives the token's digest.
 * @path: a file holding the token; one trailing "\n" or "\r\n" is dropped.
 * @err: names @path and what is wrong, never the token itself.
 *
 * The token must be 1..AUTH_TOKEN_MAX bytes of visible ASCII (no blanks or
 * control characters: it travels in an HTTP header).
 *
 * @return 0, -errno of open/read, -EINVAL (empty, too long, bad bytes),
 *         -ENOMEM.
 */
int auth_load_token(struct auth *a, const char *path, struct rttq_error *err);

/**
 * auth_set_token() - set @a from @token (@len bytes), as auth_load_token()
 * does after reading the file.
 *
 * @return 0, -EINVAL (empty, too long, bad bytes), -ENOMEM.
 */
int auth_set_token(struct auth *a, const char *token, size_t len,
		   struct rttq_error *err);

/**
 * auth_check() - does @header, an Authorization header value, carry the
 * token?  "Bearer" is matched case-insensitively (RFC 7235), then one or
 * more spaces, then the token.
 * @a: the loaded token.
 * @header: the header value; NULL when the request has none.
 *
 * @return true when the token matches.
 */
bool auth_check(const struct auth *a, const char *header);

#endif /* RTTQ_API_AUTH_H */
