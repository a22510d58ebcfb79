// SPDX-License-Identifier: BSD-2-Clause
/*
 * SigV4 against an independent signer: curl --aws-sigv4 sends a DynamoDB
 * PutItem to a listener on 127.0.0.1 (random free port); we capture the
 * request as it arrived, sign the same method, path, headers (those curl
 * lists in SignedHeaders) and body ourselves, and require the Authorization
 * header to be byte-identical to curl's.  Usage: test-sigv4-curl CURL
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "check.h"
#include "net.h"
#include "sigv4.h"

#define TIMEOUT_MS 10000
#define MAX_REQUEST 65536
#define MAX_HEADERS 32
#define AKID "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define TOKEN "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKW=="
#define AMZ_DATE "20150830T123600Z"
#define BODY "{\"TableName\":\"tdigest\",\"Item\":{\"pk\":{\"S\":\"host-a#2015-08-30\"}," \
	     "\"ts\":{\"N\":\"1440938160\"},\"d\":{\"B\":\"AAEC\"}}}"

extern char **environ;

/* One curl run and how to sign the same request ourselves. */
struct curl_case {
	const char *name;
	const char *service;  /* in --aws-sigv4 and the scope */
	const char *target;   /* path and query curl is given */
	const char *token;    /* sent by curl as a plain -H header, or NULL */
	unsigned int flags;   /* enum sigv4_flags for our signer */
};

/* One HTTP request as received, cut in place into NUL-terminated pieces. */
struct captured {
	char raw[MAX_REQUEST + 1];
	size_t len;
	char *method;
	char *target;
	struct sigv4_header headers[MAX_HEADERS];
	size_t n_headers;
	char *body;
	size_t body_len;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for @fd to be readable, at most until @deadline_ms. */
static int wait_readable(int fd, long long deadline_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	long long left = deadline_ms - now_ms();
	int ret;

	if (left <= 0)
		return -ETIMEDOUT;
	ret = poll(&pfd, 1, (int)left);
	if (ret < 0)
		return -errno;
	return ret == 0 ? -ETIMEDOUT : 0;
}

static const char *header_value(const struct captured *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_headers; i++)
		if (!strcasecmp(c->headers[i].name, name))
			return c->headers[i].value;
	return NULL;
}

/* Request line, "Name: value" lines up to the blank line, then exactly
 * Content-Length bytes of body. */
static int parse_captured(struct captured *c, char *head_end)
{
	char *line, *next, *sp;
	const char *cl;
	char *end;
	long long n;

	*head_end = '\0';
	line = c->raw;
	next = strstr(line, "\r\n");
	if (!next)
		return -EINVAL;
	*next = '\0';
	next += 2;
	sp = strchr(line, ' ');
	if (!sp)
		return -EINVAL;
	*sp = '\0';
	c->method = line;
	c->target = sp + 1;
	sp = strchr(c->target, ' ');
	if (!sp)
		return -EINVAL;
	*sp = '\0';
	while (*next) {
		char *colon, *v;

		line = next;
		next = strstr(line, "\r\n");
		if (next) {
			*next = '\0';
			next += 2;
		} else {
			next = line + strlen(line);
		}
		colon = strchr(line, ':');
		if (!colon || c->n_headers == MAX_HEADERS)
			return -EINVAL;
		*colon = '\0';
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		c->headers[c->n_headers].name = line;
		c->headers[c->n_headers].value = v;
		c->n_headers++;
	}
	c->body = head_end + 4;
	cl = header_value(c, "content-length");
	if (!cl)
		return 0;
	errno = 0;
	n = strtoll(cl, &end, 10);
	if (errno || end == cl || *end || n < 0 || n > MAX_REQUEST)
		return -EINVAL;
	c->body_len = (size_t)n;
	return 0;
}

