// SPDX-License-Identifier: BSD-2-Clause
/*
 * TCP ping-pong for the bpf tests (traffic.h): over loopback, one
 * accept()ing server thread that echoes and one client in the caller's
 * thread; between chosen addresses, both ends in the caller's thread.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "traffic.h"

#define MSG_BYTES 64

struct server {
	int listen_fd;
	unsigned int exchanges;
	int cpu; /* -1: not pinned */
	int err;
};

static int read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = recv(fd, buf + got, len - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -ECONNRESET;
		got += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const char *buf, size_t len)
{
	size_t put = 0;
	ssize_t n;

	while (put < len) {
		n = send(fd, buf + put, len - put, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		put += (size_t)n;
	}
	return 0;
}

static void *serve(void *arg)
{
	struct server *s = arg;
	char buf[MSG_BYTES];
	unsigned int i;
	int fd;

	if (s->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(s->cpu, &set);
		/* Unpinned traffic is still traffic: say so and go on. */
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			fprintf(stderr, "traffic: cannot pin the server to CPU %d\n",
				s->cpu);
	}
	fd = accept(s->listen_fd, NULL, NULL);
	if (fd < 0) {
		s->err = -errno;
		return NULL;
	}
	for (i = 0; i < s->exchanges; i++) {
		s->err = read_full(fd, buf, sizeof(buf));
		if (!s->err)
			s->err = write_full(fd, buf, sizeof(buf));
		if (s->err)
			break;
	}
	close(fd);
	return NULL;
}

static int run(int family, unsigned int exchanges, int server_cpu,
	       uint16_t port, struct traffic_result *out)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct server srv = { .listen_fd = -1, .exchanges = exchanges,
			      .cpu = server_cpu };
	pthread_t tid;
	char buf[MSG_BYTES];
	bool started = false;
	int fd = -1, one = 1, err;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	memset(&ss, 0, sizeof(ss));
	memset(buf, 'x', sizeof(buf));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		a->sin_port = htons(port);
		len = sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		a->sin6_port = htons(port);
		len = sizeof(*a);
	}
	srv.listen_fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* A port an earlier run used may still have connections in
	 * TIME_WAIT; they do not stop a new listener if both runs set
	 * SO_REUSEADDR (the accepted sockets inherit it). */
	if (srv.listen_fd >= 0)
		setsockopt(srv.listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
			   sizeof(one));
	if (srv.listen_fd < 0 || bind(srv.listen_fd, (struct sockaddr *)&ss, len) ||
	    listen(srv.listen_fd, 1) ||
	    getsockname(srv.listen_fd, (struct sockaddr *)&ss, &len)) {
		err = -errno;
		fprintf(stderr, "traffic: listen: %s\n", strerror(errno));
		goto cleanup;
	}
	out->server_port = ntohs(family == AF_INET
				 ? ((struct sockaddr_in *)&ss)->sin_port
				 : ((struct sockaddr_in6 *)&ss)->sin6_port);
	err = -pthread_create(&tid, NULL, serve, &srv);
	if (err)
		goto cleanup;
	started = true;
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len)) {
		err = -errno;
		fprintf(stderr, "traffic: connect: %s\n", strerror(errno));
		goto cleanup;
	}
	/* One segment per message, so every message is a receive event. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	len = sizeof(ss);
	if (!getsockname(fd, (struct sockaddr *)&ss, &len))
		out->client_port = ntohs(family == AF_INET
					 ? ((struct sockaddr_in *)&ss)->sin_port
					 : ((struct sockaddr_in6 *)&ss)->sin6_port);
	for (i = 0; i < exchanges; i++) {
		err = write_full(fd, buf, sizeof(buf));
		if (!err)
			err = read_full(fd, buf, sizeof(buf));
		if (err) {
			fprintf(stderr, "traffic: exchange %u: %s\n", i,
				strerror(-err));
			goto cleanup;
		}
		out->exchanges++;
	}

cleanup:
	if (fd >= 0)
		close(fd);
	if (started) {
		if (err)
			shutdown(srv.listen_fd, SHUT_RDWR);
		pthread_join(tid, NULL);
		if (!err)
			err = srv.err;
	}
	if (srv.listen_fd >= 0)
		close(srv.listen_fd);
	return err;
}

int traffic_run(int family, unsigned int exchanges, struct traffic_result *out)
{
	return run(family, exchanges, -1, 0, out);
}

int traffic_run_on(int family, unsigned int exchanges, int server_cpu,
		   struct traffic_result *out)
{
	return run(family, exchanges, server_cpu, 0, out);
}

int traffic_run_port(int family, unsigned int exchanges, uint16_t port,
		     struct traffic_result *out)
{
	return run(family, exchanges, -1, port, out);
}

/* @text (numeric) and @port into @ss. */
static int make_addr(const char *text, uint16_t port,
		     struct sockaddr_storage *ss, socklen_t *len)
{
	if (net_sockaddr(text, port, ss, len)) {
		fprintf(stderr, "traffic: '%s' is not a numeric address\n",
			text);
		return -EINVAL;
	}
	return 0;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	return ntohs(ss.ss_family == AF_INET
		     ? ((struct sockaddr_in *)&ss)->sin_port
		     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

int traffic_conn_open(const char *server, uint16_t port, const char *client,
		      struct traffic_conn *out)
{
	struct sockaddr_storage ss, cs;
	socklen_t len, clen;
	int one = 1, err;

	out->listen_fd = out->server_fd = out->client_fd = -1;
	err = make_addr(server, port, &ss, &len);
	if (!err && client)
		err = make_addr(client, 0, &cs, &clen);
	if (err)
		return err;
	out->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (out->listen_fd >= 0)
		setsockopt(out->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
			   sizeof(one));
	if (out->listen_fd < 0 ||
	    bind(out->listen_fd, (struct sockaddr *)&ss, len) ||
	    listen(out->listen_fd, 4) ||
	    getsockname(out->listen_fd, (struct sockaddr *)&ss, &len))
		goto fail;
	out->server_port = port_of(out->listen_fd);
	out->client_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (out->client_fd < 0 ||
	    (client && bind(out->client_fd, (struct sockaddr *)&cs, clen)) ||
	    connect(out->client_fd, (struct sockaddr *)&ss, len))
		goto fail;
	out->server_fd = accept4(out->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (out->server_fd < 0)
		goto fail;
	/* One segment per message, so every message is a receive event. */
	setsockopt(out->client_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(out->server_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	out->client_port = port_of(out->client_fd);
	return 0;

fail:
	err = -errno;
	fprintf(stderr, "traffic: %s -> %s: %s\n", client ? client : "-",
		server, strerror(errno));
	traffic_conn_close(out);
	return err;
}

int traffic_conn_exchange(struct traffic_conn *c, unsigned int n)
{
	char buf[MSG_BYTES];
	unsigned int i;
	int err = 0;

	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < n && !err; i++) {
		err = write_full(c->client_fd, buf, sizeof(buf));
		if (!err)
			err = read_full(c->server_fd, buf, sizeof(buf));
		if (!err)
			err = write_full(c->server_fd, buf, sizeof(buf));
		if (!err)
			err = read_full(c->client_fd, buf, sizeof(buf));
	}
	return err;
}

void traffic_conn_close(struct traffic_conn *c)
{
	if (c->client_fd >= 0)
		close(c->client_fd);
	if (c->server_fd >= 0)
		close(c->server_fd);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	c->listen_fd = c->server_fd = c->client_fd = -1;
}

int traffic_between(const char *server, uint16_t port, const char *client,
		    unsigned int n, struct traffic_conn *out)
{
	int err = traffic_conn_open(server, port, client, out);

	if (!err)
		err = traffic_conn_exchange(out, n);
	traffic_conn_close(out);
	return err;
}
