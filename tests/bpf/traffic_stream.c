// SPDX-License-Identifier: BSD-2-Clause
/*
 * traffic_stream.h: a paced one-way loopback stream for tests and
 * benchmarks that read counters while bytes flow (librttq-signals).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "traffic_stream.h"

#define BLOCK 16384

static void *reader_main(void *arg)
{
	struct traffic_stream *s = arg;
	static char buf[65536];

	while (read(s->server_fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

static void *writer_main(void *arg)
{
	struct traffic_stream *s = arg;
	static char buf[BLOCK];
	ssize_t n;

	while (!atomic_load(&s->stop)) {
		n = send(s->client_fd, buf, sizeof(buf), MSG_NOSIGNAL);
		if (n <= 0)
			break;
		atomic_fetch_add(&s->written, (unsigned long long)n);
		if (s->pause_us)
			usleep(s->pause_us);
	}
	shutdown(s->client_fd, SHUT_WR);
	return NULL;
}

int traffic_stream_listen(struct traffic_stream *s)
{
	int port;

	memset(s, 0, sizeof(*s));
	s->server_fd = s->client_fd = -1;
	s->listen_fd = net_listen_loopback(1, &port);
	if (s->listen_fd < 0) {
		fprintf(stderr, "traffic_stream: listen: %s\n",
			strerror(-s->listen_fd));
		return s->listen_fd;
	}
	s->server_port = (uint16_t)port;
	return 0;
}

int traffic_stream_start(struct traffic_stream *s, unsigned int pause_us)
{
	int ret;

	s->pause_us = pause_us;
	s->client_fd = net_connect_loopback(s->server_port);
	if (s->client_fd < 0) {
		fprintf(stderr, "traffic_stream: connect: %s\n",
			strerror(-s->client_fd));
		return s->client_fd;
	}
	s->server_fd = accept(s->listen_fd, NULL, NULL);
	if (s->server_fd < 0) {
		ret = -errno;
		fprintf(stderr, "traffic_stream: accept: %s\n", strerror(errno));
		return ret;
	}
	ret = pthread_create(&s->reader, NULL, reader_main, s);
	if (!ret)
		ret = pthread_create(&s->writer, NULL, writer_main, s);
	if (ret) {
		fprintf(stderr, "traffic_stream: threads: %s\n", strerror(ret));
		return -ret;
	}
	return 0;
}

unsigned long long traffic_stream_stop(struct traffic_stream *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->writer, NULL);
	pthread_join(s->reader, NULL);
	close(s->client_fd);
	close(s->server_fd);
	close(s->listen_fd);
	s->client_fd = s->server_fd = s->listen_fd = -1;
	return atomic_load(&s->written);
}
