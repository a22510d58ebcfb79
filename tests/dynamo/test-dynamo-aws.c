// SPDX-License-Identifier: BSD-2-Clause
/*
 * DynamoDB store against a real dynalite, what surrounds it: clear errors
 * (bad URLs, missing credentials, a connection reset mid-body), settings
 * from the shared AWS files, https with certificate checks, and
 * container and instance credentials fetched again before they expire.
 * Usage: test-dynamo-aws DYNALITE_DIR CASE   (CASE: errors, tls,
 * credentials)
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "aws_config.h"
#include "check.h"
#include "dynamo-test.h"
#include "dynamodb.h"
#include "http_client.h"
#include "net.h"

/* Accepts connections and resets them (SO_LINGER 0) after a short read. */
static void *reset_server(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	for (;;) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };
		char buf[4096];
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		if (read(fd, buf, sizeof(buf)) < 0)
			fprintf(stderr, "reset server: read failed\n");
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(fd);
	}
	return NULL;
}

/* A server resetting the connection mid-body: an error, not SIGPIPE. */
static void test_reset_mid_body(void)
{
	struct http_client *hc = NULL;
	struct http_response resp;
	struct rttq_error err = { 0 };
	size_t body_len = 16u << 20;
	char *body = calloc(1, body_len), url[64];
	pthread_t t;
	int lfd, port, ret;

	lfd = net_listen_loopback(4, &port);
	REQUIRE(body && lfd >= 0, "listener: %s", strerror(-lfd));
	REQUIRE(pthread_create(&t, NULL, reset_server, (void *)(intptr_t)lfd) == 0,
		"thread");
	pthread_detach(t);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	REQUIRE(http_client_new(url, NULL, &hc, &err) == 0, "%s", err.msg);
	ret = http_client_request(hc, "POST", "/", NULL, 0, body, body_len, 5000,
				  &resp, &err);
	REQUIRE(ret == -ECONNRESET || ret == -EPIPE,
		"reset mid-body: %d %s", ret, err.msg);
	http_client_free(hc);
	free(body);
	printf("ok error: %s\n", err.msg);
}

