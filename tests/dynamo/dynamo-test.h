/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the DynamoDB store tests (test-dynamo-store.c, test-dynamo-aws.c)
 * share: one dynalite per run in a private HOME, records kept as owned
 * copies so that a SQLite store and the DynamoDB store can be compared
 * field by field, synthetic records, and the main() that runs one named
 * case.
 */
#ifndef RTTQ_TESTS_DYNAMO_TEST_H
#define RTTQ_TESTS_DYNAMO_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "dynalite.h"
#include "store.h"

/* The secret key the tests use: it must never appear in a message. */
#define SECRET "rttq-test-secret-NEVER-IN-LOGS"

/* A record with its own copies of the strings and the digest. */
struct dynamo_rec {
	char *host, *group;
	struct store_record r;
	uint8_t *digest;
};

struct dynamo_recs {
	struct dynamo_rec *v;
	size_t n, cap;
};

/* Synthetic records and the digests they point to (owned). */
struct dynamo_batch {
	struct store_record *r;
	uint8_t **digests;
	size_t n, cap;
};

/* One case of a test executable, run by name. */
struct dynamo_case {
	const char *name;
	void (*run)(const char *dynalite_dir);
};

/** dynamo_server() - the run's dynalite (in memory, started by main). */
struct dynalite *dynamo_server(void);

/** dynamo_tmpdir() - the run's scratch directory, also its HOME. */
const char *dynamo_tmpdir(void);

/**
 * dynamo_url() - "dynamodb:@table?region=us-east-1&endpoint=..." for the
 * run's dynalite, in a buffer the next call reuses.
 */
const char *dynamo_url(const char *table);

/** dynamo_open_store() - store_open(), or end the test saying why. */
void dynamo_open_store(const char *url, struct store **st);

/** dynamo_collect() - store_record_fn appending owned copies to a
 * struct dynamo_recs (@arg).  @return 0. */
int dynamo_collect(const struct store_record *r, void *arg);

/** dynamo_recs_free() - free the copies and empty @rs. */
void dynamo_recs_free(struct dynamo_recs *rs);

/**
 * dynamo_query_both() - run @q on both stores; the answers must be the
 * same records, field by field, in the same order (the test ends if not).
 * @n_out: receives the number of records (NULL: not wanted).
 */
void dynamo_query_both(struct store *lite, struct store *dyn,
		       const struct store_query *q, size_t *n_out);

/** dynamo_series_both() - store_series() on both must list the same
 * host/group pairs (the test ends if not). */
void dynamo_series_both(struct store *lite, struct store *dyn,
			const char *host, int64_t from_s, int64_t to_s);

/** dynamo_rand() - the next number of the run's xorshift64 sequence
 * (the same sequence in every run). */
uint64_t dynamo_rand(void);

/**
 * dynamo_add_record() - append a record of @host/@group at @start_s with a
 * random digest of @digest_len bytes and random counts.
 */
void dynamo_add_record(struct dynamo_batch *b, const char *host,
		       const char *group, uint32_t period_s, int64_t start_s,
		       size_t digest_len);

/** dynamo_batch_free() - free the records and digests, empty @b. */
void dynamo_batch_free(struct dynamo_batch *b);

/** dynamo_put_both() - store_put() into both stores, or end the test. */
void dynamo_put_both(struct store *lite, struct store *dyn,
		     const struct store_record *r, size_t n);

/**
 * dynamo_expect_open_error() - store_open(@url) must fail with @code and a
 * message holding @needle and not SECRET (the test ends if not).
 */
void dynamo_expect_open_error(const char *url, int code, const char *needle);

/**
 * dynamo_test_main() - "PROGRAM DYNALITE_DIR CASE": set up the private
 * HOME and AWS variables, start dynalite, run the case named CASE of
 * @cases (ended by a NULL name), stop dynalite, clean up.
 *
 * @return main()'s exit status: check_report(), 2 on a usage error.
 */
int dynamo_test_main(int argc, char **argv, const struct dynamo_case *cases);

#endif /* RTTQ_TESTS_DYNAMO_TEST_H */
