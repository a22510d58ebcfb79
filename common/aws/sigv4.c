// SPDX-License-Identifier: BSD-2-Clause
/*
 * AWS Signature Version 4 in header mode (see sigv4.h): the steps after
 * the canonical request (string to sign, signature, Authorization header)
 * and what every step shares.  The file reads from the bottom up: hashing,
 * input checks, and last the public steps; sigv4_canonical.c builds the
 * canonical request.  Secrets are only ever handed to HMAC and wiped
 * afterwards; no message quotes them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4_private.h"
#include "strbuf.h"
#include "urlcode.h"

#define SHA256_LEN 32
#define SCOPE_TERMINATOR "aws4_request"

/* Hand the string over to *out (an empty string when nothing was added);
 * an allocation failure during any append is reported here, once. */
int sigv4_finish_string(struct strbuf *b, char **out, struct rttq_error *err,
			const char *what)
{
	*out = strbuf_detach(b, NULL);
	if (!*out)
		return rttq_fail(err, -ENOMEM, "sigv4: out of memory building the %s",
				 what);
	return 0;
}

/* ------------------------------------------------------------------------
 * Hashing
 * ------------------------------------------------------------------------ */

int sigv4_sha256_hex(const void *data, size_t n, char out[SIGV4_HEX_LEN + 1],
		     struct rttq_error *err)
{
	unsigned char md[SHA256_LEN];
	unsigned int md_len = 0;

	if (!EVP_Digest(n ? data : "", n, md, &md_len, EVP_sha256(), NULL) ||
	    md_len != SHA256_LEN)
		return rttq_fail(err, -EIO, "sigv4: OpenSSL SHA-256 failed");
	urlcode_hex_encode(md, SHA256_LEN, out);
	return 0;
}

static int hmac_sha256(const void *key, size_t key_len, const void *data,
		       size_t n, unsigned char out[SHA256_LEN])
{
	unsigned int out_len = 0;

	if (key_len > INT32_MAX)
		return -EINVAL;
	if (!HMAC(EVP_sha256(), key, (int)key_len, data, n, out, &out_len) ||
	    out_len != SHA256_LEN)
		return -EIO;
	return 0;
}

/* ------------------------------------------------------------------------
 * Input checks.  Messages name the field, never its value when it could be
 * secret.
 * ------------------------------------------------------------------------ */

/* Region, service and access key id go into the credential scope, where
 * '/', ',' and '=' would change its meaning. */
static bool is_scope_word(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c >= 0x7f || c == '/' || c == ',' || c == '=')
			return false;
	}
	return true;
}

static bool is_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int field2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* "YYYYMMDDTHHMMSSZ" with plausible month, day and time of day. */
static bool is_timestamp(const char *s)
{
	if (!s || strlen(s) != SIGV4_TIMESTAMP_LEN)
		return false;
	if (!is_digits(s, 8) || s[8] != 'T' || !is_digits(s + 9, 6) ||
	    s[15] != 'Z')
		return false;
	return field2(s + 4) >= 1 && field2(s + 4) <= 12 &&
	       field2(s + 6) >= 1 && field2(s + 6) <= 31 &&
	       field2(s + 9) <= 23 && field2(s + 11) <= 59 &&
	       field2(s + 13) <= 60;
}

/* What every step needs: parameters with a well-formed timestamp. */
int sigv4_check_params(const struct sigv4_params *p, struct rttq_error *err)
{
	if (!p)
		return rttq_fail(err, -EINVAL, "sigv4: no signing parameters");
	if (!is_timestamp(p->timestamp))
		return rttq_fail(err, -EINVAL,
				 "sigv4: timestamp must be UTC YYYYMMDDTHHMMSSZ");
	return 0;
}

/* The scope fields every step after the canonical request needs. */
static int check_scope(const struct sigv4_params *p, struct rttq_error *err)
{
	int rc = sigv4_check_params(p, err);

	if (rc)
		return rc;
	if (!is_scope_word(p->region))
		return rttq_fail(err, -EINVAL,
				 "sigv4: region is empty or holds a space, '/', ',' or '='");
	if (!is_scope_word(p->service))
		return rttq_fail(err, -EINVAL,
				 "sigv4: service is empty or holds a space, '/', ',' or '='");
	return 0;
}

const char *sigv4_session_token(const struct sigv4_params *p)
{
	if (p->creds && has_text(p->creds->session_token))
		return p->creds->session_token;
	return NULL;
}

/* ------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------ */

/* The credential scope DATE/REGION/SERVICE/aws4_request (SigV4, "Create a
 * string to sign", step 3), as both the string to sign and the
 * Authorization header carry it. */
static void add_scope(struct strbuf *b, const struct sigv4_params *params)
{
	strbuf_add(b, params->timestamp, 8);
	strbuf_addc(b, '/');
	strbuf_adds(b, params->region);
	strbuf_addc(b, '/');
	strbuf_adds(b, params->service);
	strbuf_adds(b, "/" SCOPE_TERMINATOR);
}

int sigv4_timestamp(time_t t, char out[SIGV4_TIMESTAMP_LEN + 1])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_year < 1000 - 1900 ||
	    tm.tm_year > 9999 - 1900)
		return -EOVERFLOW;
	if (strftime(out, SIGV4_TIMESTAMP_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) !=
	    SIGV4_TIMESTAMP_LEN)
		return -EOVERFLOW;
	return 0;
}

int sigv4_string_to_sign(const struct sigv4_params *params,
			 const char *canonical_request, char **out,
			 struct rttq_error *err)
{
	char hash[SIGV4_HEX_LEN + 1];
	struct strbuf b = STRBUF_INIT;
	int ret;

