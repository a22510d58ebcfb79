// SPDX-License-Identifier: BSD-2-Clause
/*
 * Runs the real rttq-agent (root, BPF) with 5 s periods against a scratch
 * SQLite store while making loopback TCP traffic, stops it with --duration
 * or SIGTERM, then reads the store back and checks what a user relies on:
 * complete and partial base records, incomplete hour rollups whose counts
 * equal the sum of their base records, and a clean exit.  Also checks the
 * exit status and message of a bad --period and an unopenable --store.
 *
 * A third run locks the database for 9 s mid-run: the agent must keep the
 * records it could not write and write them once the lock is gone.
 *
 * A restart within a period: the second run's partial record of that
 * period must hold the samples of both runs, not replace the first's.
 *
 * --peer-map: a malformed file stops the start naming FILE:LINE; SIGHUP
 * rereads a good file (new connections get its label) and keeps the old
 * map when the new file is bad, logging FILE:LINE.
 *
 * Usage: test-agent-run RTTQ_AGENT
 *        duration|sigterm|storefail|restart|errors|peermap
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "kernel.h"
#include "store.h"
#include "traffic.h"
#include "wait.h"

#define PERIOD_S 5
#define HOST "rttq-agent-test"
#define RUN_S 12

/* Sleep until the wall clock is @phase_s into a period of @period_s. */
static void wait_for_phase_of(double phase_s, double period_s)
{
	double now = wall_s();
	double in = now - period_s * (double)(int64_t)(now / period_s);
	double wait = phase_s - in;

	if (wait < 0)
		wait += period_s;
	sleep_s(wait);
}

static void wait_for_phase(double phase_s)
{
	wait_for_phase_of(phase_s, PERIOD_S);
}

/* Start @argv with stderr in the file @log_path. */
static pid_t spawn(char *const argv[], const char *log_path)
{
	int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0600);
	pid_t pid;

	REQUIRE(fd >= 0, "%s: %s", log_path, strerror(errno));
	pid = fork();
	REQUIRE(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(fd, STDERR_FILENO);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(fd);
	return pid;
}

static int wait_exit(pid_t pid)
{
	int status;

	REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid: %s",
		strerror(errno));
	REQUIRE(WIFEXITED(status), "agent did not exit normally (status 0x%x)",
		status);
	return WEXITSTATUS(status);
}

/* Whether @pid has exited (reaped here, its status in @status). */
static bool exited(pid_t pid, int *status)
{
	pid_t got = waitpid(pid, status, WNOHANG);

	REQUIRE(got >= 0, "waitpid: %s", strerror(errno));
	return got == pid;
}

/* Run the agent with @args, return its exit status, stderr into @msg. */
static int run_capture(const char *agent, const char *const *args,
		       char *msg, size_t len)
{
	char log_path[] = "/tmp/rttq-agent-test-log.XXXXXX";
	char *argv[16];
	size_t n = 0;
	int fd, rc;

	fd = mkstemp(log_path);
	REQUIRE(fd >= 0, "mkstemp: %s", strerror(errno));
	close(fd);
	argv[n++] = (char *)agent;
	while (*args && n < 15)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	rc = wait_exit(spawn(argv, log_path));
	read_text(log_path, msg, len);
	unlink(log_path);
	return rc;
}

static void test_errors(const char *agent)
{
	const char *bad_period[] = { "--period", "7", NULL };
	const char *bad_store[] = { "--store", "sqlite:/proc/nope/x.db",
				    "--period", "5", NULL };
	char msg[2048];
	int rc;

	rc = run_capture(agent, bad_period, msg, sizeof(msg));
	REQUIRE(rc == 2, "--period 7 exited %d", rc);
	REQUIRE(strstr(msg, "--period"), "message does not name --period: %s",
		msg);
	rc = run_capture(agent, bad_store, msg, sizeof(msg));
	REQUIRE(rc == 1, "bad --store exited %d", rc);
	REQUIRE(strstr(msg, "store") && strstr(msg, "/proc/nope/x.db"),
		"message does not name the store: %s", msg);
	printf("ok: --period 7 -> 2, unopenable store -> 1, both named\n");
}

struct collected {
	size_t n;
	size_t complete;     /* periods == periods_total */
	size_t partial;      /* periods < periods_total */
	uint64_t count;      /* samples over all records */
	int64_t last_start_s;
	bool last_partial;   /* the latest record is partial */
	int64_t starts[256];
	uint64_t counts[256];
	uint32_t periods[256];
	uint32_t totals[256];
};

