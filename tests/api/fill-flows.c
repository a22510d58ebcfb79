// SPDX-License-Identifier: BSD-2-Clause
/*
 * fill-flows: closed-flow records in a store as `rttq-agent --flow-log`
 * writes them, for the shell-driven test of GET /flows (test-flows.sh).
 * Usage:
 *   fill-flows URL HOST,TIME_MS,RADDR,RPORT,BYTES_SENT...
 * writes one record per argument, in one store_put_flows(): group "all",
 * local 127.0.0.1:5000 (IPv4 RADDR) or ::1:5000, closed from FIN_WAIT2,
 * bytes_received twice BYTES_SENT.  Prints nothing on success.
 *   fill-flows --schema3 PATH
 * turns the SQLite store file PATH into one of schema version 3, before
 * flow records (no flows table), as an older agent left it;
 *   fill-flows --version PATH
 * prints its schema version.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sqlite3.h>

#include "flow_record.h"
#include "netaddr.h"
#include "store.h"

#define MAX_FLOWS 64
#define TCP_FIN_WAIT2 5

/* @text as the records keep addresses: 16 bytes, IPv4 v4-mapped. */
static int mapped(const char *text, uint8_t out[16], uint16_t *family)
{
	struct addr_filter f;
	unsigned int bits;

	if (netaddr_parse_cidr(text, &f, NULL) || f.prefix !=
	    (f.family == AF_INET ? 32u : 128u))
		return -1;
	netaddr_mapped(&f, out, &bits);
	*family = (uint16_t)f.family;
	return 0;
}

static int parse(char *arg, struct flow_record *r, struct store_flow *f,
		 char *host, size_t host_size)
{
	char *save = NULL, *h, *t, *a, *p, *b;
	uint16_t lfamily;

	h = strtok_r(arg, ",", &save);
	t = strtok_r(NULL, ",", &save);
	a = strtok_r(NULL, ",", &save);
	p = strtok_r(NULL, ",", &save);
	b = strtok_r(NULL, ",", &save);
	if (!b || strtok_r(NULL, ",", &save) || mapped(a, r->raddr, &r->family))
		return -1;
	if (mapped(r->family == AF_INET ? "127.0.0.1" : "::1", r->laddr,
		   &lfamily))
		return -1;
	snprintf(host, host_size, "%s", h);
	r->lport = 5000;
	r->rport = (uint16_t)strtoul(p, NULL, 10);
	r->state = TCP_FIN_WAIT2;
	r->flags = FLOW_F_CLOSED | FLOW_F_START_KNOWN;
	r->start_ns = 1000000000ull;
	r->now_ns = 1250000000ull; /* 250 ms long */
	r->bytes_sent = strtoull(b, NULL, 10);
	r->bytes_received = 2 * r->bytes_sent;
	r->srtt_us = 40;
	*f = (struct store_flow){ .host = host, .group = "all",
				  .time_ms = strtoll(t, NULL, 10),
				  .data = r, .len = sizeof(*r) };
	return 0;
}

/* --schema3 / --version: the file itself, with SQLite's own API. */
static int file_mode(const char *mode, const char *path)
{
	bool v3 = strcmp(mode, "--schema3") == 0;
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	int ok;

	ok = sqlite3_open(path, &db) == SQLITE_OK;
	if (ok && v3)
		ok = sqlite3_exec(db, "DROP TABLE flows;"
				  " PRAGMA user_version = 3;", NULL, NULL,
				  NULL) == SQLITE_OK;
	if (ok && !v3) {
		ok = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q,
					NULL) == SQLITE_OK &&
		     sqlite3_step(q) == SQLITE_ROW;
		if (ok)
			printf("%d\n", sqlite3_column_int(q, 0));
		sqlite3_finalize(q);
	}
	if (!ok)
		fprintf(stderr, "fill-flows: %s: %s\n", path,
			sqlite3_errmsg(db));
	sqlite3_close(db);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct flow_record recs[MAX_FLOWS];
	static struct store_flow flows[MAX_FLOWS];
	static char hosts[MAX_FLOWS][64];
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	int n = argc - 2, rc;

	if (argc == 3 && (strcmp(argv[1], "--schema3") == 0 ||
			  strcmp(argv[1], "--version") == 0))
		return file_mode(argv[1], argv[2]);
	if (argc < 3 || n > MAX_FLOWS) {
		fprintf(stderr, "usage: fill-flows URL "
			"HOST,TIME_MS,RADDR,RPORT,BYTES_SENT... (1-%d)\n",
			MAX_FLOWS);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		char given[256];

		snprintf(given, sizeof(given), "%s", argv[i + 2]);
		if (parse(argv[i + 2], &recs[i], &flows[i], hosts[i],
			  sizeof(hosts[i]))) {
			fprintf(stderr, "fill-flows: bad record '%s'\n", given);
			return 2;
		}
	}
	rc = store_open(argv[1], &st, &err);
	if (rc == 0)
		rc = store_put_flows(st, flows, (size_t)n, &err);
	store_close(st);
	if (rc) {
		fprintf(stderr, "fill-flows: %s\n", err.msg);
		return 1;
	}
	return 0;
}