	*out = NULL;
	ret = check_scope(params, err);
	if (ret < 0)
		return ret;
	if (!canonical_request)
		return rttq_fail(err, -EINVAL, "sigv4: no canonical request");
	ret = sigv4_sha256_hex(canonical_request, strlen(canonical_request),
			       hash, err);
	if (ret < 0)
		return ret;
	strbuf_adds(&b, SIGV4_ALGORITHM "\n");
	strbuf_adds(&b, params->timestamp);
	strbuf_addc(&b, '\n');
	add_scope(&b, params);
	strbuf_addc(&b, '\n');
	strbuf_adds(&b, hash);
	return sigv4_finish_string(&b, out, err, "string to sign");
}

int sigv4_signature(const struct sigv4_params *params,
		    const char *string_to_sign, char out[SIGV4_HEX_LEN + 1],
		    struct rttq_error *err)
{
	unsigned char k[SHA256_LEN], k2[SHA256_LEN];
	const char *secret;
	char *key = NULL;
	size_t secret_len;
	int ret;

	out[0] = '\0';
	ret = check_scope(params, err);
	if (ret < 0)
		return ret;
	if (!params->creds || !has_text(params->creds->secret_access_key))
		return rttq_fail(err, -EINVAL, "sigv4: no secret access key");
	if (!string_to_sign)
		return rttq_fail(err, -EINVAL, "sigv4: no string to sign");
	secret = params->creds->secret_access_key;
	secret_len = strlen(secret);
	key = malloc(secret_len + 5);
	if (!key)
		return rttq_fail(err, -ENOMEM, "sigv4: out of memory deriving the key");
	memcpy(key, "AWS4", 4);
	memcpy(key + 4, secret, secret_len + 1);

	/* kDate = HMAC("AWS4" + secret, YYYYMMDD); kRegion = HMAC(kDate,
	 * region); kService = HMAC(kRegion, service); kSigning =
	 * HMAC(kService, "aws4_request"); signature = hex(HMAC(kSigning, sts)) */
	ret = hmac_sha256(key, secret_len + 4, params->timestamp, 8, k);
	if (!ret)
		ret = hmac_sha256(k, SHA256_LEN, params->region,
				  strlen(params->region), k2);
	if (!ret)
		ret = hmac_sha256(k2, SHA256_LEN, params->service,
				  strlen(params->service), k);
	if (!ret)
		ret = hmac_sha256(k, SHA256_LEN, SCOPE_TERMINATOR,
				  strlen(SCOPE_TERMINATOR), k2);
	if (!ret)
		ret = hmac_sha256(k2, SHA256_LEN, string_to_sign,
				  strlen(string_to_sign), k);
	if (!ret)
		urlcode_hex_encode(k, SHA256_LEN, out);

	OPENSSL_cleanse(key, secret_len + 4);
	OPENSSL_cleanse(k2, sizeof(k2));
	OPENSSL_cleanse(k, sizeof(k));
	free(key);
	if (ret < 0)
		return rttq_fail(err, ret, "sigv4: OpenSSL HMAC-SHA256 failed");
	return 0;
}

int sigv4_authorization(const struct sigv4_params *params,
			const char *signed_headers, const char *signature,
			char **out, struct rttq_error *err)
{
	struct strbuf b = STRBUF_INIT;
	int ret;

	*out = NULL;
	ret = check_scope(params, err);
	if (ret < 0)
		return ret;
	if (!params->creds || !is_scope_word(params->creds->access_key_id))
		return rttq_fail(err, -EINVAL,
				 "sigv4: access key id is empty or holds a space, '/', ',' or '='");
	if (!has_text(signed_headers) || !has_text(signature))
		return rttq_fail(err, -EINVAL,
				 "sigv4: no signed header list or signature");
	strbuf_adds(&b, SIGV4_ALGORITHM " Credential=");
	strbuf_adds(&b, params->creds->access_key_id);
	strbuf_addc(&b, '/');
	add_scope(&b, params);
	strbuf_adds(&b, ", SignedHeaders=");
	strbuf_adds(&b, signed_headers);
	strbuf_adds(&b, ", Signature=");
	strbuf_adds(&b, signature);
	return sigv4_finish_string(&b, out, err, "Authorization header");
}

int sigv4_sign(const struct sigv4_request *req,
	       const struct sigv4_params *params, struct sigv4_signed *out,
	       struct rttq_error *err)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = check_scope(params, err);
	if (ret < 0)
		return ret;
	if (!params->creds || !is_scope_word(params->creds->access_key_id))
		return rttq_fail(err, -EINVAL,
				 "sigv4: access key id is empty or holds a space, '/', ',' or '='");
	if (!has_text(params->creds->secret_access_key))
		return rttq_fail(err, -EINVAL, "sigv4: no secret access key");
	ret = sigv4_build_canonical(req, params, out, &out->canonical_request,
				    err);
	if (ret < 0)
		return ret;
	ret = sigv4_string_to_sign(params, out->canonical_request,
				   &out->string_to_sign, err);
	if (ret < 0)
		return ret;
	ret = sigv4_signature(params, out->string_to_sign, out->signature, err);
	if (ret < 0)
		return ret;
	return sigv4_authorization(params, out->signed_headers, out->signature,
				   &out->authorization, err);
}

void sigv4_signed_release(struct sigv4_signed *s)
{
	if (!s)
		return;
	free(s->canonical_request);
	free(s->string_to_sign);
	free(s->signed_headers);
	free(s->authorization);
	memset(s, 0, sizeof(*s));
}
