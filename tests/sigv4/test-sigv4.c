// SPDX-License-Identifier: BSD-2-Clause
/*
 * SigV4 against AWS's signing test suite (tests/sigv4/vectors, one folder
 * per case: the canonical request, string to sign and signature must match
 * byte for byte), the IAM ListUsers example of the AWS documentation, a
 * DynamoDB PutItem vector, and the input checks (which never echo secrets).
 * Usage: test-sigv4 VECTORS_DIR
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "check.h"
#include "sigv4.h"

#define MAX_HEADERS 32
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

/* Compare and, on a mismatch, show both sides so the differing step is
 * obvious from the log. */
static bool same(const char *what, const char *field, const char *want,
		 const char *got)
{
	return CHECK(got && !strcmp(want, got),
		     "%s: %s differs\n--- want\n%s\n--- got\n%s\n---", what,
		     field, want, got ? got : "(null)");
}

static char *read_text(const char *dir, const char *name)
{
	char path[4096];
	char *buf = NULL;
	long size;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET))
		goto cleanup;
	buf = malloc((size_t)size + 1);
	if (!buf)
		goto cleanup;
	if (fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		buf = NULL;
		goto cleanup;
	}
	buf[size] = '\0';
cleanup:
	fclose(f);
	return buf;
}

/* request.txt, parsed in place: the text is cut into NUL-terminated pieces;
 * a folded continuation line stays part of its header's value, "\n"
 * included, for the signer to collapse. */
struct vector_request {
	char *text;
	struct sigv4_header headers[MAX_HEADERS];
	struct sigv4_request req;
};

static int parse_request(char *text, struct vector_request *v)
{
	char *line, *next, *sp, *last_sp, *q;
	size_t n = 0;

	memset(v, 0, sizeof(*v));
	v->text = text;
	next = strchr(text, '\n');
	if (!next)
		return -EINVAL;
	*next++ = '\0';
	/* "METHOD target HTTP/1.1": the target itself may hold spaces. */
	sp = strchr(text, ' ');
	last_sp = strrchr(text, ' ');
	if (!sp || sp == last_sp)
		return -EINVAL;
	*sp = '\0';
	*last_sp = '\0';
	v->req.method = text;
	v->req.path = sp + 1;
	q = strchr(sp + 1, '?');
	if (q) {
		*q = '\0';
		v->req.query = q + 1;
	}
	while (next && *next && *next != '\n') {
		char *colon;

		line = next;
		next = strchr(line, '\n');
		/* fold continuation lines into the current one */
		while (next && (next[1] == ' ' || next[1] == '\t'))
			next = strchr(next + 1, '\n');
		if (next)
			*next++ = '\0';
		colon = strchr(line, ':');
		if (!colon || n == MAX_HEADERS)
			return -EINVAL;
		*colon = '\0';
		v->headers[n].name = line;
		v->headers[n].value = colon + 1;
		n++;
	}
	if (next && *next == '\n')
		next++;
	v->req.headers = v->headers;
	v->req.n_headers = n;
	if (next && *next) {
		v->req.body = next;
		v->req.body_len = strlen(next);
	}
	return 0;
}

static const char *json_string(yajl_val root, const char *a, const char *b)
{
	const char *path[] = { a, b, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_string);

	return v ? YAJL_GET_STRING(v) : NULL;
}

static bool json_true(yajl_val root, const char *key)
{
	const char *path[] = { key, NULL };

	return YAJL_IS_TRUE(yajl_tree_get(root, path, yajl_t_any));
}

/* "2015-08-30T12:36:00Z" -> "20150830T123600Z" */
static int compact_timestamp(const char *iso, char out[SIGV4_TIMESTAMP_LEN + 1])
{
	size_t n = 0;

	for (; *iso; iso++) {
		if (*iso == '-' || *iso == ':')
			continue;
		if (n == SIGV4_TIMESTAMP_LEN)
			return -EINVAL;
		out[n++] = *iso;
	}
	out[n] = '\0';
	return n == SIGV4_TIMESTAMP_LEN ? 0 : -EINVAL;
}

