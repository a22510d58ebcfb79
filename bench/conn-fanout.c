// SPDX-License-Identifier: BSD-2-Clause
/*
 * conn-fanout: N loopback TCP connections, each to its own server port, each
 * exchanging a 1-byte echo at a steady rate, so rttq-agent has N live groups
 * (--group-by rport) for the overhead benchmark.  Servers listen on
 * 127.0.0.2, clients bind 127.0.0.1, so `--laddr 127.0.0.1` keeps the client
 * sockets alone: exactly N remote ports.  Prints "ready" once connected.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define SERVER_ADDR "127.0.0.2"
#define CLIENT_ADDR "127.0.0.1"
#define TICK_NS 10000000L /* sends are spread over 10 ms ticks */
#define TICKS_PER_S 100
#define MAX_EVENTS 256
#define SERVER_SIDE 0x80000000u /* epoll tag bit: accepted socket i */
#define TAG_TIMER 0xffffffffu    /* epoll tags above any connection index */
#define TAG_SIGNAL 0xfffffffeu

struct fanout_opts {
	unsigned long conns;
	unsigned long base_port;
	double rate_per_s; /* exchanges per connection per second */
};

struct fanout {
	int *client_fd;
	int *server_fd;
	unsigned long n;
};

static int parse_ulong(const char *flag, const char *text, unsigned long lo,
		       unsigned long hi, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno || end == text || *end || text[0] == '-' || v < lo || v > hi) {
		fprintf(stderr, "conn-fanout: %s '%s': expected %lu..%lu\n", flag,
			text, lo, hi);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_rate(const char *text, double *out)
{
	char *end = NULL;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno || end == text || *end || !(v > 0 && v <= 100)) {
		fprintf(stderr, "conn-fanout: -r '%s': expected 0..100 per second\n",
			text);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static void addr_of(const char *ip, uint16_t port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	inet_pton(AF_INET, ip, &sa->sin_addr);
}

/* One connection: listen on SERVER_ADDR:@port, connect from CLIENT_ADDR,
 * accept, and drop the listener (it is not needed again). */
static int connect_pair(uint16_t port, int *client, int *server)
{
	struct sockaddr_in srv, cli;
	int lfd = -1, cfd = -1, afd = -1, one = 1, rc;

	addr_of(SERVER_ADDR, port, &srv);
	addr_of(CLIENT_ADDR, 0, &cli);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	cfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || cfd < 0)
		goto fail;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&srv, sizeof(srv)) ||
	    listen(lfd, 1) ||
	    bind(cfd, (struct sockaddr *)&cli, sizeof(cli)) ||
	    connect(cfd, (struct sockaddr *)&srv, sizeof(srv)))
		goto fail;
	afd = accept(lfd, NULL, NULL);
	if (afd < 0)
		goto fail;
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(afd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (set_nonblock(cfd) || set_nonblock(afd))
		goto fail;
	close(lfd);
	*client = cfd;
	*server = afd;
	return 0;
fail:
	rc = -errno;
	if (lfd >= 0)
		close(lfd);
	if (cfd >= 0)
		close(cfd);
	if (afd >= 0)
		close(afd);
	return rc ? rc : -EIO;
}

static int open_all(struct fanout *f, const struct fanout_opts *o, int epfd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned long i;
	int rc;

	for (i = 0; i < f->n; i++) {
		rc = connect_pair((uint16_t)(o->base_port + i), &f->client_fd[i],
				  &f->server_fd[i]);
		if (rc) {
			fprintf(stderr, "conn-fanout: connection to %s:%lu: %s\n",
				SERVER_ADDR, o->base_port + i, strerror(-rc));
			return rc;
		}
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, f->client_fd[i], &ev))
			return -errno;
		ev.data.u32 = (uint32_t)i | SERVER_SIDE;
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, f->server_fd[i], &ev))
			return -errno;
	}
	return 0;
}

/* Servers echo what they read; clients read and drop the echo. */
static int on_readable(struct fanout *f, uint32_t tag)
{
	bool server = tag & SERVER_SIDE;
	int fd = server ? f->server_fd[tag & ~SERVER_SIDE] : f->client_fd[tag];
	char buf[256];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (server && write(fd, buf, (size_t)n) != n)
			return -EIO;
	}
}