static void test_errors(const char *dir)
{
	test_reset_mid_body();

	char url[256];
	int port = free_port();

	/* Nothing listens: retried, then a message naming the endpoint. */
	snprintf(url, sizeof(url),
		 "dynamodb:rttq?region=us-east-1&endpoint=http://127.0.0.1:%d", port);
	dynamo_expect_open_error(url, -ECONNREFUSED, "Connection refused");
	dynamo_expect_open_error("dynamodb:rttq?region=us-east-1&endpoint=ftp://x",
			  -EINVAL, "expected http://HOST");
	dynamo_expect_open_error("dynamodb:rttq?region=us-east-1&endpoint=http://u:" SECRET "@h/",
			  -EINVAL, "user information");
	dynamo_expect_open_error("dynamodb:rttq?colour=blue", -EINVAL,
			  "unknown parameter \"colour\"");
	dynamo_expect_open_error("dynamodb:a?region=us-east-1", -EINVAL, "table name");
	dynamo_expect_open_error("dynamodb:rttq?region=US_EAST", -EINVAL,
			  "not a region name");
	dynamo_expect_open_error("dynamodb:rttq", -ENOENT, "no AWS region");

	unsetenv("AWS_ACCESS_KEY_ID");
	dynamo_expect_open_error(dynamo_url("rttq"), -EINVAL,
			  "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	dynamo_expect_open_error(dynamo_url("rttq"), -ENOKEY, "no AWS credentials");

	/* Credentials and region from a profile in the shared files. */
	char file[512];
	FILE *f;

	snprintf(file, sizeof(file), "%s/.aws", dynamo_tmpdir());
	REQUIRE(mkdir(file, 0700) == 0 || errno == EEXIST, "mkdir %s", file);
	snprintf(file, sizeof(file), "%s/.aws/credentials", dynamo_tmpdir());
	f = fopen(file, "w");
	REQUIRE(f, "cannot write %s", file);
	fprintf(f, "[default]\naws_access_key_id = WRONG\n\n[rttq]\n"
		"aws_access_key_id = AKIDPROFILE\naws_secret_access_key = %s\n",
		SECRET);
	fclose(f);
	snprintf(file, sizeof(file), "%s/.aws/config", dynamo_tmpdir());
	f = fopen(file, "w");
	REQUIRE(f, "cannot write %s", file);
	fprintf(f, "[default]\nregion = eu-west-1\n[profile rttq]\nregion = eu-north-1\n"
		"s3 =\n  region = nowhere\n");
	fclose(f);
	setenv("AWS_PROFILE", "rttq", 1);
	setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamo_server()->endpoint, 1);

	struct aws_config cfg;
	struct rttq_error err = { 0 };
	int ret = aws_config_load("dynamodb", NULL, NULL, &cfg, &err);

	REQUIRE(ret == 0, "profile config: %s", err.msg);
	REQUIRE(strcmp(cfg.region, "eu-north-1") == 0, "region %s", cfg.region);
	REQUIRE(strcmp(cfg.access_key_id, "AKIDPROFILE") == 0, "key id from profile");
	REQUIRE(strcmp(cfg.endpoint, dynamo_server()->endpoint) == 0, "endpoint %s", cfg.endpoint);
	aws_config_release(&cfg);
	unsetenv("AWS_ENDPOINT_URL_DYNAMODB");
	ret = aws_config_load("dynamodb", NULL, NULL, &cfg, &err);
	REQUIRE(ret == 0 && strcmp(cfg.endpoint,
				   "https://dynamodb.eu-north-1.amazonaws.com") == 0,
		"default endpoint %s", cfg.endpoint);
	aws_config_release(&cfg);

	struct store *st = NULL;
	snprintf(url, sizeof(url), "dynamodb:rttq-profile?endpoint=%s",
		 dynamo_server()->endpoint);
	dynamo_open_store(url, &st);
	store_close(st);
	printf("ok profile credentials\n");
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);
	size_t n;

	REQUIRE(f && buf, "cannot read %s", path);
	n = fread(buf, 1, 65535, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* https: the certificate chain and the host name are checked; a failed
 * check is reported at once (not retried) and says which check failed. */
static void test_tls(const char *dir)
{
	char cmd[2048], key[512], crt[512], url[512];
	char *key_pem, *crt_pem, *key_arg, *crt_arg;
	struct dynalite tls;
	struct store *st = NULL;
	struct rttq_error err = { 0 };
	struct dynamo_recs got = { 0 };
	struct dynamo_batch b = { 0 };
	int ret;

	snprintf(key, sizeof(key), "%s/tls.key", dynamo_tmpdir());
	snprintf(crt, sizeof(crt), "%s/tls.crt", dynamo_tmpdir());
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
		 "-nodes -days 2 -subj /CN=rttq.test "
		 "-addext subjectAltName=DNS:rttq.test,IP:127.0.0.1 "
		 "-keyout %s -out %s 2>/dev/null", key, crt);
	REQUIRE(system(cmd) == 0, "openssl req failed: %s", cmd);
	key_pem = read_file(key);
	crt_pem = read_file(crt);
	REQUIRE(asprintf(&key_arg, "--key=%s", key_pem) > 0 &&
		asprintf(&crt_arg, "--cert=%s", crt_pem) > 0, "asprintf");
	char *extra[] = { "--ssl", key_arg, crt_arg, NULL };
	REQUIRE(dynalite_start(&tls, dir, NULL, extra) == 0,
		"dynalite --ssl did not start");

	/* Trusted through AWS_CA_BUNDLE, address in the certificate. */
	setenv("AWS_CA_BUNDLE", crt, 1);
	snprintf(url, sizeof(url),
		 "dynamodb:rttq-tls?region=us-east-1&endpoint=https://127.0.0.1:%d",
		 tls.port);
	dynamo_open_store(url, &st);
	dynamo_add_record(&b, "tls-host", "all", 60, 1700000040, 300);
	ret = store_put(st, b.r, 1, &err);
	REQUIRE(ret == 0, "put over TLS: %s", err.msg);
	struct store_query q = { .host = "tls-host", .period_s = 60,
				 .from_s = 0, .to_s = INT64_MAX };
	ret = store_query(st, &q, dynamo_collect, &got, &err);
	REQUIRE(ret == 0 && got.n == 1 && got.v[0].r.digest_len == 300 &&
		memcmp(got.v[0].digest, b.digests[0], 300) == 0,
		"query over TLS: %d %zu %s", ret, got.n, err.msg);
	store_close(st);
	dynamo_recs_free(&got);
	dynamo_batch_free(&b);
	printf("ok TLS with a trusted certificate\n");

	/* Name not in the certificate. */
	snprintf(url, sizeof(url),
		 "dynamodb:rttq-tls?region=us-east-1&endpoint=https://localhost:%d",
		 tls.port);
	dynamo_expect_open_error(url, -EKEYREJECTED, "hostname mismatch");
	/* Not trusted: the system store does not know this certificate. */
	unsetenv("AWS_CA_BUNDLE");
	snprintf(url, sizeof(url),
		 "dynamodb:rttq-tls?region=us-east-1&endpoint=https://127.0.0.1:%d",
		 tls.port);
	dynamo_expect_open_error(url, -EKEYREJECTED, "TLS certificate verification failed");
	setenv("AWS_CA_BUNDLE", "/nonexistent/ca.pem", 1);
	dynamo_expect_open_error(url, -EIO, "cannot load CA certificates from /nonexistent/ca.pem");
	unsetenv("AWS_CA_BUNDLE");

	dynalite_stop(&tls);
	free(key_pem);
	free(crt_pem);
	free(key_arg);
	free(crt_arg);
}

