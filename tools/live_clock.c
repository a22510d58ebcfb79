// SPDX-License-Identifier: BSD-2-Clause
/*
 * live_clock.h: one interval clock for every live rttq command.
 */
#include <string.h>
#include <time.h>

#include "live_clock.h"

volatile sig_atomic_t live_stop;
volatile sig_atomic_t live_reload;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		live_reload = 1;
	else
		live_stop = 1;
}

void live_catch_signals(bool reload)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (reload)
		sigaction(SIGHUP, &sa, NULL);
}

double live_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void live_sleep_until(double until, volatile sig_atomic_t *stop)
{
	struct timespec ts;
	double left;

	/* Slices of at most a second: a signal that lands between the
	 * check and nanosleep() still ends the wait within one. */
	while (!*stop && !live_reload && (left = until - live_now_s()) > 0) {
		if (left > 1.0)
			left = 1.0;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}
