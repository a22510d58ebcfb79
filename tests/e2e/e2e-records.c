// SPDX-License-Identifier: BSD-2-Clause
/*
 * e2e-records: lists the stored records of one group through the store API,
 * one line each ("start_s periods periods_total count"), so the end-to-end
 * test can tell a complete period from the partial one the agent flushes on
 * SIGTERM; `rttq query` merges records and does not show that.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "store.h"

static int parse_i64(const char *what, const char *text, int64_t min,
		     int64_t max, int64_t *out)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || end == text || *end || v < min || v > max) {
		fprintf(stderr, "e2e-records: %s '%s': expected a whole number in %" PRId64 "..%" PRId64 "\n",
			what, text, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int print_record(const struct store_record *rec, void *arg)
{
	(void)arg;
	printf("%" PRId64 " %" PRIu32 " %" PRIu32 " %" PRIu64 "\n", rec->start_s,
	       rec->periods, rec->periods_total, rec->count);
	return 0;
}

int main(int argc, char **argv)
{
	struct rttq_error err = { 0 };
	struct store_query q = { 0 };
	struct store *st = NULL;
	int64_t period_s;
	int rc;

	if (argc != 7) {
		fprintf(stderr, "usage: e2e-records STORE_URL HOST GROUP PERIOD_S FROM_S TO_S\n");
		return 2;
	}
	if (parse_i64("PERIOD_S", argv[4], 1, 86400, &period_s) ||
	    parse_i64("FROM_S", argv[5], 0, INT64_MAX, &q.from_s) ||
	    parse_i64("TO_S", argv[6], 0, INT64_MAX, &q.to_s))
		return 2;
	q.host = argv[2];
	q.group = argv[3];
	q.period_s = (uint32_t)period_s;

	rc = store_open(argv[1], &st, &err);
	if (rc) {
		fprintf(stderr, "e2e-records: %s\n", err.msg);
		return 1;
	}
	rc = store_query(st, &q, print_record, NULL, &err);
	if (rc)
		fprintf(stderr, "e2e-records: %s\n", err.msg);
	store_close(st);
	return rc ? 1 : 0;
}
