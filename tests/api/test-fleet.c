// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fleet rollups on a real SQLite file (fleet-check.c): answers equal the
 * per-host answers, staleness, idempotence, the fleet host never listed,
 * a damaged fleet record; and the agent's refusal of --host '*' lives in
 * store_put(), checked there too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "fleet-check.h"

int main(void)
{
	char dir[] = "/tmp/rttq-test-fleet-XXXXXX";
	char url[128];

	REQUIRE(mkdtemp(dir), "mkdtemp");
	snprintf(url, sizeof(url), "sqlite:%s/fleet.db", dir);
	fleet_check_all(url);
	snprintf(url, sizeof(url), "%s/fleet.db", dir);
	unlink(url);
	snprintf(url, sizeof(url), "%s/fleet.db-wal", dir);
	unlink(url);
	snprintf(url, sizeof(url), "%s/fleet.db-shm", dir);
	unlink(url);
	rmdir(dir);
	return check_report();
}
