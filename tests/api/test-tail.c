// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fleet queries ending at now on a real SQLite file (tail-check.c): the
 * minutes no fleet record covers yet are read for every host in one
 * statement, and the answers equal the per-host ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "tail-check.h"

int main(void)
{
	char dir[] = "/tmp/rttq-test-tail-XXXXXX";
	static const char *const files[] = { "tail.db", "tail.db-wal",
					     "tail.db-shm" };
	char url[128];

	REQUIRE(mkdtemp(dir), "mkdtemp");
	snprintf(url, sizeof(url), "sqlite:%s/tail.db", dir);
	tail_check_all(url);
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(url, sizeof(url), "%s/%s", dir, files[i]);
		unlink(url);
	}
	rmdir(dir);
	return check_report();
}
