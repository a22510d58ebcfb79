/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Spaced loopback traffic for the cost benchmark: many connections, each
 * exchanging one small message every few milliseconds, from many source
 * addresses.  A real host sees its connections this way, and every event
 * then finds the socket's and the program's data cold; back-to-back
 * ping-pong (traffic.h) keeps all of it in cache.
 */
#ifndef RTTQ_TEST_TRAFFIC_SPACED_H
#define RTTQ_TEST_TRAFFIC_SPACED_H

struct spaced_opts {
	unsigned int conns;       /* connections, at once */
	unsigned int peers;       /* client source addresses 127.0.1.1 .. */
	unsigned int gap_us;      /* between a reply and the next request, per
				   * connection */
	unsigned int duration_ms; /* how long to run */
};

struct spaced_result {
	unsigned long long exchanges; /* request/reply pairs completed */
};

/**
 * traffic_spaced() - run @o's traffic over IPv4 loopback: a server thread
 * echoes on every connection, the caller's thread sends one 64-byte
 * request per connection every @o->gap_us (first sends spread over one
 * gap), both with epoll.
 * @o: the shape; conns 1..4096, peers 1..250.
 * @out: what was done.
 *
 * @return 0 or a negative errno (with a message on stderr).
 */
int traffic_spaced(const struct spaced_opts *o, struct spaced_result *out);

#endif /* RTTQ_TEST_TRAFFIC_SPACED_H */
