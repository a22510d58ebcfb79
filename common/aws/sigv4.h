/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * AWS Signature Version 4, header mode (the Authorization header), without
 * the AWS SDK: canonical request, string to sign, signing key and signature
 * as in the SigV4 reference, with OpenSSL for SHA-256 and HMAC-SHA256.
 * Checked against AWS's own signing test suite and curl --aws-sigv4.
 */
#ifndef RTTQ_SIGV4_H
#define RTTQ_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_TIMESTAMP_LEN 16   /* "YYYYMMDDTHHMMSSZ" */
#define SIGV4_HEX_LEN 64         /* SHA-256 digest as lowercase hex */
#define SIGV4_MAX_ADDED_HEADERS 3

/*
 * SIGV4_NO_NORMALIZE_PATH: sign the path segments as given, keeping "//",
 *   "." and ".."; S3 wants this, every other service normalises.
 * SIGV4_PATH_ENCODED: the path is already URI-encoded exactly as the service
 *   will see it and goes into the canonical request unchanged (S3); by
 *   default every byte outside RFC 3986 unreserved and '/' is %XX-encoded,
 *   which for a path already encoded on the wire is the double encoding the
 *   other services expect.
 * SIGV4_SIGN_CONTENT_SHA256: also send and sign x-amz-content-sha256 (the
 *   body hash); S3 requires it, others accept it.
 * SIGV4_TOKEN_UNSIGNED: send x-amz-security-token without signing it (the
 *   few services that add the token after signing); by default it is signed.
 */
enum sigv4_flags {
	SIGV4_NO_NORMALIZE_PATH = 1u << 0,
	SIGV4_PATH_ENCODED = 1u << 1,
	SIGV4_SIGN_CONTENT_SHA256 = 1u << 2,
	SIGV4_TOKEN_UNSIGNED = 1u << 3,
};

struct sigv4_header {
	const char *name;  /* any case; compared case-insensitively */
	const char *value; /* as sent; folded lines ("\r\n " or "\n ") allowed */
};

/*
 * What is being signed.  Every header listed is signed; duplicates are
 * allowed and are joined with ',' in the order given.  The request must
 * carry a Host header (with ":port" when the URL has one).
 */
struct sigv4_request {
	const char *method;                 /* "GET", "POST", ... */
	const char *path;                   /* as sent, starts with '/', no query */
	const char *query;                  /* as sent, without '?'; NULL or "" */
	const struct sigv4_header *headers;
	size_t n_headers;
	const void *body;                   /* NULL when body_len is 0 */
	size_t body_len;
};

struct sigv4_credentials {
	const char *access_key_id;     /* e.g. "AKIDEXAMPLE" */
	const char *secret_access_key; /* never copied into messages */
	const char *session_token;     /* NULL or "" for long-term keys */
};

/* Who signs, where and when. */
struct sigv4_params {
	const struct sigv4_credentials *creds;
	const char *region;    /* "us-east-1" */
	const char *service;   /* "dynamodb", "iam", "s3", ... */
	const char *timestamp; /* UTC "YYYYMMDDTHHMMSSZ", see sigv4_timestamp() */
	unsigned int flags;    /* enum sigv4_flags, or 0 */
};

/*
 * Everything one signing produces.  The headers in add[] (x-amz-date unless
 * the request had one, x-amz-security-token with a session token,
 * x-amz-content-sha256 with SIGV4_SIGN_CONTENT_SHA256) and Authorization
 * must be sent along with the request's own headers.
 */
struct sigv4_signed {
	char *canonical_request;            /* step 1 of the reference */
	char *string_to_sign;               /* step 2 */
	char signature[SIGV4_HEX_LEN + 1];  /* step 3+4, lowercase hex */
	char *signed_headers;               /* "host;x-amz-date" */
	char *authorization;                /* value of the Authorization header */
	struct sigv4_header add[SIGV4_MAX_ADDED_HEADERS];
	size_t n_add;
	/* storage add[] points into (the token points into the credentials) */
	char amz_date[SIGV4_TIMESTAMP_LEN + 1];
	char payload_sha256[SIGV4_HEX_LEN + 1];
};

