/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The clock of the live commands (rttq hist, signals, flows, events,
 * latency): monotonic seconds, the signals that stop them (and SIGHUP for
 * those that reload), and a sleep to an absolute time that SIGINT cuts
 * short, so a command printing every interval neither drifts nor ignores
 * Ctrl-C.
 */
#ifndef RTTQ_LIVE_CLOCK_H
#define RTTQ_LIVE_CLOCK_H

#include <signal.h>
#include <stdbool.h>

/* Set by SIGINT or SIGTERM once live_catch_signals() ran. */
extern volatile sig_atomic_t live_stop;
/* Set by SIGHUP when live_catch_signals() was asked to; the command
 * clears it when it has reloaded. */
extern volatile sig_atomic_t live_reload;

/**
 * live_catch_signals() - SIGINT and SIGTERM set live_stop and, with
 * @reload, SIGHUP sets live_reload; without SA_RESTART, so a blocking
 * wait (a sleep, a ring buffer poll) returns at once.
 */
void live_catch_signals(bool reload);

/** live_now_s() - CLOCK_MONOTONIC now, in seconds. */
double live_now_s(void);

/**
 * live_sleep_until() - sleep until live_now_s() reaches @until (may be
 * INFINITY), or until *@stop or live_reload turns non-zero (checked at
 * least once a second, and at once when a signal handler without
 * SA_RESTART set it).
 */
void live_sleep_until(double until, volatile sig_atomic_t *stop);

#endif /* RTTQ_LIVE_CLOCK_H */