static int run(struct fanout *f, const struct fanout_opts *o, int epfd,
	       int tfd)
{
	struct epoll_event evs[MAX_EVENTS];
	double per_tick = (double)f->n * o->rate_per_s / TICKS_PER_S, owed = 0;
	unsigned long next = 0;
	uint64_t expirations;
	int i, n, rc;

	for (;;) {
		n = epoll_wait(epfd, evs, MAX_EVENTS, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == TAG_TIMER) {
				if (read(tfd, &expirations, sizeof(expirations)) < 0)
					continue;
				for (owed += per_tick * (double)expirations; owed >= 1;
				     owed -= 1) {
					if (write(f->client_fd[next], "x", 1) != 1)
						return -errno;
					next = (next + 1) % f->n;
				}
				continue;
			}
			if (evs[i].data.u32 == TAG_SIGNAL)
				return 0;
			rc = on_readable(f, evs[i].data.u32);
			if (rc)
				return rc;
		}
	}
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: conn-fanout [-n CONNS] [-p BASE_PORT] [-r PER_SECOND]\n"
		"CONNS connections (default 1000) from " CLIENT_ADDR " to " SERVER_ADDR
		":BASE_PORT+i\n(default 20000), each exchanging a 1-byte echo PER_SECOND times a\n"
		"second (default 1); prints 'ready', runs until SIGTERM or SIGINT.\n");
}

int main(int argc, char **argv)
{
	struct fanout_opts o = { .conns = 1000, .base_port = 20000, .rate_per_s = 1 };
	struct itimerspec its = { .it_interval.tv_nsec = TICK_NS,
				  .it_value.tv_nsec = TICK_NS };
	struct epoll_event ev = { .events = EPOLLIN };
	struct fanout f = { 0 };
	struct rlimit rl;
	sigset_t mask;
	int epfd = -1, tfd = -1, sfd = -1, c, rc = 1;
	unsigned long i;

	while ((c = getopt(argc, argv, "n:p:r:h")) != -1) {
		switch (c) {
		case 'n':
			if (parse_ulong("-n", optarg, 1, 20000, &o.conns))
				return 2;
			break;
		case 'p':
			if (parse_ulong("-p", optarg, 1024, 65535, &o.base_port))
				return 2;
			break;
		case 'r':
			if (parse_rate(optarg, &o.rate_per_s))
				return 2;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (o.base_port + o.conns - 1 > 65535) {
		fprintf(stderr, "conn-fanout: ports %lu..%lu go past 65535\n",
			o.base_port, o.base_port + o.conns - 1);
		return 2;
	}

	/* Three descriptors per connection while it is being set up. */
	rl.rlim_cur = rl.rlim_max = 3 * o.conns + 64;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		fprintf(stderr, "conn-fanout: cannot raise the open file limit: %s\n",
			strerror(errno));

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	f.n = o.conns;
	f.client_fd = malloc(f.n * sizeof(*f.client_fd));
	f.server_fd = malloc(f.n * sizeof(*f.server_fd));
	for (i = 0; f.client_fd && f.server_fd && i < f.n; i++)
		f.client_fd[i] = f.server_fd[i] = -1;
	epfd = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (!f.client_fd || !f.server_fd || epfd < 0 || tfd < 0 || sfd < 0) {
		fprintf(stderr, "conn-fanout: setup: %s\n", strerror(errno));
		goto cleanup;
	}
	ev.data.u32 = TAG_TIMER;
	rc = epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &ev);
	ev.data.u32 = TAG_SIGNAL;
	if (rc || epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev)) {
		rc = 1;
		fprintf(stderr, "conn-fanout: epoll: %s\n", strerror(errno));
		goto cleanup;
	}
	if (open_all(&f, &o, epfd))
		goto cleanup;
	if (timerfd_settime(tfd, 0, &its, NULL)) {
		fprintf(stderr, "conn-fanout: timer: %s\n", strerror(errno));
		goto cleanup;
	}
	printf("ready\n");
	fflush(stdout);

	rc = run(&f, &o, epfd, tfd);
	if (rc)
		fprintf(stderr, "conn-fanout: %s\n", strerror(-rc));
	rc = rc ? 1 : 0;
cleanup:
	for (i = 0; f.client_fd && f.server_fd && i < f.n; i++) {
		if (f.client_fd[i] >= 0)
			close(f.client_fd[i]);
		if (f.server_fd[i] >= 0)
			close(f.server_fd[i]);
	}
	free(f.client_fd);
	free(f.server_fd);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	if (epfd >= 0)
		close(epfd);
	return rc;
}
