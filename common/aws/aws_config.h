/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Where an AWS client gets its region, endpoint and credentials: the
 * standard chain of environment variables and ~/.aws files, in the order
 * the AWS CLI and SDKs use, so an rttq host needs no configuration of its
 * own beyond what `aws` already uses.
 */
#ifndef RTTQ_AWS_CONFIG_H
#define RTTQ_AWS_CONFIG_H

#include <stdint.h>

#include "error.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where the credentials came from; the last two expire and are fetched
 * again by aws_config_refresh(). */
enum aws_credential_source {
	AWS_CREDS_NONE,
	AWS_CREDS_ENVIRONMENT,
	AWS_CREDS_PROFILE,
	AWS_CREDS_CONTAINER, /* ECS/EKS: AWS_CONTAINER_CREDENTIALS_*_URI */
	AWS_CREDS_INSTANCE,  /* EC2 instance metadata, IMDSv2 */
};

#define AWS_REFRESH_BEFORE_S 300 /* fetch new credentials this early */
#define AWS_METADATA_TIMEOUT_MS 1000

struct aws_config {
	char *region;            /* "eu-west-1" */
	char *endpoint;          /* "https://dynamodb.eu-west-1.amazonaws.com" */
	char *ca_file;           /* AWS_CA_BUNDLE, or NULL for the system store */
	char *access_key_id;
	char *secret_access_key; /* never logged; wiped on release */
	char *session_token;     /* NULL for long-term keys */
	char *profile;           /* profile the files were read for */
	enum aws_credential_source source;
	int64_t expires_s;       /* credentials' expiry, UTC epoch s; 0: never */
};

/**
 * aws_config_load() - resolve region, endpoint and credentials for one
 * service.
 *
 * Region: @p region, AWS_REGION, AWS_DEFAULT_REGION, then `region` in the
 * profile's section of the config file.  Endpoint: @p endpoint,
 * AWS_ENDPOINT_URL_<SERVICE> (upper case), AWS_ENDPOINT_URL, then
 * https://SERVICE.REGION.amazonaws.com.  Credentials: AWS_ACCESS_KEY_ID +
 * AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), then the profile in the
 * credentials file, then in the config file.  The profile is AWS_PROFILE or
 * "default"; the files are AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE or
 * ~/.aws/credentials and ~/.aws/config.  Then container credentials
 * (AWS_CONTAINER_CREDENTIALS_FULL_URI, or AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 * under http://169.254.170.2, with AWS_CONTAINER_AUTHORIZATION_TOKEN or
 * _TOKEN_FILE), then EC2 instance metadata with an IMDSv2 session token
 * (AWS_EC2_METADATA_SERVICE_ENDPOINT, default http://169.254.169.254;
 * AWS_EC2_METADATA_DISABLED=true skips it).
 * @param service lower-case service name, e.g. "dynamodb".
 * @param region overrides the chain when not NULL.
 * @param endpoint overrides the chain when not NULL.
 * @param out zeroed, then filled in; release it with aws_config_release()
 * whatever the result.
 * @param err receives a message saying what was looked at; never holds a
 * secret; may be NULL.
 *
 * @return 0, -EINVAL for a malformed region or a half-set key pair,
 * -ENOKEY when no credentials were found, -ENOENT when no region was
 * found, -EIO for an unreadable file that exists or a credentials
 * endpoint answering an error status, -EPROTO for a credentials reply
 * without keys or with a malformed Expiration, the errors of
 * http_client_request() reaching a credentials endpoint, -ENOMEM.
 */
RTTQ_API int aws_config_load(const char *service, const char *region,
			     const char *endpoint, struct aws_config *out,
			     struct rttq_error *err);

/**
 * aws_config_refresh() - fetch container or instance credentials again
 * when they expire within AWS_REFRESH_BEFORE_S of @p now_s; other sources
 * never expire and are left alone.
 * @param c as loaded by aws_config_load().
 * @param now_s the time, UTC epoch seconds.
 * @param err receives a message; may be NULL.
 *
 * @return 0, or as aws_config_load() (the old credentials are kept on
 * failure).
 */
RTTQ_API int aws_config_refresh(struct aws_config *c, int64_t now_s,
				struct rttq_error *err);

/**
 * aws_config_copy() - deep copy of @p src into @p dst (zeroed first).
 * @return 0, -ENOMEM (then @p dst holds nothing to release).
 */
RTTQ_API int aws_config_copy(struct aws_config *dst,
			     const struct aws_config *src);

/** aws_config_release() - wipe the secrets, free and zero @p c; NULL is a no-op. */
RTTQ_API void aws_config_release(struct aws_config *c);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_AWS_CONFIG_H */
