// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of rttq-api's bearer-token check (api/auth.c: token file
 * rules, header parsing, no match on prefixes or longer tokens) and of its
 * metrics text (api/api_metrics.c: cumulative buckets ending in +Inf equal to
 * _count, counts by path and code, the exact lines a scraper reads).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "check.h"
#include "api_metrics.h"

static char tmpdir[] = "/tmp/rttq-auth-test.XXXXXX";

/* Write @len bytes of @data to a file in tmpdir; returns its path. */
static const char *token_file(const char *name, const char *data, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	REQUIRE(f, "%s: %s", path, strerror(errno));
	REQUIRE_CMP(fwrite(data, 1, len, f), ==, len);
	REQUIRE_CMP(fclose(f), ==, 0);
	return path;
}

static void load_ok(const char *data, const char *header)
{
	struct rttq_error err = { 0 };
	struct auth a;

	if (!CHECK(auth_load_token(&a, token_file("ok", data, strlen(data)),
				   &err) == 0,
		   "token file '%s' refused: %s", data, err.msg))
		return;
	CHECK(auth_check(&a, header), "'%s' refused for token file '%s'",
	      header, data);
}

static void load_bad(const char *data, size_t len, int code, const char *why)
{
	struct rttq_error err = { 0 };
	struct auth a;
	const char *path = token_file("bad", data, len);

	CHECK_CMP(auth_load_token(&a, path, &err), ==, code);
	CHECK_CONTAINS(err.msg, why);
	CHECK_CONTAINS(err.msg, path);
}

static void test_auth(void)
{
	struct rttq_error err = { 0 };
	struct auth a;
	char *longtok;
	char path[300];

	load_ok("s3cret", "Bearer s3cret");
	load_ok("s3cret\n", "Bearer s3cret");
	load_ok("s3cret\r\n", "bearer   s3cret");
	load_ok("a-b_c.d~e+f/g=", "BEARER a-b_c.d~e+f/g=");

	load_bad("", 0, -EINVAL, "empty");
	load_bad("\n", 1, -EINVAL, "empty");
	load_bad("two words", 9, -EINVAL, "byte 4");
	load_bad("tok\n\n", 5, -EINVAL, "byte 4");
	load_bad("t\0k", 3, -EINVAL, "byte 2");
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	CHECK_CMP(auth_load_token(&a, path, &err), ==, -ENOENT);
	CHECK_CONTAINS(err.msg, path);
	/* A directory opens but does not read. */
	CHECK_CMP(auth_load_token(&a, tmpdir, &err), ==, -EISDIR);

	/* "Bearer " + the longest token: as file with a newline, as header. */
	longtok = malloc(AUTH_TOKEN_MAX + 9);
	REQUIRE(longtok, "out of memory");
	memcpy(longtok, "Bearer ", 7);
	memset(longtok + 7, 'x', AUTH_TOKEN_MAX + 1);
	longtok[AUTH_TOKEN_MAX + 8] = '\0';
	load_bad(longtok + 7, AUTH_TOKEN_MAX + 1, -EINVAL, "longer");
	longtok[AUTH_TOKEN_MAX + 7] = '\n';
	REQUIRE_CMP(auth_load_token(&a, token_file("long", longtok + 7,
						   AUTH_TOKEN_MAX + 1), &err),
		    ==, 0);
	longtok[AUTH_TOKEN_MAX + 7] = '\0';
	CHECK(auth_check(&a, longtok), "the longest token refused");
	longtok[AUTH_TOKEN_MAX + 6] = '\0';
	CHECK(!auth_check(&a, longtok), "a prefix of the token accepted");
	free(longtok);

	REQUIRE_CMP(auth_set_token(&a, "s3cret", 6, &err), ==, 0);
	CHECK(auth_check(&a, "Bearer s3cret"), "refused");
	CHECK(!auth_check(&a, NULL), "accepted");
	CHECK(!auth_check(&a, ""), "accepted");
	CHECK(!auth_check(&a, "Bearer"), "accepted");
	CHECK(!auth_check(&a, "Bearer "), "accepted");
	CHECK(!auth_check(&a, "s3cret"), "accepted");
	CHECK(!auth_check(&a, "Basic s3cret"), "accepted");
	CHECK(!auth_check(&a, "Bearers3cret"), "accepted");
	CHECK(!auth_check(&a, "Bearer s3cre"), "accepted");
	CHECK(!auth_check(&a, "Bearer s3cret2"), "accepted");
	CHECK(!auth_check(&a, "Bearer s3cret "), "accepted");
	CHECK(!auth_check(&a, "Bearer S3CRET"), "accepted");
	CHECK(!auth_check(&a, "Bearer\ts3cret"), "accepted");
}

