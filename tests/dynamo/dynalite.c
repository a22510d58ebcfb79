// SPDX-License-Identifier: BSD-2-Clause
/*
 * Starting and stopping dynalite for the DynamoDB store tests (see
 * dynalite.h).  The port comes from the kernel (bind to port 0), and
 * readiness is a successful TCP connect, so no output is parsed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
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
#include "net.h"

extern char **environ;

/* Whether @port can be bound on 127.0.0.1 now (0: any; @port then gets
 * the one the kernel chose). */
static bool port_free(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)*port) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	     getsockname(fd, (struct sockaddr *)&a, &len) == 0;
	if (ok)
		*port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * Below the ephemeral range when there is room: a server that is stopped
 * and restarted on its port (the outage test) must not find it taken by
 * an outgoing connection meanwhile, or by a client retrying against it
 * that connected to itself (source port == destination port).
 */
int free_port(void)
{
	unsigned int lo = 32768, hi = 60999, seed;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	int port;

	if (f) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			lo = 32768;
		fclose(f);
	}
	seed = (unsigned int)getpid() ^ (unsigned int)time(NULL);
	for (int i = 0; lo > 11024 && i < 200; i++) {
		port = 10000 + (int)(rand_r(&seed) % (lo - 11024));
		if (port_free(&port))
			return port;
	}
	port = 0;
	return port_free(&port) ? port : -1;
}

static int run(char *const argv[])
{
	pid_t pid;
	int status;

	if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
		return -1;
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int dynalite_install(const char *dir)
{
	char cli[4096];
	struct stat st;

	snprintf(cli, sizeof(cli), "%s/node_modules/dynalite/cli.js", dir);
	if (stat(cli, &st) == 0)
		return 0;
	fprintf(stderr, "# installing dynalite: npm ci --prefix %s\n", dir);
	char *argv[] = { "npm", "ci", "--prefix", (char *)dir, "--no-audit",
			 "--no-fund", NULL };
	if (run(argv) != 0 || stat(cli, &st) != 0) {
		fprintf(stderr, "npm ci in %s failed (is node >= 20 with npm installed?)\n",
			dir);
		return -1;
	}
	return 0;
}

static int can_connect(int port)
{
	int fd = net_connect_loopback(port);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int dynalite_start(struct dynalite *d, const char *dir, const char *path,
		   char *const *extra)
{
	int port = free_port();

	if (port < 0) {
		memset(d, 0, sizeof(*d));
		return -1;
	}
	return dynalite_start_on(d, dir, path, port, extra);
}

int dynalite_start_on(struct dynalite *d, const char *dir, const char *path,
		      int tcp_port, char *const *extra)
{
	const struct timespec pause = { .tv_nsec = 50 * 1000 * 1000 };
	char cli[4096], port[16];

	memset(d, 0, sizeof(*d));
	d->port = tcp_port;
	snprintf(port, sizeof(port), "%d", d->port);
	snprintf(cli, sizeof(cli), "%s/node_modules/dynalite/cli.js", dir);
	snprintf(d->endpoint, sizeof(d->endpoint), "http://127.0.0.1:%d", d->port);
	char *argv[32] = { "node", cli, "--host", "127.0.0.1", "--port", port,
			   "--createTableMs", "50" };
	size_t n = 8;

	if (path) {
		argv[n++] = "--path";
		argv[n++] = (char *)path;
	}
	for (size_t i = 0; extra && extra[i] && n + 1 < 32; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	d->pid = fork();
	if (d->pid < 0) {
		d->pid = 0;
		return -1;
	}
	if (d->pid == 0) {
		/* Dies with the test, so a crash leaves no server holding
		 * the test's output pipe open. */
		int null = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (null >= 0)
			dup2(null, 1); /* "Dynalite listening at ..." */
		execvp("node", argv);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) { /* 15 s */
		if (can_connect(d->port))
			return 0;
		if (waitpid(d->pid, NULL, WNOHANG) == d->pid) {
			d->pid = 0;
			fprintf(stderr, "dynalite exited at start\n");
			return -1;
		}
		nanosleep(&pause, NULL);
	}
	fprintf(stderr, "dynalite did not listen on port %d within 15 s\n",
		d->port);
	dynalite_stop(d);
	return -1;
}

void dynalite_stop(struct dynalite *d)
{
	if (d->pid <= 0)
		return;
	kill(d->pid, SIGTERM);
	waitpid(d->pid, NULL, 0);
	d->pid = 0;
}

void dynalite_env(const char *home)
{
	static const char *const unset[] = {
		"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB",
		"AWS_SESSION_TOKEN", "AWS_SHARED_CREDENTIALS_FILE",
		"AWS_CONFIG_FILE", "AWS_CA_BUNDLE",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN",
		"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
		"AWS_EC2_METADATA_SERVICE_ENDPOINT",
	};

	for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
		unsetenv(unset[i]);
	setenv("HOME", home, 1);
	/* Tests never ask a real metadata service (1 s timeout each). */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDRTTQTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "rttq-test-secret-NEVER-IN-LOGS", 1);
}