/* The signed-header line is the second-to-last line of the canonical
 * request; the Authorization header must name exactly that list. */
static char *expected_authorization(const char *creq, const char *akid,
				    const char *date8, const char *region,
				    const char *service, const char *sig)
{
	const char *end = strrchr(creq, '\n'), *start;
	char *out;
	size_t n;

	if (!end)
		return NULL;
	for (start = end; start > creq && start[-1] != '\n'; start--)
		;
	n = strlen(akid) + strlen(region) + strlen(service) + strlen(sig) +
	    (size_t)(end - start) + 128;
	out = malloc(n);
	if (out)
		snprintf(out, n,
			 "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%.*s, Signature=%s",
			 akid, date8, region, service, (int)(end - start), start,
			 sig);
	return out;
}

static void run_vector(const char *root, const char *name)
{
	char dir[4096], ts[SIGV4_TIMESTAMP_LEN + 1], errbuf[128];
	char *req_txt = NULL, *ctx_txt = NULL, *want_creq = NULL;
	char *want_sts = NULL, *want_sig = NULL, *want_auth = NULL;
	char *creq = NULL, *sts = NULL, *auth = NULL;
	char sig[SIGV4_HEX_LEN + 1];
	struct sigv4_signed s = { 0 };
	struct vector_request v;
	struct rttq_error err = { 0 };
	struct sigv4_credentials creds;
	struct sigv4_params p;
	yajl_val ctx = NULL;
	int ret;

	check_section(name);
	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	req_txt = read_text(dir, "request.txt");
	ctx_txt = read_text(dir, "context.json");
	want_creq = read_text(dir, "header-canonical-request.txt");
	want_sts = read_text(dir, "header-string-to-sign.txt");
	want_sig = read_text(dir, "header-signature.txt");
	if (!CHECK(req_txt && ctx_txt && want_creq && want_sts && want_sig,
		   "%s: a vector file is missing or unreadable in %s", name,
		   dir))
		goto cleanup;
	if (!CHECK(parse_request(req_txt, &v) == 0,
		   "%s: request.txt does not parse", name))
		goto cleanup;
	ctx = yajl_tree_parse(ctx_txt, errbuf, sizeof(errbuf));
	if (!CHECK(ctx, "%s: context.json: %s", name, errbuf))
		goto cleanup;
	creds = (struct sigv4_credentials){
		.access_key_id = json_string(ctx, "credentials", "access_key_id"),
		.secret_access_key =
			json_string(ctx, "credentials", "secret_access_key"),
		.session_token = json_string(ctx, "credentials", "token"),
	};
	p = (struct sigv4_params){
		.creds = &creds,
		.region = json_string(ctx, "region", NULL),
		.service = json_string(ctx, "service", NULL),
		.timestamp = ts,
	};
	if (!CHECK(json_string(ctx, "timestamp", NULL) &&
		   compact_timestamp(json_string(ctx, "timestamp", NULL),
				     ts) == 0,
		   "%s: context.json: bad timestamp", name))
		goto cleanup;
	if (!json_true(ctx, "normalize"))
		p.flags |= SIGV4_NO_NORMALIZE_PATH;
	if (json_true(ctx, "sign_body"))
		p.flags |= SIGV4_SIGN_CONTENT_SHA256;
	if (json_true(ctx, "omit_session_token"))
		p.flags |= SIGV4_TOKEN_UNSIGNED;

	ret = sigv4_sign(&v.req, &p, &s, &err);
	if (!CHECK(ret == 0, "%s: sigv4_sign: %d %s", name, ret, err.msg))
		goto cleanup;
	same(name, "canonical request", want_creq, s.canonical_request);
	same(name, "string to sign", want_sts, s.string_to_sign);
	same(name, "signature", want_sig, s.signature);
	want_auth = expected_authorization(want_creq, creds.access_key_id, ts,
					   p.region, p.service, want_sig);
	if (CHECK(want_auth, "%s: no Authorization from the canonical request",
		  name))
		same(name, "Authorization", want_auth, s.authorization);

	/* The step functions, chained by hand, agree with sigv4_sign(). */
	if (CHECK(sigv4_canonical_request(&v.req, &p, &creq, &err) == 0,
		  "%s: sigv4_canonical_request: %s", name, err.msg))
		same(name, "sigv4_canonical_request", want_creq, creq);
	if (creq && CHECK(sigv4_string_to_sign(&p, creq, &sts, &err) == 0,
			  "%s: sigv4_string_to_sign: %s", name, err.msg))
		same(name, "sigv4_string_to_sign", want_sts, sts);
	if (sts && CHECK(sigv4_signature(&p, sts, sig, &err) == 0,
			 "%s: sigv4_signature: %s", name, err.msg))
		same(name, "sigv4_signature", want_sig, sig);
	if (CHECK(sigv4_authorization(&p, s.signed_headers, sig, &auth,
				      &err) == 0,
		  "%s: sigv4_authorization: %s", name, err.msg) && want_auth)
		same(name, "sigv4_authorization", want_auth, auth);

cleanup:
	sigv4_signed_release(&s);
	yajl_tree_free(ctx);
	free(req_txt);
	free(ctx_txt);
	free(want_creq);
	free(want_sts);
	free(want_sig);
	free(want_auth);
	free(creq);
	free(sts);
	free(auth);
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every folder of @root, in name order, so logs compare across runs. */
static int run_vectors(const char *root)
{
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *d;

	d = opendir(root);
	if (!CHECK(d, "vectors: cannot open %s: %s", root, strerror(errno)))
		return -errno;
	while ((de = readdir(d))) {
		char **grown;

		if (de->d_name[0] == '.' || de->d_type != DT_DIR)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(names, cap * sizeof(*names));
			if (!grown)
				break;
			names = grown;
		}
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		run_vector(root, names[i]);
		free(names[i]);
	}
	free(names);
	return (int)n;
}

