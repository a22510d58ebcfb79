/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Loopback sockets for tests that stand in for a server (a metadata
 * service, a faulty proxy, a signing checker) or knock on one: a listener
 * on a port the kernel picks, so parallel runs cannot clash, and a plain
 * connect to 127.0.0.1.
 */
#ifndef RTTQ_TESTS_NET_H
#define RTTQ_TESTS_NET_H

/**
 * net_listen_loopback() - a TCP listener on 127.0.0.1, port chosen by the
 * kernel (close-on-exec).
 * @backlog: listen() backlog.
 * @port: receives the port, host order.
 *
 * @return the listening fd, or a negative errno.
 */
int net_listen_loopback(int backlog, int *port);

/**
 * net_connect_loopback() - a TCP connection to 127.0.0.1:@port
 * (close-on-exec).
 *
 * @return the connected fd, or a negative errno (-ECONNREFUSED when
 * nothing listens there).
 */
int net_connect_loopback(int port);

#endif /* RTTQ_TESTS_NET_H */
