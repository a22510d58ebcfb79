/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Real TCP traffic for the bpf tests: a server thread and a client in the
 * calling thread exchange small messages over a loopback connection, so
 * tcp_rcv_established runs on both ends for every message.
 */
#ifndef RTTQ_TEST_TRAFFIC_H
#define RTTQ_TEST_TRAFFIC_H

#include <stdint.h>

struct traffic_result {
	uint16_t server_port;  /* the listening (server) port, host order */
	uint16_t client_port;  /* the client's ephemeral port, host order */
	unsigned int exchanges; /* completed request/response pairs */
};

/**
 * traffic_run() - exchange @exchanges 64-byte ping-pongs over @family
 * loopback (127.0.0.1 or ::1) on a fresh connection.
 * @family: AF_INET or AF_INET6.
 * @exchanges: number of round trips.
 * @out: ports used and round trips done.
 *
 * @return 0 or a negative errno (with a message on stderr).
 */
int traffic_run(int family, unsigned int exchanges, struct traffic_result *out);

/**
 * traffic_run_on() - traffic_run() with the server thread pinned to CPU
 * @server_cpu (-1: wherever the scheduler puts it); the client runs in the
 * caller's thread, with the caller's affinity.
 *
 * @return 0 or a negative errno (with a message on stderr).
 */
int traffic_run_on(int family, unsigned int exchanges, int server_cpu,
		   struct traffic_result *out);

/**
 * traffic_run_port() - traffic_run() with the server listening on @port
 * (0: any free port), so that a filter on the port can be set up before
 * the traffic starts; the port may be one an earlier run just used.
 *
 * @return 0 or a negative errno (with a message on stderr; -EADDRINUSE
 * when @port is taken).
 */
int traffic_run_port(int family, unsigned int exchanges, uint16_t port,
		     struct traffic_result *out);

/**
 * traffic_run_between() - traffic_run() between two addresses of this
 * host's network namespace: the server listens on @server, @port, the
 * client binds @client (an ephemeral port) and connects to it.
 * @server: numeric IPv4 or IPv6 address (the family of both).
 * @port: 0: any free port.
 * @client: numeric address of the same family; NULL: the kernel picks.
 * @exchanges: number of round trips.
 * @out: ports used and round trips done.
 *
 * @return 0 or a negative errno (with a message on stderr).
 */
int traffic_run_between(const char *server, uint16_t port, const char *client,
			unsigned int exchanges, struct traffic_result *out);

#endif /* RTTQ_TEST_TRAFFIC_H */
