// SPDX-License-Identifier: BSD-2-Clause
/*
 * signals-loop: the smallest control loop on librttq-signals, as an
 * example to copy: every 200 ms, read what happened since the last read
 * and act on it (here: print it).  Needs root, like rttq-agent.
 * Build: cc signals-loop.c $(pkg-config --cflags --libs rttq-signals)
 */
#define _POSIX_C_SOURCE 200809L /* clock_nanosleep() under -std=c11 */

#include <signal.h>
#include <stdio.h>
#include <time.h>

#include <rttq/signals.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(void)
{
	/* Absolute deadlines, so the time a read takes does not stretch
	 * the period. */
	struct timespec next;
	struct rttq_signal_sample s;
	struct rttq_signals *h;
	int rc;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* NULL options: every connection (see struct rttq_signals_opts). */
	rc = rttq_signals_open(&h, NULL);
	if (rc) {
		fprintf(stderr, "signals-loop: %s\n",
			rttq_signals_last_error(NULL));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!stop) {
		next.tv_nsec += 200 * 1000 * 1000;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		rc = rttq_signals_read_and_reset(h, &s);
		if (rc) {
			/* The next read covers this interval too. */
			fprintf(stderr, "signals-loop: %s\n",
				rttq_signals_last_error(h));
			continue;
		}
		/* A governor would decide here; the sample is all it needs. */
		printf("%.3f s: %llu RTTs p50 %.0f us p99 %.0f us, sent %llu B, "
		       "received %llu B, %llu retransmits, %llu drops, "
		       "sndbuf %.0f %% (max %.0f %%), softirq %llu us\n",
		       (double)s.interval_ns / 1e9,
		       (unsigned long long)s.events, s.rtt_p50_us,
		       s.rtt_p99_us, (unsigned long long)s.send_bytes,
		       (unsigned long long)s.recv_bytes,
		       (unsigned long long)s.retransmits,
		       (unsigned long long)s.drops,
		       s.sndbuf_pressure_avg * 100.0,
		       s.sndbuf_pressure_max * 100.0,
		       (unsigned long long)(s.softirq_ns / 1000));
		fflush(stdout);
	}
	rttq_signals_close(h);
	return 0;
}
