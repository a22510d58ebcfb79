// SPDX-License-Identifier: BSD-2-Clause
/*
 * Drives `rttq hist` (argv[1]: the rttq binary) as a user would: --help
 * lists every option, a bad option is a usage error, and
 * `-d 2 -i 1 --include-loopback` prints a histogram with quantiles while
 * loopback traffic flows, also per prefix and service port, and SIGHUP
 * rereads --peer-map.
 */
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "kernel.h"
#include "traffic.h"

#define OUT_MAX (256 * 1024)

/* Runs @argv, feeding loopback traffic when @traffic; returns exit code. */
static int run(char *const argv[], bool traffic, char *out, size_t out_size)
{
	size_t got = 0;
	int pipefd[2], status = 0;
	struct traffic_result t;
	pid_t pid;
	ssize_t n;

	REQUIRE_CMP(pipe2(pipefd, O_CLOEXEC), ==, 0);
	pid = fork();
	REQUIRE_CMP(pid, >=, 0);
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pipefd[1]);
	/* Keep traffic going until the child is done; read as we go. */
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		if (traffic)
			REQUIRE_CMP(traffic_run(AF_INET, 200, &t), ==, 0);
		else
			usleep(10000);
		while (got + 1 < out_size &&
		       (n = read(pipefd[0], out + got, out_size - 1 - got)) > 0)
			got += (size_t)n;
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	}
	fcntl(pipefd[0], F_SETFL, 0);
	while (got + 1 < out_size &&
	       (n = read(pipefd[0], out + got, out_size - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(pipefd[0]);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void test_help_lists_options(const char *rttq, char *out)
{
	static const char *const options[] = {
		"--interval", "--duration", "--timestamp", "--milliseconds",
		"--extended", "--lport", "--rport", "--laddr", "--raddr",
		"--include-loopback", "--group-by", "--attach", "--sub-bits",
		"--max-groups", "--verbose", "--help", "--peer-map", "--cgroup",
	};
	char *argv[] = { (char *)rttq, "hist", "--help", NULL };
	size_t i;

	REQUIRE_CMP(run(argv, false, out, OUT_MAX), ==, 0);
	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		CHECK_CONTAINS(out, options[i]);
}

static void test_bad_options_are_usage_errors(const char *rttq,
					      char *out)
{
	char *bad[][5] = {
		{ (char *)rttq, "hist", "--interval", "0", NULL },
		{ (char *)rttq, "hist", "--rport", "70000", NULL },
		{ (char *)rttq, "hist", "--group-by", "raddr,bogus", NULL },
		{ (char *)rttq, "hist", "--group-by", "raddr/0", NULL },
		{ (char *)rttq, "hist", "--group-by", "peer", NULL },
		{ (char *)rttq, "hist", "--peer-map", "/dev/null", NULL },
		{ (char *)rttq, "hist", "--cgroup", "relative/path", NULL },
		{ (char *)rttq, "hist", "--laddr", "10.0.0.0/33", NULL },
		{ (char *)rttq, "hist", "--no-such-option", NULL, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(run(bad[i], false, out, OUT_MAX) == 2,
		      "%s %s: not a usage error (exit 2)", bad[i][2],
		      bad[i][3] ? bad[i][3] : "");
}

/* One of the attach points collector.h names. */
static bool is_attach_mode(const char *mode)
{
	return !strcmp(mode, "fentry") || !strcmp(mode, "tp_btf") ||
	       !strcmp(mode, "raw_tp") || !strcmp(mode, "kprobe");
}

static void test_live_histogram(const char *rttq, char *out)
{
	char *argv[] = { (char *)rttq, "hist", "-d", "2", "-i", "1",
			 "--include-loopback", NULL };
	const char *line;
	char mode[16] = "";

	REQUIRE_CMP(run(argv, true, out, OUT_MAX), ==, 0);
	fputs(out, stdout);
	/* Whichever attach point the automatic fallback chose. */
	line = strstr(out, "Tracing TCP RTT via ");
	CHECK(line && sscanf(line, "Tracing TCP RTT via %15s", mode) == 1 &&
	      is_attach_mode(mode) && !strncmp(line + 20 + strlen(mode),
					       " for 2 s.", 9),
	      "no line 'Tracing TCP RTT via MODE for 2 s.' naming fentry, "
	      "tp_btf, raw_tp or kprobe");
	REQUIRE_CONTAINS(out, "all: ");
	REQUIRE_CONTAINS(out, " events, p50 ");
	REQUIRE_CONTAINS(out, "p99 ");
	REQUIRE_CONTAINS(out, "usecs : count");
	REQUIRE_CONTAINS(out, "|*");
}

/* The new group kinds as a user reads them: "raddr:127.0.0.0/8,port:P". */
static void test_prefix_and_port_groups(const char *rttq, char *out)
{
	char *argv[] = { (char *)rttq, "hist", "-d", "2", "--include-loopback",
			 "--group-by", "raddr/8,port", NULL };
	const char *line;
	unsigned int port;

	REQUIRE_CMP(run(argv, true, out, OUT_MAX), ==, 0);
	line = strstr(out, "\nraddr:127.0.0.0/8,port:");
	REQUIRE(line, "no group 'raddr:127.0.0.0/8,port:P' in:\n%s", out);
	CHECK(sscanf(line, "\nraddr:127.0.0.0/8,port:%u: ", &port) == 1 &&
	      port > 0 && port < 65536, "%.60s", line + 1);
	CHECK(!strstr(out, "\nraddr:127.0.0.1"),
	      "a whole address despite raddr/8");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	REQUIRE(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	REQUIRE_CMP(fclose(f), ==, 0);
}

/*
 * SIGHUP rereads --peer-map as the agent's does: a malformed file keeps
 * the map in use and says which line, a good one is taken, and neither
 * ends the run.
 */
static void test_sighup_reloads_peer_map(const char *rttq, char *out)
{
	char peers[] = "/tmp/rttq-hist-peers.XXXXXX";
	char errs[] = "/tmp/rttq-hist-err.XXXXXX";
	char want[128];
	int fd, efd, status = 0;
	ssize_t n;
	pid_t pid;

	fd = mkstemp(peers);
	efd = mkstemp(errs);
	REQUIRE(fd >= 0 && efd >= 0, "mkstemp: %s", strerror(errno));
	close(fd);
	write_file(peers, "127.0.0.0/8 loop\n");
	pid = fork();
	REQUIRE_CMP(pid, >=, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		dup2(efd, STDERR_FILENO);
		execl(rttq, rttq, "hist", "-d", "4", "-i", "1",
		      "--include-loopback", "--group-by", "peer",
		      "--peer-map", peers, (char *)NULL);
		_exit(127);
	}
	usleep(1500 * 1000);  /* loaded and attached */
	write_file(peers, "127.0.0.0/8 loop\nnot-a-prefix x\n");
	REQUIRE_CMP(kill(pid, SIGHUP), ==, 0);
	usleep(500 * 1000);
	write_file(peers, "127.0.0.0/8 loopback\n");
	REQUIRE_CMP(kill(pid, SIGHUP), ==, 0);
	REQUIRE_CMP(waitpid(pid, &status, 0), ==, pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "rttq hist ended with status %d after SIGHUP", status);
	n = pread(efd, out, OUT_MAX - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	snprintf(want, sizeof(want),
		 "SIGHUP: keeping the previous peer map: %s:2: ", peers);
	CHECK(strstr(out, want), "no '%s' in:\n%s", want, out);
	snprintf(want, sizeof(want), "SIGHUP: peer map %s reloaded", peers);
	CHECK(strstr(out, want), "no '%s' in:\n%s", want, out);
	close(efd);
	unlink(peers);
	unlink(errs);
}

int main(int argc, char **argv)
{
	char *out = malloc(OUT_MAX);

	REQUIRE(argc == 2, "usage: test-rttq-hist RTTQ");
	REQUIRE(out, "out of memory");
	require_root("rttq hist (loads BPF)");
	skip_unless_kernel(KERNEL_BPF);
	test_help_lists_options(argv[1], out);
	test_bad_options_are_usage_errors(argv[1], out);
	test_live_histogram(argv[1], out);
	test_prefix_and_port_groups(argv[1], out);
	test_sighup_reloads_peer_map(argv[1], out);
	free(out);
	return check_report();
}
