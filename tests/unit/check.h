/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Tiny assertion helper for the unit tests.  CHECK() reports file:line, the
 * failed expression and a message, counts the failure and carries on, so one
 * run shows every broken property; check_section() labels a block of checks
 * with one ok/FAIL line (Redis test_cond style).  main() returns
 * check_report(): 0 when nothing failed.
 */
#ifndef RTTQ_TESTS_CHECK_H
#define RTTQ_TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>

/* Exhaustive loops can fail millions of times; print this many, count all. */
#define CHECK_PRINT_MAX 40

struct check_state {
	unsigned long checks;
	unsigned long failures;
	unsigned long failures_at_section;
	const char *section;
};

/* One per test executable: the counters every CHECK() updates. */
static struct check_state check_state;

static inline void check_section_end(void)
{
	struct check_state *s = &check_state;

	if (!s->section)
		return;
	printf("[%s] %s\n",
	       s->failures == s->failures_at_section ? "ok" : "FAIL",
	       s->section);
	s->section = NULL;
}

/* Start a labelled block of checks; the previous block is reported. */
static inline void check_section(const char *label)
{
	check_section_end();
	check_state.section = label;
	check_state.failures_at_section = check_state.failures;
}

static inline int check_pass(void)
{
	check_state.checks++;
	return 1;
}

__attribute__((format(printf, 4, 5)))
static inline int check_fail(const char *file, int line, const char *expr,
			     const char *fmt, ...)
{
	va_list ap;

	check_state.checks++;
	if (check_state.failures++ >= CHECK_PRINT_MAX)
		return 0;
	fprintf(stderr, "%s:%d: CHECK(%s) failed: ", file, line, expr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 0;
}

/* CHECK(cond, fmt, ...): evaluates to 1 when @cond holds, else 0. */
#define CHECK(cond, ...)                                                  \
	((cond) ? check_pass() :                                          \
	 check_fail(__FILE__, __LINE__, #cond, __VA_ARGS__))

/* Close the last block, print the totals; the value main() returns. */
static inline int check_report(void)
{
	check_section_end();
	printf("%lu checks, %lu failed\n", check_state.checks,
	       check_state.failures);
	return check_state.failures != 0;
}

#endif /* RTTQ_TESTS_CHECK_H */
