// SPDX-License-Identifier: BSD-2-Clause
/*
 * DynamoDB JSON API calls with retries (see dynamodb.h).  The retry policy
 * follows the AWS SDKs' DynamoDB tuning: sleep a uniformly random time in
 * [0, min(cap, base * 2^retry)] ("full jitter"), base 25 ms for transient
 * failures and 1 s for throttling, cap 20 s.  Messages carry the error type
 * and DynamoDB's message, never a key or a signature.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "dynamodb.h"
#include "http_client.h"
#include "monoclock.h"
#include "sigv4.h"

#define TARGET_PREFIX "DynamoDB_20120810."
#define CONTENT_TYPE "application/x-amz-json-1.0"

struct ddb {
	struct http_client *http;
	struct aws_config cfg; /* own copy: refreshed credentials land here */
	unsigned int max_attempts;
	unsigned int timeout_ms;
	_Atomic int64_t deadline_ms; /* CLOCK_MONOTONIC; 0: none; set from
				      * any thread (ddb_set_deadline) */
	uint64_t rng; /* xorshift64 state for the jitter */
	struct ddb_stats stats;
};

enum outcome {
	OUTCOME_OK,
	OUTCOME_FATAL,     /* do not retry */
	OUTCOME_TRANSIENT, /* retry with the short base */
	OUTCOME_THROTTLED, /* retry with the long base */
};

int ddb_new(const struct aws_config *cfg, struct ddb **out,
	    struct rttq_error *err)
{
	struct ddb *d;
	int ret;

	*out = NULL;
	if (!cfg->endpoint || !cfg->region)
		return rttq_fail(err, -EINVAL,
				 "DynamoDB: endpoint and region are required");
	d = calloc(1, sizeof(*d));
	if (!d)
		return rttq_fail(err, -ENOMEM, "DynamoDB: out of memory");
	if (aws_config_copy(&d->cfg, cfg)) {
		free(d);
		return rttq_fail(err, -ENOMEM, "DynamoDB: out of memory");
	}
	ret = http_client_new(d->cfg.endpoint, cfg->ca_file, &d->http, err);
	if (ret) {
		ddb_free(d);
		return ret;
	}
	d->max_attempts = DDB_MAX_ATTEMPTS;
	d->timeout_ms = DDB_TIMEOUT_MS;
	if (getrandom(&d->rng, sizeof(d->rng), 0) != sizeof(d->rng) || !d->rng)
		d->rng = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull | 1;
	*out = d;
	return 0;
}

void ddb_free(struct ddb *d)
{
	if (!d)
		return;
	http_client_free(d->http);
	aws_config_release(&d->cfg);
	free(d);
}

void ddb_set_retry(struct ddb *d, unsigned int max_attempts,
		   unsigned int timeout_ms)
{
	d->max_attempts = max_attempts ? max_attempts : 1;
	d->timeout_ms = timeout_ms ? timeout_ms : DDB_TIMEOUT_MS;
}

void ddb_set_deadline(struct ddb *d, int64_t deadline_ms)
{
	atomic_store(&d->deadline_ms, deadline_ms > 0 ? deadline_ms : 0);
}

/* Milliseconds before the deadline (<= 0: passed); INT64_MAX without one. */
static int64_t time_left(const struct ddb *d)
{
	int64_t deadline = atomic_load(&d->deadline_ms);

	return deadline ? deadline - monoclock_ms() : INT64_MAX;
}

const struct ddb_stats *ddb_stats(const struct ddb *d)
{
	return &d->stats;
}

const struct aws_config *ddb_config(const struct ddb *d)
{
	return &d->cfg;
}

const char *ddb_endpoint(const struct ddb *d)
{
	return d->cfg.endpoint;
}

/* ------------------------------------------------------------------------
 * Classifying replies
 * ------------------------------------------------------------------------ */

/* "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException" -> the part
 * after '#'; some servers add ":http://..." after the name. */
static void short_type(const char *full, char *out, size_t len)
{
	const char *hash = strrchr(full, '#');
	const char *name = hash ? hash + 1 : full;
	size_t n = strcspn(name, ":");

	if (n >= len)
		n = len - 1;
	memcpy(out, name, n);
	out[n] = '\0';
}

static bool in_list(const char *type, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(type, *list) == 0)
			return true;
	return false;
}

static const char *const throttling_types[] = {
	"ProvisionedThroughputExceededException",
	"ThrottlingException",
	"RequestLimitExceeded",
	"Throttling",
	"TooManyRequestsException",
	"LimitExceededException",
	NULL,
};

static const char *const auth_types[] = {
	"AccessDeniedException",
	"UnrecognizedClientException",
	"InvalidSignatureException",
	"MissingAuthenticationTokenException",
	"IncompleteSignatureException",
	"ExpiredTokenException",
	"InvalidClientTokenId",
	"SignatureDoesNotMatch",
	NULL,
};

