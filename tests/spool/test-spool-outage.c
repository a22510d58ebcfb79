// SPDX-License-Identifier: BSD-2-Clause
/*
 * Outage test: the real rttq-agent writes to dynalite while loopback
 * traffic runs; dynalite is stopped for 30 s and restarted on the same
 * LevelDB directory and port.  The agent must spill to its --spool, replay
 * it, and at SIGTERM have written every base record of group "all" exactly
 * once: the store holds as many records and samples as the agent closed.
 * Then a SIGTERM during a second outage leaves the records in the spool,
 * and the next agent replays them at its start.
 *
 * Usage: test-spool-outage RTTQ_AGENT DYNALITE_DIR
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "dynalite.h"
#include "kernel.h"
#include "store.h"
#include "traffic.h"
#include "wait.h"

#define HOST "spool-outage"
#define PERIOD_S 5
#define OUTAGE_S 30
#define STOP_DEADLINE_S 5 /* rttq-agent's STOP_FLUSH_MS */
/* Deadlines for what must happen: generous, they only bound a failure. */
#define WAIT_S 60

static atomic_bool traffic_stop;

/* Written by the traffic thread, read by main while it runs. */
static atomic_uint connections;

/* Loopback traffic until traffic_stop: 50 exchanges on a new connection
 * every 50 ms (the pace of the traffic, not a wait for anything). */
static void *make_traffic(void *arg)
{
	while (!atomic_load(&traffic_stop)) {
		struct traffic_result tr;

		if (traffic_run(AF_INET, 50, &tr) == 0)
			atomic_fetch_add(&connections, 1);
		sleep_s(0.05);
	}
	return NULL;
}

struct collected {
	int64_t starts[4096];
	uint64_t counts[4096];
	size_t n;
};

static int collect(const struct store_record *r, void *arg)
{
	struct collected *c = arg;

	if (c->n < sizeof(c->starts) / sizeof(c->starts[0])) {
		c->starts[c->n] = r->start_s;
		c->counts[c->n] = r->count;
	}
	c->n++;
	return 0;
}

/* The agent with stderr in @log_path; @duration NULL: until SIGTERM. */
static pid_t spawn_agent(const char *exe, const char *url, const char *spool,
			 const char *log_path, const char *duration)
{
	int logfd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid = fork();

	if (pid == 0) {
		dup2(logfd, 2);
		execl(exe, exe, "--store", url, "--host", HOST, "--period", "5",
		      "--interval", "1", "--include-loopback", "--metrics",
		      "off", "--spool", spool, "--queue-max", "2",
		      duration ? "--duration" : (char *)NULL, duration,
		      (char *)NULL);
		_exit(127);
	}
	close(logfd);
	return pid;
}

static int wait_agent(pid_t pid)
{
	int status;

	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) ?
		       WEXITSTATUS(status) : -1;
}

/* Records of group "all" in [from_s, to_s]; a failure is printed when
 * @report. */
static int query_all_of(const char *url, int64_t from_s, int64_t to_s,
			struct collected *got, bool report)
{
	struct store_query q = { .host = HOST, .group = "all",
				 .period_s = PERIOD_S, .from_s = from_s,
				 .to_s = to_s };
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	int rc;

	memset(got, 0, sizeof(*got));
	rc = store_open(url, &st, &err);
	if (!rc)
		rc = store_query(st, &q, collect, got, &err);
	if (rc && report)
		fprintf(stderr, "query %s: %s\n", url, err.msg);
	store_close(st);
	return rc;
}

static int query_all(const char *url, int64_t from_s, int64_t to_s,
		     struct collected *got)
{
	return query_all_of(url, from_s, to_s, got, true);
}

/* The log @path, in a buffer shared by every call. */
static char *read_log(const char *path)
{
	static char buf[1 << 20];

	read_text(path, buf, sizeof(buf));
	return buf;
}

/* For wait_until(): the agent wrote a record of "all" to the store. */
struct first_record {
	const char *url;
	struct collected *got;
};

static bool store_has_record(void *arg)
{
	struct first_record *f = arg;

	/* Quiet: the table may not exist yet. */
	return query_all_of(f->url, 0, INT64_MAX / 2, f->got, false) == 0 &&
	       f->got->n > 0;
}

