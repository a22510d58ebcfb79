// SPDX-License-Identifier: BSD-2-Clause
/*
 * The polling behind wait.h.  50 ms between looks: quick enough that a
 * test does not wait long after the condition came true, slow enough not
 * to load the machine the test measures.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wait.h"

#define POLL_S 0.05
#define TEXT_MAX (1 << 20)

double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s };

	if (s <= 0)
		return;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

bool wait_until(bool (*done)(void *arg), void *arg, double timeout_s)
{
	double deadline = wall_s() + timeout_s;

	for (;;) {
		if (done(arg))
			return true;
		if (wall_s() > deadline)
			return false;
		sleep_s(POLL_S);
	}
}

size_t read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return n;
}

bool wait_for_text(const char *path, const char *needle, pid_t pid,
		   double timeout_s)
{
	double deadline = wall_s() + timeout_s;
	char *buf = malloc(TEXT_MAX);
	bool found = false;

	if (!buf)
		return false;
	for (;;) {
		read_text(path, buf, TEXT_MAX);
		found = strstr(buf, needle) != NULL;
		if (found || wall_s() > deadline || (pid > 0 && kill(pid, 0)))
			break;
		sleep_s(POLL_S);
	}
	free(buf);
	return found;
}
