// SPDX-License-Identifier: BSD-2-Clause
/*
 * What one rttq_signals_read_and_reset() call costs a control loop (goal:
 * under 50 us, so a 200 ms loop spends well under 0.1 % of a core on
 * it): p50, p99 and max wall time of many calls, 1 ms apart, on an idle
 * host and while a loopback stream keeps every counter moving, and the
 * same of the calling thread's CPU time, which a preemption by another
 * process (a busy 2-CPU machine) does not inflate: a p99 above the goal
 * in wall time only is the machine's, in CPU time too it is the call's.
 * Needs root; prints numbers, asserts nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel.h"
#include "traffic_stream.h"
#include "wait.h"
#include "rttq/signals.h"

#define CALLS 3000
#define GAP_US 1000

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double now_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* @calls timed calls on @h, printed as one line labelled @label. */
static int run(struct rttq_signals *h, const char *label)
{
	static double us[CALLS], cpu_us[CALLS];
	struct rttq_signal_sample s;
	unsigned long long events = 0;
	double t0, c0;
	int i;

	for (i = 0; i < CALLS; i++) {
		sleep_s(GAP_US / 1e6);
		c0 = now_us(CLOCK_THREAD_CPUTIME_ID);
		t0 = now_us(CLOCK_MONOTONIC);
		if (rttq_signals_read_and_reset(h, &s)) {
			fprintf(stderr, "read_and_reset: %s\n",
				rttq_signals_last_error(h));
			return -1;
		}
		us[i] = now_us(CLOCK_MONOTONIC) - t0;
		cpu_us[i] = now_us(CLOCK_THREAD_CPUTIME_ID) - c0;
		events += s.events;
	}
	qsort(us, CALLS, sizeof(us[0]), cmp_double);
	qsort(cpu_us, CALLS, sizeof(cpu_us[0]), cmp_double);
	printf("%-28s %5d calls: p50 %6.1f us  p99 %6.1f us  max %7.1f us  "
	       "(%.0f RTT events per call); at 5 calls/s: %.4f %% of a core\n",
	       label, CALLS, us[CALLS / 2], us[CALLS * 99 / 100],
	       us[CALLS - 1], (double)events / CALLS,
	       us[CALLS / 2] * 5 / 1e6 * 100);
	printf("%-28s   CPU time: p50 %6.1f us  p99 %6.1f us  max %7.1f us\n",
	       "", cpu_us[CALLS / 2], cpu_us[CALLS * 99 / 100],
	       cpu_us[CALLS - 1]);
	return 0;
}

int main(void)
{
	struct rttq_signals_opts o = { .include_loopback = 1 };
	struct traffic_stream st;
	struct rttq_signals *h;
	int ret = 1;

	require_root("librttq-signals loads BPF programs");
	skip_unless_kernel(KERNEL_BPF);
	if (rttq_signals_open(&h, &o)) {
		fprintf(stderr, "open: %s\n", rttq_signals_last_error(NULL));
		return 1;
	}
	if (run(h, "idle"))
		goto out;
	if (traffic_stream_listen(&st) || traffic_stream_start(&st, 50))
		goto out;
	ret = run(h, "loopback stream") ? 1 : 0;
	traffic_stream_stop(&st);
out:
	rttq_signals_close(h);
	return ret;
}