/* Read one request from @fd: headers, then as much body as announced. */
static int read_request(int fd, struct captured *c, long long deadline_ms)
{
	char *head_end = NULL;
	ssize_t n;
	int ret;

	for (;;) {
		if (head_end) {
			size_t head_len = (size_t)(head_end + 4 - c->raw);

			if (c->len >= head_len + c->body_len)
				break;
		}
		if (c->len == MAX_REQUEST)
			return -E2BIG;
		ret = wait_readable(fd, deadline_ms);
		if (ret < 0)
			return ret;
		n = read(fd, c->raw + c->len, MAX_REQUEST - c->len);
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		c->len += (size_t)n;
		c->raw[c->len] = '\0';
		if (!head_end) {
			head_end = strstr(c->raw, "\r\n\r\n");
			if (head_end) {
				ret = parse_captured(c, head_end);
				if (ret < 0)
					return ret;
			}
		}
	}
	return 0;
}

static int run_curl(char *const argv[], pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	int ret;

	ret = posix_spawn_file_actions_init(&fa);
	if (ret)
		return -ret;
	ret = posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
					       O_WRONLY, 0);
	if (!ret)
		ret = posix_spawn(pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	return -ret;
}

/* Run curl against our listener and capture what it sends. */
static int capture_curl(const char *curl, const struct curl_case *k,
			struct captured *c)
{
	char url[256], sigv4[128], token_header[256], user[] = AKID ":" SECRET;
	char sha_header[128];
	static const char reply[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n"
		"Content-Length: 2\r\nConnection: close\r\n\r\n{}";
	char *argv[24];
	long long deadline_ms = now_ms() + TIMEOUT_MS;
	int lfd, cfd = -1, port = 0, status, argc = 0, ret;
	pid_t pid = -1;

	lfd = net_listen_loopback(1, &port);
	if (lfd < 0) {
		fprintf(stderr, "listen on 127.0.0.1: %s\n", strerror(-lfd));
		return lfd;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, k->target);
	snprintf(sigv4, sizeof(sigv4), "aws:amz:us-east-1:%s", k->service);
	snprintf(token_header, sizeof(token_header), "X-Amz-Security-Token: %s",
		 k->token ? k->token : "");
	argv[argc++] = (char *)curl;
	argv[argc++] = "-sS";
	argv[argc++] = "--max-time";
	argv[argc++] = "10";
	argv[argc++] = "--aws-sigv4";
	argv[argc++] = sigv4;
	argv[argc++] = "--user";
	argv[argc++] = user;
	argv[argc++] = "-H";
	argv[argc++] = "X-Amz-Date: " AMZ_DATE;
	argv[argc++] = "-H";
	argv[argc++] = "Content-Type: application/x-amz-json-1.0";
	argv[argc++] = "-H";
	argv[argc++] = "X-Amz-Target: DynamoDB_20120810.PutItem";
	if (k->token) {
		argv[argc++] = "-H";
		argv[argc++] = token_header;
	}
	if (k->flags & SIGV4_SIGN_CONTENT_SHA256) {
		unsigned char md[32];
		unsigned int i, md_len = 0;
		int used;

		if (!EVP_Digest(BODY, strlen(BODY), md, &md_len, EVP_sha256(),
				NULL) || md_len != sizeof(md)) {
			close(lfd);
			return -EIO;
		}
		used = snprintf(sha_header, sizeof(sha_header),
				"X-Amz-Content-Sha256: ");
		for (i = 0; i < md_len; i++)
			used += snprintf(sha_header + used,
					 sizeof(sha_header) - (size_t)used, "%02x",
					 md[i]);
		argv[argc++] = "-H";
		argv[argc++] = sha_header;
	}
	argv[argc++] = "--data";
	argv[argc++] = BODY;
	argv[argc++] = url;
	argv[argc] = NULL;

	ret = run_curl(argv, &pid);
	if (ret < 0) {
		fprintf(stderr, "cannot run %s: %s (install curl >= 7.75)\n",
			curl, strerror(-ret));
		goto cleanup;
	}
	ret = wait_readable(lfd, deadline_ms);
	if (ret < 0) {
		fprintf(stderr, "curl did not connect within %d ms\n", TIMEOUT_MS);
		goto cleanup;
	}
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0) {
		ret = -errno;
		fprintf(stderr, "accept: %s\n", strerror(errno));
		goto cleanup;
	}
	ret = read_request(cfd, c, deadline_ms);
	if (ret < 0) {
		fprintf(stderr, "reading curl's request: %s\n", strerror(-ret));
		goto cleanup;
	}
	if (write(cfd, reply, sizeof(reply) - 1) != (ssize_t)(sizeof(reply) - 1)) {
		ret = -EIO;
		fprintf(stderr, "replying to curl failed\n");
	}
cleanup:
	if (cfd >= 0)
		close(cfd);
	close(lfd);
	if (pid > 0) {
		if (ret < 0)
			kill(pid, SIGTERM);
		if (waitpid(pid, &status, 0) == pid && ret == 0 &&
		    (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
			fprintf(stderr, "curl failed (status %d)\n", status);
			ret = -EIO;
		}
	}
	return ret;
}

/* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=a;b;c, Signature=..." ->
 * "a;b;c" copied into @out. */
static int signed_headers_of(const char *auth, char *out, size_t size)
{
	const char *s = strstr(auth, "SignedHeaders="), *e;

	if (!s)
		return -EINVAL;
	s += strlen("SignedHeaders=");
	e = strchr(s, ',');
	if (!e || (size_t)(e - s) >= size)
		return -EINVAL;
	memcpy(out, s, (size_t)(e - s));
	out[e - s] = '\0';
	return 0;
}

static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *s = list;

