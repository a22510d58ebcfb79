// SPDX-License-Identifier: BSD-2-Clause
/*
 * Drives `rttq hist` (argv[1]: the rttq binary) as a user would: --help
 * lists every option, a bad option is a usage error, and
 * `-d 2 -i 1 --include-loopback` prints a histogram with quantiles while
 * loopback traffic flows.
 */
#undef NDEBUG
#include <assert.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

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

	assert(pipe2(pipefd, O_CLOEXEC) == 0);
	pid = fork();
	assert(pid >= 0);
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
			assert(traffic_run(AF_INET, 200, &t) == 0);
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
		"--max-groups", "--verbose", "--help",
	};
	char *argv[] = { (char *)rttq, "hist", "--help", NULL };
	size_t i;

	assert(run(argv, false, out, OUT_MAX) == 0);
	for (i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		if (!strstr(out, options[i]))
			fprintf(stderr, "--help lacks %s\n", options[i]);
		assert(strstr(out, options[i]));
	}
}

static void test_bad_options_are_usage_errors(const char *rttq,
					      char *out)
{
	char *bad[][5] = {
		{ (char *)rttq, "hist", "--interval", "0", NULL },
		{ (char *)rttq, "hist", "--rport", "70000", NULL },
		{ (char *)rttq, "hist", "--group-by", "raddr,peer", NULL },
		{ (char *)rttq, "hist", "--laddr", "10.0.0.0/33", NULL },
		{ (char *)rttq, "hist", "--no-such-option", NULL, NULL },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert(run(bad[i], false, out, OUT_MAX) == 2);
}

static void test_live_histogram(const char *rttq, char *out)
{
	char *argv[] = { (char *)rttq, "hist", "-d", "2", "-i", "1",
			 "--include-loopback", NULL };

	assert(run(argv, true, out, OUT_MAX) == 0);
	fputs(out, stdout);
	assert(strstr(out, "Tracing TCP RTT via tp_btf for 2 s."));
	assert(strstr(out, "all: "));
	assert(strstr(out, " events, p50 "));
	assert(strstr(out, "p99 "));
	assert(strstr(out, "usecs : count"));
	assert(strstr(out, "|*"));
}

int main(int argc, char **argv)
{
	char *out = malloc(OUT_MAX);

	assert(argc == 2 && out);
	test_help_lists_options(argv[1], out);
	test_bad_options_are_usage_errors(argv[1], out);
	test_live_histogram(argv[1], out);
	free(out);
	printf("all rttq hist tests passed\n");
	return 0;
}
