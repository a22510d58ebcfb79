// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcp-pingpong: steady request/response TCP traffic for RTT tests.  The
 * server echoes whatever it receives; the client sends one small message at
 * a set rate, waits for its echo, and on exit prints the application RTT
 * percentiles next to the kernel's smoothed RTT of the same socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "net.h"

#define MSG_MAX_BYTES 65536
#define MAX_EVENTS 64

struct options {
	bool server;
	const char *addr;
	uint16_t port;
	double duration_s;
	double rate_per_s;
	size_t size_bytes;
	bool quickack;
	bool realtime;            /* SCHED_FIFO 1: wakeups beat busy processes */
};

struct samples {
	double *rtt_us;
	size_t n;
	size_t cap;
};

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int parse_double(const char *s, double lo, double hi, double *out,
			const char *what, struct rttq_error *err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= hi))
		return rttq_fail(err, -EINVAL, "%s '%s': expected a number in %g..%g", what, s,
				 lo, hi);
	*out = v;
	return 0;
}

static int parse_ulong(const char *s, unsigned long lo, unsigned long hi,
		       unsigned long *out, const char *what, struct rttq_error *err)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return rttq_fail(err, -EINVAL, "%s '%s': expected an integer in %lu..%lu", what,
				 s, lo, hi);
	*out = v;
	return 0;
}

/* Fills @sa from a literal IPv4 or IPv6 address; "::" listens dual-stack. */
static int make_sockaddr(const char *addr, uint16_t port, struct sockaddr_storage *sa,
			 socklen_t *len, struct rttq_error *err)
{
	if (net_sockaddr(addr, port, sa, len))
		return rttq_fail(err, -EINVAL, "address '%s': not an IPv4 or IPv6 address", addr);
	return 0;
}

static int set_int_opt(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno : 0;
}

static int write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				/* Echoes are small, so a full send buffer is rare:
				 * waiting here is simpler than queueing per socket. */
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };

				if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
					return -errno;
				continue;
			}
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int block_exit_signals(int *out_fd, struct rttq_error *err)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return rttq_fail(err, -errno, "sigprocmask: %s", strerror(errno));
	*out_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (*out_fd < 0)
		return rttq_fail(err, -errno, "signalfd: %s", strerror(errno));
	return 0;
}

static int listen_on(const struct options *opt, struct rttq_error *err)
{
	struct sockaddr_storage sa;
	socklen_t len;
	int fd, ret;

	ret = make_sockaddr(opt->addr, opt->port, &sa, &len, err);
	if (ret)
		return ret;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return rttq_fail(err, -errno, "socket: %s", strerror(errno));
	set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (sa.ss_family == AF_INET6)
		set_int_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
	if (bind(fd, (struct sockaddr *)&sa, len) < 0) {
		ret = rttq_fail(err, -errno, "bind %s port %u: %s", opt->addr, opt->port,
				strerror(errno));
		close(fd);
		return ret;
	}
	if (listen(fd, 128) < 0) {
		ret = rttq_fail(err, -errno, "listen: %s", strerror(errno));
		close(fd);
		return ret;
	}
	return fd;
}

static void accept_all(int listen_fd, int epoll_fd)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		set_int_opt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
		ev.data.fd = fd;
		if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
			close(fd);
	}
}

/* Echoes what is readable; closes the connection at EOF or on error. */
static void echo_some(int fd, unsigned char *buf)
{
	ssize_t n = read(fd, buf, MSG_MAX_BYTES);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || write_all(fd, buf, (size_t)n) < 0)
		close(fd);  /* also leaves the epoll set */
}

static int run_server(const struct options *opt, struct rttq_error *err)
{
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned char *buf = malloc(MSG_MAX_BYTES);
	int listen_fd = -1, signal_fd = -1, epoll_fd = -1, ret;
	bool exiting = false;

	if (!buf)
		return rttq_fail(err, -ENOMEM, "out of memory");
	ret = block_exit_signals(&signal_fd, err);
	if (ret)
		goto cleanup;
	listen_fd = ret = listen_on(opt, err);
	if (ret < 0)
		goto cleanup;
	ret = 0;
	epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (epoll_fd < 0) {
		ret = rttq_fail(err, -errno, "epoll_create1: %s", strerror(errno));
		goto cleanup;
	}
	ev.data.fd = listen_fd;
	epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &ev);
	ev.data.fd = signal_fd;
	epoll_ctl(epoll_fd, EPOLL_CTL_ADD, signal_fd, &ev);
	printf("listening\n");
	fflush(stdout);

	while (!exiting) {
		struct epoll_event events[MAX_EVENTS];
		int i, n = epoll_wait(epoll_fd, events, MAX_EVENTS, -1);

		if (n < 0 && errno != EINTR) {
			ret = rttq_fail(err, -errno, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			int fd = events[i].data.fd;

			if (fd == listen_fd)
				accept_all(listen_fd, epoll_fd);
			else if (fd == signal_fd)
				exiting = true;
			else
				echo_some(fd, buf);
		}
	}
cleanup:
	if (epoll_fd >= 0)
		close(epoll_fd);
	if (listen_fd >= 0)
		close(listen_fd);
	if (signal_fd >= 0)
		close(signal_fd);
	free(buf);
	return ret;
}

