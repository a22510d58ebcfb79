// SPDX-License-Identifier: BSD-2-Clause
/*
 * AWS Signature Version 4 in header mode (see sigv4.h).  The file reads from
 * the bottom up: hashing, input checks, then the
 * canonical URI, query and headers, and last the public steps.  Secrets are
 * only ever handed to HMAC and wiped afterwards; no message quotes them.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4.h"
#include "strbuf.h"
#include "urlcode.h"

#define SHA256_LEN 32
#define SCOPE_TERMINATOR "aws4_request"

/* Hand the string over to *out (an empty string when nothing was added);
 * an allocation failure during any append is reported here, once. */
static int finish_string(struct strbuf *b, char **out, struct rttq_error *err,
			 const char *what)
{
	*out = strbuf_detach(b, NULL);
	if (!*out)
		return rttq_fail(err, -ENOMEM, "sigv4: out of memory building the %s",
				 what);
	return 0;
}

/* ------------------------------------------------------------------------
 * Hashing
 * ------------------------------------------------------------------------ */

static int sha256_hex(const void *data, size_t n, char out[SIGV4_HEX_LEN + 1],
		      struct rttq_error *err)
{
	unsigned char md[SHA256_LEN];
	unsigned int md_len = 0;

	if (!EVP_Digest(n ? data : "", n, md, &md_len, EVP_sha256(), NULL) ||
	    md_len != SHA256_LEN)
		return rttq_fail(err, -EIO, "sigv4: OpenSSL SHA-256 failed");
	urlcode_hex_encode(md, SHA256_LEN, out);
	return 0;
}

static int hmac_sha256(const void *key, size_t key_len, const void *data,
		       size_t n, unsigned char out[SHA256_LEN])
{
	unsigned int out_len = 0;

	if (key_len > INT32_MAX)
		return -EINVAL;
	if (!HMAC(EVP_sha256(), key, (int)key_len, data, n, out, &out_len) ||
	    out_len != SHA256_LEN)
		return -EIO;
	return 0;
}

/* ------------------------------------------------------------------------
 * Input checks.  Messages name the field, never its value when it could be
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

/* Region, service and access key id go into the credential scope, where
 * '/', ',' and '=' would change its meaning. */
static bool is_scope_word(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c >= 0x7f || c == '/' || c == ',' || c == '=')
			return false;
	}
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

static bool is_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int field2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* "YYYYMMDDTHHMMSSZ" with plausible month, day and time of day. */
static bool is_timestamp(const char *s)
{
	if (!s || strlen(s) != SIGV4_TIMESTAMP_LEN)
		return false;
	if (!is_digits(s, 8) || s[8] != 'T' || !is_digits(s + 9, 6) ||
	    s[15] != 'Z')
		return false;
	return field2(s + 4) >= 1 && field2(s + 4) <= 12 &&
	       field2(s + 6) >= 1 && field2(s + 6) <= 31 &&
	       field2(s + 9) <= 23 && field2(s + 11) <= 59 &&
	       field2(s + 13) <= 60;
}

static bool has_text(const char *s)
{
	return s && *s;
}

/* What every step needs: parameters with a well-formed timestamp. */
static int check_params(const struct sigv4_params *p, struct rttq_error *err)
{
	if (!p)
		return rttq_fail(err, -EINVAL, "sigv4: no signing parameters");
	if (!is_timestamp(p->timestamp))
		return rttq_fail(err, -EINVAL,
				 "sigv4: timestamp must be UTC YYYYMMDDTHHMMSSZ");
	return 0;
}

/* The scope fields every step after the canonical request needs. */
static int check_scope(const struct sigv4_params *p, struct rttq_error *err)
{
	int rc = check_params(p, err);

	if (rc)
		return rc;
	if (!is_scope_word(p->region))
		return rttq_fail(err, -EINVAL,
				 "sigv4: region is empty or holds a space, '/', ',' or '='");
	if (!is_scope_word(p->service))
		return rttq_fail(err, -EINVAL,
				 "sigv4: service is empty or holds a space, '/', ',' or '='");
	return 0;
}

