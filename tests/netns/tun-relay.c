// SPDX-License-Identifier: BSD-2-Clause
/*
 * tun-relay: joins two network namespaces through a pair of TUN devices and
 * holds every IP packet for a set one-way delay before passing it on, so the
 * end-to-end tests get real TCP connections with known RTTs on kernels built
 * without sch_netem.  Delays may be set per address; a packet takes the delay
 * of its destination address, else of its source address, else the default.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

#define MAX_RULES 64
#define MAX_DELAY_NS (60ull * 1000000000ull)
#define PACKET_MAX 65536        /* largest IP packet a TUN read returns */
#define READS_PER_WAKEUP 256    /* bound one side's burst so the other is served */
#define DEFAULT_QUEUE_LIMIT 100000
#define MAX_LEAD_NS 500000      /* never send a packet more than 0.5 ms early */
/* ... nor more than 1/EARLY_DIVISOR of its own delay: a lead learned on a
 * loaded machine (hundreds of us) would otherwise take 5 % off a 2 ms RTT
 * whenever a packet's arrival, not the timer, wakes the relay. */
#define EARLY_DIVISOR 50

struct delay_rule {
	int family;               /* AF_INET or AF_INET6 */
	unsigned char addr[16];   /* network byte order, first 4 bytes for IPv4 */
	uint64_t delay_ns;        /* one-way hold */
};

struct held_packet {
	uint64_t due_ns;          /* CLOCK_MONOTONIC time to write it out */
	uint64_t early_max_ns;    /* how early it may leave: its delay / 50 */
	uint64_t seq;             /* arrival order: equal due times stay FIFO */
	int out_fd;
	size_t len;
	unsigned char data[];
};

/* Binary min-heap on (due_ns, seq): per-address delays make release order
 * differ from arrival order, so a FIFO per direction is not enough. */
struct packet_heap {
	struct held_packet **v;
	size_t n;
	size_t cap;
};

struct relay {
	struct delay_rule rules[MAX_RULES];
	size_t n_rules;
	uint64_t default_delay_ns;
	size_t queue_limit;
	int tun_fd[2];
	int timer_fd;
	int signal_fd;
	int epoll_fd;
	uint64_t armed_ns;        /* timer deadline now set, 0 when disarmed */
	uint64_t lead_ns;         /* how late timer wakeups run, learned */
	struct packet_heap heap;
	uint64_t next_seq;
	uint64_t forwarded;
	uint64_t dropped;
};

struct options {
	const char *netns[2];     /* NULL: create the device in our own netns */
	const char *ifname[2];
	bool low_latency;         /* hold a 0 us PM QoS request while running */
};

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "250us", "1.5ms", "2s", "100ns": a unit is required so a bare number never
 * gets silently read in the wrong one. */
static int parse_duration_ns(const char *s, uint64_t *out_ns, struct rttq_error *err)
{
	static const struct { const char *suffix; double ns; } units[] = {
		{ "ns", 1.0 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
	};
	char *end;
	double v;
	size_t i;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return rttq_fail(err, -EINVAL, "delay '%s': not a number", s);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		v *= units[i].ns;
		if (!(v >= 0.0 && v <= (double)MAX_DELAY_NS))
			return rttq_fail(err, -ERANGE, "delay '%s': must be within 0..60s", s);
		*out_ns = (uint64_t)(v + 0.5);
		return 0;
	}
	return rttq_fail(err, -EINVAL, "delay '%s': unit must be ns, us, ms or s", s);
}

/* ADDR=DURATION or default=DURATION */
static int parse_delay_arg(struct relay *r, const char *arg, struct rttq_error *err)
{
	char addr[INET6_ADDRSTRLEN];
	const char *eq = strchr(arg, '=');
	struct delay_rule *rule;
	size_t len;
	uint64_t ns = 0;
	int ret;

	if (!eq)
		return rttq_fail(err, -EINVAL, "--delay '%s': expected ADDR=DURATION", arg);
	len = (size_t)(eq - arg);
	if (len == 0 || len >= sizeof(addr))
		return rttq_fail(err, -EINVAL, "--delay '%s': bad address", arg);
	memcpy(addr, arg, len);
	addr[len] = '\0';
	ret = parse_duration_ns(eq + 1, &ns, err);
	if (ret)
		return ret;
	if (strcmp(addr, "default") == 0) {
		r->default_delay_ns = ns;
		return 0;
	}
	if (r->n_rules == MAX_RULES)
		return rttq_fail(err, -E2BIG, "--delay: at most %d addresses", MAX_RULES);
	rule = &r->rules[r->n_rules];
	memset(rule, 0, sizeof(*rule));
	if (inet_pton(AF_INET, addr, rule->addr) == 1)
		rule->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, rule->addr) == 1)
		rule->family = AF_INET6;
	else
		return rttq_fail(err, -EINVAL, "--delay '%s': '%s' is not an IPv4 or IPv6 address",
				 arg, addr);
	rule->delay_ns = ns;
	r->n_rules++;
	return 0;
}

