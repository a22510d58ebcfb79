// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of rttq-api's bearer-token check (api/auth.c: token file
 * rules, header parsing, no match on prefixes or longer tokens) and of its
 * metrics text (api/api_metrics.c: cumulative buckets ending in +Inf
 * equal to _count, counts by path and code, the exact lines a scraper
 * reads).
 */
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "api_metrics.h"

static char tmpdir[] = "/tmp/rttq-auth-test.XXXXXX";

/* Write @len bytes of @data to a file in tmpdir; returns its path. */
static const char *token_file(const char *name, const char *data, size_t len)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	assert(f);
	assert(fwrite(data, 1, len, f) == len);
	assert(fclose(f) == 0);
	return path;
}

static void load_ok(const char *data, const char *header)
{
	struct rttq_error err = { 0 };
	struct auth a;

	if (auth_load_token(&a, token_file("ok", data, strlen(data)), &err)) {
		fprintf(stderr, "token file '%s' refused: %s\n", data, err.msg);
		abort();
	}
	assert(auth_check(&a, header));
}

static void load_bad(const char *data, size_t len, int code, const char *why)
{
	struct rttq_error err = { 0 };
	struct auth a;
	const char *path = token_file("bad", data, len);

	assert(auth_load_token(&a, path, &err) == code);
	if (!strstr(err.msg, why) || !strstr(err.msg, path)) {
		fprintf(stderr, "message '%s' lacks '%s' or the path\n",
			err.msg, why);
		abort();
	}
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
	assert(auth_load_token(&a, path, &err) == -ENOENT);
	assert(strstr(err.msg, path));
	/* A directory opens but does not read. */
	assert(auth_load_token(&a, tmpdir, &err) == -EISDIR);

	/* "Bearer " + the longest token: as file with a newline, as header. */
	longtok = malloc(AUTH_TOKEN_MAX + 9);
	assert(longtok);
	memcpy(longtok, "Bearer ", 7);
	memset(longtok + 7, 'x', AUTH_TOKEN_MAX + 1);
	longtok[AUTH_TOKEN_MAX + 8] = '\0';
	load_bad(longtok + 7, AUTH_TOKEN_MAX + 1, -EINVAL, "longer");
	longtok[AUTH_TOKEN_MAX + 7] = '\n';
	assert(auth_load_token(&a, token_file("long", longtok + 7,
					      AUTH_TOKEN_MAX + 1), &err) == 0);
	longtok[AUTH_TOKEN_MAX + 7] = '\0';
	assert(auth_check(&a, longtok));
	longtok[AUTH_TOKEN_MAX + 6] = '\0';
	assert(!auth_check(&a, longtok));
	free(longtok);

	assert(auth_set_token(&a, "s3cret", 6, &err) == 0);
	assert(auth_check(&a, "Bearer s3cret"));
	assert(!auth_check(&a, NULL));
	assert(!auth_check(&a, ""));
	assert(!auth_check(&a, "Bearer"));
	assert(!auth_check(&a, "Bearer "));
	assert(!auth_check(&a, "s3cret"));
	assert(!auth_check(&a, "Basic s3cret"));
	assert(!auth_check(&a, "Bearers3cret"));
	assert(!auth_check(&a, "Bearer s3cre"));
	assert(!auth_check(&a, "Bearer s3cret2"));
	assert(!auth_check(&a, "Bearer s3cret "));
	assert(!auth_check(&a, "Bearer S3CRET"));
	assert(!auth_check(&a, "Bearer\ts3cret"));
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
	fprintf(stderr, "line '%s' missing from:\n%s", line, text);
	abort();
}

static void test_metrics(void)
{
	struct api_metrics *m = calloc(1, sizeof(*m));
	char *text = NULL;
	size_t len = 0;

	assert(m);
	api_metrics_observe(m, EP_QUANTILES, 200, 0.0004);
	api_metrics_observe(m, EP_QUANTILES, 200, 0.003);
	api_metrics_observe(m, EP_QUANTILES, 400, 0.0001);
	api_metrics_observe(m, EP_QUANTILES, 503, 42);
	api_metrics_observe(m, EP_OTHER, 404, 0.001);
	api_metrics_observe(m, EP_HEALTHZ, 418, 0.002);
	m->store_errors = 3;
	m->records_read = 1234;
	assert(api_metrics_render(m, &text, &len) == 0);
	assert(strlen(text) == len && text[len - 1] == '\n');

	has_line(text, "# TYPE rttq_api_requests_total counter");
	has_line(text, "rttq_api_requests_total{path=\"/quantiles\",code=\"200\"} 2");
	has_line(text, "rttq_api_requests_total{path=\"/quantiles\",code=\"400\"} 1");
	has_line(text, "rttq_api_requests_total{path=\"/quantiles\",code=\"503\"} 1");
	has_line(text, "rttq_api_requests_total{path=\"other\",code=\"404\"} 1");
	has_line(text, "rttq_api_requests_total{path=\"/healthz\",code=\"other\"} 1");
	assert(!strstr(text, "path=\"/series\",code="));

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

	assert(mkdtemp(tmpdir));
	test_auth();
	test_metrics();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert(system(cmd) == 0);
	printf("auth and metrics: ok\n");
	return 0;
}