/* What a client error reply means to the caller. */
static int errno_for_type(const char *type)
{
	if (strcmp(type, "ResourceNotFoundException") == 0)
		return -ENOENT;
	if (strcmp(type, "ResourceInUseException") == 0 ||
	    strcmp(type, "ConditionalCheckFailedException") == 0)
		return -EEXIST;
	if (strcmp(type, "UnknownOperationException") == 0)
		return -EOPNOTSUPP;
	if (in_list(type, auth_types))
		return -EACCES;
	return -EREMOTEIO;
}

static enum outcome classify(int status, const char *type)
{
	if (status == 200)
		return OUTCOME_OK;
	if (in_list(type, throttling_types))
		return OUTCOME_THROTTLED;
	if (status >= 500 || strcmp(type, "InternalServerError") == 0 ||
	    strcmp(type, "ServiceUnavailable") == 0)
		return OUTCOME_TRANSIENT;
	return OUTCOME_FATAL;
}

/* Error type and message of a non-200 reply; either may be empty. */
static void error_fields(const char *body, char *type, size_t type_len,
			 char *msg, size_t msg_len)
{
	static const char *type_path[] = { "__type", NULL };
	static const char *msg_path[] = { "message", NULL };
	static const char *msg_path2[] = { "Message", NULL };
	yajl_val root = yajl_tree_parse(body, NULL, 0);
	const char *t = YAJL_GET_STRING(yajl_tree_get(root, type_path, yajl_t_string));
	const char *m = YAJL_GET_STRING(yajl_tree_get(root, msg_path, yajl_t_string));

	if (!m)
		m = YAJL_GET_STRING(yajl_tree_get(root, msg_path2, yajl_t_string));
	short_type(t ? t : "", type, type_len);
	snprintf(msg, msg_len, "%s", m ? m : "");
	yajl_tree_free(root);
}

/* ------------------------------------------------------------------------
 * One attempt: sign, send, classify
 * ------------------------------------------------------------------------ */

static int send_signed(struct ddb *d, const char *op, const char *body,
		       size_t body_len, unsigned int timeout_ms,
		       struct http_response *resp, struct rttq_error *err)
{
	char target[96], stamp[SIGV4_TIMESTAMP_LEN + 1];
	struct sigv4_credentials creds;
	struct sigv4_params params = {
		.creds = &creds,
		.region = d->cfg.region,
		.service = "dynamodb",
		.timestamp = stamp,
	};
	struct sigv4_header sign_hdr[] = {
		{ "Content-Type", CONTENT_TYPE },
		{ "Host", http_client_host(d->http) },
		{ "X-Amz-Target", target },
	};
	struct sigv4_request req = {
		.method = "POST",
		.path = "/",
		.headers = sign_hdr,
		.n_headers = 3,
		.body = body,
		.body_len = body_len,
	};
	struct http_header send_hdr[3 + SIGV4_MAX_ADDED_HEADERS + 1];
	struct sigv4_signed sig;
	size_t n = 0;
	int ret;

	ret = aws_config_refresh(&d->cfg, time(NULL), err);
	if (ret)
		return rttq_error_prefix(err, "DynamoDB %s", op);
	creds = (struct sigv4_credentials){
		.access_key_id = d->cfg.access_key_id,
		.secret_access_key = d->cfg.secret_access_key,
		.session_token = d->cfg.session_token,
	};
	snprintf(target, sizeof(target), TARGET_PREFIX "%s", op);
	ret = sigv4_timestamp(time(NULL), stamp);
	if (ret)
		return rttq_fail(err, ret, "DynamoDB %s: system clock out of range", op);
	ret = sigv4_sign(&req, &params, &sig, err);
	if (ret) {
		sigv4_signed_release(&sig);
		return rttq_error_prefix(err, "DynamoDB %s: cannot sign", op);
	}
	send_hdr[n++] = (struct http_header){ "Content-Type", CONTENT_TYPE };
	send_hdr[n++] = (struct http_header){ "X-Amz-Target", target };
	for (size_t i = 0; i < sig.n_add; i++)
		send_hdr[n++] = (struct http_header){ sig.add[i].name,
						      sig.add[i].value };
	send_hdr[n++] = (struct http_header){ "Authorization", sig.authorization };
	ret = http_client_request(d->http, "POST", "/", send_hdr, n, body,
				  body_len, timeout_ms, resp, err);
	sigv4_signed_release(&sig);
	return ret;
}

static uint64_t next_random(struct ddb *d)
{
	d->rng ^= d->rng << 13;
	d->rng ^= d->rng >> 7;
	d->rng ^= d->rng << 17;
	return d->rng;
}

