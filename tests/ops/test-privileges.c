// SPDX-License-Identifier: BSD-2-Clause
/*
 * Least privilege against the real kernel (root, BPF).  "drain": after the
 * attach, find out whether draining needs CAP_BPF on this kernel (it does
 * before Linux 6.5 while kernel.unprivileged_bpf_disabled is set; on newer
 * kernels the holder of the map fd may read it with no capability), check
 * that keeping only CAP_BPF always drains, and that
 * privileges_drop_for_drain() keeps exactly what the kernel asks for.
 * "agent": a running rttq-agent holds exactly that in every capability set
 * (none inheritable or ambient), has no_new_privs, still serves /metrics
 * and writes the traffic's records.
 *
 * "agent-as-unit": the same for an agent started as rttq-agent.service
 * starts it: an unprivileged user with only CAP_BPF and CAP_PERFMON.
 *
 * Usage: test-privileges drain | agent RTTQ_AGENT | agent-as-unit RTTQ_AGENT
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <sqlite3.h>

#include "check.h"
#include "collector.h"
#include "hist.h"
#include "kernel.h"
#include "privileges.h"
#include "traffic.h"
#include "metric.h"

#define SETPRIV "/usr/bin/setpriv" /* util-linux */

#define HOST "rttq-privileges-test"
#define EXCHANGES 300
#define AGENT_RUN_S "6"

/* collector_group_fn: samples in "all". */
static int count_all(const char *group, const char *metric,
		     const struct hist *delta, void *arg)
{
	uint64_t *n = arg;

	/* Other metrics are not this caller's (yet). */
	if (strcmp(metric, METRIC_RTT) != 0)
		return 0;
	if (strcmp(group, "all") == 0)
		*n += hist_count(delta);
	return 0;
}

enum drop_how {
	KEEP_NOTHING,   /* privileges_keep_only(0) */
	KEEP_BPF,       /* privileges_keep_only(CAP_BPF) */
	KEEP_AS_AGENT,  /* privileges_drop_for_drain(prog fd) */
};

#define EXIT_DRAIN_EPERM 3

static uint64_t status_hex(pid_t pid, const char *field);

/* In a child: attach, drop as @how says, make traffic, drain.  Exits 0
 * when the drain saw the traffic, EXIT_DRAIN_EPERM when it was refused. */
static void drain_child(enum drop_how how, uint64_t expect_kept)
{
	struct collector_opts opts = { .include_loopback = true };
	struct rttq_error err = { 0 };
	struct traffic_result tr;
	struct collector *c = NULL;
	char line[256];
	uint64_t n = 0;
	int rc;

	rc = collector_open(&opts, &c, &err);
	REQUIRE(rc == 0, "collector_open: %s", err.msg);
	if (how == KEEP_AS_AGENT) {
		rc = privileges_drop_for_drain(collector_prog_fd(c), line,
					       sizeof(line), &err);
		REQUIRE(rc == 0, "privileges_drop_for_drain: %s", err.msg);
		REQUIRE(status_hex(getpid(), "CapEff") == expect_kept &&
				status_hex(getpid(), "CapPrm") == expect_kept,
			"kept %016" PRIx64 ", the kernel needs %016" PRIx64
			" (%s)", status_hex(getpid(), "CapPrm"), expect_kept,
			line);
		printf("ok: %s\n", line);
	} else {
		rc = privileges_keep_only(how == KEEP_BPF ?
						  PRIVILEGES_BIT(CAP_BPF) : 0,
					  NULL, &err);
		REQUIRE(rc == 0, "privileges_keep_only: %s", err.msg);
	}
	REQUIRE(traffic_run(AF_INET, EXCHANGES, &tr) == 0, "traffic");
	rc = collector_drain(c, count_all, &n, &err);
	fflush(stdout);
	if (rc == -EPERM && how == KEEP_NOTHING)
		exit(EXIT_DRAIN_EPERM);
	REQUIRE(rc == 0, "drain: %d %s", rc, err.msg);
	REQUIRE(n >= EXCHANGES, "drained %" PRIu64 " samples, want >= %d", n,
		EXCHANGES);
	collector_close(c);
	exit(0);
}

