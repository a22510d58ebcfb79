/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test harness: an HTTP/1.1 proxy in front of dynalite that decides, per
 * request and by the DynamoDB operation it names (X-Amz-Target), whether
 * to forward it or to answer as a faulty network or a stricter server
 * would: throttled, 500, dropped, unprocessed items, access denied, or a
 * garbled reply; it can also delay every forwarded request as a real
 * endpoint's latency would (bench/bench-fleet.c).  One thread per client connection, one upstream
 * connection per forwarded request; it runs until the test exits.
 */
#ifndef RTTQ_TEST_DDB_PROXY_H
#define RTTQ_TEST_DDB_PROXY_H

#include <stdatomic.h>

enum ddb_proxy_action {
	PROXY_FORWARD,      /* to dynalite, its reply back */
	PROXY_THROTTLE,     /* 400 ProvisionedThroughputExceededException */
	PROXY_SERVER_ERROR, /* 500 InternalServerError */
	PROXY_UNPROCESSED,  /* BatchWriteItem: every item back unprocessed */
	PROXY_DROP,         /* close the connection without a reply */
	PROXY_DENY,         /* 400 AccessDeniedException (IAM says no) */
	PROXY_GARBLE,       /* a reply with a malformed status line */
	PROXY_ACTIONS,
};

/* The action for request number @k (from 0) of operation @op ("Query",
 * "BatchWriteItem", ...; "" when the request names none). */
typedef enum ddb_proxy_action (*ddb_proxy_policy)(const char *op,
						  unsigned int k, void *arg);

struct ddb_proxy {
	int port;                        /* where it listens, 127.0.0.1 */
	atomic_uint requests;            /* seen */
	atomic_uint done[PROXY_ACTIONS]; /* by action taken */
	unsigned int delay_ms;           /* added before each forward (set
					  * before ddb_proxy_start()): a
					  * real DynamoDB's latency */
	/* private */
	int listen_fd;
	int upstream_port;
	ddb_proxy_policy policy;
	void *arg;
};

/** ddb_proxy_forward() - a policy forwarding every request. */
enum ddb_proxy_action ddb_proxy_forward(const char *op, unsigned int k,
					void *arg);

/**
 * ddb_proxy_start() - listen on a free loopback port and serve in the
 * background; REQUIREs success.
 * @p: the proxy (zeroed; must outlive the test).
 * @upstream_port: dynalite's port.
 * @policy: decides each request.
 * @arg: passed to @policy.
 */
void ddb_proxy_start(struct ddb_proxy *p, int upstream_port,
		     ddb_proxy_policy policy, void *arg);

#endif /* RTTQ_TEST_DDB_PROXY_H */
