// SPDX-License-Identifier: BSD-2-Clause
/*
 * peer-churn: many short TCP connections, each from its own source address,
 * with a known number of segments reaching the server, so a test can check
 * that rttq-agent --group-by raddr puts every peer's samples in its own
 * group when group ids are recycled (tests/netns/test-recycle.sh).
 *
 *   peer-churn serve ADDR PORT
 *       accept, read until EOF, close; until SIGTERM.
 *   peer-churn churn SERVER PORT FIRST COUNT AT_ONCE RETURNING QUIET_MS
 *                    AGENT_LOG EXPECTED
 *       peer i (0 .. COUNT-1) connects from FIRST + i and sends 1 + i % 3
 *       one-byte segments, each once the previous one is acknowledged (so
 *       none coalesce), then closes: the server's socket sees each
 *       segment and the FIN in state ESTABLISHED, 2 + i % 3 tcp_probe
 *       events.  Peer i starts once the agent logged (-v, in AGENT_LOG)
 *       that the group of peer i - AT_ONCE was recycled, so at most
 *       AT_ONCE peers hold a group id at any time, however slow the
 *       agent runs.  Before the churn a connection from RETURNING sends 2
 *       segments and stays open; once it has been quiet for QUIET_MS and
 *       the churn is half done it sends 3 more, then closes at the end
 *       (6 events).  EXPECTED receives "raddr:ADDR EVENTS" per peer.
 *   peer-churn check STORE HOST PERIOD EXPECTED
 *       sums the base-period records of every group in STORE and compares:
 *       each expected group exact, no other group but "all", and "all" the
 *       sum of them.  Exit 0 when everything matches.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "monoclock.h"
#include "name_table.h"
#include "store.h"

#define MAX_EVENTS 64
#define ACK_WAIT_MS 2000
#define RECYCLE_WAIT_MS 30000 /* for a peer's group to be recycled */
#define LOG_LINE_MAX 1024
#define RETURNING_FIRST 2 /* segments before the quiet time */
#define RETURNING_AGAIN 3 /* and after it */

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	stopping = 1;
}

static int parse_addr(const char *text, uint16_t port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (inet_pton(AF_INET, text, &sa->sin_addr) != 1) {
		fprintf(stderr, "peer-churn: '%s' is not an IPv4 address\n",
			text);
		return -1;
	}
	return 0;
}

static long parse_num(const char *what, const char *text, long min, long max)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max) {
		fprintf(stderr, "peer-churn: %s '%s': expected %ld..%ld\n",
			what, text, min, max);
		exit(2);
	}
	return v;
}

/* ---------------------------------------------------------------------- */