static int collect(const struct store_record *r, void *arg)
{
	struct collected *c = arg;
	bool partial = r->periods < r->periods_total;

	REQUIRE(strcmp(r->host, HOST) == 0, "host %s", r->host);
	REQUIRE(strcmp(r->group, "all") == 0, "group %s", r->group);
	REQUIRE(r->count > 0 && r->digest_len > 0, "empty record at %lld",
		(long long)r->start_s);
	REQUIRE(c->n < 256, "too many records");
	c->starts[c->n] = r->start_s;
	c->counts[c->n] = r->count;
	c->periods[c->n] = r->periods;
	c->totals[c->n] = r->periods_total;
	c->n++;
	c->complete += !partial;
	c->partial += partial;
	c->count += r->count;
	if (r->start_s >= c->last_start_s) {
		c->last_start_s = r->start_s;
		c->last_partial = partial;
	}
	return 0;
}

static void query(struct store *st, uint32_t period_s, struct collected *c)
{
	struct store_query q = {
		.host = HOST,
		.group = "all",
		.period_s = period_s,
		.from_s = 0,
		.to_s = INT64_MAX / 2,
	};
	struct rttq_error err = { 0 };

	memset(c, 0, sizeof(*c));
	REQUIRE(store_query(st, &q, collect, c, &err) == 0, "query: %s",
		err.msg);
}

static void check_store(const char *url)
{
	struct collected base, hour, day;
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	size_t i, j;

	REQUIRE(store_open(url, &st, &err) == 0, "%s", err.msg);
	query(st, PERIOD_S, &base);
	query(st, 3600, &hour);
	query(st, 86400, &day);
	store_close(st);

	printf("base: %zu records (%zu complete, %zu partial, last %s), %llu samples\n",
	       base.n, base.complete, base.partial,
	       base.last_partial ? "partial" : "complete",
	       (unsigned long long)base.count);
	REQUIRE(base.complete >= 1, "no complete %d s base record", PERIOD_S);
	for (i = 0; i < base.n; i++)
		REQUIRE(base.totals[i] == 1 && base.periods[i] <= 1,
			"base record %lld: periods %u/%u",
			(long long)base.starts[i], base.periods[i],
			base.totals[i]);
	REQUIRE(base.last_partial,
		"the period cut at exit is not marked partial");

	REQUIRE(hour.n >= 1, "no hour rollup");
	REQUIRE(day.n >= 1, "no day rollup");
	for (i = 0; i < hour.n; i++) {
		uint64_t sum = 0;

		for (j = 0; j < base.n; j++)
			if (base.starts[j] >= hour.starts[i] &&
			    base.starts[j] < hour.starts[i] + 3600)
				sum += base.counts[j];
		printf("hour %lld: periods %u/%u, %llu samples (base sum %llu)\n",
		       (long long)hour.starts[i], hour.periods[i],
		       hour.totals[i], (unsigned long long)hour.counts[i],
		       (unsigned long long)sum);
		REQUIRE(hour.totals[i] == 3600 / PERIOD_S, "hour total %u",
			hour.totals[i]);
		REQUIRE(hour.periods[i] < hour.totals[i] &&
				hour.periods[i] >= 1,
			"hour rollup periods %u", hour.periods[i]);
		REQUIRE(hour.counts[i] == sum,
			"hour count %llu != base sum %llu",
			(unsigned long long)hour.counts[i],
			(unsigned long long)sum);
	}
	REQUIRE(day.count == base.count, "day count %llu != base count %llu",
		(unsigned long long)day.count, (unsigned long long)base.count);
	REQUIRE(day.totals[0] == 86400 / PERIOD_S, "day total %u",
		day.totals[0]);
}

enum run_mode {
	RUN_DURATION,  /* --duration stops it */
	RUN_SIGTERM,   /* SIGTERM stops it */
	RUN_STOREFAIL, /* --duration, and the store is locked for a while */
};

struct lock_ctx {
	const char *path;     /* the agent's database */
	const char *log_path; /* the agent's stderr */
	pid_t agent;
};

/*
 * Hold an exclusive SQLite lock on the agent's database from the moment
 * the agent has opened its store (it says "attached via" after that)
 * until it reports a write failed on it ("database is locked", after the
 * store's busy timeout), so that the records of at least one period wait
 * for the lock to go.
 */
static void *hold_lock(void *arg)
{
	struct lock_ctx *l = arg;
	sqlite3 *db = NULL;

	REQUIRE(wait_for_text(l->log_path, "attached via", l->agent, 30),
		"the agent did not attach within 30 s");
	REQUIRE(sqlite3_open(l->path, &db) == SQLITE_OK, "open %s", l->path);
	sqlite3_busy_timeout(db, 10000);
	REQUIRE(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) ==
			SQLITE_OK,
		"lock %s: %s", l->path, sqlite3_errmsg(db));
	REQUIRE(wait_for_text(l->log_path, "database is locked", l->agent, 30),
		"no write failed on the locked database within 30 s");
	REQUIRE(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK,
		"unlock: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
	return NULL;
}

