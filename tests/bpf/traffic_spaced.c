// SPDX-License-Identifier: BSD-2-Clause
/*
 * Spaced loopback traffic (traffic_spaced.h): an epoll echo server thread
 * and an epoll client in the caller's thread that paces every connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "traffic_spaced.h"

#define MSG_BYTES 64
#define MAX_CONNS 4096
#define MAX_PEERS 250

struct conn {
	int fd;
	unsigned int got;  /* reply bytes so far */
	bool waiting;      /* a request is out */
	int64_t due_us;    /* next request, when not waiting */
};

struct echo {
	int listen_fd;
	int stop_fd; /* readable: stop */
	int *fds;    /* accepted, closed at the end */
	unsigned int n_fds, max_fds;
	int err;
};

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int fail(const char *what)
{
	int e = errno;

	fprintf(stderr, "traffic_spaced: %s: %s\n", what, strerror(e));
	return -e;
}

static void nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Echo every byte back on every connection until stop_fd is readable. */
static void *echo_main(void *arg)
{
	struct echo *e = arg;
	struct epoll_event ev = { .events = EPOLLIN }, evs[64];
	char buf[4096];
	int ep = epoll_create1(EPOLL_CLOEXEC), n, i;
	bool stop = false;

	if (ep < 0) {
		e->err = fail("epoll_create1");
		return NULL;
	}
	ev.data.fd = e->listen_fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, e->listen_fd, &ev);
	ev.data.fd = e->stop_fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, e->stop_fd, &ev);
	while (!stop) {
		n = epoll_wait(ep, evs, 64, -1);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			ssize_t got;

			if (fd == e->stop_fd) {
				stop = true;
			} else if (fd == e->listen_fd) {
				int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

				if (c < 0)
					continue;
				if (e->n_fds == e->max_fds) {
					close(c);
					continue;
				}
				e->fds[e->n_fds++] = c;
				nodelay(c);
				ev.data.fd = c;
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
			} else {
				got = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
				if (got > 0)
					send(fd, buf, (size_t)got, MSG_NOSIGNAL);
				else if (got == 0 || errno != EAGAIN)
					epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
			}
		}
	}
	while (e->n_fds)
		close(e->fds[--e->n_fds]);
	close(ep);
	return NULL;
}

static int connect_all(struct conn *cs, const struct spaced_opts *o,
		       uint16_t port, int ep)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	unsigned int i;

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < o->conns; i++) {
		struct sockaddr_in from = { .sin_family = AF_INET };
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i };

		/* 127.0.1.1 .. : loopback answers for all of 127/8. */
		from.sin_addr.s_addr = htonl(0x7f000101u + i % o->peers);
		cs[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (cs[i].fd < 0)
			return fail("socket");
		if (bind(cs[i].fd, (struct sockaddr *)&from, sizeof(from)))
			return fail("bind 127.0.1.x");
		if (connect(cs[i].fd, (struct sockaddr *)&to, sizeof(to)))
			return fail("connect");
		nodelay(cs[i].fd);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev))
			return fail("epoll_ctl");
	}
	return 0;
}

/* The paced client loop: send what is due, read what came back. */
static int pace(struct conn *cs, const struct spaced_opts *o, int ep,
		unsigned long long *exchanges)
{
	static const char msg[MSG_BYTES] = "rttq spaced traffic";
	struct epoll_event evs[256];
	int64_t start = now_us(), end = start + (int64_t)o->duration_ms * 1000;
	int64_t now = start, next;
	char buf[MSG_BYTES * 4];
	unsigned int i;
	int n, k;

	for (i = 0; i < o->conns; i++)
		cs[i].due_us = start + (int64_t)o->gap_us * i / o->conns;
	while (now < end) {
		next = end;
		for (i = 0; i < o->conns; i++) {
			if (cs[i].waiting)
				continue;
			if (cs[i].due_us <= now) {
				if (send(cs[i].fd, msg, sizeof(msg),
					 MSG_NOSIGNAL) != sizeof(msg))
					return fail("send");
				cs[i].waiting = true;
				cs[i].got = 0;
			} else if (cs[i].due_us < next) {
				next = cs[i].due_us;
			}
		}
		n = epoll_wait(ep, evs, 256,
			       (int)((next - now + 999) / 1000));
		for (k = 0; k < n; k++) {
			struct conn *c = &cs[evs[k].data.u32];
			ssize_t got = recv(c->fd, buf, sizeof(buf),
					   MSG_DONTWAIT);

			if (got <= 0) {
				if (got < 0 && errno == EAGAIN)
					continue;
				return got ? fail("recv") : -ECONNRESET;
			}
			c->got += (unsigned int)got;
			if (c->waiting && c->got >= MSG_BYTES) {
				c->waiting = false;
				c->due_us = now_us() + o->gap_us;
				(*exchanges)++;
			}
		}
		now = now_us();
	}
	return 0;
}

int traffic_spaced(const struct spaced_opts *o, struct spaced_result *out)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	struct echo e = { .listen_fd = -1 };
	struct conn *cs = NULL;
	int stop[2] = { -1, -1 }, ep = -1, rc;
	pthread_t th;
	bool started = false;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	if (!o->conns || o->conns > MAX_CONNS || !o->peers ||
	    o->peers > MAX_PEERS || !o->gap_us)
		return -EINVAL;
	cs = calloc(o->conns, sizeof(*cs));
	e.fds = calloc(o->conns, sizeof(*e.fds));
	e.max_fds = o->conns;
	if (!cs || !e.fds) {
		free(cs);
		free(e.fds);
		return -ENOMEM;
	}
	for (i = 0; i < o->conns; i++)
		cs[i].fd = -1;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	e.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (e.listen_fd < 0 || bind(e.listen_fd, (struct sockaddr *)&addr,
				    sizeof(addr)) ||
	    listen(e.listen_fd, (int)o->conns) ||
	    getsockname(e.listen_fd, (struct sockaddr *)&addr, &len)) {
		rc = fail("listen on 127.0.0.1");
		goto out;
	}
	if (pipe2(stop, O_CLOEXEC)) {
		rc = fail("pipe2");
		goto out;
	}
	e.stop_fd = stop[0];
	if (pthread_create(&th, NULL, echo_main, &e)) {
		rc = -EAGAIN;
		goto out;
	}
	started = true;
	ep = epoll_create1(EPOLL_CLOEXEC);
	rc = ep < 0 ? fail("epoll_create1") :
		      connect_all(cs, o, ntohs(addr.sin_port), ep);
	if (rc == 0)
		rc = pace(cs, o, ep, &out->exchanges);
out:
	for (i = 0; i < o->conns; i++)
		if (cs[i].fd >= 0)
			close(cs[i].fd);
	if (started) {
		if (write(stop[1], "x", 1) != 1)
			rc = rc ? rc : -EIO;
		pthread_join(th, NULL);
		if (rc == 0)
			rc = e.err;
	}
	if (ep >= 0)
		close(ep);
	if (stop[0] >= 0)
		close(stop[0]);
	if (stop[1] >= 0)
		close(stop[1]);
	if (e.listen_fd >= 0)
		close(e.listen_fd);
	free(cs);
	free(e.fds);
	return rc;
}
