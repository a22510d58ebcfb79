// SPDX-License-Identifier: BSD-2-Clause
/*
 * The counters and reports behind check.h.  One set of counters per test
 * executable, kept here rather than in the header so that a test built
 * from several files counts every failure in one place.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

/* Long haystacks (logs, HTTP bodies) are cut to this in a failure line. */
#define CHECK_SHOW_MAX 1024

static struct {
	unsigned long checks;
	unsigned long failures;
	unsigned long failures_at_section;
	bool in_section;
	char section[256]; /* a copy: labels may be built in a buffer */
} state;

static void section_end(void)
{
	if (!state.in_section)
		return;
	printf("[%s] %s\n",
	       state.failures == state.failures_at_section ? "ok" : "FAIL",
	       state.section);
	state.in_section = false;
}

void check_section(const char *label)
{
	section_end();
	snprintf(state.section, sizeof(state.section), "%s", label);
	state.in_section = true;
	state.failures_at_section = state.failures;
}

int check_report(void)
{
	section_end();
	printf("%lu checks, %lu failed\n", state.checks, state.failures);
	fflush(stdout);
	return state.failures != 0;
}

unsigned long check_failures(void)
{
	return state.failures;
}

/* Count a check; whether its failure should still be printed. */
static bool count(bool ok)
{
	state.checks++;
	if (ok)
		return false;
	return state.failures++ < CHECK_PRINT_MAX;
}

static void finish(bool fatal, bool ok)
{
	if (ok || !fatal)
		return;
	fflush(stdout);
	fprintf(stderr, "a required check failed: stopping here\n");
	check_report();
	exit(1);
}

int check_pass(void)
{
	count(true);
	return 1;
}

int check_fail(bool fatal, const char *file, int line, const char *kind,
	       const char *expr, const char *fmt, ...)
{
	va_list ap;

	if (count(false)) {
		fflush(stdout);
		fprintf(stderr, "%s:%d: %s(%s) failed: ", file, line, kind,
			expr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	finish(fatal, false);
	return 0;
}

/* Whether @text is a plain number (then it is not printed twice). */
static bool is_literal(const char *text)
{
	char *end = NULL;

	errno = 0;
	(void)strtod(text, &end);
	return end != text && *end == '\0';
}

/* "== " etc. as a comparison of @c (-1, 0 or 1: a <, == or > b). */
static bool holds(const char *op, int c)
{
	if (!strcmp(op, "=="))
		return c == 0;
	if (!strcmp(op, "!="))
		return c != 0;
	if (!strcmp(op, "<"))
		return c < 0;
	if (!strcmp(op, "<="))
		return c <= 0;
	if (!strcmp(op, ">"))
		return c > 0;
	if (!strcmp(op, ">="))
		return c >= 0;
	fprintf(stderr, "check.h: unknown comparison '%s'\n", op);
	abort();
}

static int report_cmp(bool fatal, const char *file, int line,
		      const char *a_text, const char *op, const char *b_text,
		      bool ok, const char *a_val, const char *b_val)
{
	const char *kind = fatal ? "REQUIRE" : "CHECK";

	if (count(ok)) {
		fflush(stdout);
		fprintf(stderr, "%s:%d: %s(%s %s %s) failed: %s is %s, "
			"expected %s %s", file, line, kind, a_text, op, b_text,
			a_text, a_val, op, b_text);
		if (!is_literal(b_text))
			fprintf(stderr, " (%s)", b_val);
		fputc('\n', stderr);
	}
	finish(fatal, ok);
	return ok;
}

int check_cmp_ll(bool fatal, const char *file, int line, const char *a_text,
		 const char *op, const char *b_text, long long a, long long b)
{
	char av[32], bv[32];

	snprintf(av, sizeof(av), "%lld", a);
	snprintf(bv, sizeof(bv), "%lld", b);
	return report_cmp(fatal, file, line, a_text, op, b_text,
			  holds(op, (a > b) - (a < b)), av, bv);
}

int check_cmp_ull(bool fatal, const char *file, int line, const char *a_text,
		  const char *op, const char *b_text, unsigned long long a,
		  unsigned long long b)
{
	char av[32], bv[32];

	snprintf(av, sizeof(av), "%llu", a);
	snprintf(bv, sizeof(bv), "%llu", b);
	return report_cmp(fatal, file, line, a_text, op, b_text,
			  holds(op, (a > b) - (a < b)), av, bv);
}

int check_cmp_dbl(bool fatal, const char *file, int line, const char *a_text,
		  const char *op, const char *b_text, double a, double b)
{
	char av[40], bv[40];
	bool ok;

	snprintf(av, sizeof(av), "%.17g", a);
	snprintf(bv, sizeof(bv), "%.17g", b);
	/* NaN compares false with everything but "!=", as in C. */
	if (a != a || b != b)
		ok = !strcmp(op, "!=");
	else
		ok = holds(op, (a > b) - (a < b));
	return report_cmp(fatal, file, line, a_text, op, b_text, ok, av, bv);
}

int check_str_eq(bool fatal, const char *file, int line, const char *a_text,
		 const char *b_text, const char *a, const char *b)
{
	bool ok = (a && b) ? !strcmp(a, b) : a == b;

	if (count(ok)) {
		fflush(stdout);
		fprintf(stderr, "%s:%d: %s_STR(%s, %s) failed: got %s%.*s%s, "
			"expected %s%.*s%s\n", file, line,
			fatal ? "REQUIRE" : "CHECK", a_text, b_text,
			a ? "'" : "", CHECK_SHOW_MAX, a ? a : "NULL",
			a ? "'" : "", b ? "'" : "", CHECK_SHOW_MAX,
			b ? b : "NULL", b ? "'" : "");
	}
	finish(fatal, ok);
	return ok;
}

int check_str_has(bool fatal, const char *file, int line, const char *h_text,
		  const char *n_text, const char *haystack, const char *needle)
{
	bool ok = haystack && needle && strstr(haystack, needle);

	if (count(ok)) {
		fflush(stdout);
		fprintf(stderr, "%s:%d: %s_CONTAINS(%s, %s) failed: no '%s' "
			"in %s%.*s%s%s\n", file, line,
			fatal ? "REQUIRE" : "CHECK", h_text, n_text,
			needle ? needle : "NULL", haystack ? "'" : "",
			CHECK_SHOW_MAX, haystack ? haystack : "NULL",
			haystack ? "'" : "",
			haystack && strlen(haystack) > CHECK_SHOW_MAX ?
				" (cut)" : "");
	}
	finish(fatal, ok);
	return ok;
}

int check_fork(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		fprintf(stderr, "check.h: fork: %s\n", strerror(errno));
	return (int)pid;
}

int check_child(bool fatal, const char *file, int line, const char *stmt_text,
		int pid)
{
	int status = 0;
	bool ok = pid > 0 && waitpid(pid, &status, 0) == pid &&
		  WIFEXITED(status) && WEXITSTATUS(status) == 0;
	char what[64];

	if (pid <= 0)
		snprintf(what, sizeof(what), "could not fork");
	else if (WIFSIGNALED(status))
		snprintf(what, sizeof(what), "killed by signal %d",
			 WTERMSIG(status));
	else
		snprintf(what, sizeof(what), "exit status %d",
			 WEXITSTATUS(status));
	if (ok)
		return check_pass();
	return check_fail(fatal, file, line, "CHECK_SURVIVES", stmt_text,
			  "the child running it ended: %s", what);
}