/* For wait_until(): the spool file @arg is gone or empty. */
static bool spool_empty(void *arg)
{
	struct stat sb;

	return stat(arg, &sb) != 0 || sb.st_size == 0;
}

int main(int argc, char **argv)
{
	char root[] = "/tmp/rttq-spool-outage.XXXXXX";
	char home[600], db[600], spool[600], spool_file[700], log_path[600];
	char url[800], cmd[700];
	static struct collected got;
	struct first_record first = { .url = url, .got = &got };
	struct dynalite d = { 0 };
	struct stat sb;
	unsigned long long agent_records = 0, agent_samples = 0;
	uint64_t sum = 0;
	double down_at, up_at, stop_at, stop_took;
	pthread_t traffic;
	const char *line;
	char *log;
	int port, rc;
	size_t in_outage = 0, gaps = 0;
	pid_t agent;

	if (argc != 3) {
		fprintf(stderr, "usage: %s RTTQ_AGENT DYNALITE_DIR\n", argv[0]);
		return 2;
	}
	require_root("rttq-agent (loads BPF)");
	skip_unless_kernel(KERNEL_BPF);
	REQUIRE(mkdtemp(root) && dynalite_install(argv[2]) == 0,
		"cannot prepare %s or install dynalite", root);
	snprintf(home, sizeof(home), "%s/home", root);
	snprintf(db, sizeof(db), "%s/leveldb", root);
	snprintf(spool, sizeof(spool), "%s/spool", root);
	snprintf(spool_file, sizeof(spool_file), "%s/rttq-agent.spool", spool);
	snprintf(log_path, sizeof(log_path), "%s/agent.log", root);
	mkdir(home, 0700);
	dynalite_env(home);
	port = free_port();
	REQUIRE(port >= 0 &&
			dynalite_start_on(&d, argv[2], db, port, NULL) == 0,
		"cannot start dynalite");
	snprintf(url, sizeof(url),
		 "dynamodb:spooltest?region=us-east-1&endpoint=%s", d.endpoint);

	agent = spawn_agent(argv[1], url, spool, log_path, NULL);
	pthread_create(&traffic, NULL, make_traffic, NULL);

	/* The outage starts once the agent writes to the store. */
	REQUIRE(wait_until(store_has_record, &first, WAIT_S),
		"no record reached the store within %d s", WAIT_S);
	down_at = wall_s();
	dynalite_stop(&d);
	printf("dynalite stopped after the first record, for %d s\n",
	       OUTAGE_S);
	sleep_s(OUTAGE_S); /* the outage itself: its length is the subject */
	CHECK(stat(spool_file, &sb) == 0 && sb.st_size > 0,
	      "nothing spooled during the outage (%s)", spool_file);
	printf("spool during the outage: %lld bytes\n", (long long)sb.st_size);
	if (dynalite_start_on(&d, argv[2], db, port, NULL) != 0) {
		kill(agent, SIGKILL);
		REQUIRE(0, "cannot restart dynalite on port %d", port);
	}
	up_at = wall_s();
	printf("dynalite restarted on the same port and LevelDB\n");
	/* SIGTERM once the spool has gone to the store. */
	CHECK(wait_for_text(log_path, "replayed", agent, WAIT_S) &&
	      wait_until(spool_empty, spool_file, WAIT_S),
	      "the spool was not replayed within %d s of the restart", WAIT_S);
	kill(agent, SIGTERM);
	rc = wait_agent(agent);

	log = read_log(log_path);
	fputs(log, stdout);
	printf("agent exit %d, %u loopback connections\n", rc,
	       atomic_load(&connections));
	CHECK(rc == 0, "agent exited %d", rc);
	CHECK(strstr(log, "store write failed"), "the outage was not noticed");
	CHECK(strstr(log, "replayed"), "the spool was not replayed");
	line = strstr(log, "stopped; all records written (");
	CHECK(line && sscanf(line, "stopped; all records written (%llu base-period records of group \"all\", %llu samples)",
			     &agent_records, &agent_samples) == 2,
	      "no final account in the log");
	CHECK(stat(spool_file, &sb) != 0 || sb.st_size == 0,
	      "spool not empty at exit: %lld bytes", (long long)sb.st_size);

	CHECK(query_all(url, (int64_t)down_at - 3600, (int64_t)up_at + 3600,
			&got) == 0, "query failed");
	for (size_t i = 0; i < got.n && i < 4096; i++) {
		sum += got.counts[i];
		if (got.starts[i] + PERIOD_S > down_at && got.starts[i] < up_at)
			in_outage++;
		if (i && got.starts[i] - got.starts[i - 1] != PERIOD_S) {
			printf("gap: %" PRId64 " -> %" PRId64 "\n",
			       got.starts[i - 1], got.starts[i]);
			gaps++;
		}
	}
	printf("store: %zu base records of \"all\", %" PRIu64 " samples, %zu during the outage, %zu gaps; agent closed %llu records, %llu samples\n",
	       got.n, sum, in_outage, gaps, agent_records, agent_samples);
	CHECK(got.n == agent_records, "store holds %zu records, agent closed %llu",
	      got.n, agent_records);
	CHECK(sum == agent_samples, "store holds %" PRIu64 " samples, agent counted %llu",
	      sum, agent_samples);
	CHECK(in_outage >= OUTAGE_S / PERIOD_S - 1,
	      "only %zu records from the outage reached the store", in_outage);
	/* The writer thread keeps blocked writes off the loop: every period
	 * closes on time and reaches the store as its own record. */
	CHECK(gaps == 0, "%zu gaps between consecutive base records", gaps);

	/* Second outage: SIGTERM while the store is down spools the rest;
	 * the next agent replays it at its start.  The store goes down once
	 * the agent runs, and SIGTERM comes once a write has failed. */
	agent = spawn_agent(argv[1], url, spool, log_path, NULL);
	REQUIRE(wait_for_text(log_path, "attached via", agent, WAIT_S),
		"the second agent did not attach within %d s", WAIT_S);
	down_at = wall_s();
	dynalite_stop(&d);
	CHECK(wait_for_text(log_path, "store write failed", agent, WAIT_S),
	      "no write failed within %d s of the second outage", WAIT_S);
	stop_at = wall_s();
	kill(agent, SIGTERM);
	rc = wait_agent(agent);
	stop_took = wall_s() - stop_at;
	log = read_log(log_path);
	fputs(log, stdout);
	printf("stop during the outage took %.1f s (deadline %d s)\n", stop_took,
	       STOP_DEADLINE_S);
	CHECK(rc == 0, "agent stopped during an outage exited %d", rc);
	/* The deadline also cuts a write blocked in the client's retries
	 * (~13 s against a refusing endpoint); the margin is for the last
	 * drain, the spool's fdatasync and process exit. */
	CHECK(stop_took < STOP_DEADLINE_S + 3,
	      "stop took %.1f s, past the %d s deadline", stop_took,
	      STOP_DEADLINE_S);
	CHECK(strstr(log, "records left in the spool"),
	      "SIGTERM during the outage did not spool the rest");
	CHECK(stat(spool_file, &sb) == 0 && sb.st_size > 0,
	      "spool empty after a stop during an outage");
	up_at = wall_s();
	REQUIRE(dynalite_start_on(&d, argv[2], db, port, NULL) == 0,
		"cannot restart dynalite on port %d", port);
	agent = spawn_agent(argv[1], url, spool, log_path, "3");
	rc = wait_agent(agent);
	atomic_store(&traffic_stop, true);
	pthread_join(traffic, NULL);
	log = read_log(log_path);
	fputs(log, stdout);
	CHECK(rc == 0, "agent after the outage exited %d", rc);
	CHECK(strstr(log, "records from an earlier run") && strstr(log, "replayed"),
	      "the next start did not replay the spool");
	CHECK(stat(spool_file, &sb) != 0 || sb.st_size == 0,
	      "spool not empty after the replay: %lld bytes", (long long)sb.st_size);
	CHECK(query_all(url, (int64_t)down_at, (int64_t)up_at, &got) == 0,
	      "query failed");
	in_outage = 0;
	for (size_t i = 0; i < got.n && i < 4096; i++)
		in_outage += got.starts[i] + PERIOD_S > down_at;
	printf("second outage: %zu records of \"all\" from it reached the store\n",
	       in_outage);
	CHECK(in_outage >= 1, "the spooled records of the stop are missing");

	dynalite_stop(&d);
	if (!check_failures()) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", root);
	}
	return check_report();
}