/* @text must hold @line as a whole line. */
static void has_line(const char *text, const char *line)
{
	const char *p = text;
	size_t n = strlen(line);

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
		p += n;
	}
	CHECK(0, "line '%s' missing from:\n%s", line, text);
}

static void test_metrics(void)
{
	struct api_metrics *m = calloc(1, sizeof(*m));
	char *text = NULL;
	size_t len = 0;

	REQUIRE(m, "out of memory");
	api_metrics_observe(m, EP_QUANTILES, 200, 0.0004);
	api_metrics_observe(m, EP_QUANTILES, 200, 0.003);
	api_metrics_observe(m, EP_QUANTILES, 400, 0.0001);
	api_metrics_observe(m, EP_QUANTILES, 503, 42);
	api_metrics_observe(m, EP_OTHER, 404, 0.001);
	api_metrics_observe(m, EP_HEALTHZ, 418, 0.002);
	m->store_errors = 3;
	m->records_read = 1234;
	REQUIRE_CMP(api_metrics_render(m, &text, &len), ==, 0);
	REQUIRE_CMP(strlen(text), ==, len);
	REQUIRE_CMP(text[len - 1], ==, '\n');

	has_line(text, "# TYPE rttq_api_requests_total counter");
	has_line(text, "rttq_api_requests_total{path=\"/quantiles\",code=\"200\"} 2");
	has_line(text, "rttq_api_requests_total{path=\"/quantiles\",code=\"400\"} 1");
	has_line(text, "rttq_api_requests_total{path=\"/quantiles\",code=\"503\"} 1");
	has_line(text, "rttq_api_requests_total{path=\"other\",code=\"404\"} 1");
	has_line(text, "rttq_api_requests_total{path=\"/healthz\",code=\"other\"} 1");
	CHECK(!strstr(text, "path=\"/series\",code="),
	      "a count for /series, which had no request");

	has_line(text, "# TYPE rttq_api_request_duration_seconds histogram");
	/* 0.0004 and 0.0001 <= 0.0005; 0.003 <= 0.005; 42 only in +Inf. */
	has_line(text, "rttq_api_request_duration_seconds_bucket{path=\"/quantiles\",le=\"0.0005\"} 2");
	has_line(text, "rttq_api_request_duration_seconds_bucket{path=\"/quantiles\",le=\"0.0025\"} 2");
	has_line(text, "rttq_api_request_duration_seconds_bucket{path=\"/quantiles\",le=\"0.005\"} 3");
	has_line(text, "rttq_api_request_duration_seconds_bucket{path=\"/quantiles\",le=\"10\"} 3");
	has_line(text, "rttq_api_request_duration_seconds_bucket{path=\"/quantiles\",le=\"+Inf\"} 4");
	has_line(text, "rttq_api_request_duration_seconds_count{path=\"/quantiles\"} 4");
	has_line(text, "rttq_api_request_duration_seconds_sum{path=\"/quantiles\"} 42.0035");
	/* A bound is inclusive: 0.001 lands in le="0.001". */
	has_line(text, "rttq_api_request_duration_seconds_bucket{path=\"other\",le=\"0.0005\"} 0");
	has_line(text, "rttq_api_request_duration_seconds_bucket{path=\"other\",le=\"0.001\"} 1");
	has_line(text, "rttq_api_request_duration_seconds_count{path=\"/series\"} 0");
	has_line(text, "rttq_api_store_errors_total 3");
	has_line(text, "rttq_api_records_read_total 1234");
	free(text);
	free(m);
}

int main(void)
{
	char cmd[300];

	REQUIRE(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
	test_auth();
	test_metrics();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	CHECK_CMP(system(cmd), ==, 0);
	return check_report();
}