	while (s && *s) {
		const char *e = strchr(s, ';');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (len == n && !strncasecmp(s, name, n))
			return true;
		s = e ? e + 1 : NULL;
	}
	return false;
}

/*
 * Sign what curl sent and compare.  curl 7.88 has no session-token option
 * and does not add x-amz-content-sha256 (even for S3), so both go out as
 * plain -H headers, which curl signs like any other; we drop them and let
 * our signer add them from the credentials and SIGV4_SIGN_CONTENT_SHA256.
 */
static void check_case(const char *curl, const struct curl_case *k)
{
	const char *name = k->name;
	bool with_token = k->token != NULL;
	struct sigv4_credentials creds = {
		.access_key_id = AKID,
		.secret_access_key = SECRET,
		.session_token = k->token,
	};
	struct sigv4_params p = {
		.creds = &creds,
		.region = "us-east-1",
		.service = k->service,
		.timestamp = AMZ_DATE,
		.flags = k->flags,
	};
	struct sigv4_header mine[MAX_HEADERS];
	struct sigv4_request req = { 0 };
	struct sigv4_signed s = { 0 };
	struct rttq_error err = { 0 };
	const char *auth, *host;
	char list[1024], *q;
	struct captured *c;
	bool date_seen = false;
	size_t i;

	check_section(name);
	c = calloc(1, sizeof(*c));
	if (!CHECK(c, "out of memory"))
		return;
	if (!CHECK(capture_curl(curl, k, c) == 0, "%s: curl's request was not "
		   "captured", name))
		goto cleanup;
	printf("# %s: curl sent\n", name);
	for (i = 0; i < c->n_headers; i++)
		printf("#   %s: %s\n", c->headers[i].name, c->headers[i].value);
	auth = header_value(c, "authorization");
	host = header_value(c, "host");
	if (!CHECK(auth && host &&
		   signed_headers_of(auth, list, sizeof(list)) == 0,
		   "%s: no Host or usable Authorization header", name))
		goto cleanup;
	if (!strchr(host, ':'))
		fprintf(stderr, "%s: note: curl's Host has no port: %s\n", name, host);
	if (!CHECK(!with_token || in_list(list, "x-amz-security-token"),
		   "%s: curl did not sign X-Amz-Security-Token (%s)", name,
		   list))
		goto cleanup;
	if (!CHECK(c->len - (size_t)(c->body - c->raw) == c->body_len &&
		   c->body_len == strlen(BODY) &&
		   !memcmp(c->body, BODY, c->body_len),
		   "%s: body differs from what was given to curl", name))
		goto cleanup;

	req.method = c->method;
	req.path = c->target;
	q = strchr(c->target, '?');
	if (q) {
		*q = '\0';
		req.query = q + 1;
	}
	req.headers = mine;
	for (i = 0; i < c->n_headers; i++) {
		if (!in_list(list, c->headers[i].name))
			continue;
		if (with_token &&
		    !strcasecmp(c->headers[i].name, "x-amz-security-token"))
			continue;
		if ((k->flags & SIGV4_SIGN_CONTENT_SHA256) &&
		    !strcasecmp(c->headers[i].name, "x-amz-content-sha256"))
			continue;
		/* curl 7.88 sends its own X-Amz-Date next to the user's one
		 * (same value) but signs a single value: sign it once too. */
		if (!strcasecmp(c->headers[i].name, "x-amz-date") &&
		    date_seen) {
			printf("# note: curl sent X-Amz-Date twice, signed it once\n");
			continue;
		}
		if (!strcasecmp(c->headers[i].name, "x-amz-date"))
			date_seen = true;
		mine[req.n_headers++] = c->headers[i];
	}
	req.body = c->body;
	req.body_len = c->body_len;
	if (!CHECK(sigv4_sign(&req, &p, &s, &err) == 0, "%s: sigv4_sign: %s",
		   name, err.msg))
		goto cleanup;
	if (!CHECK(!strcmp(s.signed_headers, list),
		   "%s: signed headers differ\n  curl: %s\n  ours: %s", name,
		   list, s.signed_headers))
		goto cleanup;
	CHECK(!strcmp(s.authorization, auth),
	      "%s: Authorization differs\n  curl: %s\n  ours: %s\n"
	      "canonical request:\n%s", name, auth, s.authorization,
	      s.canonical_request);
cleanup:
	sigv4_signed_release(&s);
	free(c);
}

