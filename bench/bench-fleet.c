// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fleet queries on DynamoDB before and after `rttq rollup`: for each fleet
 * size (BENCH_FLEET_HOSTS, default "10 50 200"), `rttq synth` writes 2 days
 * of hosts into dynalite, then fleet /quantiles and /series (the planner
 * calls rttq-api's handlers make, timed in-process) of 1 hour and 1 day are
 * asked through a proxy that adds 5 ms to every request (DynamoDB's usual
 * latency) and counts them: store requests per query, p50 and p99, before
 * and after the rollup, for ranges of rolled-up spans and for ranges
 * ending at now (whose last minutes no fleet record covers yet).  Numbers
 * only; nothing is asserted.
 *
 * Usage: bench-fleet DYNALITE_DIR (tests/dynamo); environment RTTQ (the
 * rttq program), optional BENCH_FLEET_HOSTS, BENCH_FLEET_REQUESTS (20),
 * BENCH_FLEET_DELAY_MS (5).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "ddb-proxy.h"
#include "dynalite.h"
#include "planner.h"
#include "store.h"

#define DAY_S 86400
#define HOUR_S 3600
#define STEP_S 300

static struct ddb_proxy proxy;
static struct dynalite server;
static unsigned int n_requests = 20;

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One fleet query kind, asked n_requests times with the range moving by
 * 5 minutes; @end_s: the end of the first range (exclusive). */
static void measure(struct store *st, const char *label, int64_t len_s,
		    int64_t end_s, bool series, bool at_now)
{
	double *ms = calloc(n_requests, sizeof(*ms));
	unsigned int req_min = ~0u, req_max = 0;
	uint64_t req_sum = 0, count = 0;

	REQUIRE(ms, "out of memory");
	for (unsigned int i = 0; i < n_requests; i++) {
		int64_t end = at_now ? time(NULL) + 1 :
				       end_s - (int64_t)i * STEP_S;
		struct planner_request req = {
			.period_s = 60,
			.from_s = end - len_s,
			.to_s = end - 60,
		};
		struct rttq_error err = { 0 };
		unsigned int before = atomic_load(&proxy.requests), used;
		double t0 = now_ms();

		if (series) {
			struct planner_series s = { 0 };

			REQUIRE(planner_run_series(st, &req, STEP_S, &s,
						   &err) == 0, "%s", err.msg);
			for (size_t p = 0; p < s.n; p++)
				count += s.points[p].count;
			planner_series_clear(&s);
		} else {
			struct planner_answer a = { 0 };

			REQUIRE(planner_run(st, &req, &a, &err) == 0, "%s",
				err.msg);
			count += a.count;
			planner_answer_clear(&a);
		}
		ms[i] = now_ms() - t0;
		used = atomic_load(&proxy.requests) - before;
		req_sum += used;
		req_min = used < req_min ? used : req_min;
		req_max = used > req_max ? used : req_max;
	}
	qsort(ms, n_requests, sizeof(*ms), cmp_dbl);
	printf("    %-34s p50 %8.1f ms  p99 %8.1f ms  requests/query "
	       "%u..%u (mean %.1f)  samples %" PRIu64 "\n", label,
	       ms[(n_requests - 1) / 2],
	       ms[(size_t)(0.99 * (n_requests - 1) + 0.5)], req_min, req_max,
	       (double)req_sum / n_requests, count / n_requests);
	free(ms);
}

static void measure_all(struct store *st, int64_t rolled_end_s)
{
	measure(st, "/quantiles 1 h, rolled-up spans", HOUR_S, rolled_end_s,
		false, false);
	measure(st, "/quantiles 1 d, rolled-up spans", DAY_S, rolled_end_s,
		false, false);
	measure(st, "/series 1 h step 5m, rolled-up", HOUR_S, rolled_end_s,
		true, false);
	measure(st, "/series 1 d step 5m, rolled-up", DAY_S, rolled_end_s,
		true, false);
	measure(st, "/quantiles 1 h ending at now", HOUR_S, 0, false, true);
	measure(st, "/quantiles 1 d ending at now", DAY_S, 0, false, true);
	measure(st, "/series 1 h step 5m ending at now", HOUR_S, 0, true,
		true);
	measure(st, "/series 1 d step 5m ending at now", DAY_S, 0, true, true);
}

static int run(const char *cmd)
{
	double t0;
	int rc;

	/* The command's output after ours, in order. */
	fflush(stdout);
	t0 = now_ms();
	rc = system(cmd);

	printf("  %s: %.1f s%s\n", cmd, (now_ms() - t0) / 1e3,
	       rc ? " (FAILED)" : "");
	fflush(stdout);
	return rc;
}

static void bench_hosts(const char *rttq, unsigned int hosts)
{
	char direct[256], proxied[256], cmd[1024];
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	int64_t end = time(NULL) / 60 * 60, rolled;

	snprintf(direct, sizeof(direct), "dynamodb:h%u?region=us-east-1&"
		 "endpoint=%s", hosts, server.endpoint);
	snprintf(proxied, sizeof(proxied), "dynamodb:h%u?region=us-east-1&"
		 "endpoint=http://127.0.0.1:%d", hosts, proxy.port);
	printf("%u hosts x 2 days, groups all + 1, 60 s periods:\n", hosts);
	snprintf(cmd, sizeof(cmd), "'%s' synth --store '%s' --hosts %u "
		 "--days 2 --groups 1 --end %" PRId64 " 2>&1 | tail -1",
		 rttq, direct, hosts, end);
	REQUIRE(run(cmd) == 0, "rttq synth failed");
	REQUIRE(store_open_read(proxied, &st, &err) == 0, "%s", err.msg);
	/* Spans the rollup below builds: ended more than its grace ago. */
	rolled = (time(NULL) - 600) / HOUR_S * HOUR_S;
	printf("  before rttq rollup:\n");
	measure_all(st, rolled);
	snprintf(cmd, sizeof(cmd), "'%s' rollup --store '%s'", rttq, direct);
	REQUIRE(run(cmd) == 0, "rttq rollup failed");
	snprintf(cmd, sizeof(cmd), "'%s' rollup --store '%s' "
		 "# again: nothing to build", rttq, direct);
	REQUIRE(run(cmd) == 0, "rttq rollup failed");
	printf("  after rttq rollup:\n");
	measure_all(st, rolled);
	store_close(st);
}

int main(int argc, char **argv)
{
	char home[] = "/tmp/rttq-bench-fleet-XXXXXX";
	const char *rttq = getenv("RTTQ");
	const char *hosts = getenv("BENCH_FLEET_HOSTS");
	const char *n = getenv("BENCH_FLEET_REQUESTS");
	const char *delay = getenv("BENCH_FLEET_DELAY_MS");
	char *list, *tok, *save = NULL, cmd[128];

	if (argc != 2 || !rttq) {
		fprintf(stderr, "usage: RTTQ=path/to/rttq %s DYNALITE_DIR\n",
			argv[0]);
		return 2;
	}
	if (n && atoi(n) > 0)
		n_requests = (unsigned int)atoi(n);
	proxy.delay_ms = delay ? (unsigned int)atoi(delay) : 5;
	REQUIRE(mkdtemp(home), "mkdtemp");
	dynalite_env(home);
	REQUIRE(dynalite_install(argv[1]) == 0 &&
		dynalite_start(&server, argv[1], NULL, NULL) == 0,
		"cannot start dynalite");
	ddb_proxy_start(&proxy, server.port, ddb_proxy_forward, NULL);
	printf("dynalite behind a proxy adding %u ms per request; %u "
	       "queries per figure, ranges moving by 5 minutes; fleet "
	       "queries timed in-process (the planner calls of rttq-api's "
	       "/quantiles and /series)\n", proxy.delay_ms, n_requests);
	list = strdup(hosts ? hosts : "10 50 200");
	REQUIRE(list, "out of memory");
	for (tok = strtok_r(list, " ,", &save); tok;
	     tok = strtok_r(NULL, " ,", &save))
		bench_hosts(rttq, (unsigned int)atoi(tok));
	free(list);
	dynalite_stop(&server);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	return system(cmd) == 0 ? 0 : 1;
}