static const char *session_token(const struct sigv4_params *p)
{
	if (p->creds && has_text(p->creds->session_token))
		return p->creds->session_token;
	return NULL;
}

static int check_request(const struct sigv4_request *req,
			 const struct sigv4_params *p, struct rttq_error *err)
{
	const char *token;
	bool host = false;
	size_t i;

	if (!req)
		return rttq_fail(err, -EINVAL, "sigv4: no request");
	if (check_params(p, err))
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
	token = session_token(p);
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
	const char *token = session_token(p);
	int ret;

	memcpy(s->amz_date, p->timestamp, SIGV4_TIMESTAMP_LEN + 1);
	ret = sha256_hex(req->body, req->body_len, s->payload_sha256, err);
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
static int build_canonical(const struct sigv4_request *req,
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

	ret = finish_string(&sh, &s->signed_headers, err, "signed header list");
	if (ret < 0)
		goto cleanup;
	return finish_string(&b, out, err, "canonical request");
cleanup:
	strbuf_release(&b);
	strbuf_release(&sh);
	if (ret == -ENOMEM)
		return rttq_fail(err, ret,
				 "sigv4: out of memory building the canonical request");
	return ret;
}

/* ------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------ */

int sigv4_timestamp(time_t t, char out[SIGV4_TIMESTAMP_LEN + 1])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || tm.tm_year < 1000 - 1900 ||
	    tm.tm_year > 9999 - 1900)
		return -EOVERFLOW;
	if (strftime(out, SIGV4_TIMESTAMP_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) !=
	    SIGV4_TIMESTAMP_LEN)
		return -EOVERFLOW;
	return 0;
}

int sigv4_canonical_request(const struct sigv4_request *req,
			    const struct sigv4_params *params, char **out,
			    struct rttq_error *err)
{
	struct sigv4_signed s;
	int ret;

	memset(&s, 0, sizeof(s));
	*out = NULL;
	ret = build_canonical(req, params, &s, out, err);
	sigv4_signed_release(&s);
	return ret;
}

int sigv4_string_to_sign(const struct sigv4_params *params,
			 const char *canonical_request, char **out,
			 struct rttq_error *err)
{
	char hash[SIGV4_HEX_LEN + 1];
	struct strbuf b = STRBUF_INIT;
	int ret;

	*out = NULL;
	ret = check_scope(params, err);
	if (ret < 0)
		return ret;
	if (!canonical_request)
		return rttq_fail(err, -EINVAL, "sigv4: no canonical request");
	ret = sha256_hex(canonical_request, strlen(canonical_request), hash, err);
	if (ret < 0)
		return ret;
	strbuf_adds(&b, SIGV4_ALGORITHM "\n");
	strbuf_adds(&b, params->timestamp);
	strbuf_addc(&b, '\n');
	strbuf_add(&b, params->timestamp, 8);
	strbuf_addc(&b, '/');
	strbuf_adds(&b, params->region);
	strbuf_addc(&b, '/');
	strbuf_adds(&b, params->service);
	strbuf_adds(&b, "/" SCOPE_TERMINATOR "\n");
	strbuf_adds(&b, hash);
	return finish_string(&b, out, err, "string to sign");
}

int sigv4_signature(const struct sigv4_params *params,
		    const char *string_to_sign, char out[SIGV4_HEX_LEN + 1],
		    struct rttq_error *err)
{
	unsigned char k[SHA256_LEN], k2[SHA256_LEN];
	const char *secret;
	char *key = NULL;
	size_t secret_len;
	int ret;

	out[0] = '\0';
	ret = check_scope(params, err);
	if (ret < 0)
		return ret;
	if (!params->creds || !has_text(params->creds->secret_access_key))
		return rttq_fail(err, -EINVAL, "sigv4: no secret access key");
	if (!string_to_sign)
		return rttq_fail(err, -EINVAL, "sigv4: no string to sign");
	secret = params->creds->secret_access_key;
	secret_len = strlen(secret);
	key = malloc(secret_len + 5);
	if (!key)
		return rttq_fail(err, -ENOMEM, "sigv4: out of memory deriving the key");
	memcpy(key, "AWS4", 4);
	memcpy(key + 4, secret, secret_len + 1);