/*
 * Loopback traffic, 50 exchanges on a new connection every 50 ms (the
 * pace of the traffic, not a wait for anything), until @pid has exited or,
 * when @until_s is not 0, until then.  Returns the connections made; the
 * agent's exit status is in @status when it exited.
 */
static unsigned int make_traffic(pid_t pid, double until_s, int *status,
				 bool *done)
{
	unsigned int connections = 0;

	*done = false;
	while (!(*done = exited(pid, status)) &&
	       (!until_s || wall_s() < until_s)) {
		struct traffic_result tr;

		if (traffic_run(AF_INET, 50, &tr) == 0)
			connections++;
		sleep_s(0.05);
	}
	return connections;
}

/* The exit status of @pid, reaped earlier (@done) or now. */
static int exit_status(pid_t pid, int status, bool done)
{
	if (!done)
		return wait_exit(pid);
	REQUIRE(WIFEXITED(status), "agent did not exit normally (status 0x%x)",
		status);
	return WEXITSTATUS(status);
}

/*
 * Start the agent 1 s into a period, make traffic, and stop it (SIGTERM,
 * or --duration) about 3 s into a later one, so the cut period has samples.
 */
static void test_run(const char *agent, enum run_mode mode)
{
	bool sigterm = mode == RUN_SIGTERM, done;
	struct lock_ctx lock = { 0 };
	pthread_t locker;
	char log[8192];
	char dir[] = "/tmp/rttq-agent-test.XXXXXX";
	char url[PATH_MAX + 16], dbpath[PATH_MAX], log_path[PATH_MAX];
	char *argv[16];
	double started;
	unsigned int connections;
	size_t n = 0;
	pid_t pid;
	int rc, status = 0;

	REQUIRE(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(dbpath, sizeof(dbpath), "%s/x.db", dir);
	snprintf(log_path, sizeof(log_path), "%s/agent.log", dir);
	snprintf(url, sizeof(url), "sqlite:%s", dbpath);

	argv[n++] = (char *)agent;
	argv[n++] = "--store";
	argv[n++] = url;
	argv[n++] = "--host";
	argv[n++] = HOST;
	argv[n++] = "--period";
	argv[n++] = "5";
	argv[n++] = "--interval";
	argv[n++] = "1";
	argv[n++] = "--include-loopback";
	if (mode == RUN_DURATION)
		argv[n++] = "--duration=12";
	if (mode == RUN_STOREFAIL)
		argv[n++] = "--duration=22";
	argv[n] = NULL;

	/* Where in a period the run starts and stops is the subject: the
	 * first and last periods are cut, the others complete. */
	wait_for_phase(1.0);
	started = wall_s();
	pid = spawn(argv, log_path);
	if (mode == RUN_STOREFAIL) {
		lock = (struct lock_ctx){ .path = dbpath,
					  .log_path = log_path, .agent = pid };
		REQUIRE(pthread_create(&locker, NULL, hold_lock, &lock) == 0,
			"pthread_create");
	}
	/* --duration stops the agent itself; SIGTERM comes after RUN_S. */
	connections = make_traffic(pid, sigterm ? started + RUN_S - 0.5 : 0,
				   &status, &done);
	if (sigterm) {
		REQUIRE(!done, "the agent exited before SIGTERM");
		REQUIRE(kill(pid, SIGTERM) == 0, "kill: %s", strerror(errno));
	}
	rc = exit_status(pid, status, done);
	if (mode == RUN_STOREFAIL)
		pthread_join(locker, NULL);
	read_text(log_path, log, sizeof(log));
	unlink(log_path);
	fputs(log, stdout);
	printf("agent ran %.1f s, %u loopback connections, exit %d\n",
	       wall_s() - started, connections, rc);
	REQUIRE(rc == 0, "agent exited %d after %s", rc,
		sigterm ? "SIGTERM" : "--duration");
	REQUIRE(connections > 0, "no traffic could be made");
	if (mode == RUN_STOREFAIL) {
		REQUIRE(strstr(log, "store write failed") &&
				strstr(log, "database is locked"),
			"the failed write was not reported");
		REQUIRE(strstr(log, "store write recovered"),
			"the kept records were not written after the lock");
	}

	check_store(url);
	unlink(dbpath);
	/* SQLite side files, if the store left any */
	snprintf(dbpath, sizeof(dbpath), "%s/x.db-wal", dir);
	unlink(dbpath);
	snprintf(dbpath, sizeof(dbpath), "%s/x.db-shm", dir);
	unlink(dbpath);
	snprintf(dbpath, sizeof(dbpath), "%s/x.db-journal", dir);
	unlink(dbpath);
	REQUIRE(rmdir(dir) == 0, "rmdir %s: %s", dir, strerror(errno));
}

/* One --duration run under loopback traffic (until the agent exits); its
 * log line "stopped; all records written (..., N samples)" gives
 * @samples. */
static void run_with_traffic(const char *agent, const char *url,
			     const char *log_path, const char *period,
			     const char *duration, char *log, size_t len,
			     unsigned long long *samples)
{
	char *argv[] = { (char *)agent, "--store", (char *)url, "--host", HOST,
			 "--period", (char *)period, "--interval", "1",
			 "--include-loopback", "--metrics", "off",
			 (char *)duration, NULL };
	unsigned long long records;
	const char *line;
	int rc, status = 0;
	bool done;
	pid_t pid;

	pid = spawn(argv, log_path);
	make_traffic(pid, 0, &status, &done);
	rc = exit_status(pid, status, done);
	read_text(log_path, log, len);
	fputs(log, stdout);
	REQUIRE(rc == 0, "agent exited %d", rc);
	line = strstr(log, "stopped; all records written (");
	REQUIRE(line && sscanf(line, "stopped; all records written (%llu base-period records of group \"all\", %llu samples)",
			       &records, samples) == 2, "no final account in the log");
}

/* Two runs inside one 30 s period: its record holds both runs' samples. */
static void test_restart(const char *agent)
{
	char dir[] = "/tmp/rttq-agent-restart.XXXXXX";
	char url[PATH_MAX + 16], path[PATH_MAX], log[8192];
	char log_path[PATH_MAX];
	unsigned long long first, second;
	struct collected base;
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	struct store_query q = { .host = HOST, .group = "all", .period_s = 30,
				 .from_s = 0, .to_s = INT64_MAX / 2 };

	REQUIRE(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(url, sizeof(url), "sqlite:%s/x.db", dir);
	snprintf(log_path, sizeof(log_path), "%s/agent.log", dir);
	/* Both runs must fall in one 30 s period: the subject is a restart
	 * within a period. */
	wait_for_phase_of(1.0, 30);
	run_with_traffic(agent, url, log_path, "30", "--duration=4", log,
			 sizeof(log), &first);
	run_with_traffic(agent, url, log_path, "30", "--duration=4", log,
			 sizeof(log), &second);
	REQUIRE(strstr(log, "merged the partial period an earlier run wrote"),
		"the second run did not merge the first run's record");

	REQUIRE(store_open(url, &st, &err) == 0, "%s", err.msg);
	memset(&base, 0, sizeof(base));
	REQUIRE(store_query(st, &q, collect, &base, &err) == 0, "query: %s",
		err.msg);
	store_close(st);
	printf("restart: first run %llu samples, second %llu; store: %zu record(s), %llu samples\n",
	       first, second, base.n, (unsigned long long)base.count);
	REQUIRE(base.n == 1 && base.partial == 1,
		"%zu base records (%zu partial), want one partial", base.n,
		base.partial);
	REQUIRE(first > 0 && second > 0 && base.count == first + second,
		"stored %llu samples, the runs counted %llu + %llu",
		(unsigned long long)base.count, first, second);

	for (const char *f = "x.db\0x.db-wal\0x.db-shm\0agent.log\0"; *f;
	     f += strlen(f) + 1) {
		snprintf(path, sizeof(path), "%s/%s", dir, f);
		unlink(path);
	}
	REQUIRE(rmdir(dir) == 0, "rmdir %s: %s", dir, strerror(errno));
}

static int sum_samples(const struct store_record *r, void *arg)
{
	*(uint64_t *)arg += r->count;
	return 0;
}

/* Samples in base records of @group. */
static uint64_t group_samples(const char *url, const char *group)
{
	struct store_query q = { .host = HOST, .group = group, .period_s = 5,
				 .from_s = 0, .to_s = INT64_MAX / 2 };
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	uint64_t n = 0;

	REQUIRE(store_open(url, &st, &err) == 0, "%s", err.msg);
	REQUIRE(store_query(st, &q, sum_samples, &n, &err) == 0, "query: %s",
		err.msg);
	store_close(st);
	return n;
}

static void write_peers(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	REQUIRE(f && fputs(text, f) >= 0 && fclose(f) == 0, "%s: %s", path,
		strerror(errno));
}

static void test_peer_map(const char *agent)
{
	char dir[] = "/tmp/rttq-agent-peers.XXXXXX";
	char url[PATH_MAX + 16], peers[PATH_MAX], bad[PATH_MAX];
	char log_path[PATH_MAX], log[16384], want[PATH_MAX + 64];
	const char *bad_args[] = { "--store", url, "--group-by", "peer",
				   "--peer-map", bad, NULL };
	char *argv[] = { (char *)agent, "--store", url, "--host", HOST,
			 "--period", "5", "--interval", "1",
			 "--include-loopback", "--metrics", "off",
			 "--group-by", "peer", "--peer-map", peers,
			 "--duration=9", NULL };
	uint64_t a, b, c;
	double started;
	int rc, status = 0;
	bool done;
	pid_t pid;

	REQUIRE(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(url, sizeof(url), "sqlite:%s/x.db", dir);
	snprintf(peers, sizeof(peers), "%s/peers", dir);
	snprintf(bad, sizeof(bad), "%s/bad", dir);
	snprintf(log_path, sizeof(log_path), "%s/agent.log", dir);

	write_peers(bad, "127.0.0.0/8 loop\n127.0.0.1/40 typo\n");
	rc = run_capture(agent, bad_args, log, sizeof(log));
	snprintf(want, sizeof(want), "%s:2: ", bad);
	CHECK(rc == 1 && strstr(log, want),
	      "a bad --peer-map at start: exit %d, log: %s", rc, log);

	write_peers(peers, "127.0.0.0/8 loop-a\n");
	started = wall_s();
	pid = spawn(argv, log_path);
	make_traffic(pid, started + 3, &status, &done);
	REQUIRE(!done, "the agent exited early");
	write_peers(peers, "# renamed\n127.0.0.0/8 loop-b\n");
	REQUIRE(kill(pid, SIGHUP) == 0, "kill: %s", strerror(errno));
	make_traffic(pid, started + 5.5, &status, &done);
	REQUIRE(!done, "the agent exited early");
	write_peers(peers, "127.0.0.0/8 loop-c\n127.0.0.0/33 bad\n");
	REQUIRE(kill(pid, SIGHUP) == 0, "kill: %s", strerror(errno));
	make_traffic(pid, 0, &status, &done);
	rc = exit_status(pid, status, done);
	read_text(log_path, log, sizeof(log));
	fputs(log, stdout);
	REQUIRE(rc == 0, "agent exited %d", rc);
	snprintf(want, sizeof(want), "SIGHUP: peer map %s reloaded", peers);
	CHECK(strstr(log, want), "no line '%s'", want);
	snprintf(want, sizeof(want),
		 "SIGHUP: keeping the previous peer map: %s:2: ", peers);
	CHECK(strstr(log, want), "no line '%s'", want);

	a = group_samples(url, "peer:loop-a");
	b = group_samples(url, "peer:loop-b");
	c = group_samples(url, "peer:loop-c");
	printf("peer:loop-a %llu, peer:loop-b %llu, peer:loop-c %llu samples\n",
	       (unsigned long long)a, (unsigned long long)b,
	       (unsigned long long)c);
	CHECK(a > 0 && b > 0, "each label before and after the reload counts");
	CHECK(c == 0, "the bad file's label counted");

	for (const char *f = "x.db\0x.db-wal\0x.db-shm\0agent.log\0peers\0bad\0";
	     *f; f += strlen(f) + 1) {
		snprintf(want, sizeof(want), "%s/%s", dir, f);
		unlink(want);
	}
	REQUIRE(rmdir(dir) == 0, "rmdir %s: %s", dir, strerror(errno));
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s RTTQ_AGENT duration|sigterm|storefail|restart|errors|peermap\n",
			argv[0]);
		return 2;
	}
	if (strcmp(argv[2], "errors") != 0) {
		require_root("rttq-agent (loads BPF)");
		skip_unless_kernel(KERNEL_BPF);
	}
	if (strcmp(argv[2], "errors") == 0)
		test_errors(argv[1]);
	else if (strcmp(argv[2], "duration") == 0)
		test_run(argv[1], RUN_DURATION);
	else if (strcmp(argv[2], "sigterm") == 0)
		test_run(argv[1], RUN_SIGTERM);
	else if (strcmp(argv[2], "storefail") == 0)
		test_run(argv[1], RUN_STOREFAIL);
	else if (strcmp(argv[2], "restart") == 0)
		test_restart(argv[1]);
	else if (strcmp(argv[2], "peermap") == 0)
		test_peer_map(argv[1]);
	else
		return 2;
	return check_report();
}
