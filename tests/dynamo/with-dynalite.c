// SPDX-License-Identifier: BSD-2-Clause
/*
 * with-dynalite DYNALITE_DIR CMD [ARGS...]: run CMD against a private
 * dynalite on a random loopback port, with the AWS chain pointed at it
 * (AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION, test keys, a private HOME), so
 * scripts can test anything that takes a dynamodb: store URL.  Exits with
 * CMD's status (125 when dynalite cannot be started).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dynalite.h"

int main(int argc, char **argv)
{
	char home[] = "/tmp/rttq-with-dynalite-XXXXXX", cmd[600];
	struct dynalite server;
	int status = 0;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: %s DYNALITE_DIR CMD [ARGS...]\n", argv[0]);
		return 125;
	}
	if (!mkdtemp(home)) {
		perror("mkdtemp");
		return 125;
	}
	dynalite_env(home);
	if (dynalite_install(argv[1]) || dynalite_start(&server, argv[1], NULL, NULL))
		return 125;
	setenv("AWS_ENDPOINT_URL_DYNAMODB", server.endpoint, 1);
	setenv("AWS_REGION", "us-east-1", 1);

	pid = fork();
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		status = 125 << 8;
	dynalite_stop(&server);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", home);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", home);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