	/* kDate = HMAC("AWS4" + secret, YYYYMMDD); kRegion = HMAC(kDate,
	 * region); kService = HMAC(kRegion, service); kSigning =
	 * HMAC(kService, "aws4_request"); signature = hex(HMAC(kSigning, sts)) */
	ret = hmac_sha256(key, secret_len + 4, params->timestamp, 8, k);
	if (!ret)
		ret = hmac_sha256(k, SHA256_LEN, params->region,
				  strlen(params->region), k2);
	if (!ret)
		ret = hmac_sha256(k2, SHA256_LEN, params->service,
				  strlen(params->service), k);
	if (!ret)
		ret = hmac_sha256(k, SHA256_LEN, SCOPE_TERMINATOR,
				  strlen(SCOPE_TERMINATOR), k2);
	if (!ret)
		ret = hmac_sha256(k2, SHA256_LEN, string_to_sign,
				  strlen(string_to_sign), k);
	if (!ret)
		urlcode_hex_encode(k, SHA256_LEN, out);

	OPENSSL_cleanse(key, secret_len + 4);
	OPENSSL_cleanse(k2, sizeof(k2));
	OPENSSL_cleanse(k, sizeof(k));
	free(key);
	if (ret < 0)
		return rttq_fail(err, ret, "sigv4: OpenSSL HMAC-SHA256 failed");
	return 0;
}

int sigv4_authorization(const struct sigv4_params *params,
			const char *signed_headers, const char *signature,
			char **out, struct rttq_error *err)
{
	struct strbuf b = STRBUF_INIT;
	int ret;

	*out = NULL;
	ret = check_scope(params, err);
	if (ret < 0)
		return ret;
	if (!params->creds || !is_scope_word(params->creds->access_key_id))
		return rttq_fail(err, -EINVAL,
				 "sigv4: access key id is empty or holds a space, '/', ',' or '='");
	if (!has_text(signed_headers) || !has_text(signature))
		return rttq_fail(err, -EINVAL,
				 "sigv4: no signed header list or signature");
	strbuf_adds(&b, SIGV4_ALGORITHM " Credential=");
	strbuf_adds(&b, params->creds->access_key_id);
	strbuf_addc(&b, '/');
	strbuf_add(&b, params->timestamp, 8);
	strbuf_addc(&b, '/');
	strbuf_adds(&b, params->region);
	strbuf_addc(&b, '/');
	strbuf_adds(&b, params->service);
	strbuf_adds(&b, "/" SCOPE_TERMINATOR ", SignedHeaders=");
	strbuf_adds(&b, signed_headers);
	strbuf_adds(&b, ", Signature=");
	strbuf_adds(&b, signature);
	return finish_string(&b, out, err, "Authorization header");
}

int sigv4_sign(const struct sigv4_request *req,
	       const struct sigv4_params *params, struct sigv4_signed *out,
	       struct rttq_error *err)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = check_scope(params, err);
	if (ret < 0)
		return ret;
	if (!params->creds || !is_scope_word(params->creds->access_key_id))
		return rttq_fail(err, -EINVAL,
				 "sigv4: access key id is empty or holds a space, '/', ',' or '='");
	if (!has_text(params->creds->secret_access_key))
		return rttq_fail(err, -EINVAL, "sigv4: no secret access key");
	ret = build_canonical(req, params, out, &out->canonical_request, err);
	if (ret < 0)
		return ret;
	ret = sigv4_string_to_sign(params, out->canonical_request,
				   &out->string_to_sign, err);
	if (ret < 0)
		return ret;
	ret = sigv4_signature(params, out->string_to_sign, out->signature, err);
	if (ret < 0)
		return ret;
	return sigv4_authorization(params, out->signed_headers, out->signature,
				   &out->authorization, err);
}

void sigv4_signed_release(struct sigv4_signed *s)
{
	if (!s)
		return;
	free(s->canonical_request);
	free(s->string_to_sign);
	free(s->signed_headers);
	free(s->authorization);
	memset(s, 0, sizeof(*s));
}
