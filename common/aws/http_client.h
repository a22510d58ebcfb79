/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small synchronous HTTP/1.1 client over libevent bufferevents, for the
 * AWS services librttq talks to: http:// for local servers (dynalite) and
 * https:// through bufferevent_openssl, with the certificate chain checked
 * against the system CA store (or AWS_CA_BUNDLE) and the host name checked.
 * One keep-alive connection per client; each call runs the client's own
 * event_base until the response is complete.
 */
#ifndef RTTQ_HTTP_CLIENT_H
#define RTTQ_HTTP_CLIENT_H

#include <stddef.h>

#include "error.h"
#include "rttq_export.h"

#ifdef __cplusplus
extern "C" {
#endif

#define HTTP_BODY_MAX (64u << 20) /* bytes; larger responses are refused */

struct http_client;

struct http_header {
	const char *name;
	const char *value;
};

struct http_response {
	int status;      /* 200, 400, ... */
	char *body;      /* malloc()ed, NUL-terminated */
	size_t body_len; /* bytes, without the NUL */
};

/**
 * http_client_new() - prepare a client for one origin (no connection yet).
 * @param url "http://HOST[:PORT]" or "https://HOST[:PORT]", optionally with
 * a trailing "/"; HOST may be a name, an IPv4 address or "[IPv6]".
 * @param ca_file PEM file of trusted CAs for https, or NULL for the system
 * store.
 * @param out receives the client; NULL on failure.
 * @param err receives a message naming the URL; may be NULL.
 *
 * @return 0, -EINVAL for a malformed or unsupported URL, -ENOMEM, -EIO when
 * the TLS context or CA file cannot be loaded.
 */
RTTQ_API int http_client_new(const char *url, const char *ca_file,
			     struct http_client **out, struct rttq_error *err);

/** http_client_free() - close the connection and free @p c; NULL is a no-op. */
RTTQ_API void http_client_free(struct http_client *c);

/**
 * http_client_host() - the Host header value this client sends ("name" or
 * "name:port" when the URL had a port), as a signer must see it.
 * @param c the client.
 *
 * @return a string owned by @p c.
 */
RTTQ_API const char *http_client_host(const struct http_client *c);

/**
 * http_client_request() - send one request and wait for the whole response.
 * The Host and Content-Length headers are added; @p headers must not carry
 * them.  A request on a reused connection that the server had closed is
 * sent once more on a new connection, so requests must be idempotent.
 * @param c the client.
 * @param method "GET", "POST", ...
 * @param path starts with '/', may carry a query.
 * @param headers extra headers, sent in this order.
 * @param n_headers how many.
 * @param body request body, or NULL when @p body_len is 0.
 * @param body_len its length in bytes.
 * @param timeout_ms limit for the whole exchange (connect included).
 * @param resp receives the response; release it with http_response_release().
 * @param err receives a message naming the URL and what failed; may be NULL.
 *
 * @return 0 for any HTTP response (look at resp->status), -ECONNREFUSED,
 * -EHOSTUNREACH / -ENETUNREACH, -ENOENT for an unknown host name,
 * -ETIMEDOUT, -ECONNRESET when the connection closed mid-response,
 * -EPROTO for a malformed response, -EKEYREJECTED for a failed TLS
 * handshake (the message gives the certificate check that failed),
 * -EMSGSIZE for a response over HTTP_BODY_MAX, -ENOMEM, -EIO.
 */
RTTQ_API int http_client_request(struct http_client *c, const char *method,
				 const char *path,
				 const struct http_header *headers,
				 size_t n_headers, const void *body,
				 size_t body_len, unsigned int timeout_ms,
				 struct http_response *resp,
				 struct rttq_error *err);

/** http_response_release() - free what @p r holds and zero it; NULL is a no-op. */
RTTQ_API void http_response_release(struct http_response *r);

#ifdef __cplusplus
}
#endif

#endif /* RTTQ_HTTP_CLIENT_H */