/* Full jitter: uniform in [0, min(cap, base * 2^retry)]. */
static unsigned int backoff_ms(struct ddb *d, unsigned int base_ms,
			       unsigned int retry)
{
	uint64_t ceiling = base_ms;

	for (unsigned int i = 0; i < retry && ceiling < DDB_BACKOFF_CAP_MS; i++)
		ceiling *= 2;
	if (ceiling > DDB_BACKOFF_CAP_MS)
		ceiling = DDB_BACKOFF_CAP_MS;
	return (unsigned int)(next_random(d) % (ceiling + 1));
}

unsigned int ddb_backoff(struct ddb *d, unsigned int retry, bool throttled)
{
	unsigned int pause = backoff_ms(d, throttled ? DDB_THROTTLE_BASE_MS :
					DDB_BACKOFF_BASE_MS, retry);
	int64_t left = time_left(d);

	/* Past the deadline the next call fails at once: no use waiting. */
	if (pause > left)
		pause = left > 0 ? (unsigned int)left : 0;
	d->stats.backoff_ms += pause;
	monoclock_sleep_ms(pause);
	return pause;
}

static bool transport_retryable(int ret)
{
	/* A certificate that failed its checks will fail them again. */
	return ret != -ENOMEM && ret != -EINVAL && ret != -EMSGSIZE &&
	       ret != -ENOENT && ret != -EKEYREJECTED;
}

int ddb_call(struct ddb *d, const char *op, const char *body,
	     size_t body_len, yajl_val *reply, struct rttq_error *err)
{
	char type[128] = "", msg[256] = "", parse_err[128];
	struct http_response resp = { 0 };
	enum outcome outcome = OUTCOME_FATAL;
	unsigned int attempt;
	bool late = false; /* stopped by the deadline */
	int ret = 0;

	if (reply)
		*reply = NULL;
	d->stats.calls++;
	for (attempt = 0; attempt < d->max_attempts; attempt++) {
		int64_t left;

		if (attempt) {
			unsigned int pause = backoff_ms(
				d, outcome == OUTCOME_THROTTLED ?
					   DDB_THROTTLE_BASE_MS :
					   DDB_BACKOFF_BASE_MS,
				attempt - 1);

			if (pause >= time_left(d)) {
				late = true;
				break;
			}
			d->stats.backoff_ms += pause;
			monoclock_sleep_ms(pause);
		}
		left = time_left(d);
		if (left <= 0) {
			late = true;
			break;
		}
		d->stats.attempts++;
		http_response_release(&resp);
		ret = send_signed(d, op, body, body_len,
				  left < d->timeout_ms ? (unsigned int)left :
							 d->timeout_ms,
				  &resp, err);
		if (ret) {
			d->stats.transport_errors++;
			if (!transport_retryable(ret))
				return rttq_error_prefix(err, "DynamoDB %s", op);
			outcome = OUTCOME_TRANSIENT;
			continue;
		}
		type[0] = msg[0] = '\0';
		if (resp.status != 200)
			error_fields(resp.body, type, sizeof(type), msg, sizeof(msg));
		outcome = classify(resp.status, type);
		if (outcome == OUTCOME_THROTTLED)
			d->stats.throttled++;
		else if (outcome == OUTCOME_TRANSIENT)
			d->stats.server_errors++;
		if (outcome == OUTCOME_OK || outcome == OUTCOME_FATAL)
			break;
	}
	if (attempt == 0 && late)
		return rttq_fail(err, -ETIMEDOUT,
				 "DynamoDB %s: deadline passed before the first attempt",
				 op);
	if (ret) /* transport failure on the last attempt */
		return rttq_error_prefix(err, "DynamoDB %s (after %u attempts%s)",
					 op, attempt, late ? ", deadline reached" : "");
	if (outcome != OUTCOME_OK) {
		int code = outcome == OUTCOME_THROTTLED ? -EBUSY :
			   outcome == OUTCOME_TRANSIENT ? -EIO :
			   errno_for_type(type);

		ret = rttq_fail(err, code, "DynamoDB %s at %s: HTTP %d %s%s%s%s",
				op, d->cfg.endpoint, resp.status,
				type[0] ? type : "(no error type)",
				msg[0] ? ": " : "", msg,
				outcome == OUTCOME_FATAL ? "" :
				late ? " (still failing at the deadline)" :
				" (still failing after the last retry)");
		http_response_release(&resp);
		return ret;
	}
	if (reply) {
		*reply = yajl_tree_parse(resp.body, parse_err, sizeof(parse_err));
		if (!*reply || !YAJL_IS_OBJECT(*reply)) {
			yajl_tree_free(*reply);
			*reply = NULL;
			ret = rttq_fail(err, -EPROTO,
					"DynamoDB %s at %s: reply is not a JSON object",
					op, d->cfg.endpoint);
		}
	}
	http_response_release(&resp);
	return ret;
}
