/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Waiting in tests on the thing itself rather than for a guessed time: a
 * condition polled until a deadline, or a line a child process writes to
 * its log file.  A test that must let time pass (an outage of a set
 * length, traffic at a set pace) says so where it calls sleep_s().
 */
#ifndef RTTQ_TESTS_WAIT_H
#define RTTQ_TESTS_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/** wall_s() - the wall clock (CLOCK_REALTIME) in seconds. */
double wall_s(void);

/** sleep_s() - sleep @s seconds, resumed after signals. */
void sleep_s(double s);

/**
 * wait_until() - poll @done(@arg) every 50 ms until it returns true.
 * @timeout_s: how long to keep trying.
 *
 * @return true when @done returned true, false when @timeout_s passed.
 */
bool wait_until(bool (*done)(void *arg), void *arg, double timeout_s);

/**
 * wait_for_text() - wait until the file @path (a child's log) holds
 * @needle.
 * @pid: the process writing it; waiting stops when it has exited (0: do
 *       not watch a process).
 * @timeout_s: how long to keep trying.
 *
 * @return true when @needle appeared, false when @pid exited or
 *	   @timeout_s passed first.
 */
bool wait_for_text(const char *path, const char *needle, pid_t pid,
		   double timeout_s);

/**
 * read_text() - the file @path into @buf, NUL-terminated and cut to
 * @size - 1 bytes; "" when it cannot be read.
 *
 * @return the bytes read.
 */
size_t read_text(const char *path, char *buf, size_t size);

#endif /* RTTQ_TESTS_WAIT_H */