static int run_child(enum drop_how how, uint64_t expect_kept)
{
	int status;
	pid_t pid;

	fflush(stdout); /* or the child prints it again */
	pid = fork();

	REQUIRE(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		drain_child(how, expect_kept);
	REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid");
	REQUIRE(WIFEXITED(status), "child status 0x%x", status);
	return WEXITSTATUS(status);
}

/* What draining needs here, found by trying: 0 or CAP_BPF. */
static uint64_t drain_needs(void)
{
	int rc = run_child(KEEP_NOTHING, 0);

	REQUIRE(rc == 0 || rc == EXIT_DRAIN_EPERM, "drain child exited %d", rc);
	printf("ok: with no capability the drain %s\n",
	       rc == 0 ? "works (fd-based bpf() is unprivileged here)" :
			 "fails with EPERM: CAP_BPF must stay");
	return rc == 0 ? 0 : PRIVILEGES_BIT(CAP_BPF);
}

static void test_drain(void)
{
	uint64_t need = drain_needs();

	REQUIRE(run_child(KEEP_BPF, 0) == 0, "drain with only CAP_BPF failed");
	printf("ok: with only CAP_BPF the drain works\n");
	REQUIRE(run_child(KEEP_AS_AGENT, need) == 0,
		"drain after privileges_drop_for_drain failed");
	printf("ok: after privileges_drop_for_drain the drain works\n");
}

/* "CapEff:\t0000008000000000" of /proc/PID/status. */
static uint64_t status_hex(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	unsigned long long v = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	REQUIRE(f, "%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, flen) == 0 && line[flen] == ':') {
			char *end = NULL;

			errno = 0;
			v = strtoull(line + flen + 1, &end, 16);
			found = errno == 0 && end != line + flen + 1;
			break;
		}
	}
	fclose(f);
	REQUIRE(found, "%s: no %s line", path, field);
	return v;
}

/* Read the agent's stderr up to the line saying what it kept; the port of
 * "metrics at http://127.0.0.1:PORT/metrics" into @port. */
static void wait_for_drop(FILE *err_stream, char *line, size_t len,
			  unsigned int *port)
{
	const char *at;

	while (fgets(line, (int)len, err_stream)) {
		fputs(line, stderr);
		at = strstr(line, "metrics at http://127.0.0.1:");
		if (at)
			*port = (unsigned int)strtoul(at + 28, NULL, 10);
		if (strstr(line, "privileges:"))
			return;
		REQUIRE(!strstr(line, "cannot"), "agent failed: %s", line);
	}
	REQUIRE(0, "agent ended before dropping privileges");
}

/* GET /metrics once the agent has dropped its capabilities: 200 and the
 * agent's own series. */
static void check_metrics(unsigned int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	char buf[4096];
	size_t used = 0;
	ssize_t got;
	int fd;

	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(fd >= 0, "socket");
	REQUIRE(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		"connect to metrics port %u: %s", port, strerror(errno));
	REQUIRE(write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1),
		"write");
	while (used + 1 < sizeof(buf) &&
	       (got = read(fd, buf + used, sizeof(buf) - 1 - used)) > 0)
		used += (size_t)got;
	buf[used] = '\0';
	close(fd);
	REQUIRE(strncmp(buf, "HTTP/1.0 200", 12) == 0 ||
			strncmp(buf, "HTTP/1.1 200", 12) == 0,
		"metrics answer: %.80s", buf);
	REQUIRE(strstr(buf, "rttq_"), "no rttq_ series in /metrics");
	printf("ok: /metrics answers 200 after the drop\n");
}

