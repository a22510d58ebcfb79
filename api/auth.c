// SPDX-License-Identifier: BSD-2-Clause
/*
 * Bearer-token authentication of rttq-api (see auth.h).  Hashing both
 * sides first makes the comparison cover equal-length buffers whatever
 * the client sends, and CRYPTO_memcmp does not stop at the first
 * difference.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth.h"

static int sha256(const void *data, size_t len,
		  unsigned char out[AUTH_DIGEST_LEN])
{
	unsigned int n = 0;

	if (!EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) ||
	    n != AUTH_DIGEST_LEN)
		return -ENOMEM;
	return 0;
}

int auth_set_token(struct auth *a, const char *token, size_t len,
		   struct rttq_error *err)
{
	size_t i;

	if (len == 0)
		return rttq_fail(err, -EINVAL, "the token is empty");
	if (len > AUTH_TOKEN_MAX)
		return rttq_fail(err, -EINVAL, "the token is longer than %d "
				 "bytes", AUTH_TOKEN_MAX);
	/* Say where, never what: the message may end up in a log. */
	for (i = 0; i < len; i++)
		if (token[i] <= ' ' || token[i] > '~')
			return rttq_fail(err, -EINVAL, "byte %zu of the token "
					 "is a blank, a control character or "
					 "not ASCII", i + 1);
	if (sha256(token, len, a->digest))
		return rttq_fail(err, -ENOMEM, "cannot hash the token");
	return 0;
}

int auth_load_token(struct auth *a, const char *path, struct rttq_error *err)
{
	char *buf = malloc(AUTH_TOKEN_MAX + 3);
	size_t len = 0;
	ssize_t n;
	int fd = -1, ret;

	if (!buf)
		return rttq_fail(err, -ENOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = rttq_fail(err, -errno, "cannot open %s: %s", path,
				strerror(errno));
		goto cleanup;
	}
	/* Room for the longest token, "\r\n" and one byte to see it is too
	 * long. */
	while (len < AUTH_TOKEN_MAX + 3) {
		n = read(fd, buf + len, AUTH_TOKEN_MAX + 3 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = rttq_fail(err, -errno, "cannot read %s: %s",
					path, strerror(errno));
			goto cleanup;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len && buf[len - 1] == '\n')
		len--;
	if (len && buf[len - 1] == '\r')
		len--;
	ret = auth_set_token(a, buf, len, err);
	if (ret)
		rttq_error_prefix(err, "%s", path);
cleanup:
	if (fd >= 0)
		close(fd);
	/* The token does not outlive this function in clear. */
	OPENSSL_cleanse(buf, AUTH_TOKEN_MAX + 3);
	free(buf);
	return ret;
}

bool auth_check(const struct auth *a, const char *header)
{
	unsigned char got[AUTH_DIGEST_LEN];
	const char *p;

	if (!header || strncasecmp(header, "Bearer ", 7))
		return false;
	for (p = header + 7; *p == ' '; p++)
		;
	if (sha256(p, strlen(p), got))
		return false;
	return CRYPTO_memcmp(got, a->digest, AUTH_DIGEST_LEN) == 0;
}
