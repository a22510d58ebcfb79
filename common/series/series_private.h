/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The series table's state, shared by series.c (groups, adds, the public
 * API) and series_close.c (turning a closed period into records): the
 * table is one object split over two files to keep each readable.
 */
#ifndef RTTQ_SERIES_PRIVATE_H
#define RTTQ_SERIES_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include "counter_set.h"
#include "name_table.h"
#include "series.h"

#define GROUP_ALL "all"
#define NO_PERIOD INT64_MIN

/* One distribution metric of a group. */
struct series_dist {
	char metric[METRIC_NAME_MAX];
	struct hist *base; /* open base period */
	/* Closed base periods of each rollup's current span; NULL for the
	 * levels the table does not build. */
	struct hist *rollup[SERIES_ROLLUPS];
};

/* A group's counters; allocated when the first one moves. */
struct series_counters {
	struct counter_set base;                    /* open base period */
	struct counter_set rollup[SERIES_ROLLUPS];  /* as series_dist's */
	/* A close builds each rollup's sum with the open period here first,
	 * so running out of memory changes nothing (close_open_period()). */
	struct counter_set next[SERIES_ROLLUPS];
};

/* The array of groups is reserved for max_groups up front: a group is
 * kept small, its metrics and counters are allocated as they appear. */
struct series_group {
	char *name;
	struct series_dist *dists; /* in order of first sight */
	unsigned int ndists, dists_cap;
	struct series_counters *counters; /* NULL: none moved yet */
};

/* One rollup level's span as the table closes base periods into it. */
struct rollup_span {
	bool built;       /* series_rollup_built() for the base period */
	int64_t start_s;  /* span the open rollup belongs to */
	uint32_t periods; /* complete base periods closed in it so far */
};

struct series_table {
	char *host;
	uint32_t period_s;
	unsigned int sub_bits;
	double compression;
	uint32_t max_groups;
	series_emit_fn emit;
	void *emit_arg;

	int64_t observed_from_s;  /* first add/tick; NO_PERIOD before */
	int64_t open_start_s;     /* open base period; NO_PERIOD before */
	struct rollup_span rollups[SERIES_ROLLUPS];
	uint64_t dropped;         /* samples refused by max_groups */

	struct series_group *groups;
	size_t ngroups;
	struct name_table index;  /* group name -> position in groups */

	struct hist *scratch;     /* rollup + open period, encoded at a close */
	struct store_record *recs;
	uint8_t **digests;
	size_t recs_cap;
};

/* floor(t / len) * len, also for t < 0. */
static inline int64_t align_down(int64_t t, int64_t len)
{
	int64_t q = t / len;

	if (t % len < 0)
		q--;
	return q * len;
}

/* series_close.c */

/* Start every rollup span at the one holding @start_s, with no periods. */
void series_open_rollup_spans(struct series_table *t, int64_t start_s);

/* Make sure a close can hold a base record and every rollup per series
 * (each metric of each group, and its counters); 0 or -ENOMEM. */
int series_reserve_records(struct series_table *t);

/*
 * Close the open period.  @complete says whether it was observed whole;
 * @next_start_s is the period opened next (NO_PERIOD on flush), which
 * decides which rollup spans ended.  Everything is encoded before any
 * state changes, so -ENOMEM leaves the table as it was.  Returns 0,
 * -ENOMEM or the emit function's value.
 */
int series_close_period(struct series_table *t, bool complete,
			int64_t next_start_s);

/* Release the digests of the first @n records of the batch. */
void series_release_records(struct series_table *t, size_t n);

/* series.c */

/* Forget metrics and groups with nothing pending. */
void series_drop_idle_groups(struct series_table *t);

#endif /* RTTQ_SERIES_PRIVATE_H */