/* ---------------------------------------------------------------------
 * A metadata service: container credentials at /creds (token checked)
 * and EC2 IMDSv2 (session token, role name, role keys).
 * ------------------------------------------------------------------- */

struct metadata {
	int fd;
	int port;
	atomic_uint creds_served;
	atomic_llong expires_s;
};

static struct metadata meta;

static void iso8601(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void meta_reply(int fd, int status, const char *body)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			 status, strlen(body));

	if (write(fd, head, (size_t)n) != n ||
	    write(fd, body, strlen(body)) != (ssize_t)strlen(body))
		return;
}

static void *meta_serve(void *arg)
{
	for (;;) {
		char req[8192], body[512], exp[32];
		size_t len = 0;
		int fd = accept(meta.fd, NULL, NULL);

		if (fd < 0)
			continue;
		while (len < sizeof(req) - 1) {
			ssize_t r = read(fd, req + len, sizeof(req) - 1 - len);

			if (r <= 0)
				break;
			len += (size_t)r;
			req[len] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[len] = '\0';
		iso8601(atomic_load(&meta.expires_s), exp);
		if (strncmp(req, "GET /creds ", 11) == 0) {
			if (!strstr(req, "\r\nAuthorization: container-token-1\r\n")) {
				meta_reply(fd, 401, "no token");
			} else {
				atomic_fetch_add(&meta.creds_served, 1);
				snprintf(body, sizeof(body),
					 "{\"AccessKeyId\":\"ASIACONTAINER\",\"SecretAccessKey\":\"%s\","
					 "\"Token\":\"session-token-c\",\"Expiration\":\"%s\"}",
					 SECRET, exp);
				meta_reply(fd, 200, body);
			}
		} else if (strncmp(req, "PUT /latest/api/token ", 22) == 0) {
			meta_reply(fd, strstr(req, "X-aws-ec2-metadata-token-ttl-seconds: 21600") ?
				   200 : 400, "imds-token-1");
		} else if (!strstr(req, "\r\nX-aws-ec2-metadata-token: imds-token-1\r\n")) {
			meta_reply(fd, 401, "");
		} else if (strncmp(req, "GET /latest/meta-data/iam/security-credentials/ ", 48) == 0) {
			meta_reply(fd, 200, "rttq-role\n");
		} else if (strncmp(req, "GET /latest/meta-data/iam/security-credentials/rttq-role ", 57) == 0) {
			atomic_fetch_add(&meta.creds_served, 1);
			snprintf(body, sizeof(body),
				 "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAINSTANCE\","
				 "\"SecretAccessKey\":\"%s\",\"Token\":\"session-token-i\",\"Expiration\":\"%s\"}",
				 SECRET, exp);
			meta_reply(fd, 200, body);
		} else {
			meta_reply(fd, 404, "");
		}
		close(fd);
	}
	return NULL;
}

static void meta_start(void)
{
	pthread_t t;

	meta.fd = net_listen_loopback(16, &meta.port);
	REQUIRE(meta.fd >= 0, "metadata socket: %s", strerror(-meta.fd));
	REQUIRE(pthread_create(&t, NULL, meta_serve, NULL) == 0, "metadata thread");
	pthread_detach(t);
}

static void describe_n(struct ddb *ddb, int n)
{
	const char *body = "{\"TableName\":\"rttq-creds\"}";
	struct rttq_error err = { 0 };

	for (int i = 0; i < n; i++) {
		int ret = ddb_call(ddb, "DescribeTable", body, strlen(body), NULL, &err);

		REQUIRE(ret == 0, "DescribeTable: %s", err.msg);
	}
}

/* Container and instance credentials, fetched again before they expire. */
static void test_credentials(const char *dir)
{
	char url[256];
	struct aws_config cfg;
	struct rttq_error err = { 0 };
	struct store *st = NULL;
	struct ddb *ddb = NULL;
	int64_t now = time(NULL);
	int ret;

	meta_start();
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");

	/* Container: token checked, keys used for a real store. */
	atomic_store(&meta.expires_s, now + 3600);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/creds", meta.port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token-1", 1);
	ret = aws_config_load("dynamodb", "us-east-1", dynamo_server()->endpoint, &cfg, &err);
	REQUIRE(ret == 0, "container credentials: %s", err.msg);
	REQUIRE(cfg.source == AWS_CREDS_CONTAINER &&
		strcmp(cfg.access_key_id, "ASIACONTAINER") == 0 &&
		strcmp(cfg.session_token, "session-token-c") == 0 &&
		cfg.expires_s == now + 3600, "container credentials parsed wrong");
	aws_config_release(&cfg);
	dynamo_open_store(dynamo_url("rttq-creds"), &st);
	store_close(st);
	REQUIRE(atomic_load(&meta.creds_served) == 2, "served %u times",
		atomic_load(&meta.creds_served));

	/* Expiring within 5 minutes: every signing fetches new keys. */
	atomic_store(&meta.expires_s, now + 120);
	ret = aws_config_load("dynamodb", "us-east-1", dynamo_server()->endpoint, &cfg, &err);
	REQUIRE(ret == 0, "%s", err.msg);
	ret = ddb_new(&cfg, &ddb, &err);
	REQUIRE(ret == 0, "%s", err.msg);
	describe_n(ddb, 3);
	REQUIRE(atomic_load(&meta.creds_served) == 6, "refresh: served %u times",
		atomic_load(&meta.creds_served));
	/* Fresh for an hour again: no more fetches. */
	atomic_store(&meta.expires_s, now + 3600);
	describe_n(ddb, 3);
	REQUIRE(atomic_load(&meta.creds_served) == 7, "after refresh: served %u times",
		atomic_load(&meta.creds_served));
	ddb_free(ddb);
	aws_config_release(&cfg);

	/* A wrong token is a clear error. */
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong", 1);
	ret = aws_config_load("dynamodb", "us-east-1", dynamo_server()->endpoint, &cfg, &err);
	REQUIRE(ret == -EIO && strstr(err.msg, "container credentials: HTTP status 401"),
		"wrong token: %d %s", ret, err.msg);
	aws_config_release(&cfg);
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");

	/* EC2 instance metadata, IMDSv2. */
	unsetenv("AWS_EC2_METADATA_DISABLED");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", meta.port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	ret = aws_config_load("dynamodb", "us-east-1", dynamo_server()->endpoint, &cfg, &err);
	REQUIRE(ret == 0, "instance credentials: %s", err.msg);
	REQUIRE(cfg.source == AWS_CREDS_INSTANCE &&
		strcmp(cfg.access_key_id, "ASIAINSTANCE") == 0 &&
		strcmp(cfg.session_token, "session-token-i") == 0,
		"instance credentials parsed wrong");
	aws_config_release(&cfg);
	dynamo_open_store(dynamo_url("rttq-creds"), &st);
	store_close(st);

	/* No metadata service answers: the usual "no credentials". */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", free_port());
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	dynamo_expect_open_error(dynamo_url("rttq-creds"), -ENOKEY, "no AWS credentials");
	printf("ok container and instance credentials, refreshed before expiry\n");
}

int main(int argc, char **argv)
{
	static const struct dynamo_case cases[] = {
		{ "errors", test_errors },
		{ "tls", test_tls },
		{ "credentials", test_credentials },
		{ NULL, NULL },
	};

	return dynamo_test_main(argc, argv, cases);
}
