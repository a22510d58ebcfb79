/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The clock of the live commands (rttq hist, rttq signals): monotonic
 * seconds, and a sleep to an absolute time that SIGINT cuts short, so a
 * command printing every interval neither drifts nor ignores Ctrl-C.
 */
#ifndef RTTQ_LIVE_CLOCK_H
#define RTTQ_LIVE_CLOCK_H

#include <signal.h>

/** live_now_s() - CLOCK_MONOTONIC now, in seconds. */
double live_now_s(void);

/**
 * live_sleep_until() - sleep until live_now_s() reaches @until (may be
 * INFINITY), or until *@stop turns non-zero (checked at least once a
 * second, and at once when a signal handler without SA_RESTART set it).
 */
void live_sleep_until(double until, volatile sig_atomic_t *stop);

#endif /* RTTQ_LIVE_CLOCK_H */