static const struct delay_rule *find_rule(const struct relay *r, int family,
					  const unsigned char *addr)
{
	size_t alen = family == AF_INET ? 4 : 16;
	size_t i;

	for (i = 0; i < r->n_rules; i++)
		if (r->rules[i].family == family && memcmp(r->rules[i].addr, addr, alen) == 0)
			return &r->rules[i];
	return NULL;
}

/* Keyed by destination first so both directions of a flow find the same
 * rule: requests by their destination (the server address), replies by
 * their source (the same address). */
static uint64_t delay_for_packet(const struct relay *r, const unsigned char *pkt, size_t len)
{
	const struct delay_rule *rule = NULL;
	int version = len ? pkt[0] >> 4 : 0;

	if (version == 4 && len >= 20) {
		rule = find_rule(r, AF_INET, pkt + 16);
		if (!rule)
			rule = find_rule(r, AF_INET, pkt + 12);
	} else if (version == 6 && len >= 40) {
		rule = find_rule(r, AF_INET6, pkt + 24);
		if (!rule)
			rule = find_rule(r, AF_INET6, pkt + 8);
	}
	return rule ? rule->delay_ns : r->default_delay_ns;
}

static bool packet_before(const struct held_packet *a, const struct held_packet *b)
{
	if (a->due_ns != b->due_ns)
		return a->due_ns < b->due_ns;
	return a->seq < b->seq;
}

static int heap_push(struct packet_heap *h, struct held_packet *p)
{
	size_t i;

	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 1024;
		struct held_packet **v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	for (i = h->n++; i > 0; i = (i - 1) / 2) {
		struct held_packet *parent = h->v[(i - 1) / 2];

		if (!packet_before(p, parent))
			break;
		h->v[i] = parent;
	}
	h->v[i] = p;
	return 0;
}

static struct held_packet *heap_pop(struct packet_heap *h)
{
	struct held_packet *top = h->v[0], *last = h->v[--h->n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && packet_before(h->v[c + 1], h->v[c]))
			c++;
		if (!packet_before(h->v[c], last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
	return top;
}

static void heap_free(struct packet_heap *h)
{
	while (h->n)
		free(heap_pop(h));
	free(h->v);
	h->v = NULL;
	h->cap = 0;
}

/* Creates the TUN device inside the named namespace (a name under
 * /run/netns or a path), so it never exists in ours and no move is needed.
 * The fd keeps working from here whatever namespace the device lives in. */
static int tun_create(const char *netns, const char *ifname, int home_ns_fd,
		      int *out_fd, struct rttq_error *err)
{
	char path[PATH_MAX];
	struct ifreq ifr;
	int ns_fd = -1, fd = -1, ret = 0;

	if (strlen(ifname) >= IFNAMSIZ)
		return rttq_fail(err, -EINVAL, "interface name '%s': longer than %d characters",
				 ifname, IFNAMSIZ - 1);
	if (netns) {
		snprintf(path, sizeof(path), "%s%s", strchr(netns, '/') ? "" : "/run/netns/",
			 netns);
		ns_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (ns_fd < 0) {
			ret = rttq_fail(err, -errno, "network namespace %s: %s", path,
					strerror(errno));
			goto cleanup;
		}
		if (setns(ns_fd, CLONE_NEWNET) < 0) {
			ret = rttq_fail(err, -errno, "entering network namespace %s: %s%s", path,
					strerror(errno),
					errno == EPERM ? " (needs CAP_SYS_ADMIN: run as root)" : "");
			goto cleanup;
		}
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = rttq_fail(err, -errno, "/dev/net/tun: %s%s", strerror(errno),
				errno == ENOENT ? " (kernel without CONFIG_TUN, or modprobe tun)" :
				errno == EACCES || errno == EPERM ? " (run as root)" : "");
		goto restore;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	memcpy(ifr.ifr_name, ifname, strlen(ifname));
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		ret = rttq_fail(err, -errno, "creating TUN device %s%s%s: %s%s", ifname,
				netns ? " in " : "", netns ? netns : "", strerror(errno),
				errno == EPERM ? " (needs CAP_NET_ADMIN: run as root)" :
				errno == EBUSY ? " (name already in use)" : "");
		goto restore;
	}
	*out_fd = fd;
	fd = -1;
restore:
	if (netns && setns(home_ns_fd, CLONE_NEWNET) < 0 && !ret)
		ret = rttq_fail(err, -errno, "returning to our network namespace: %s",
				strerror(errno));
cleanup:
	if (fd >= 0)
		close(fd);
	if (ns_fd >= 0)
		close(ns_fd);
	return ret;
}

static int epoll_watch(int epoll_fd, int fd, struct rttq_error *err)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return rttq_fail(err, -errno, "epoll_ctl: %s", strerror(errno));
	return 0;
}

static int relay_open(struct relay *r, const struct options *opt, struct rttq_error *err)
{
	sigset_t mask;
	int home_ns_fd, ret, i;

	home_ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home_ns_fd < 0)
		return rttq_fail(err, -errno, "/proc/self/ns/net: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		ret = tun_create(opt->netns[i], opt->ifname[i], home_ns_fd, &r->tun_fd[i], err);
		if (ret)
			break;
	}
	close(home_ns_fd);
	if (ret)
		return ret;