static int samples_add(struct samples *s, double rtt_us)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		double *v = realloc(s->rtt_us, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->rtt_us = v;
		s->cap = cap;
	}
	s->rtt_us[s->n++] = rtt_us;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted values: the smallest value with at
 * least q of the samples at or below it. */
static double percentile(const double *sorted, size_t n, double q)
{
	size_t rank = (size_t)(q * (double)n + 0.999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static int read_exact(int fd, unsigned char *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int connect_to(const struct options *opt, struct rttq_error *err)
{
	const struct timeval connect_timeout = { .tv_sec = 5 }, no_timeout = { 0 };
	struct sockaddr_storage sa;
	socklen_t len;
	int fd, ret;

	ret = make_sockaddr(opt->addr, opt->port, &sa, &len, err);
	if (ret)
		return ret;
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return rttq_fail(err, -errno, "socket: %s", strerror(errno));
	/* SO_SNDTIMEO bounds connect(): fail in seconds, not after SYN retries. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &connect_timeout, sizeof(connect_timeout));
	if (connect(fd, (struct sockaddr *)&sa, len) < 0) {
		ret = rttq_fail(err, -errno, "connect %s port %u: %s", opt->addr, opt->port,
				errno == EINPROGRESS ? "timed out after 5 s" : strerror(errno));
		close(fd);
		return ret;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &no_timeout, sizeof(no_timeout));
	/* Small messages leave at once instead of waiting for Nagle. */
	set_int_opt(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	return fd;
}

static int read_tcp_info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len) < 0 ? -errno : 0;
}

/* @app: application RTTs; @srtt: the kernel's srtt after each exchange,
 * whose median is what an srtt-sampling collector reports for the flow. */
static void print_report(int fd, struct samples *app, struct samples *srtt)
{
	struct tcp_info ti;

	read_tcp_info(fd, &ti);
	if (!app->n || !srtt->n) {
		printf("rtt_p50_ms=nan samples=0 srtt_ms=%.3f\n", ti.tcpi_rtt / 1e3);
		return;
	}
	qsort(app->rtt_us, app->n, sizeof(*app->rtt_us), cmp_double);
	qsort(srtt->rtt_us, srtt->n, sizeof(*srtt->rtt_us), cmp_double);
	printf("rtt_p50_ms=%.3f samples=%zu rtt_min_ms=%.3f rtt_p90_ms=%.3f rtt_max_ms=%.3f "
	       "srtt_p50_ms=%.3f srtt_ms=%.3f rttvar_ms=%.3f\n",
	       percentile(app->rtt_us, app->n, 0.5) / 1e3, app->n, app->rtt_us[0] / 1e3,
	       percentile(app->rtt_us, app->n, 0.9) / 1e3, app->rtt_us[app->n - 1] / 1e3,
	       percentile(srtt->rtt_us, srtt->n, 0.5) / 1e3,
	       ti.tcpi_rtt / 1e3, ti.tcpi_rttvar / 1e3);
	fflush(stdout);
}

/*
 * Closed loop: one message in flight, the next one sent at its slot or as
 * soon as the echo is back, never in a catch-up burst.  The echo carries the
 * ACK of the request, so the client's kernel RTT samples are clean; with
 * quickack the client also ACKs each echo at once, so the server's kernel
 * never waits out a delayed-ACK timer either.
 */
static int run_client(const struct options *opt, struct rttq_error *err)
{
	uint64_t interval_ns = (uint64_t)(1e9 / opt->rate_per_s);
	uint64_t start_ns, end_ns, next_ns, seq = 0;
	unsigned char *msg = calloc(1, opt->size_bytes), *echo = malloc(opt->size_bytes);
	struct samples s = { 0 }, srtt = { 0 };
	struct tcp_info ti;
	int fd = -1, ret = 0;

	if (!msg || !echo) {
		ret = rttq_fail(err, -ENOMEM, "out of memory");
		goto cleanup;
	}
	fd = ret = connect_to(opt, err);
	if (ret < 0)
		goto cleanup;
	ret = 0;
	start_ns = next_ns = monotonic_ns();
	end_ns = start_ns + (uint64_t)(opt->duration_s * 1e9);
	while (next_ns < end_ns) {
		uint64_t sent_ns, now_ns;
		struct timespec ts = {
			.tv_sec = (time_t)(next_ns / 1000000000ull),
			.tv_nsec = (long)(next_ns % 1000000000ull),
		};

		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		memcpy(msg, &seq, opt->size_bytes < sizeof(seq) ? opt->size_bytes : sizeof(seq));
		seq++;
		sent_ns = monotonic_ns();
		ret = write_all(fd, msg, opt->size_bytes);
		if (!ret)
			ret = read_exact(fd, echo, opt->size_bytes);
		if (ret) {
			rttq_fail(err, ret, "exchange %llu with %s: %s", (unsigned long long)seq,
				  opt->addr, strerror(-ret));
			break;
		}
		now_ns = monotonic_ns();
		if (opt->quickack)
			set_int_opt(fd, IPPROTO_TCP, TCP_QUICKACK, 1);
		if (memcmp(msg, echo, opt->size_bytes) != 0) {
			ret = rttq_fail(err, -EPROTO, "echo %llu differs from the request",
					(unsigned long long)seq);
			break;
		}
		ret = samples_add(&s, (double)(now_ns - sent_ns) / 1e3);
		if (!ret && read_tcp_info(fd, &ti) == 0)
			ret = samples_add(&srtt, ti.tcpi_rtt);
		if (ret) {
			rttq_fail(err, ret, "out of memory");
			break;
		}
		next_ns += interval_ns;
		if (next_ns < now_ns)
			next_ns = now_ns;
	}
	print_report(fd, &s, &srtt);
cleanup:
	if (fd >= 0)
		close(fd);
	free(s.rtt_us);
	free(srtt.rtt_us);
	free(msg);
	free(echo);
	return ret;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tcp-pingpong server [-a ADDR] -p PORT [--realtime]\n"
		"       tcp-pingpong client -a ADDR -p PORT [-d SECONDS] [-r PER_SECOND]\n"
		"                           [-s BYTES] [--no-quickack] [--realtime]\n"
		"--realtime: run SCHED_FIFO (priority 1) so busy processes do not delay\n"
		"        wakeups.  --no-quickack: let the kernel delay ACKs of echoes.\n"
		"server: echoes every connection (ADDR defaults to ::, IPv4 and IPv6);\n"
		"        prints 'listening' when ready, exits on SIGTERM/SIGINT.\n"
		"client: sends one BYTES-sized message (default 64) PER_SECOND times a\n"
		"        second (default 50) for SECONDS (default 10), waiting for each\n"
		"        echo, then prints\n"
		"        rtt_p50_ms=X samples=N rtt_min_ms= rtt_p90_ms= rtt_max_ms=\n"
		"        srtt_p50_ms= srtt_ms= rttvar_ms=\n"
		"        (srtt_p50_ms: median of the kernel's srtt read after each exchange;\n"
		"        srtt_ms/rttvar_ms: tcp_info at the end).\n");
}

static int parse_options(int argc, char **argv, struct options *opt, struct rttq_error *err)
{
	static const struct option longopts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "duration", required_argument, NULL, 'd' },
		{ "rate", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "no-quickack", no_argument, NULL, 'Q' },
		{ "realtime", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c, ret = 0;

	if (argc < 2)
		return rttq_fail(err, -EINVAL, "expected 'server' or 'client'");
	if (strcmp(argv[1], "server") == 0)
		opt->server = true;
	else if (strcmp(argv[1], "client") != 0)
		return rttq_fail(err, -EINVAL, "'%s': expected 'server' or 'client'", argv[1]);
	optind = 2;
	while (!ret && (c = getopt_long(argc, argv, "a:p:d:r:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': opt->addr = optarg; break;
		case 'p':
			ret = parse_ulong(optarg, 1, 65535, &v, "port", err);
			opt->port = (uint16_t)v;
			break;
		case 'd': ret = parse_double(optarg, 0.001, 86400, &opt->duration_s, "duration", err); break;
		case 'r': ret = parse_double(optarg, 0.01, 1e6, &opt->rate_per_s, "rate", err); break;
		case 's':
			ret = parse_ulong(optarg, 1, MSG_MAX_BYTES, &v, "size", err);
			opt->size_bytes = v;
			break;
		case 'Q': opt->quickack = false; break;
		case 'R': opt->realtime = true; break;
		default: return rttq_fail(err, -EINVAL, "bad option (see --help)");
		}
	}
	if (ret)
		return ret;
	if (optind < argc)
		return rttq_fail(err, -EINVAL, "unexpected argument '%s'", argv[optind]);
	if (!opt->port)
		return rttq_fail(err, -EINVAL, "-p PORT is required");
	if (!opt->addr) {
		if (!opt->server)
			return rttq_fail(err, -EINVAL, "client: -a ADDR is required");
		opt->addr = "::";
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options opt = {
		.duration_s = 10.0,
		.rate_per_s = 50.0,
		.size_bytes = 64,
		.quickack = true,
	};
	struct rttq_error err = { 0 };
	int ret;

	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	ret = parse_options(argc, argv, &opt, &err);
	if (ret) {
		fprintf(stderr, "tcp-pingpong: %s\n", err.msg);
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (opt.realtime) {
		struct sched_param sp = { .sched_priority = 1 };

		if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
			fprintf(stderr, "tcp-pingpong: warning: SCHED_FIFO: %s (continuing)\n",
				strerror(errno));
	}
	ret = opt.server ? run_server(&opt, &err) : run_client(&opt, &err);
	if (ret) {
		fprintf(stderr, "tcp-pingpong: %s\n", err.msg);
		return 1;
	}
	return 0;
}
