/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A one-way TCP stream over IPv4 loopback in the background: a writer
 * thread sends 16 KiB blocks (pausing between them, so ACKs and RTT
 * samples keep coming) and a reader thread swallows them, while the
 * caller samples what the kernel counted.  The writer counts every byte
 * send() accepted, so a test can hold byte counters to it exactly.
 */
#ifndef RTTQ_TEST_TRAFFIC_STREAM_H
#define RTTQ_TEST_TRAFFIC_STREAM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct traffic_stream {
	int listen_fd, server_fd, client_fd;
	uint16_t server_port;         /* host order */
	unsigned int pause_us;
	pthread_t reader, writer;
	atomic_bool stop;
	atomic_ullong written;        /* bytes send() accepted so far */
};

/**
 * traffic_stream_listen() - the listener alone, so a filter on its port
 * can be set up before any byte flows.
 * @s: the stream to set up.
 *
 * @return 0 or a negative errno (with a message on stderr).
 */
int traffic_stream_listen(struct traffic_stream *s);

/**
 * traffic_stream_start() - connect to the listener and start the reader
 * and writer threads.
 * @s: after traffic_stream_listen().
 * @pause_us: sleep between two blocks (0: none, as fast as TCP goes).
 *
 * @return 0 or a negative errno (with a message on stderr).
 */
int traffic_stream_start(struct traffic_stream *s, unsigned int pause_us);

/**
 * traffic_stream_stop() - stop writing (the writer's last send() has
 * returned when this returns), let the reader finish, close everything.
 *
 * @return the bytes written in all.
 */
unsigned long long traffic_stream_stop(struct traffic_stream *s);

#endif /* RTTQ_TEST_TRAFFIC_STREAM_H */
