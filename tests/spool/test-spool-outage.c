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
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dynalite.h"
#include "store.h"
#include "traffic.h"

#define HOST "spool-outage"
#define PERIOD_S 5
#define OUTAGE_S 30
#define STOP_DEADLINE_S 5 /* rttq-agent's STOP_FLUSH_MS */

static int failures;

#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "FAIL %s: ", #cond);                 \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
			failures++;                                          \
		}                                                            \
	} while (0)

static atomic_bool traffic_stop;

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int can_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	if (fd < 0)
		return 0;
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* dynalite on a given port (the agent's endpoint must stay the same across
 * the restart; dynalite_start() picks a fresh port each time). */
static int start_on_port(struct dynalite *d, const char *dir, const char *path,
			 int port)
{
	char cli[4096], port_s[16];

	memset(d, 0, sizeof(*d));
	d->port = port;
	snprintf(port_s, sizeof(port_s), "%d", port);
	snprintf(cli, sizeof(cli), "%s/node_modules/dynalite/cli.js", dir);
	snprintf(d->endpoint, sizeof(d->endpoint), "http://127.0.0.1:%d", port);
	d->pid = fork();
	if (d->pid < 0) {
		d->pid = 0;
		return -1;
	}
	if (d->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (null >= 0)
			dup2(null, 1);
		execlp("node", "node", cli, "--host", "127.0.0.1", "--port",
		       port_s, "--createTableMs", "50", "--path", path,
		       (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) {
		if (can_connect(port))
			return 0;
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			d->pid = 0;
			fprintf(stderr, "dynalite exited at start\n");
			return -1;
		}
		sleep_s(0.05);
	}
	dynalite_stop(d);
	return -1;
}

static void *make_traffic(void *arg)
{
	unsigned int *connections = arg;

	while (!atomic_load(&traffic_stop)) {
		struct traffic_result tr;

		if (traffic_run(AF_INET, 50, &tr) == 0)
			(*connections)++;
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

/* Records of group "all" in [from_s, to_s]. */
static int query_all(const char *url, int64_t from_s, int64_t to_s,
		     struct collected *got)
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
	if (rc)
		fprintf(stderr, "query %s: %s\n", url, err.msg);
	store_close(st);
	return rc;
}

static char *read_file(const char *path)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

int main(int argc, char **argv)
{
	char root[] = "/tmp/rttq-spool-outage.XXXXXX";
	char home[600], db[600], spool[600], spool_file[700], log_path[600];
	char url[800], cmd[700];
	static struct collected got;
	struct dynalite d = { 0 };
	struct stat sb;
	unsigned int connections = 0;
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
	if (geteuid() != 0) {
		fprintf(stderr, "needs root to load BPF (run the bpf suite as root)\n");
		return 1;
	}
	if (!mkdtemp(root) || dynalite_install(argv[2]) != 0) {
		fprintf(stderr, "cannot prepare %s or install dynalite\n", root);
		return 1;
	}
	snprintf(home, sizeof(home), "%s/home", root);
	snprintf(db, sizeof(db), "%s/leveldb", root);
	snprintf(spool, sizeof(spool), "%s/spool", root);
	snprintf(spool_file, sizeof(spool_file), "%s/rttq-agent.spool", spool);
	snprintf(log_path, sizeof(log_path), "%s/agent.log", root);
	mkdir(home, 0700);
	dynalite_env(home);
	port = free_port();
	if (port < 0 || start_on_port(&d, argv[2], db, port) != 0) {
		fprintf(stderr, "cannot start dynalite\n");
		return 1;
	}
	snprintf(url, sizeof(url),
		 "dynamodb:spooltest?region=us-east-1&endpoint=%s", d.endpoint);

	agent = spawn_agent(argv[1], url, spool, log_path, NULL);
	pthread_create(&traffic, NULL, make_traffic, &connections);

	sleep_s(10);
	down_at = wall_s();
	dynalite_stop(&d);
	printf("dynalite stopped at +%.0f s for %d s\n", 10.0, OUTAGE_S);
	sleep_s(OUTAGE_S);
	CHECK(stat(spool_file, &sb) == 0 && sb.st_size > 0,
	      "nothing spooled during the outage (%s)", spool_file);
	printf("spool during the outage: %lld bytes\n", (long long)sb.st_size);
	if (start_on_port(&d, argv[2], db, port) != 0) {
		fprintf(stderr, "cannot restart dynalite on port %d\n", port);
		kill(agent, SIGKILL);
		return 1;
	}
	up_at = wall_s();
	printf("dynalite restarted on the same port and LevelDB\n");
	sleep_s(20);
	kill(agent, SIGTERM);
	rc = wait_agent(agent);

	log = read_file(log_path);
	fputs(log, stdout);
	printf("agent exit %d, %u loopback connections\n", rc, connections);
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
	 * the next agent replays it at its start. */
	agent = spawn_agent(argv[1], url, spool, log_path, NULL);
	sleep_s(4);
	down_at = wall_s();
	dynalite_stop(&d);
	sleep_s(8);
	stop_at = wall_s();
	kill(agent, SIGTERM);
	rc = wait_agent(agent);
	stop_took = wall_s() - stop_at;
	log = read_file(log_path);
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
	if (start_on_port(&d, argv[2], db, port) != 0) {
		fprintf(stderr, "cannot restart dynalite on port %d\n", port);
		return 1;
	}
	agent = spawn_agent(argv[1], url, spool, log_path, "3");
	rc = wait_agent(agent);
	atomic_store(&traffic_stop, true);
	pthread_join(traffic, NULL);
	log = read_file(log_path);
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
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", root);
	if (failures) {
		fprintf(stderr, "%d checks failed\n", failures);
		return 1;
	}
	printf("outage survived: every record written once\n");
	return 0;
}