static int serve(const char *addr, uint16_t port)
{
	struct epoll_event ev, evs[MAX_EVENTS];
	struct sockaddr_in sa;
	char buf[4096];
	int lfd, ep, n, i, one = 1;

	if (parse_addr(addr, port, &sa))
		return 2;
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (lfd < 0 || ep < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 512)) {
		perror("peer-churn: listen");
		return 1;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = lfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	printf("listening\n");
	fflush(stdout);
	while (!stopping) {
		n = epoll_wait(ep, evs, MAX_EVENTS, 200);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd, c;
			ssize_t got;

			if (fd == lfd) {
				while ((c = accept4(lfd, NULL, NULL,
						    SOCK_NONBLOCK |
						    SOCK_CLOEXEC)) >= 0) {
					ev = (struct epoll_event){
						.events = EPOLLIN, .data.fd = c
					};
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			do {
				got = read(fd, buf, sizeof(buf));
			} while (got > 0);
			if (got == 0 || (errno != EAGAIN && errno != EINTR))
				close(fd); /* leaves the epoll set with it */
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------- */

/* Waits until everything sent on @fd is acknowledged. */
static int wait_acked(int fd)
{
	int64_t until = monoclock_ms() + ACK_WAIT_MS;
	struct timespec pause = { .tv_nsec = 20000 };
	int queued;

	for (;;) {
		if (ioctl(fd, SIOCOUTQ, &queued))
			return -1;
		if (!queued)
			return 0;
		if (monoclock_ms() > until)
			return -1;
		nanosleep(&pause, NULL);
	}
}

/* @n one-byte segments on @fd, each after the previous one's ACK. */
static int send_segments(int fd, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (write(fd, "x", 1) != 1 || wait_acked(fd))
			return -1;
	return 0;
}

static int open_from(struct in_addr src, const struct sockaddr_in *server)
{
	struct sockaddr_in local = { .sin_family = AF_INET, .sin_addr = src };
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&local, sizeof(local)) ||
	    connect(fd, (const struct sockaddr *)server, sizeof(*server))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void put_expected(FILE *out, struct in_addr a, int events)
{
	char text[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, text, sizeof(text));
	fprintf(out, "raddr:%s %d\n", text, events);
}

/* What the agent logged so far: which peers' groups were recycled. */
struct agent_log {
	int fd;
	char buf[LOG_LINE_MAX];
	size_t len;          /* bytes of an unfinished line in buf */
	uint32_t first;      /* host order: peer 0's address */
	long count;
	bool *recycled;      /* by peer index */
};

/* One line of the agent's log: marks "group raddr:A: no events ..." */
static void log_line(struct agent_log *l, const char *line)
{
	static const char tag[] = "rttq-agent: group raddr:";
	char text[INET_ADDRSTRLEN], *colon;
	struct in_addr a;
	uint32_t i;

	if (strncmp(line, tag, sizeof(tag) - 1) || !strstr(line, ": no events"))
		return;
	snprintf(text, sizeof(text), "%s", line + sizeof(tag) - 1);
	colon = strchr(text, ':');
	if (colon)
		*colon = '\0';
	if (inet_pton(AF_INET, text, &a) != 1)
		return;
	i = ntohl(a.s_addr) - l->first;
	if (i < (uint32_t)l->count)
		l->recycled[i] = true;
}

/* Reads what the agent appended since the last call. */
static void log_follow(struct agent_log *l)
{
	char *nl, *line;
	ssize_t got;

	for (;;) {
		got = read(l->fd, l->buf + l->len, sizeof(l->buf) - 1 - l->len);
		if (got <= 0)
			return;
		l->len += (size_t)got;
		l->buf[l->len] = '\0';
		line = l->buf;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			log_line(l, line);
			line = nl + 1;
		}
		l->len -= (size_t)(line - l->buf);
		memmove(l->buf, line, l->len);
		if (l->len == sizeof(l->buf) - 1)
			l->len = 0; /* a line too long to be ours */
	}
}

/* Waits until the agent logged peer @i's group as recycled. */
static int wait_recycled(struct agent_log *l, long i)
{
	int64_t until = monoclock_ms() + RECYCLE_WAIT_MS;

	for (;;) {
		log_follow(l);
		if (l->recycled[i])
			return 0;
		if (monoclock_ms() > until || stopping) {
			fprintf(stderr, "peer-churn: peer %ld's group was not recycled within %d ms\n",
				i, RECYCLE_WAIT_MS);
			return -1;
		}
		monoclock_sleep_ms(2);
	}
}

/* The churn itself; churn() owns what it allocates. */
static int run_churn(const struct sockaddr_in *server,
		     const struct sockaddr_in *first,
		     const struct sockaddr_in *returning, long count,
		     long at_once, long quiet_ms, struct agent_log *log,
		     FILE *out)
{
	int64_t quiet_since;
	struct in_addr src;
	bool returned = false;
	int fd, rfd;
	long i;

	rfd = open_from(returning->sin_addr, server);
	if (rfd < 0 || send_segments(rfd, RETURNING_FIRST)) {
		perror("peer-churn: returning connection");
		return 1;
	}
	quiet_since = monoclock_ms();

	for (i = 0; i < count && !stopping; i++) {
		if (i >= at_once && wait_recycled(log, i - at_once))
			return 1;
		src.s_addr = htonl(ntohl(first->sin_addr.s_addr) + (uint32_t)i);
		fd = open_from(src, server);
		if (fd < 0 || send_segments(fd, 1 + (int)(i % 3))) {
			perror("peer-churn: peer");
			return 1;
		}
		close(fd);
		put_expected(out, src, 2 + (int)(i % 3));
		if (!returned && i >= count / 2 &&
		    monoclock_ms() - quiet_since >= quiet_ms) {
			if (send_segments(rfd, RETURNING_AGAIN)) {
				perror("peer-churn: returning connection");
				return 1;
			}
			returned = true;
			printf("returning connection talked again after %" PRId64 " ms\n",
			       monoclock_ms() - quiet_since);
		}
	}
	close(rfd);
	if (!returned) {
		fprintf(stderr, "peer-churn: the churn ended before the returning connection was quiet for %ld ms\n",
			quiet_ms);
		return 1;
	}
	put_expected(out, returning->sin_addr,
		     RETURNING_FIRST + RETURNING_AGAIN + 1);
	printf("%ld peers\n", count);
	return 0;
}

static int churn(char **argv)
{
	struct sockaddr_in server, first, returning;
	struct agent_log log = { .fd = -1 };
	long count, at_once, quiet_ms;
	FILE *out;
	int rc;

	if (parse_addr(argv[0], (uint16_t)parse_num("port", argv[1], 1, 65535),
		       &server) ||
	    parse_addr(argv[2], 0, &first) || parse_addr(argv[5], 0, &returning))
		return 2;
	count = parse_num("count", argv[3], 1, 1 << 20);
	at_once = parse_num("at-once", argv[4], 1, 1 << 20);
	quiet_ms = parse_num("quiet", argv[6], 0, 600000);
	log.first = ntohl(first.sin_addr.s_addr);
	log.count = count;
	log.recycled = calloc((size_t)count, sizeof(*log.recycled));
	log.fd = open(argv[7], O_RDONLY | O_CLOEXEC);
	out = fopen(argv[8], "we");
	if (!log.recycled || log.fd < 0 || !out) {
		perror("peer-churn");
		free(log.recycled);
		if (log.fd >= 0)
			close(log.fd);
		if (out)
			fclose(out);
		return 1;
	}

	rc = run_churn(&server, &first, &returning, count, at_once, quiet_ms,
		       &log, out);
	free(log.recycled);
	close(log.fd);
	if (fclose(out))
		rc = 1;
	return rc;
}

/* ---------------------------------------------------------------------- */

struct tally {
	char **names;
	uint64_t *counts;
	size_t n, cap;
	struct name_table index;
	uint32_t period_s;
	uint64_t sum;    /* every group but "all" */
	uint64_t all;
};

static int add_series(const char *host, const char *group,
		      const char *metric, uint32_t period_s, void *arg)
{
	struct tally *t = arg;
	char **names;
	uint64_t *counts;

	/* Each group once: its resolutions follow one another. */
	if (t->n && !strcmp(t->names[t->n - 1], group))
		return 0;
	(void)period_s;

	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1024;
		names = realloc(t->names, t->cap * sizeof(*names));
		if (names)
			t->names = names;
		counts = realloc(t->counts, t->cap * sizeof(*counts));
		if (counts)
			t->counts = counts;
		if (!names || !counts)
			return -ENOMEM;
	}
	t->names[t->n] = strdup(group);
	if (!t->names[t->n])
		return -ENOMEM;
	t->counts[t->n] = 0;
	if (name_table_add(&t->index, t->names[t->n], (uint32_t)t->n))
		return -ENOMEM;
	t->n++;
	return 0;
}

static int add_record(const struct store_record *r, void *arg)
{
	uint64_t *count = arg;

	*count += r->count;
	return 0;
}

static void tally_free(struct tally *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->names[i]);
	free(t->names);
	free(t->counts);
	name_table_release(&t->index);
}

/* Every group's base-period samples in @t; 0 or 1 (said on stderr). */
static int read_store(const char *url, const char *host, struct tally *t)
{
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	size_t i;
	int rc;

	rc = store_open_read(url, &st, &err);
	if (!rc)
		rc = store_series(st, host, NULL, 0, INT32_MAX, add_series, t,
				  &err);
	for (i = 0; !rc && i < t->n; i++) {
		struct store_query q = { .host = host, .group = t->names[i],
					 .period_s = t->period_s, .from_s = 0,
					 .to_s = INT32_MAX };

		rc = store_query(st, &q, add_record, &t->counts[i], &err);
		if (strcmp(t->names[i], "all"))
			t->sum += t->counts[i];
		else
			t->all = t->counts[i];
	}
	store_close(st);
	if (rc)
		fprintf(stderr, "peer-churn: %s\n",
			err.msg[0] ? err.msg : strerror(-rc));
	return rc ? 1 : 0;
}

static int check(char **argv)
{
	struct tally t = { 0 };
	char group[STORE_GROUP_MAX];
	unsigned long long want;
	uint32_t pos;
	size_t i, expected = 0, bad = 0;
	FILE *in;

	t.period_s = (uint32_t)parse_num("period", argv[2], 1, 3600);
	if (read_store(argv[0], argv[1], &t)) {
		tally_free(&t);
		return 1;
	}
	in = fopen(argv[3], "re");
	if (!in) {
		perror("peer-churn: expected");
		tally_free(&t);
		return 1;
	}
	while (fscanf(in, "%511s %llu", group, &want) == 2) {
		expected++;
		if (name_table_find(&t.index, group, &pos)) {
			if (bad++ < 10)
				printf("%s: no records, expected %llu samples\n",
				       group, want);
			continue;
		}
		if (t.counts[pos] != want && bad++ < 10)
			printf("%s: %" PRIu64 " samples, expected %llu\n",
			       group, t.counts[pos], want);
		t.counts[pos] = UINT64_MAX; /* seen */
	}
	fclose(in);
	for (i = 0; i < t.n; i++)
		if (t.counts[i] != UINT64_MAX && strcmp(t.names[i], "all") &&
		    bad++ < 10)
			printf("%s: %" PRIu64 " samples, not a peer of the test\n",
			       t.names[i], t.counts[i]);
	if (t.all != t.sum) {
		bad++;
		printf("all: %" PRIu64 " samples, the groups %" PRIu64 "\n",
		       t.all, t.sum);
	}
	printf("%zu peers expected, %zu groups stored, %" PRIu64 " samples, %zu mismatches\n",
	       expected, t.n, t.all, bad);
	tally_free(&t);
	return bad || !expected ? 1 : 0;
}

int main(int argc, char **argv)
{
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2],
			     (uint16_t)parse_num("port", argv[3], 1, 65535));
	if (argc == 11 && !strcmp(argv[1], "churn"))
		return churn(argv + 2);
	if (argc == 6 && !strcmp(argv[1], "check"))
		return check(argv + 2);
	fprintf(stderr, "usage: peer-churn serve ADDR PORT\n"
			"       peer-churn churn SERVER PORT FIRST COUNT AT_ONCE RETURNING QUIET_MS AGENT_LOG EXPECTED\n"
			"       peer-churn check STORE HOST PERIOD EXPECTED\n");
	return 2;
}
