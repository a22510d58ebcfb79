/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A minimal DynamoDB JSON API client: signs each call with SigV4, sends it
 * with the librttq HTTP client, parses the reply with yajl, and retries what
 * may succeed later (throttling, 5xx, timeouts, broken connections) with
 * exponential backoff and full jitter.  Validation and authentication
 * errors are returned at once with DynamoDB's own message.
 */
#ifndef RTTQ_DYNAMODB_H
#define RTTQ_DYNAMODB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "aws_config.h"
#include "error.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DDB_TIMEOUT_MS 10000       /* per attempt, connect included */
#define DDB_MAX_ATTEMPTS 10        /* first try included */
#define DDB_BACKOFF_BASE_MS 25     /* transient: 5xx, timeouts, resets */
#define DDB_THROTTLE_BASE_MS 1000  /* throttling exceptions */
#define DDB_BACKOFF_CAP_MS 20000

struct ddb;

/* Counters a caller or a test can read to see what the retry loop did. */
struct ddb_stats {
	uint64_t calls;        /* ddb_call() invocations */
	uint64_t attempts;     /* HTTP requests sent */
	uint64_t throttled;    /* attempts answered with a throttling error */
	uint64_t server_errors;/* attempts answered with a 5xx */
	uint64_t transport_errors; /* timeouts, refused or broken connections */
	uint64_t backoff_ms;   /* total time slept before retries */
};

/**
 * ddb_new() - a client for the endpoint, region and credentials in @p cfg.
 * @param cfg as loaded by aws_config_load(); copied, may be released after.
 * @param out receives the client; NULL on failure.
 * @param err receives a message; may be NULL.
 *
 * @return 0, -EINVAL for a malformed endpoint URL, -ENOMEM, -EIO when the
 * TLS setup fails.
 */
RTTQ_API int ddb_new(const struct aws_config *cfg, struct ddb **out,
		     struct rttq_error *err);

/** ddb_free() - close and free @p d, wiping its credentials; NULL is a no-op. */
RTTQ_API void ddb_free(struct ddb *d);

/**
 * ddb_set_retry() - change the retry policy (tests shorten it).
 * @param d the client.
 * @param max_attempts attempts per call, first included; 1 disables retries.
 * @param timeout_ms limit for each attempt.
 */
RTTQ_API void ddb_set_retry(struct ddb *d, unsigned int max_attempts,
			    unsigned int timeout_ms);

/**
 * ddb_set_deadline() - bound the time of every later call, retries and
 * backoff included: a call stops retrying when the next attempt could not
 * start before @p deadline_ms, each attempt's timeout is cut to the time
 * left, and a call that starts after it fails at once with -ETIMEDOUT.
 * May be called from another thread while a call runs: that call stops
 * at its next retry.
 * @param d the client.
 * @param deadline_ms CLOCK_MONOTONIC milliseconds (monoclock_ms()); 0
 * removes the bound.
 */
RTTQ_API void ddb_set_deadline(struct ddb *d, int64_t deadline_ms);

/** ddb_stats() - what the client has done so far. */
RTTQ_API const struct ddb_stats *ddb_stats(const struct ddb *d);

/**
 * ddb_backoff() - sleep before retry number @p retry (0 for the first) of
 * work the server left undone, e.g. BatchWriteItem's UnprocessedItems.
 * @param d the client (its jitter source and stats).
 * @param retry how many retries came before this one.
 * @param throttled true to use the throttling base, else the transient one.
 *
 * @return the time slept, milliseconds.
 */
RTTQ_API unsigned int ddb_backoff(struct ddb *d, unsigned int retry,
				  bool throttled);

/** ddb_config() - the configuration in use (credentials as last refreshed),
 * e.g. to open more clients like this one; owned by @p d. */
RTTQ_API const struct aws_config *ddb_config(const struct ddb *d);

/** ddb_endpoint() - the endpoint URL, for messages. */
RTTQ_API const char *ddb_endpoint(const struct ddb *d);

/**
 * ddb_call() - run one DynamoDB operation, retrying as described above.
 * @param d the client.
 * @param op operation name, e.g. "Query" (becomes X-Amz-Target
 * DynamoDB_20120810.Query).
 * @param body JSON request.
 * @param body_len its length in bytes.
 * @param reply receives the parsed JSON reply on success; free it with
 * yajl_tree_free().  NULL when not wanted.
 * @param err receives "DynamoDB OP: Type: message" on failure; may be NULL.
 *
 * @return 0; for an error reply: -ENOENT (ResourceNotFoundException),
 * -EEXIST (ResourceInUseException, ConditionalCheckFailedException),
 * -EACCES (authentication or authorisation), -EOPNOTSUPP
 * (UnknownOperationException), -EREMOTEIO (validation and other client
 * errors), -EBUSY (still throttled after the last attempt), -EIO (5xx
 * after the last attempt), -EPROTO (a reply that is not a JSON object);
 * for a transport failure
 * after the last attempt the errno of http_client_request(); -ENOMEM.
 */
RTTQ_API int ddb_call(struct ddb *d, const char *op, const char *body,
		      size_t body_len, yajl_val *reply, struct rttq_error *err);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_DYNAMODB_H */