	r->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (r->timer_fd < 0)
		return rttq_fail(err, -errno, "timerfd_create: %s", strerror(errno));
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return rttq_fail(err, -errno, "sigprocmask: %s", strerror(errno));
	r->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r->signal_fd < 0)
		return rttq_fail(err, -errno, "signalfd: %s", strerror(errno));
	r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epoll_fd < 0)
		return rttq_fail(err, -errno, "epoll_create1: %s", strerror(errno));
	if ((ret = epoll_watch(r->epoll_fd, r->tun_fd[0], err)) ||
	    (ret = epoll_watch(r->epoll_fd, r->tun_fd[1], err)) ||
	    (ret = epoll_watch(r->epoll_fd, r->timer_fd, err)) ||
	    (ret = epoll_watch(r->epoll_fd, r->signal_fd, err)))
		return ret;
	return 0;
}

static void relay_close(struct relay *r)
{
	int *fds[] = { &r->tun_fd[0], &r->tun_fd[1], &r->timer_fd, &r->signal_fd, &r->epoll_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
	heap_free(&r->heap);
}

/* Reads what one side has queued and holds each packet for its delay. */
static int hold_incoming(struct relay *r, int side, unsigned char *buf)
{
	int n;

	for (n = 0; n < READS_PER_WAKEUP; n++) {
		struct held_packet *p;
		ssize_t len = read(r->tun_fd[side], buf, PACKET_MAX);
		uint64_t delay_ns;

		if (len < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return -errno;
		}
		if (len == 0)
			return 0;
		if (r->heap.n >= r->queue_limit) {
			r->dropped++;
			continue;
		}
		p = malloc(sizeof(*p) + (size_t)len);
		if (!p)
			return -ENOMEM;
		delay_ns = delay_for_packet(r, buf, (size_t)len);
		p->due_ns = monotonic_ns() + delay_ns;
		p->early_max_ns = delay_ns / EARLY_DIVISOR;
		p->seq = r->next_seq++;
		p->out_fd = r->tun_fd[!side];
		p->len = (size_t)len;
		memcpy(p->data, buf, (size_t)len);
		if (heap_push(&r->heap, p) < 0) {
			free(p);
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * A timer wakeup lands tens of microseconds after its deadline (more in a VM
 * whose idle vCPU has halted), which would add to every RTT.  So the timer is
 * set early by the wakeup lateness seen so far (a 1/8 EWMA, capped), and
 * packets leave when they are due within that lead: on average at their due
 * time rather than after it.
 */
static void learn_wakeup_lateness(struct relay *r, uint64_t wake_ns)
{
	int64_t lateness_ns, lead_ns = (int64_t)r->lead_ns;

	if (!r->armed_ns || wake_ns < r->armed_ns)
		return;
	lateness_ns = (int64_t)(wake_ns - r->armed_ns);
	if (lateness_ns > MAX_LEAD_NS)
		lateness_ns = MAX_LEAD_NS;
	lead_ns += (lateness_ns - lead_ns) / 8;
	r->lead_ns = lead_ns < 0 ? 0 : (uint64_t)lead_ns;
}

/* How early @p may leave: the learned lead, within its own bound. */
static uint64_t early_ns(const struct relay *r, const struct held_packet *p)
{
	return r->lead_ns < p->early_max_ns ? r->lead_ns : p->early_max_ns;
}

static void release_due(struct relay *r)
{
	uint64_t now_ns = monotonic_ns();

	while (r->heap.n &&
	       r->heap.v[0]->due_ns <= now_ns + early_ns(r, r->heap.v[0])) {
		struct held_packet *p = heap_pop(&r->heap);

		/* A full or down device drops like a real link would. */
		if (write(p->out_fd, p->data, p->len) == (ssize_t)p->len)
			r->forwarded++;
		else
			r->dropped++;
		free(p);
	}
}

static int arm_timer(struct relay *r)
{
	struct itimerspec its = { 0 };
	uint64_t due_ns = r->heap.n ? r->heap.v[0]->due_ns : 0;
	uint64_t early = r->heap.n ? early_ns(r, r->heap.v[0]) : 0;

	/* Deadline 0 would disarm the timer: keep at least 1 ns.  Armed as
	 * early as release_due() lets the packet go, so a wakeup always
	 * finds it due. */
	if (due_ns)
		due_ns = due_ns > early + 1 ? due_ns - early : 1;
	if (due_ns == r->armed_ns)
		return 0;
	its.it_value.tv_sec = (time_t)(due_ns / 1000000000ull);
	its.it_value.tv_nsec = (long)(due_ns % 1000000000ull);
	if (timerfd_settime(r->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	r->armed_ns = due_ns;
	return 0;
}

static int relay_run(struct relay *r, struct rttq_error *err)
{
	unsigned char *buf = malloc(PACKET_MAX);
	bool exiting = false;
	int ret = 0;

	if (!buf)
		return rttq_fail(err, -ENOMEM, "out of memory");
	while (!exiting) {
		struct epoll_event events[4];
		int i, n = epoll_wait(r->epoll_fd, events, 4, -1);
		uint64_t wake_ns = monotonic_ns();

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = rttq_fail(err, -errno, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n && !ret; i++) {
			int fd = events[i].data.fd;

			if (fd == r->tun_fd[0] || fd == r->tun_fd[1]) {
				ret = hold_incoming(r, fd == r->tun_fd[1], buf);
				if (ret)
					rttq_fail(err, ret, "reading TUN device: %s", strerror(-ret));
			} else if (fd == r->timer_fd) {
				uint64_t expirations;

				/* Clears readiness; the heap says what is due. */
				if (read(r->timer_fd, &expirations, sizeof(expirations)) > 0)
					learn_wakeup_lateness(r, wake_ns);
				else if (errno != EAGAIN)
					ret = rttq_fail(err, -errno, "timerfd: %s", strerror(errno));
			} else if (fd == r->signal_fd) {
				exiting = true;
			}
		}
		if (ret)
			break;
		release_due(r);
		ret = arm_timer(r);
		if (ret) {
			rttq_fail(err, ret, "timerfd_settime: %s", strerror(-ret));
			break;
		}
	}
	free(buf);
	return ret;
}

/*
 * In a VM an idle vCPU halts, and waking it (timer or packet) costs 50-100 us
 * each time: a few of those per round trip are 5 % of a 2 ms RTT.  A 0 us
 * CPU latency request keeps idle CPUs polling instead, for as long as the fd
 * stays open (the kernel drops the request when we exit).
 */
static int request_low_cpu_latency(struct rttq_error *err)
{
	int32_t latency_us = 0;
	int fd = open("/dev/cpu_dma_latency", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return rttq_fail(err, -errno, "/dev/cpu_dma_latency: %s", strerror(errno));
	if (write(fd, &latency_us, sizeof(latency_us)) != sizeof(latency_us)) {
		int ret = rttq_fail(err, -errno, "/dev/cpu_dma_latency: %s", strerror(errno));

		close(fd);
		return ret;
	}
	return fd;
}

/* Other busy processes (a parallel build) otherwise delay our wakeups. */
static void request_realtime_priority(void)
{
	struct sched_param sp = { .sched_priority = 1 };

	if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
		fprintf(stderr, "tun-relay: warning: SCHED_FIFO: %s (continuing)\n",
			strerror(errno));
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tun-relay [--netns-a NS] [--netns-b NS] [--name-a IF] [--name-b IF]\n"
		"                 [--delay ADDR=DURATION]... [--delay default=DURATION]\n"
		"                 [--queue-limit PACKETS] [--low-latency]\n"
		"Creates TUN device A (in netns NS, a name under /run/netns or a path) and\n"
		"device B, and forwards every IP packet from one to the other after holding\n"
		"it for its one-way delay (by destination address, then source address,\n"
		"else the default, 0 unless set).  RTT of a flow = 2 x its delay.\n"
		"DURATION takes a unit: ns, us, ms, s.  Prints 'ready' once both devices\n"
		"exist; exits cleanly on SIGTERM/SIGINT, removing both devices.\n"
		"--low-latency keeps idle CPUs from halting while it runs (PM QoS 0 us)\n"
		"and runs the relay SCHED_FIFO (priority 1): less wakeup latency in VMs\n"
		"and under load, at the cost of idle CPU time.\n"
		"example: tun-relay --netns-a cli --netns-b srv --delay 10.9.1.2=10ms\n");
}

static int parse_count(const char *s, size_t *out, struct rttq_error *err)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > 10000000ull)
		return rttq_fail(err, -EINVAL, "'%s': expected a count in 1..10000000", s);
	*out = (size_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "netns-a", required_argument, NULL, 'A' },
		{ "netns-b", required_argument, NULL, 'B' },
		{ "name-a", required_argument, NULL, 'a' },
		{ "name-b", required_argument, NULL, 'b' },
		{ "delay", required_argument, NULL, 'd' },
		{ "queue-limit", required_argument, NULL, 'q' },
		{ "low-latency", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct options opt = { .ifname = { "rttq-a", "rttq-b" } };
	struct relay *r = calloc(1, sizeof(*r));
	struct rttq_error err = { 0 };
	int c, qos_fd = -1, ret = 0;

	if (!r) {
		fprintf(stderr, "tun-relay: out of memory\n");
		return 1;
	}
	r->tun_fd[0] = r->tun_fd[1] = r->timer_fd = r->signal_fd = r->epoll_fd = -1;
	r->queue_limit = DEFAULT_QUEUE_LIMIT;
	while (!ret && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'A': opt.netns[0] = optarg; break;
		case 'B': opt.netns[1] = optarg; break;
		case 'a': opt.ifname[0] = optarg; break;
		case 'b': opt.ifname[1] = optarg; break;
		case 'd': ret = parse_delay_arg(r, optarg, &err); break;
		case 'q': ret = parse_count(optarg, &r->queue_limit, &err); break;
		case 'L': opt.low_latency = true; break;
		case 'h': usage(stdout); free(r); return 0;
		default: usage(stderr); free(r); return 2;
		}
	}
	if (!ret && optind < argc)
		ret = rttq_fail(&err, -EINVAL, "unexpected argument '%s'", argv[optind]);
	if (ret) {
		fprintf(stderr, "tun-relay: %s\n", err.msg);
		free(r);
		return 2;
	}
	/* Default timer slack (50 us) would add up to 100 us to every RTT. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

	if (opt.low_latency) {
		qos_fd = ret = request_low_cpu_latency(&err);
		if (ret > 0)
			ret = 0;
		request_realtime_priority();
	}
	if (!ret)
		ret = relay_open(r, &opt, &err);
	if (!ret) {
		printf("ready\n");
		fflush(stdout);
		ret = relay_run(r, &err);
	}
	if (ret)
		fprintf(stderr, "tun-relay: %s\n", err.msg);
	else
		fprintf(stderr, "tun-relay: forwarded=%llu dropped=%llu timer_lead_us=%.1f\n",
			(unsigned long long)r->forwarded, (unsigned long long)r->dropped,
			(double)r->lead_ns / 1e3);
	relay_close(r);
	if (qos_fd >= 0)
		close(qos_fd);
	free(r);
	return ret ? 1 : 0;
}
