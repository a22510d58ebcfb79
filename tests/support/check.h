/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The one assertion helper of the C tests.  CHECK*() reports file:line, the
 * failed expression and what came instead of what was expected, counts the
 * failure and carries on, so one run shows every broken property;
 * REQUIRE*() does the same and then ends the test (exit 1), for steps the
 * rest cannot do without.  check_section() labels a block of checks with
 * one ok/FAIL line (Redis test_cond style).  main() returns check_report():
 * 0 when nothing failed.
 */
#ifndef RTTQ_TESTS_CHECK_H
#define RTTQ_TESTS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <unistd.h> /* _exit() in CHECK_SURVIVES() */

/* Exhaustive loops can fail millions of times; print this many, count all. */
#define CHECK_PRINT_MAX 40

#if defined(__GNUC__)
#define CHECK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CHECK_PRINTF(f, a)
#endif

/**
 * check_section() - start a labelled block of checks; the previous block
 * is reported as one "[ok] label" or "[FAIL] label" line.
 * @label: what the block checks (copied).
 */
void check_section(const char *label);

/**
 * check_report() - close the last block and print the totals.
 *
 * @return the value main() returns: 0 when no check failed, else 1.
 */
int check_report(void);

/**
 * check_failures() - how many checks have failed so far (for a test that
 * stops early or keeps its scratch files when something failed).
 *
 * @return the count.
 */
unsigned long check_failures(void);

/** check_pass() - count one check that passed.  @return 1. */
int check_pass(void);

/**
 * check_fail() - count one check that failed and report it.
 * @fatal: end the test (exit 1, after the totals).
 * @file, @line, @kind, @expr: where, which macro, the expression's text.
 * @fmt: printf format of what came instead.
 *
 * @return 0 (when not @fatal).
 */
int check_fail(bool fatal, const char *file, int line, const char *kind,
	       const char *expr, const char *fmt, ...) CHECK_PRINTF(6, 7);

/* Typed comparisons behind CHECK_CMP(); @op is "==", "!=", "<", "<=", ">"
 * or ">=".  @return 1 when "@a @op @b" holds, else 0. */
int check_cmp_ll(bool fatal, const char *file, int line, const char *a_text,
		 const char *op, const char *b_text, long long a, long long b);
int check_cmp_ull(bool fatal, const char *file, int line, const char *a_text,
		  const char *op, const char *b_text, unsigned long long a,
		  unsigned long long b);
int check_cmp_dbl(bool fatal, const char *file, int line, const char *a_text,
		  const char *op, const char *b_text, double a, double b);

/* String checks behind CHECK_STR() and CHECK_CONTAINS(); NULL is a value
 * that equals only NULL and contains nothing.  @return 1 on a pass. */
int check_str_eq(bool fatal, const char *file, int line, const char *a_text,
		 const char *b_text, const char *a, const char *b);
int check_str_has(bool fatal, const char *file, int line, const char *h_text,
		  const char *n_text, const char *haystack, const char *needle);

/* Behind CHECK_SURVIVES(): waits for the child @pid that ran @stmt_text.
 * @return 1 when it exited with status 0, else 0. */
int check_child(bool fatal, const char *file, int line, const char *stmt_text,
		int pid);

/* Forks for CHECK_SURVIVES(); -1 (reported as a failure) when fork fails. */
int check_fork(void);

/**
 * CHECK(cond, fmt, ...) - @cond must hold; @fmt and its arguments say what
 * came instead (evaluated only on failure).  Evaluates to 1 or 0.
 */
#define CHECK(cond, ...)                                                   \
	((cond) ? check_pass() :                                           \
	 check_fail(false, __FILE__, __LINE__, "CHECK", #cond, __VA_ARGS__))
#define REQUIRE(cond, ...)                                                 \
	((cond) ? check_pass() :                                           \
	 check_fail(true, __FILE__, __LINE__, "REQUIRE", #cond, __VA_ARGS__))

/*
 * CHECK_CMP(a, op, b) - numbers compared in the type both sides convert
 * to (C's usual arithmetic conversions, so 2.5 stays 2.5 and a size_t is
 * not compared as signed); on failure prints both values.  Each side is
 * evaluated once.
 */
#define CHECK_CMP_(fatal, a, op, b)                                        \
	_Generic((a) + (b),                                                \
		float: check_cmp_dbl,                                      \
		double: check_cmp_dbl,                                     \
		long double: check_cmp_dbl,                                \
		unsigned int: check_cmp_ull,                               \
		unsigned long: check_cmp_ull,                              \
		unsigned long long: check_cmp_ull,                         \
		default: check_cmp_ll)(fatal, __FILE__, __LINE__, #a, #op, \
				       #b, (a), (b))
#define CHECK_CMP(a, op, b) CHECK_CMP_(false, a, op, b)
#define REQUIRE_CMP(a, op, b) CHECK_CMP_(true, a, op, b)

/* CHECK_STR(a, b) - strings @a and @b are equal; prints both if not. */
#define CHECK_STR(a, b)                                                    \
	check_str_eq(false, __FILE__, __LINE__, #a, #b, (a), (b))
#define REQUIRE_STR(a, b)                                                  \
	check_str_eq(true, __FILE__, __LINE__, #a, #b, (a), (b))

/* CHECK_CONTAINS(haystack, needle) - @needle occurs in @haystack; prints
 * both (the haystack cut to its first KiB) if not. */
#define CHECK_CONTAINS(h, n)                                               \
	check_str_has(false, __FILE__, __LINE__, #h, #n, (h), (n))
#define REQUIRE_CONTAINS(h, n)                                             \
	check_str_has(true, __FILE__, __LINE__, #h, #n, (h), (n))

/*
 * CHECK_SURVIVES(stmt) - @stmt runs in a forked child, which must exit
 * normally: for calls whose whole contract is "does nothing" (a free of
 * NULL), where a crash is the only way to fail.
 */
#define CHECK_SURVIVES(stmt)                                               \
	do {                                                               \
		int check_pid_ = check_fork();                             \
		if (check_pid_ == 0) {                                     \
			stmt;                                              \
			_exit(0);                                          \
		}                                                          \
		check_child(false, __FILE__, __LINE__, #stmt, check_pid_); \
	} while (0)

#endif /* RTTQ_TESTS_CHECK_H */
