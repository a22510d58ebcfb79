/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Real TCP traffic for the bpf tests: a server thread and a client in the
 * calling thread exchange small messages over a loopback connection, or
 * both ends in the calling thread between addresses the caller chose, so
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

/*
 * A connection kept open between exchanges, between two addresses of the
 * caller's network namespace, driven from the calling thread alone (64-byte
 * messages fit any socket buffer): for sockets that must exist before a
 * collector opens, or live across a change such as a peer map reload.
 */
struct traffic_conn {
	int listen_fd, server_fd, client_fd;
	uint16_t server_port;  /* host order */
	uint16_t client_port;  /* the client's ephemeral port */
};

/**
 * traffic_conn_open() - listen on @server:@port, connect from @client (an
 * ephemeral port), accept.
 * @server: numeric IPv4 or IPv6 address (the family of both).
 * @port: 0: any free port.
 * @client: numeric address of the same family; NULL: the kernel picks.
 * @out: the connection.
 *
 * @return 0 or a negative errno (with a message on stderr).
 */
int traffic_conn_open(const char *server, uint16_t port, const char *client,
		      struct traffic_conn *out);

/**
 * traffic_conn_exchange() - @n round trips: client to server and back.
 *
 * @return 0 or a negative errno.
 */
int traffic_conn_exchange(struct traffic_conn *c, unsigned int n);

/** traffic_conn_close() - close all three sockets (client first). */
void traffic_conn_close(struct traffic_conn *c);

/**
 * traffic_between() - open, @n round trips, close: one fresh connection.
 *
 * @return 0 or a negative errno (with a message on stderr).
 */
int traffic_between(const char *server, uint16_t port, const char *client,
		    unsigned int n, struct traffic_conn *out);

#endif /* RTTQ_TEST_TRAFFIC_H */
