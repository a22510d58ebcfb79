/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test harness: run dynalite (the npm DynamoDB server pinned in
 * tests/dynamo/package.json) on a random free loopback port, installing it
 * with `npm ci` first when node_modules is missing.
 */
#ifndef RTTQ_TEST_DYNALITE_H
#define RTTQ_TEST_DYNALITE_H

#include <sys/types.h>

struct dynalite {
	pid_t pid;
	int port;
	char endpoint[64]; /* "http://127.0.0.1:PORT" */
};

/* A TCP port on 127.0.0.1 that was free a moment ago, below the ephemeral
 * port range when there is room. */
int free_port(void);

/* npm ci in @dir unless node_modules/dynalite is there; 0 or -1. */
int dynalite_install(const char *dir);

/* Start dynalite from @dir (in memory when @path is NULL, else LevelDB in
 * @path; @extra: more arguments, NULL-terminated, or NULL) and wait until
 * it accepts connections; 0 or -1. */
int dynalite_start(struct dynalite *d, const char *dir, const char *path,
		   char *const *extra);

/* dynalite_start() on @tcp_port: to restart a stopped server where its
 * clients expect it (the same endpoint, and with @path the same data). */
int dynalite_start_on(struct dynalite *d, const char *dir, const char *path,
		      int tcp_port, char *const *extra);

/* SIGTERM and reap; a no-op when not running. */
void dynalite_stop(struct dynalite *d);

/* Point the AWS chain at test credentials and a private HOME. */
void dynalite_env(const char *home);

#endif /* RTTQ_TEST_DYNALITE_H */