/**
 * sigv4_timestamp() - format a time as the SigV4 timestamp.
 * @param t seconds since the epoch.
 * @param out receives "YYYYMMDDTHHMMSSZ" (UTC) and a NUL.
 *
 * @return 0, -EOVERFLOW when @p t has no four-digit UTC year.
 */
RTTQ_API int sigv4_timestamp(time_t t, char out[SIGV4_TIMESTAMP_LEN + 1]);

/**
 * sigv4_canonical_request() - build the canonical request (reference step 1):
 * method, canonical URI, canonical query, canonical headers, signed
 * header list and hex SHA-256 of the body, joined by newlines.  The headers
 * the signer adds (see struct sigv4_signed) are included.
 * @param req the request.
 * @param params credentials (only the session token is read), timestamp,
 * flags.
 * @param out receives a malloc()ed string; free() it.
 * @param err receives a message on failure; may be NULL.
 *
 * @return 0, -EINVAL for a malformed request or parameter (the message says
 * which field), -ENOMEM, -EIO when OpenSSL fails.
 */
RTTQ_API int sigv4_canonical_request(const struct sigv4_request *req,
				     const struct sigv4_params *params,
				     char **out, struct rttq_error *err);

/**
 * sigv4_string_to_sign() - build the string to sign (reference step 2):
 * algorithm, timestamp, credential scope DATE/REGION/SERVICE/aws4_request
 * and the hex SHA-256 of @p canonical_request.
 * @param params timestamp, region and service are read.
 * @param canonical_request as made by sigv4_canonical_request().
 * @param out receives a malloc()ed string; free() it.
 * @param err receives a message on failure; may be NULL.
 *
 * @return 0, -EINVAL for a bad timestamp, region or service, -ENOMEM, -EIO
 * when OpenSSL fails.
 */
RTTQ_API int sigv4_string_to_sign(const struct sigv4_params *params,
				  const char *canonical_request, char **out,
				  struct rttq_error *err);

/**
 * sigv4_signature() - derive the signing key from the secret (HMAC chain
 * "AWS4"+secret, date, region, service, "aws4_request") and sign
 * @p string_to_sign with it (reference steps 3 and 4).
 * @param params secret, timestamp, region and service are read.
 * @param string_to_sign as made by sigv4_string_to_sign().
 * @param out receives 64 lowercase hex digits and a NUL.
 * @param err receives a message on failure; may be NULL.  It never holds the
 * secret.
 *
 * @return 0, -EINVAL for missing credentials or a bad scope, -EIO when
 * OpenSSL fails.
 */
RTTQ_API int sigv4_signature(const struct sigv4_params *params,
			     const char *string_to_sign,
			     char out[SIGV4_HEX_LEN + 1],
			     struct rttq_error *err);

/**
 * sigv4_authorization() - format the Authorization header value
 * "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
 * SignedHeaders=..., Signature=...".
 * @param params access key id, timestamp, region and service are read.
 * @param signed_headers ';'-joined lowercase header names, as signed.
 * @param signature hex signature from sigv4_signature().
 * @param out receives a malloc()ed string; free() it.
 * @param err receives a message on failure; may be NULL.
 *
 * @return 0, -EINVAL for a missing field, -ENOMEM.
 */
RTTQ_API int sigv4_authorization(const struct sigv4_params *params,
				 const char *signed_headers,
				 const char *signature, char **out,
				 struct rttq_error *err);

/**
 * sigv4_sign() - run all the steps for @p req and keep every intermediate.
 * @param req the request.
 * @param params credentials, region, service, timestamp, flags.
 * @param out zeroed, then filled in; release it with sigv4_signed_release()
 * whatever the result.
 * @param err receives a message on failure; may be NULL.  It never holds the
 * secret or the session token.
 *
 * @return 0, -EINVAL for a malformed request or parameter, -ENOMEM, -EIO
 * when OpenSSL fails.
 */
RTTQ_API int sigv4_sign(const struct sigv4_request *req,
			const struct sigv4_params *params,
			struct sigv4_signed *out, struct rttq_error *err);

/**
 * sigv4_signed_release() - free the strings @p s holds and zero it; the
 * struct itself belongs to the caller.  NULL does nothing.
 * @param s as filled in by sigv4_sign().
 */
RTTQ_API void sigv4_signed_release(struct sigv4_signed *s);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_SIGV4_H */
