// SPDX-License-Identifier: BSD-2-Clause
/*
 * GET / on rttq-api: the dashboard page (see dashboard.h).  The page is
 * compiled in as a static array, sent by reference without copying, with
 * a Content-Security-Policy that lets it talk to this server only, so a
 * page that ever pulled a script or font from elsewhere would break here.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "dashboard.h"
#include "dashboard_html.h"

static const char csp[] = "default-src 'none'; script-src 'unsafe-inline'; "
			  "style-src 'unsafe-inline'; connect-src 'self'; "
			  "img-src 'self' data:; base-uri 'none'; "
			  "form-action 'self'; frame-ancestors 'none'";

static void dashboard_cb(struct evhttp_request *req, void *arg)
{
	static const char not_allowed[] =
		"{\"error\":\"method not allowed: use GET\"}\n";
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *buf = evbuffer_new();
	char len[24];

	if (!buf) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		return;
	}
	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		evhttp_add_header(h, "Allow", "GET, HEAD");
		evhttp_add_header(h, "Content-Type", "application/json");
		if (evbuffer_add_reference(buf, not_allowed,
					   sizeof(not_allowed) - 1, NULL,
					   NULL))
			evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		else
			evhttp_send_reply(req, HTTP_BADMETHOD,
					  "Method Not Allowed", buf);
		goto done;
	}
	/* evhttp would send a HEAD reply's body too: send only its length. */
	snprintf(len, sizeof(len), "%zu", dashboard_html_len);
	if (m == EVHTTP_REQ_HEAD)
		evhttp_add_header(h, "Content-Length", len);
	else if (evbuffer_add_reference(buf, dashboard_html,
					dashboard_html_len, NULL, NULL)) {
		evhttp_send_error(req, HTTP_INTERNAL, "out of memory");
		goto done;
	}
	evhttp_add_header(h, "Content-Type", "text/html; charset=utf-8");
	evhttp_add_header(h, "Content-Security-Policy", csp);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	/* Revalidate so a new rttq-api's page replaces a cached old one. */
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_send_reply(req, HTTP_OK, "OK", buf);
done:
	evbuffer_free(buf);
}

int dashboard_register(struct evhttp *http)
{
	return evhttp_set_cb(http, "/", dashboard_cb, NULL) ? -ENOMEM : 0;
}