static const struct sigv4_credentials example_creds = {
	.access_key_id = "AKIDEXAMPLE",
	.secret_access_key = SECRET,
};

/* Sign @req as AKIDEXAMPLE in us-east-1 at 20150830T123600Z and compare
 * the signature. */
static void check_example(const char *what, const struct sigv4_request *req,
			  const char *service, const char *want_sig,
			  const char *want_signed_headers)
{
	struct sigv4_params p = {
		.creds = &example_creds,
		.region = "us-east-1",
		.service = service,
		.timestamp = "20150830T123600Z",
	};
	struct sigv4_signed s;
	struct rttq_error err = { 0 };
	int ret;

	check_section(what);
	ret = sigv4_sign(req, &p, &s, &err);
	if (CHECK(ret == 0, "%s: sigv4_sign: %d %s", what, ret, err.msg)) {
		same(what, "signature", want_sig, s.signature);
		same(what, "signed headers", want_signed_headers,
		     s.signed_headers);
		/* x-amz-date was in the request already: nothing to add */
		CHECK(s.n_add == 0, "%s: signer added %zu headers, want 0",
		      what, s.n_add);
	}
	sigv4_signed_release(&s);
}

/* AWS General Reference, "Signature Version 4 signing process" example. */
static void check_iam_list_users(void)
{
	static const struct sigv4_header h[] = {
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
		{ "Host", "iam.amazonaws.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
	};
	struct sigv4_request req = {
		.method = "GET",
		.path = "/",
		.query = "Action=ListUsers&Version=2010-05-08",
		.headers = h,
		.n_headers = 3,
	};

	check_example("IAM ListUsers (AWS documentation)", &req, "iam",
		      "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
		      "content-type;host;x-amz-date");
}

static void check_dynamodb_put_item(void)
{
	static const char body[] =
		"{\"TableName\":\"tdigest\",\"Item\":{\"pk\":{\"S\":\"host-a#2015-08-30\"},"
		"\"ts\":{\"N\":\"1440938160\"},\"d\":{\"B\":\"AAEC\"}}}";
	static const struct sigv4_header h[] = {
		{ "Content-Type", "application/x-amz-json-1.0" },
		{ "Host", "dynamodb.us-east-1.amazonaws.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
		{ "X-Amz-Target", "DynamoDB_20120810.PutItem" },
	};
	struct sigv4_request req = {
		.method = "POST",
		.path = "/",
		.headers = h,
		.n_headers = 4,
		.body = body,
		.body_len = sizeof(body) - 1,
	};

	check_example("DynamoDB PutItem", &req, "dynamodb",
		      "cd5199b4b55399ccd4161d0a70a774f16ba2673ae42a04680c7c7861894d9307",
		      "content-type;host;x-amz-date;x-amz-target");
}

/* A rejected input gives -EINVAL, a message naming the problem, and never
 * the secret or the token. */
static void expect_invalid(const char *what, const struct sigv4_request *req,
			   const struct sigv4_params *p, const char *want_in_msg)
{
	struct sigv4_signed s;
	struct rttq_error err = { 0 };
	int ret;

	check_section(what);
	ret = sigv4_sign(req, p, &s, &err);
	if (CHECK(ret == -EINVAL, "%s: sigv4_sign returned %d, want -EINVAL",
		  what, ret)) {
		CHECK(strstr(err.msg, want_in_msg),
		      "%s: message \"%s\" lacks \"%s\"", what, err.msg,
		      want_in_msg);
		CHECK(!strstr(err.msg, SECRET) &&
		      !strstr(err.msg, "SECRETTOKEN"),
		      "%s: message quotes a secret", what);
	}
	sigv4_signed_release(&s);
}

static void check_invalid_inputs(void)
{
	static const struct sigv4_header host[] = { { "Host", "h" } };
	static const struct sigv4_header injected[] = {
		{ "Host", "h" }, { "X-A", "v\r\nX-Evil: 1" } };
	static const struct sigv4_header bad_name[] = {
		{ "Host", "h" }, { "Bad Name", "v" } };
	static const struct sigv4_header other_date[] = {
		{ "Host", "h" }, { "X-Amz-Date", "20150830T123601Z" } };
	struct sigv4_credentials creds = {
		.access_key_id = "AKIDEXAMPLE",
		.secret_access_key = SECRET,
		.session_token = "SECRETTOKEN",
	};
	struct sigv4_params p = {
		.creds = &creds,
		.region = "us-east-1",
		.service = "dynamodb",
		.timestamp = "20150830T123600Z",
	};
	struct sigv4_request req = {
		.method = "GET", .path = "/", .headers = host, .n_headers = 1,
	};
	struct sigv4_request r;
	struct sigv4_params q;

	r = req;
	r.n_headers = 0;
	expect_invalid("rejects a request without Host", &r, &p, "Host");
	r = req;
	r.path = "relative";
	expect_invalid("rejects a relative path", &r, &p, "path");
	r = req;
	r.headers = injected;
	r.n_headers = 2;
	expect_invalid("rejects a CRLF in a header value", &r, &p, "X-A");
	r = req;
	r.headers = bad_name;
	r.n_headers = 2;
	expect_invalid("rejects a space in a header name", &r, &p, "header 2");
	r = req;
	r.headers = other_date;
	r.n_headers = 2;
	expect_invalid("rejects an X-Amz-Date other than the timestamp", &r, &p,
		       "X-Amz-Date");
	q = p;
	q.timestamp = "2015-08-30T12:36:00Z";
	expect_invalid("rejects an ISO timestamp", &req, &q, "timestamp");
	q = p;
	q.region = "us/east";
	expect_invalid("rejects a '/' in the region", &req, &q, "region");
	q = p;
	creds.secret_access_key = "";
	expect_invalid("rejects an empty secret", &req, &q, "secret");
	creds.secret_access_key = SECRET;
	creds.session_token = "SECRETTOKEN\n";
	expect_invalid("rejects a control character in the token", &req, &q,
		       "session token");
}

/* The line of @creq after @n newlines, compared with @want. */
static bool line_is(const char *creq, int n, const char *want)
{
	size_t len = strlen(want);

	for (; n > 0 && creq; n--) {
		creq = strchr(creq, '\n');
		if (creq)
			creq++;
	}
	return creq && !strncmp(creq, want, len) && creq[len] == '\n';
}

/* A path already encoded on the wire is encoded again by default (what
 * every service but S3 verifies) and kept as is with SIGV4_PATH_ENCODED;
 * a token sent unsigned is still handed back for sending. */
static void check_flags(void)
{
	static const struct sigv4_header h[] = { { "Host", "h" } };
	struct sigv4_credentials creds = {
		.access_key_id = "AKIDEXAMPLE",
		.secret_access_key = SECRET,
		.session_token = "TOKEN",
	};
	struct sigv4_params p = {
		.creds = &creds,
		.region = "us-east-1",
		.service = "s3",
		.timestamp = "20150830T123600Z",
	};
	struct sigv4_request req = {
		.method = "GET",
		.path = "/a%20b/./c",
		.query = "b=%7e&a=x+y&c",
		.headers = h,
		.n_headers = 1,
	};
	struct sigv4_signed s;
	char *creq = NULL;
	bool ok;

	check_section("path encoded again, normalised; query decoded and "
		      "re-encoded");
	ok = sigv4_canonical_request(&req, &p, &creq, NULL) == 0 &&
	     line_is(creq, 1, "/a%2520b/c") &&
	     line_is(creq, 2, "a=x%2By&b=~&c=");
	CHECK(ok, "canonical request:\n%s", creq ? creq : "(none)");
	free(creq);
	creq = NULL;

	check_section("SIGV4_PATH_ENCODED | SIGV4_NO_NORMALIZE_PATH keep the "
		      "path");
	p.flags = SIGV4_PATH_ENCODED | SIGV4_NO_NORMALIZE_PATH;
	ok = sigv4_canonical_request(&req, &p, &creq, NULL) == 0 &&
	     line_is(creq, 1, "/a%20b/./c");
	CHECK(ok, "canonical request:\n%s", creq ? creq : "(none)");
	free(creq);

	check_section("added headers: date, unsigned token, content hash");
	p.flags = SIGV4_TOKEN_UNSIGNED | SIGV4_SIGN_CONTENT_SHA256;
	ok = sigv4_sign(&req, &p, &s, NULL) == 0 && s.n_add == 3 &&
	     !strcmp(s.add[0].name, "X-Amz-Date") &&
	     !strcmp(s.add[0].value, "20150830T123600Z") &&
	     !strcmp(s.add[1].name, "X-Amz-Security-Token") &&
	     !strcmp(s.add[1].value, "TOKEN") &&
	     !strcmp(s.add[2].name, "X-Amz-Content-Sha256") &&
	     !strcmp(s.add[2].value, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") &&
	     !strcmp(s.signed_headers, "host;x-amz-content-sha256;x-amz-date");
	CHECK(ok, "%zu headers added, signed headers %s", s.n_add,
	      s.signed_headers ? s.signed_headers : "(none)");
	sigv4_signed_release(&s);
}

static void check_helpers(void)
{
	char ts[SIGV4_TIMESTAMP_LEN + 1] = "";

	check_section("sigv4_timestamp formats UTC");
	CHECK_CMP(sigv4_timestamp(1440938160, ts), ==, 0);
	CHECK_STR(ts, "20150830T123600Z");
	check_section("sigv4_signed_release(NULL) does nothing");
	CHECK_SURVIVES(sigv4_signed_release(NULL));
}

int main(int argc, char **argv)
{
	int n;

	if (argc != 2) {
		fprintf(stderr, "usage: %s VECTORS_DIR\n", argv[0]);
		return 2;
	}
	n = run_vectors(argv[1]);
	check_section("the AWS test suite is all there");
	CHECK(n >= 38, "found %d cases in %s, want 38", n, argv[1]);
	check_iam_list_users();
	check_dynamodb_put_item();
	check_invalid_inputs();
	check_flags();
	check_helpers();
	return check_report();
}
