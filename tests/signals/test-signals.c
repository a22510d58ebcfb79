// SPDX-License-Identifier: BSD-2-Clause
/*
 * librttq-signals against the running kernel, through its public header
 * only: 200 ms samples while a loopback TCP connection streams a known
 * number of bytes carry RTT events, ordered quantiles, the interval they
 * cover, exactly the bytes written (with the bytes hooks), softirq time
 * and send-buffer pressure; a port filter with no traffic sees nothing;
 * datagrams to a closed port count as drops; bad options fail with -EINVAL and a message naming the field.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "kernel.h"
#include "net.h"
#include "traffic_stream.h"
#include "wait.h"
#include "rttq/signals.h"

#include <bpf/libbpf.h>

#define SAMPLE_S 0.2
#define SAMPLES 5
#define PAUSE_US 200   /* between 16 KiB blocks: ACKs keep coming */
#define DROPPED 100    /* datagrams sent to a closed port */

static void check_bad_opts(void)
{
	struct rttq_signals_opts o;
	struct rttq_signals *h = NULL;

	check_section("bad options: -EINVAL naming the field");
	memset(&o, 0, sizeof(o));
	o.raddr = "10.0.0.0/99";
	CHECK_CMP(rttq_signals_open(&h, &o), ==, -EINVAL);
	CHECK(h == NULL, "no handle after a failed open");
	CHECK_CONTAINS(rttq_signals_last_error(NULL), "raddr");
	CHECK_CONTAINS(rttq_signals_last_error(NULL), "10.0.0.0/99");

	memset(&o, 0, sizeof(o));
	o.laddr = "not-an-address";
	CHECK_CMP(rttq_signals_open(&h, &o), ==, -EINVAL);
	CHECK_CONTAINS(rttq_signals_last_error(NULL), "laddr");

	memset(&o, 0, sizeof(o));
	o.cgroup = "system.slice";
	CHECK_CMP(rttq_signals_open(&h, &o), ==, -EINVAL);
	CHECK_CONTAINS(rttq_signals_last_error(NULL), "cgroup");

	rttq_signals_close(NULL);
}

/*
 * Samples while the stream runs, with the filter on its server port:
 * the writer's socket alone counts (its remote port is the server's).
 */
static void check_samples(void)
{
	struct rttq_signals_opts o = { .include_loopback = 1 };
	struct rttq_signal_sample s, total = { 0 };
	struct traffic_stream st;
	struct rttq_signals *h = NULL;
	unsigned int i, with_events = 0;
	double p50_max = 0, interval_min = 1e9, interval_max = 0;
	unsigned long long written = 0;
	int ret;

	check_section("200 ms samples of a loopback stream");
	REQUIRE(traffic_stream_listen(&st) == 0, "stream listener");
	o.rport = st.server_port;
	ret = rttq_signals_open(&h, &o);
	REQUIRE(ret == 0, "rttq_signals_open: %d %s", ret,
		rttq_signals_last_error(NULL));
	CHECK_STR(rttq_signals_last_error(NULL), "");

	REQUIRE(traffic_stream_start(&st, PAUSE_US) == 0, "stream start");

	/* The first sample also covers the set-up above. */
	CHECK_CMP(rttq_signals_read_and_reset(h, &s), ==, 0);
	total.send_bytes += s.send_bytes;
	for (i = 0; i < SAMPLES; i++) {
		sleep_s(SAMPLE_S);
		/* The last sample sees every byte the writer sent. */
		if (i == SAMPLES - 1)
			written = traffic_stream_stop(&st);
		ret = rttq_signals_read_and_reset(h, &s);
		CHECK(ret == 0, "read_and_reset: %d %s", ret,
		      rttq_signals_last_error(h));
		CHECK_STR(rttq_signals_last_error(h), "");
		if (s.events) {
			with_events++;
			CHECK(s.rtt_p50_us > 0 && s.rtt_p50_us <= s.rtt_p99_us,
			      "sample %u: p50 %.1f us, p99 %.1f us", i,
			      s.rtt_p50_us, s.rtt_p99_us);
			if (s.rtt_p50_us > p50_max)
				p50_max = s.rtt_p50_us;
		}
		CHECK(s.sndbuf_pressure_avg >= 0 &&
		      s.sndbuf_pressure_avg <= s.sndbuf_pressure_max &&
		      s.sndbuf_pressure_max <= 1.0,
		      "sample %u: sndbuf avg %.3f max %.3f", i,
		      s.sndbuf_pressure_avg, s.sndbuf_pressure_max);
		if ((double)s.interval_ns < interval_min)
			interval_min = (double)s.interval_ns;
		if ((double)s.interval_ns > interval_max)
			interval_max = (double)s.interval_ns;
		total.send_bytes += s.send_bytes;
		total.recv_bytes += s.recv_bytes;
		total.events += s.events;
		total.retransmits += s.retransmits;
		total.softirq_ns += s.softirq_ns;
		if (s.sndbuf_pressure_max > total.sndbuf_pressure_max)
			total.sndbuf_pressure_max = s.sndbuf_pressure_max;
	}
	printf("  %llu bytes written; samples: %llu events, %llu B sent, "
	       "%llu B received, interval %.1f..%.1f ms, p50 <= %.1f us, "
	       "softirq %.1f ms, sndbuf max %.3f\n",
	       written, (unsigned long long)total.events,
	       (unsigned long long)total.send_bytes,
	       (unsigned long long)total.recv_bytes, interval_min / 1e6,
	       interval_max / 1e6, p50_max, (double)total.softirq_ns / 1e6,
	       total.sndbuf_pressure_max);
	CHECK_CMP(with_events, ==, SAMPLES);
	/* sleep_s() plus one read: never shorter, and a loaded 2-CPU
	 * machine may add scheduling delay, not a second interval. */
	CHECK_CMP(interval_min, >=, SAMPLE_S * 1e9);
	CHECK_CMP(interval_max, <, 2 * SAMPLE_S * 1e9);
	/* Loopback RTTs are microseconds, never a second. */
	CHECK_CMP(p50_max, <, 1e6);
	/* sock_send_length counts what send() returned, for this socket
	 * alone; where the kernel has no bytes hook the field reads 0. */
	if (total.send_bytes)
		CHECK_CMP(total.send_bytes, ==, written);
	else
		printf("  send_bytes 0: no bytes hook in this build or kernel\n");
	/* Softirq time is the node's: some while bytes cross loopback,
	 * never more than every CPU for the whole span. */
	CHECK(total.softirq_ns > 0 &&
	      (double)total.softirq_ns <
		      SAMPLES * interval_max * (double)sysconf(_SC_NPROCESSORS_ONLN),
	      "softirq_ns %llu over %d samples",
	      (unsigned long long)total.softirq_ns, SAMPLES);
	/* A stream always has something queued when its ACKs come. */
	CHECK_CMP(total.sndbuf_pressure_max, >, 0.0);
	/* The reader's socket has the server port as its local one. */
	CHECK_CMP(total.recv_bytes, ==, 0);

	rttq_signals_close(h);
}

