// SPDX-License-Identifier: BSD-2-Clause
/*
 * SigV4 step 1, the canonical request (see sigv4.h): the request checked,
 * its path normalised and URI-encoded, its query decoded, re-encoded and
 * sorted, its headers lowercased, trimmed, sorted and joined, and the
 * headers the signer adds planned.  sigv4.c signs what this builds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigv4_private.h"
#include "strbuf.h"
#include "urlcode.h"

/* ------------------------------------------------------------------------
 * Request checks.  Messages name the field, never its value when it could be
 * secret.
 * ------------------------------------------------------------------------ */

/* RFC 9110 token characters: what a method or header name may contain. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

/* Bytes a path or query may hold: anything but control characters (UTF-8
 * and spaces are fine, they are percent-encoded for signing). */
static bool is_uri_text(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < ' ' || c == 0x7f || c == '#')
			return false;
	}
	return true;
}

/* Header values may be folded ("\r\n" or "\n" then SP/HT); any other
 * control character, or a line break not followed by whitespace, could
 * smuggle a header in and is refused. */
static bool is_header_value(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\r') {
			if (s[1] != '\n')
				return false;
			continue;
		}
		if (c == '\n') {
			if (s[1] != ' ' && s[1] != '\t')
				return false;
			continue;
		}
		if ((c < ' ' && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static int check_request(const struct sigv4_request *req,
			 const struct sigv4_params *p, struct rttq_error *err)
{
	const char *token;
	bool host = false;
	size_t i;

	if (!req)
		return rttq_fail(err, -EINVAL, "sigv4: no request");
	if (sigv4_check_params(p, err))
		return -EINVAL;
	if (!is_token(req->method))
		return rttq_fail(err, -EINVAL,
				 "sigv4: method is empty or not an HTTP token");
	if (!req->path || req->path[0] != '/' || !is_uri_text(req->path))
		return rttq_fail(err, -EINVAL,
				 "sigv4: path must start with '/' and hold no control character or '#'");
	if (req->query && !is_uri_text(req->query))
		return rttq_fail(err, -EINVAL,
				 "sigv4: query holds a control character or '#'");
	if (req->n_headers && !req->headers)
		return rttq_fail(err, -EINVAL, "sigv4: %zu headers but no array",
				 req->n_headers);
	if (req->body_len && !req->body)
		return rttq_fail(err, -EINVAL, "sigv4: body of %zu bytes is NULL",
				 req->body_len);
	for (i = 0; i < req->n_headers; i++) {
		const struct sigv4_header *h = &req->headers[i];

		if (!is_token(h->name))
			return rttq_fail(err, -EINVAL,
					 "sigv4: header %zu: name is empty or not an HTTP token",
					 i + 1);
		if (!h->value || !is_header_value(h->value))
			return rttq_fail(err, -EINVAL,
					 "sigv4: header %s: value is missing or holds a control character",
					 h->name);
		if (!strcasecmp(h->name, "host") && has_text(h->value))
			host = true;
		if (!strcasecmp(h->name, "x-amz-date") &&
		    strcmp(h->value, p->timestamp))
			return rttq_fail(err, -EINVAL,
					 "sigv4: header X-Amz-Date %s differs from the signing timestamp %s",
					 h->value, p->timestamp);
	}
	if (!host)
		return rttq_fail(err, -EINVAL, "sigv4: request has no Host header");
	token = sigv4_session_token(p);
	if (token && !is_header_value(token))
		return rttq_fail(err, -EINVAL,
				 "sigv4: session token holds a control character");
	return 0;
}

/* ------------------------------------------------------------------------
 * Canonical URI and query (reference: "Create a canonical request").
 * URI-encoding (urlcode_encode()) keeps RFC 3986 unreserved bytes A-Z a-z
 * 0-9 - . _ ~ and writes every other byte as %XX with uppercase hex.
 * ------------------------------------------------------------------------ */

/* One path segment, kept as a slice of the caller's path. */
struct slice {
	const char *p;
	size_t n;
};

/* Normalised path per RFC 3986 5.2.4 as the SigV4 signers apply it: empty
 * and "." segments dropped, ".." removes the previous segment (never
 * climbing above the root), a trailing '/' kept when anything remains.
 * "//a/./b/../" -> "/a/". */
static int normalize_path(const char *path, struct strbuf *out)
{
	size_t n = strlen(path), count = 0, i;
	struct slice *seg;
	const char *s = path;

	seg = calloc(n / 2 + 1, sizeof(*seg));
	if (!seg)
		return -ENOMEM;
	while (*s) {
		const char *e;
		size_t len;

		while (*s == '/')
			s++;
		e = strchr(s, '/');
		len = e ? (size_t)(e - s) : strlen(s);
		if (len == 0 || (len == 1 && s[0] == '.')) {
			/* nothing */
		} else if (len == 2 && s[0] == '.' && s[1] == '.') {
			if (count)
				count--;
		} else {
			seg[count].p = s;
			seg[count].n = len;
			count++;
		}
		s += len;
	}
	strbuf_addc(out, '/');
	for (i = 0; i < count; i++) {
		strbuf_add(out, seg[i].p, seg[i].n);
		if (i + 1 < count)
			strbuf_addc(out, '/');
	}
	if (count && path[n - 1] == '/')
		strbuf_addc(out, '/');
	free(seg);
	return 0;
}

static int canonical_uri(const char *path, unsigned int flags, struct strbuf *b)
{
	struct strbuf norm = STRBUF_INIT;
	const char *p = path;
	int ret;

	if (!(flags & SIGV4_NO_NORMALIZE_PATH)) {
		ret = normalize_path(path, &norm);
		if (ret < 0 || norm.oom) {
			strbuf_release(&norm);
			return -ENOMEM;
		}
		p = norm.buf;
	}
	if (flags & SIGV4_PATH_ENCODED)
		strbuf_adds(b, p);
	else
		urlcode_encode(b, p, strlen(p), URLCODE_KEEP_SLASH);
	strbuf_release(&norm);
	return 0;
}

struct query_param {
	char *key;   /* URI-encoded */
	char *value; /* URI-encoded */
};

static int cmp_query_param(const void *a, const void *b)
{
	const struct query_param *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	return c ? c : strcmp(x->value, y->value);
}

/* Decode then re-encode a raw key or value.  Query parts arrive encoded
 * however the client liked (%E1 or raw UTF-8, %7E or ~); decoding first
 * makes the re-encoding canonical.  '+' stays a literal plus: SigV4 clients
 * send spaces as %20.  A '%' without two hex digits is taken literally. */
static char *canonical_query_part(const char *s, size_t n)
{
	struct strbuf raw = STRBUF_INIT, enc = STRBUF_INIT;

	urlcode_decode(&raw, s, n, 0);
	if (raw.oom) {
		strbuf_release(&raw);
		return NULL;
	}
	urlcode_encode(&enc, raw.buf, raw.len, 0);
	strbuf_release(&raw);
	return strbuf_detach(&enc, NULL);
}

/* Parameters sorted by encoded key, then encoded value; "k" without '='
 * signs as "k=". */
static int canonical_query(const char *query, struct strbuf *b)
{
	struct query_param *params = NULL;
	size_t count = 0, cap = 1, i;
	const char *s;
	int ret = -ENOMEM;

	if (!has_text(query))
		return 0;
	for (s = query; *s; s++)
		cap += *s == '&';
	params = calloc(cap, sizeof(*params));
	if (!params)
		return -ENOMEM;
	for (s = query; *s;) {
		const char *end = strchr(s, '&'), *eq;
		size_t len = end ? (size_t)(end - s) : strlen(s);

		if (len) {
			eq = memchr(s, '=', len);
			if (eq) {
				params[count].key = canonical_query_part(s, (size_t)(eq - s));
				params[count].value = canonical_query_part(
					eq + 1, len - (size_t)(eq - s) - 1);
			} else {
				params[count].key = canonical_query_part(s, len);
				params[count].value = canonical_query_part("", 0);
			}
			count++;
			if (!params[count - 1].key || !params[count - 1].value)
				goto cleanup;
		}
		s += len;
		if (*s == '&')
			s++;
	}
	qsort(params, count, sizeof(*params), cmp_query_param);
	for (i = 0; i < count; i++) {
		if (i)
			strbuf_addc(b, '&');
		strbuf_adds(b, params[i].key);
		strbuf_addc(b, '=');
		strbuf_adds(b, params[i].value);
	}
	ret = 0;
cleanup:
	for (i = 0; i < count; i++) {
		free(params[i].key);
		free(params[i].value);
	}
	free(params);
	return ret;
}

/* ------------------------------------------------------------------------
 * Canonical headers: names lowercased and sorted (stable, so duplicates keep
 * the order given), values trimmed with every run of whitespace (line folds
 * included) turned into one space, duplicates joined with ','.
 * ------------------------------------------------------------------------ */

struct canon_header {
	char *name;   /* lowercase */
	char *value;  /* trimmed, whitespace collapsed */
	size_t order; /* position given, for a stable sort */
};

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char *lowercase_dup(const char *s)
{
	size_t n = strlen(s), i;
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	for (i = 0; i <= n; i++)
		d[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	return d;
}

static char *collapse_dup(const char *s)
{
	char *d = malloc(strlen(s) + 1), *o;
	bool gap = false;

	if (!d)
		return NULL;
	o = d;
	while (is_lws(*s))
		s++;
	for (; *s; s++) {
		if (is_lws(*s)) {
			gap = true;
			continue;
		}
		if (gap)
			*o++ = ' ';
		gap = false;
		*o++ = *s;
	}
	*o = '\0';
	return d;
}

static int cmp_canon_header(const void *a, const void *b)
{
	const struct canon_header *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static const char *find_header(const struct sigv4_request *req,
			       const char *name)
{
	size_t i;

	for (i = 0; i < req->n_headers; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

/* The headers the signer sends besides the request's own, in @s->add. */
static int plan_added_headers(const struct sigv4_request *req,
			      const struct sigv4_params *p,
			      struct sigv4_signed *s, struct rttq_error *err)
{
	const char *token = sigv4_session_token(p);
	int ret;

	memcpy(s->amz_date, p->timestamp, SIGV4_TIMESTAMP_LEN + 1);
	ret = sigv4_sha256_hex(req->body, req->body_len, s->payload_sha256,
			       err);
	if (ret < 0)
		return ret;
	s->n_add = 0;
	if (!find_header(req, "x-amz-date"))
		s->add[s->n_add++] = (struct sigv4_header){ "X-Amz-Date", s->amz_date };
	if (token && !find_header(req, "x-amz-security-token"))
		s->add[s->n_add++] =
			(struct sigv4_header){ "X-Amz-Security-Token", token };
	if ((p->flags & SIGV4_SIGN_CONTENT_SHA256) &&
	    !find_header(req, "x-amz-content-sha256"))
		s->add[s->n_add++] = (struct sigv4_header){ "X-Amz-Content-Sha256",
							    s->payload_sha256 };
	return 0;
}

static int canonical_headers(const struct sigv4_request *req,
			     const struct sigv4_params *p,
			     const struct sigv4_signed *plan, struct strbuf *b,
			     struct strbuf *signed_headers)
{
	size_t total = req->n_headers + plan->n_add, count = 0, i;
	struct canon_header *h;
	int ret = -ENOMEM;

	h = calloc(total, sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (i = 0; i < total; i++) {
		const struct sigv4_header *src = i < req->n_headers ?
			&req->headers[i] : &plan->add[i - req->n_headers];

		if (!strcasecmp(src->name, "x-amz-security-token") &&
		    i >= req->n_headers && (p->flags & SIGV4_TOKEN_UNSIGNED))
			continue;
		h[count].name = lowercase_dup(src->name);
		h[count].value = collapse_dup(src->value);
		h[count].order = i;
		count++;
		if (!h[count - 1].name || !h[count - 1].value)
			goto cleanup;
	}
	qsort(h, count, sizeof(*h), cmp_canon_header);
	for (i = 0; i < count; i++) {
		bool first = i == 0 || strcmp(h[i - 1].name, h[i].name);
		bool last = i + 1 == count || strcmp(h[i + 1].name, h[i].name);

		if (first) {
			strbuf_adds(b, h[i].name);
			strbuf_addc(b, ':');
			if (signed_headers->len)
				strbuf_addc(signed_headers, ';');
			strbuf_adds(signed_headers, h[i].name);
		} else {
			strbuf_addc(b, ',');
		}
		strbuf_adds(b, h[i].value);
		if (last)
			strbuf_addc(b, '\n');
	}
	ret = 0;
cleanup:
	for (i = 0; i < count; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
	return ret;
}

/* Step 1 with its by-products (signed header list, added headers). */
int sigv4_build_canonical(const struct sigv4_request *req,
			  const struct sigv4_params *p, struct sigv4_signed *s,
			  char **out, struct rttq_error *err)
{
	struct strbuf b = STRBUF_INIT, sh = STRBUF_INIT;
	const char *payload_hash;
	int ret;

	ret = check_request(req, p, err);
	if (ret < 0)
		return ret;
	ret = plan_added_headers(req, p, s, err);
	if (ret < 0)
		return ret;
	/* A caller-given x-amz-content-sha256 (e.g. S3's UNSIGNED-PAYLOAD) is
	 * what the service compares against, so it stands for the body. */
	payload_hash = find_header(req, "x-amz-content-sha256");
	if (!payload_hash)
		payload_hash = s->payload_sha256;

	strbuf_adds(&b, req->method);
	strbuf_addc(&b, '\n');
	ret = canonical_uri(req->path, p->flags, &b);
	if (ret < 0)
		goto cleanup;
	strbuf_addc(&b, '\n');
	ret = canonical_query(req->query, &b);
	if (ret < 0)
		goto cleanup;
	strbuf_addc(&b, '\n');
	ret = canonical_headers(req, p, s, &b, &sh);
	if (ret < 0)
		goto cleanup;
	strbuf_addc(&b, '\n');
	strbuf_add(&b, sh.buf, sh.len);
	strbuf_addc(&b, '\n');
	strbuf_adds(&b, payload_hash);

	ret = sigv4_finish_string(&sh, &s->signed_headers, err,
				  "signed header list");
	if (ret < 0)
		goto cleanup;
	return sigv4_finish_string(&b, out, err, "canonical request");
cleanup:
	strbuf_release(&b);
	strbuf_release(&sh);
	if (ret == -ENOMEM)
		return rttq_fail(err, ret,
				 "sigv4: out of memory building the canonical request");
	return ret;
}

int sigv4_canonical_request(const struct sigv4_request *req,
			    const struct sigv4_params *params, char **out,
			    struct rttq_error *err)
{
	struct sigv4_signed s;
	int ret;

	memset(&s, 0, sizeof(s));
	*out = NULL;
	ret = sigv4_build_canonical(req, params, &s, out, err);
	sigv4_signed_release(&s);
	return ret;
}