/* --aws-sigv4 arrived in curl 7.75.0. */
static bool curl_has_sigv4(const char *curl)
{
	char cmd[4096], line[256] = "";
	long major = 0, minor = 0;
	char *end;
	FILE *f;
	bool ok = false;

	snprintf(cmd, sizeof(cmd), "'%s' --version", curl);
	f = popen(cmd, "r");
	if (!f)
		return false;
	if (fgets(line, sizeof(line), f) && !strncmp(line, "curl ", 5)) {
		errno = 0;
		major = strtol(line + 5, &end, 10);
		if (!errno && *end == '.') {
			const char *m = end + 1;

			minor = strtol(m, &end, 10);
			ok = !errno && end != m &&
			     (major > 7 || (major == 7 && minor >= 75));
		}
	}
	pclose(f);
	if (!ok)
		fprintf(stderr, "%s is missing or older than 7.75 (no --aws-sigv4): %s",
			curl, line);
	return ok;
}

int main(int argc, char **argv)
{
	/*
	 * curl 7.88 signs the path exactly as sent (no double encoding) and the
	 * query in the order given (unsorted, not re-encoded); the S3 case
	 * therefore uses a query already in canonical form.  DynamoDB posts to
	 * "/" with no query, where the two rules agree.
	 */
	static const struct curl_case cases[] = {
		{ "curl DynamoDB PutItem", "dynamodb", "/", NULL, 0 },
		{ "curl DynamoDB PutItem with session token", "dynamodb", "/",
		  TOKEN, 0 },
		{ "curl S3-style encoded path, x-amz-content-sha256", "s3",
		  "/bucket/key%20x.json?a=1&b=x%2Fy", NULL,
		  SIGV4_NO_NORMALIZE_PATH | SIGV4_PATH_ENCODED |
			  SIGV4_SIGN_CONTENT_SHA256 },
	};
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CURL\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	/* curl >= 7.75 is installed by tools/bootstrap.sh: fail, not skip. */
	REQUIRE(curl_has_sigv4(argv[1]), "%s cannot sign (--aws-sigv4)",
		argv[1]);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(argv[1], &cases[i]);
	return check_report();
}