/* A filter no traffic matches gives samples with nothing in them. */
static void check_filter_excludes(void)
{
	struct rttq_signals_opts o = { .include_loopback = 1, .lport = 9 };
	struct rttq_signal_sample s;
	struct rttq_signals *h = NULL;
	int port, lfd, cfd, sfd;
	char buf[64] = { 0 };
	unsigned int i;
	int ret;

	check_section("a port filter nothing matches counts nothing");
	ret = rttq_signals_open(&h, &o);
	REQUIRE(ret == 0, "rttq_signals_open: %s",
		rttq_signals_last_error(NULL));
	lfd = net_listen_loopback(1, &port);
	cfd = net_connect_loopback(port);
	sfd = accept(lfd, NULL, NULL);
	REQUIRE(lfd >= 0 && cfd >= 0 && sfd >= 0, "loopback connection");
	for (i = 0; i < 200; i++) {
		if (write(cfd, buf, sizeof(buf)) != sizeof(buf) ||
		    read(sfd, buf, sizeof(buf)) <= 0 ||
		    write(sfd, buf, sizeof(buf)) != sizeof(buf) ||
		    read(cfd, buf, sizeof(buf)) <= 0)
			break;
	}
	CHECK_CMP(i, ==, 200);
	CHECK_CMP(rttq_signals_read_and_reset(h, &s), ==, 0);
	CHECK_CMP(s.events, ==, 0);
	CHECK_CMP(s.send_bytes, ==, 0);
	CHECK_CMP(s.recv_bytes, ==, 0);
	close(cfd);
	close(sfd);
	close(lfd);
	rttq_signals_close(h);
}

/*
 * Datagrams to a port nobody listens on are dropped (no socket): the
 * sample's drops count each one.  Other namespaces may drop packets in
 * the same span, so the sample holds at least these.
 */
static void check_drops(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct rttq_signal_sample s;
	struct rttq_signals *h = NULL;
	int ret, fd, port, lfd;
	char byte = 0;
	unsigned int i;

	check_section("datagrams to a closed port count as drops");
	ret = rttq_signals_open(&h, NULL);
	REQUIRE(ret == 0, "rttq_signals_open: %s",
		rttq_signals_last_error(NULL));
	/* A port just given back is closed. */
	lfd = net_listen_loopback(1, &port);
	REQUIRE(lfd >= 0, "loopback listener");
	close(lfd);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	REQUIRE(fd >= 0, "UDP socket");
	to.sin_port = htons((uint16_t)port);
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK_CMP(rttq_signals_read_and_reset(h, &s), ==, 0);
	for (i = 0; i < DROPPED; i++)
		CHECK_CMP(sendto(fd, &byte, 1, 0, (struct sockaddr *)&to,
				 sizeof(to)), ==, 1);
	CHECK_CMP(rttq_signals_read_and_reset(h, &s), ==, 0);
	CHECK(s.drops >= DROPPED, "drops %llu after %d datagrams to a closed port",
	      (unsigned long long)s.drops, DROPPED);
	close(fd);
	rttq_signals_close(h);
}

/* A control loop's own libbpf print callback (it may use libbpf too). */
static int caller_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	(void)level;
	(void)fmt;
	(void)args;
	return 0;
}

/* libbpf's print callback is the process's: opening the library must
 * leave the caller's in place. */
static void check_print_callback_kept(void)
{
	struct rttq_signals *h = NULL;
	int ret;

	check_section("the caller's libbpf print callback survives open");
	libbpf_set_print(caller_print);
	ret = rttq_signals_open(&h, NULL);
	REQUIRE(ret == 0, "rttq_signals_open: %d %s", ret,
		rttq_signals_last_error(NULL));
	CHECK(libbpf_set_print(NULL) == caller_print,
	      "rttq_signals_open() replaced the caller's libbpf print callback");
	rttq_signals_close(h);
}

int main(void)
{
	check_bad_opts();
	require_root("librttq-signals loads BPF programs");
	skip_unless_kernel(KERNEL_BPF);
	check_samples();
	check_filter_excludes();
	check_drops();
	check_print_callback_kept();
	return check_report();
}
