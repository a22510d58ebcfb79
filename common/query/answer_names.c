// SPDX-License-Identifier: BSD-2-Clause
/*
 * The /hosts and /groups answers (see answer_names.h): the store's series
 * collected, sorted and written once each, with the metrics each has.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "answer_json.h"
#include "answer_names.h"
#include "store.h"

/* A (host or group, metric) the store lists. */
struct name {
	char *name;
	char *metric;
};

struct name_list {
	struct name *v;
	size_t n, cap;
	bool want_hosts; /* collect hosts, else groups */
};

static int collect_name(const char *host, const char *group,
			const char *metric, uint32_t period_s, void *arg)
{
	struct name_list *nl = arg;
	const char *name = nl->want_hosts ? host : group;
	struct name *last = nl->n ? &nl->v[nl->n - 1] : NULL;

	(void)period_s;
	/* Series arrive sorted by host, group, metric: consecutive
	 * duplicates only. */
	if (last && !strcmp(last->name, name) && !strcmp(last->metric, metric))
		return 0;
	if (nl->n == nl->cap) {
		size_t cap = nl->cap ? 2 * nl->cap : 64;
		struct name *v = realloc(nl->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		nl->v = v;
		nl->cap = cap;
	}
	nl->v[nl->n].name = strdup(name);
	nl->v[nl->n].metric = strdup(metric);
	if (!nl->v[nl->n].name || !nl->v[nl->n].metric) {
		free(nl->v[nl->n].name);
		free(nl->v[nl->n].metric);
		return -ENOMEM;
	}
	nl->n++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	const struct name *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->metric, y->metric);
}

static bool same_name(const struct name_list *nl, size_t i)
{
	return i > 0 && !strcmp(nl->v[i].name, nl->v[i - 1].name);
}

/* {"KEY":[names],"metrics":{name:[metrics],...}} from the sorted list. */
static int gen_names(const struct name_list *nl, const char *key, char **out,
		     size_t *len)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	size_t i;
	int rc;

	if (!g)
		return -ENOMEM;
	rc = yajl_gen_map_open(g) == yajl_gen_status_ok ? 0 : -ENOMEM;
	if (rc == 0)
		rc = answer_gen_key(g, key);
	if (rc == 0 && yajl_gen_array_open(g) != yajl_gen_status_ok)
		rc = -ENOMEM;
	for (i = 0; rc == 0 && i < nl->n; i++)
		if (!same_name(nl, i))
			rc = answer_gen_string(g, nl->v[i].name);
	if (rc == 0 && yajl_gen_array_close(g) != yajl_gen_status_ok)
		rc = -ENOMEM;
	if (rc == 0)
		rc = answer_gen_key(g, "metrics");
	if (rc == 0 && yajl_gen_map_open(g) != yajl_gen_status_ok)
		rc = -ENOMEM;
	for (i = 0; rc == 0 && i < nl->n; i++) {
		if (i > 0 && !strcmp(nl->v[i].name, nl->v[i - 1].name) &&
		    !strcmp(nl->v[i].metric, nl->v[i - 1].metric))
			continue;
		if (!same_name(nl, i) && i > 0 &&
		    yajl_gen_array_close(g) != yajl_gen_status_ok)
			rc = -ENOMEM;
		if (rc == 0 && !same_name(nl, i))
			rc = answer_gen_key(g, nl->v[i].name);
		if (rc == 0 && !same_name(nl, i) &&
		    yajl_gen_array_open(g) != yajl_gen_status_ok)
			rc = -ENOMEM;
		if (rc == 0)
			rc = answer_gen_string(g, nl->v[i].metric);
	}
	if (rc == 0 && nl->n && yajl_gen_array_close(g) != yajl_gen_status_ok)
		rc = -ENOMEM;
	if (rc == 0 && (yajl_gen_map_close(g) != yajl_gen_status_ok ||
			yajl_gen_map_close(g) != yajl_gen_status_ok))
		rc = -ENOMEM;
	if (rc == 0)
		rc = answer_gen_finish(g, out, len);
	yajl_gen_free(g);
	return rc;
}

int answer_names_json(struct store *st, enum answer_names_kind kind,
		      const char *host, int64_t from_s, int64_t to_s,
		      char **out, size_t *len, struct rttq_error *err)
{
	struct name_list nl = { .want_hosts = kind == ANSWER_HOSTS };
	size_t i;
	int rc;

	rc = store_series(st, host, NULL, from_s, to_s, collect_name, &nl,
			  err);
	if (rc == -ENOMEM)
		rttq_fail(err, rc, "out of memory");
	/* Groups of several hosts interleave: sort, gen_names dedups. */
	if (rc == 0 && nl.n) /* qsort(NULL, 0, ...) is undefined */
		qsort(nl.v, nl.n, sizeof(*nl.v), cmp_names);
	if (rc == 0 && gen_names(&nl, nl.want_hosts ? "hosts" : "groups", out,
				 len))
		rc = rttq_fail(err, -ENOMEM, "out of memory");
	for (i = 0; i < nl.n; i++) {
		free(nl.v[i].name);
		free(nl.v[i].metric);
	}
	free(nl.v);
	return rc;
}