static uint64_t stored_count(const char *db_path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	uint64_t n = 0;

	REQUIRE(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) ==
			SQLITE_OK,
		"open %s", db_path);
	REQUIRE(sqlite3_prepare_v2(db,
				   "SELECT COALESCE(SUM(count), 0) FROM records"
				   " WHERE host = ?1 AND grp = 'all'"
				   " AND period_s = 5",
				   -1, &st, NULL) == SQLITE_OK,
		"prepare: %s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, HOST, -1, SQLITE_STATIC);
	REQUIRE(sqlite3_step(st) == SQLITE_ROW, "step: %s", sqlite3_errmsg(db));
	n = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/*
 * @as_unit: start the agent the way rttq-agent.service does -- an
 * unprivileged user (nobody) with CAP_BPF and CAP_PERFMON as ambient
 * capabilities, a bounding set of just those two, no_new_privs -- through
 * setpriv(1); else as root with every capability.
 */
static void test_agent(const char *agent, bool as_unit)
{
	char dir[] = "/tmp/rttq-privileges-XXXXXX";
	char db_path[128], store[160], line[512];
	struct traffic_result tr;
	const uint64_t need = drain_needs();
	uint64_t eff, prm, bnd, inh, amb, nnp, n;
	unsigned int metrics_port = 0;
	int fds[2], status;
	FILE *err_stream;
	pid_t pid;

	REQUIRE(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	if (as_unit)
		REQUIRE(chown(dir, 65534, 65534) == 0, "chown %s: %s", dir,
			strerror(errno));
	snprintf(db_path, sizeof(db_path), "%s/rttq.db", dir);
	snprintf(store, sizeof(store), "sqlite:%s", db_path);
	REQUIRE(pipe(fds) == 0, "pipe");
	fflush(stdout);
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		if (as_unit)
			execl(SETPRIV, SETPRIV, "--reuid=65534", "--regid=65534",
			      "--clear-groups", "--inh-caps=-all,+bpf,+perfmon",
			      "--ambient-caps=+bpf,+perfmon",
			      "--bounding-set=-all,+bpf,+perfmon",
			      "--no-new-privs", agent, "--store", store,
			      "--host", HOST, "--period", "5", "--interval",
			      "1", "--duration", AGENT_RUN_S,
			      "--include-loopback", "--metrics", "127.0.0.1:0",
			      (char *)NULL);
		else
			execl(agent, agent, "--store", store, "--host", HOST,
			      "--period", "5", "--interval", "1", "--duration",
			      AGENT_RUN_S, "--include-loopback", "--metrics",
			      "127.0.0.1:0", (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", agent, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	err_stream = fdopen(fds[0], "r");
	REQUIRE(err_stream, "fdopen");
	wait_for_drop(err_stream, line, sizeof(line), &metrics_port);

	eff = status_hex(pid, "CapEff");
	prm = status_hex(pid, "CapPrm");
	bnd = status_hex(pid, "CapBnd");
	inh = status_hex(pid, "CapInh");
	amb = status_hex(pid, "CapAmb");
	nnp = status_hex(pid, "NoNewPrivs");
	/* Without CAP_SETPCAP the bounding set cannot shrink further. */
	REQUIRE(eff == need && prm == need &&
			bnd == (as_unit ? PRIVILEGES_BIT(CAP_BPF) |
						  PRIVILEGES_BIT(CAP_PERFMON) :
					  need),
		"CapEff %016" PRIx64 " CapPrm %016" PRIx64 " CapBnd %016" PRIx64
		", want %016" PRIx64, eff, prm, bnd, need);
	REQUIRE(inh == 0 && amb == 0,
		"CapInh %016" PRIx64 " CapAmb %016" PRIx64, inh, amb);
	REQUIRE(nnp == 1, "NoNewPrivs %" PRIu64, nnp);
	REQUIRE(strstr(line, need ? "kept CAP_BPF " : "kept none "),
		"log line does not say what was kept: %s", line);
	REQUIRE(metrics_port > 0, "no \"metrics at\" line before the drop");
	check_metrics(metrics_port);

	REQUIRE(traffic_run(AF_INET, EXCHANGES, &tr) == 0, "traffic");
	while (fgets(line, sizeof(line), err_stream))
		fputs(line, stderr);
	fclose(err_stream);
	REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid");
	REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		"agent status 0x%x", status);
	n = stored_count(db_path);
	REQUIRE(n >= EXCHANGES, "stored %" PRIu64 " samples, want >= %d", n,
		EXCHANGES);
	printf("ok: agent holds eff/prm %016" PRIx64 ", bnd %016" PRIx64
	       ", inh/amb 0, no_new_privs; served /metrics and stored %" PRIu64
	       " samples\n", eff, bnd, n);
	unlink(db_path);
	snprintf(line, sizeof(line), "%s-wal", db_path);
	unlink(line);
	snprintf(line, sizeof(line), "%s-shm", db_path);
	unlink(line);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	require_root("loading BPF and reading the agent's /proc");
	skip_unless_kernel(KERNEL_BPF);
	if (argc == 2 && strcmp(argv[1], "drain") == 0)
		test_drain();
	else if (argc == 3 && strcmp(argv[1], "agent") == 0)
		test_agent(argv[2], false);
	else if (argc == 3 && strcmp(argv[1], "agent-as-unit") == 0)
		test_agent(argv[2], true);
	else {
		fprintf(stderr, "usage: %s drain | agent RTTQ_AGENT | agent-as-unit RTTQ_AGENT\n", argv[0]);
		return 2;
	}
	return check_report();
}
