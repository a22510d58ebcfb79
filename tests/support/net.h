/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Loopback sockets for tests that stand in for a server (a metadata
 * service, a faulty proxy, a signing checker) or knock on one: a listener
 * on a port the kernel picks, so parallel runs cannot clash, and a plain
 * connect to 127.0.0.1; and socket addresses from address text.
 */
#ifndef RTTQ_TESTS_NET_H
#define RTTQ_TESTS_NET_H

#include <stdint.h>
#include <sys/socket.h>

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

/**
 * net_sockaddr() - @sa from a numeric IPv4 or IPv6 address and a port.
 * @addr: "10.0.0.1" or "fd00::1" ("::" or "0.0.0.0" for any).
 * @port: host order.
 * @sa: receives the address.
 * @len: receives its length.
 *
 * @return 0, -EINVAL (@addr is not a numeric address).
 */
int net_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *sa,
		 socklen_t *len);

#endif /* RTTQ_TESTS_NET_H */
