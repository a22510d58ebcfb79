// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq-api request handlers (see handlers.h).  Every callback has the same
 * shape as libevent's sample/http-server.c: validate the method, then the
 * URI and its parameters, then do one thing and reply; failures reply
 * {"error":"..."} with a status telling whose fault it was (4xx the
 * client's, 500 a damaged record, 503 the store's).  Each path sends
 * exactly one reply and then falls through to one cleanup label.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "answer_json.h"
#include "answer_names.h"
#include "answer_series.h"
#include "auth.h"
#include "conn_limit.h"
#include "handlers.h"
#include "api_metrics.h"
#include "params.h"
#include "planner.h"
#include "store.h"

#define URI_MAX 4096 /* bytes of request target we accept */
#define DEFAULT_LIST_RANGE_S 86400

/* One request on its way through a handler: what it needs to reply and,
 * once it has, the status sent (for the metrics). */
struct api_call {
	struct evhttp_request *req;
	struct api_ctx *ctx;
	int code; /* 0 until a reply is queued */
};

static const char *reason_of(int code)
{
	switch (code) {
	case HTTP_OK:
		return "OK";
	case HTTP_BADREQUEST:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case HTTP_NOTFOUND:
		return "Not Found";
	case HTTP_BADMETHOD:
		return "Method Not Allowed";
	case 414:
		return "URI Too Long";
	case 503:
		return "Service Unavailable";
	default:
		return "Internal Server Error";
	}
}

/* Send @body as the one reply; a failure here still replies (plain 500).
 * The request may be freed once this returns: only @c is used after. */
static void reply_typed(struct api_call *c, int code, const char *type,
			const char *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(c->req);
	struct evbuffer *buf = evbuffer_new();

	if (!buf || evbuffer_add(buf, body, len)) {
		evbuffer_free(buf);
		c->code = HTTP_INTERNAL;
		evhttp_send_error(c->req, HTTP_INTERNAL, "out of memory");
		return;
	}
	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-store");
	c->code = code;
	evhttp_send_reply(c->req, code, reason_of(code), buf);
	evbuffer_free(buf);
}

static void reply(struct api_call *c, int code, const char *body, size_t len)
{
	reply_typed(c, code, "application/json", body, len);
}

static void reply_error(struct api_call *c, int code, const char *msg)
{
	char *json = NULL;
	size_t len = 0;

	if (answer_error_json(msg, &json, &len)) {
		c->code = HTTP_INTERNAL;
		evhttp_send_error(c->req, HTTP_INTERNAL, "out of memory");
		return;
	}
	reply(c, code, json, len);
	free(json);
}

/* A planner or store failure: stored data we cannot read (damaged, or of
 * a newer format) is ours, 500; the rest is the store's (unreachable,
 * locked, malformed replies, I/O), 503. */
static void reply_store_error(struct api_call *c, int rc,
			      const struct rttq_error *err)
{
	bool ours = rc == -EBADMSG || rc == -ENOTSUP || rc == -ENOMEM;
	int code = ours ? HTTP_INTERNAL :
		   rc == -EINVAL ? HTTP_BADREQUEST : 503;

	if (code != HTTP_BADREQUEST && rc != -ENOMEM)
		c->ctx->metrics.store_errors++;
	fprintf(stderr, "rttq-api: %s: %s\n", evhttp_request_get_uri(c->req),
		err->msg[0] ? err->msg : strerror(-rc));
	reply_error(c, code, err->msg[0] ? err->msg : "store error");
}

/* Method and URI checks every endpoint shares; replies when they fail. */
static bool request_ok(struct api_call *c)
{
	struct evhttp_request *req = c->req;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);

	if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Allow", "GET, HEAD");
		reply_error(c, HTTP_BADMETHOD, "method not allowed: use "
			    "GET");
		return false;
	}
	if (strlen(evhttp_request_get_uri(req)) > URI_MAX) {
		reply_error(c, 414, "request URI longer than 4096 bytes");
		return false;
	}
	if (!evhttp_request_get_evhttp_uri(req)) {
		reply_error(c, HTTP_BADREQUEST, "request URI is malformed");
		return false;
	}
	return true;
}

/* from/to, ordered and within --max-range. */
static int parse_range(const struct evkeyvalq *q, const struct api_ctx *ctx,
		       int64_t def_from_s, int64_t def_to_s, int64_t *from_s,
		       int64_t *to_s, struct rttq_error *err)
{
	int rc;

	rc = params_time(q, "from", true, def_from_s, from_s, err);
	if (rc == 0)
		rc = params_time(q, "to", false, def_to_s, to_s, err);
	if (rc)
		return rc;
	if (*from_s > *to_s)
		return rttq_fail(err, -EINVAL, "parameter 'from' is after "
				 "'to'");
	if (*to_s - *from_s > ctx->max_range_s)
		return rttq_fail(err, -EINVAL, "parameters 'from'..'to' span "
				 "%lld s, more than this server's "
				 "--max-range of %lld s",
				 (long long)(*to_s - *from_s),
				 (long long)ctx->max_range_s);
	return 0;
}

/* Everything /quantiles and /series share: range, host, group, q. */
static int parse_selection(const struct evkeyvalq *q,
			   const struct api_ctx *ctx,
			   struct planner_request *preq,
			   struct answer_quantiles *qs, struct rttq_error *err)
{
	const char *qtext = NULL;
	int rc;

	preq->period_s = ctx->period_s;
	rc = parse_range(q, ctx, -1, -1, &preq->from_s, &preq->to_s, err);
	if (rc == 0)
		rc = params_text(q, "host", STORE_HOST_MAX - 1, &preq->host,
				 err);
	if (rc == 0)
		rc = params_text(q, "group", STORE_GROUP_MAX - 1,
				 &preq->group, err);
	if (rc == 0)
		rc = params_text(q, "q", 1024, &qtext, err);
	if (rc == 0 && answer_quantiles_parse(qtext, qs, err))
		rc = rttq_error_prefix(err, "parameter 'q'");
	return rc;
}

/* GET /quantiles?from&to[&host][&group][&q] */
static void quantiles_cb(struct api_call *c)
{
	static const char *const allowed[] = { "from", "to", "host", "group",
					       "q", NULL };
	struct evhttp_request *req = c->req;
	struct api_ctx *ctx = c->ctx;
	struct planner_request preq = { 0 };
	struct planner_answer ans = { 0 };
	struct answer_quantiles qs;
	struct rttq_error err = { 0 };
	struct evkeyvalq q;
	char *json = NULL;
	size_t len = 0;
	int rc;

	TAILQ_INIT(&q);
	if (!request_ok(c))
		goto done;
	rc = params_parse(req, allowed, &q, &err);
	if (rc == 0)
		rc = parse_selection(&q, ctx, &preq, &qs, &err);
	if (rc) {
		reply_error(c, HTTP_BADREQUEST, err.msg);
		goto done;
	}
	rc = planner_run(ctx->st, &preq, &ans, &err);
	ctx->metrics.records_read += ans.records_read;
	if (rc) {
		reply_store_error(c, rc, &err);
		goto done;
	}
	if (answer_quantiles_json(&ans, &preq, &qs, &json, &len)) {
		reply_error(c, HTTP_INTERNAL, "out of memory");
		goto done;
	}
	reply(c, HTTP_OK, json, len);
done:
	free(json);
	planner_answer_clear(&ans);
	evhttp_clear_headers(&q);
}

static int parse_step(const struct evkeyvalq *q, const struct api_ctx *ctx,
		      int64_t *step_s, const char **label,
		      struct rttq_error *err)
{
	static const struct {
		const char *label;
		int64_t s;
	} steps[] = { { "1m", 60 }, { "5m", 300 }, { "1h", 3600 },
		      { "1d", 86400 } };
	const char *v = evhttp_find_header(q, "step");
	size_t i;

	if (!v)
		return rttq_fail(err, -EINVAL, "parameter 'step' is required "
				 "(1m, 5m, 1h or 1d)");
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (!strcmp(v, steps[i].label))
			break;
	if (i == sizeof(steps) / sizeof(steps[0]))
		return rttq_fail(err, -EINVAL, "parameter 'step': unknown "
				 "step '%.16s' (1m, 5m, 1h or 1d)", v);
	if (steps[i].s % ctx->period_s)
		return rttq_fail(err, -EINVAL, "parameter 'step': %s is not "
				 "a multiple of the %u s base period", v,
				 ctx->period_s);
	*step_s = steps[i].s;
	*label = steps[i].label;
	return 0;
}

/* GET /series?from&to&step[&host][&group][&q] */
static void series_cb(struct api_call *c)
{
	static const char *const allowed[] = { "from", "to", "step", "host",
					       "group", "q", NULL };
	struct evhttp_request *req = c->req;
	struct api_ctx *ctx = c->ctx;
	struct planner_request preq = { 0 };
	struct answer_quantiles qs;
	struct rttq_error err = { 0 };
	const char *step_label = NULL;
	int64_t step_s = 0, points;
	size_t len = 0, records_read = 0;
	struct evkeyvalq q;
	char *json = NULL;
	int rc;

	TAILQ_INIT(&q);
	if (!request_ok(c))
		goto done;
	rc = params_parse(req, allowed, &q, &err);
	if (rc == 0)
		rc = parse_selection(&q, ctx, &preq, &qs, &err);
	if (rc == 0)
		rc = parse_step(&q, ctx, &step_s, &step_label, &err);
	if (rc == 0) {
		points = preq.to_s / step_s - preq.from_s / step_s + 1;
		if (points > ctx->max_points)
			rc = rttq_fail(&err, -EINVAL, "parameter 'step': %lld "
				       "points, more than %lld; use a larger "
				       "step", (long long)points,
				       (long long)ctx->max_points);
	}
	if (rc) {
		reply_error(c, HTTP_BADREQUEST, err.msg);
		goto done;
	}
	rc = answer_series_json(ctx->st, &preq, step_s, step_label, &qs,
				&records_read, &json, &len, &err);
	ctx->metrics.records_read += records_read;
	if (rc) {
		reply_store_error(c, rc, &err);
		goto done;
	}
	reply(c, HTTP_OK, json, len);
done:
	free(json);
	evhttp_clear_headers(&q);
}

/* /hosts and /groups: names with records in [from, to] (last 24 h). */
static void names_reply(struct api_call *c, bool want_hosts)
{
	static const char *const hosts_allowed[] = { "from", "to", NULL };
	static const char *const groups_allowed[] = { "from", "to", "host",
						      NULL };
	struct evhttp_request *req = c->req;
	struct api_ctx *ctx = c->ctx;
	int64_t now = (int64_t)time(NULL), from_s = 0, to_s = 0;
	struct rttq_error err = { 0 };
	const char *host = NULL;
	struct evkeyvalq q;
	char *json = NULL;
	size_t len = 0;
	int rc;

	TAILQ_INIT(&q);
	if (!request_ok(c))
		goto done;
	rc = params_parse(req, want_hosts ? hosts_allowed : groups_allowed,
			  &q, &err);
	if (rc == 0)
		rc = parse_range(&q, ctx, now - DEFAULT_LIST_RANGE_S, now,
				 &from_s, &to_s, &err);
	if (rc == 0 && !want_hosts)
		rc = params_text(&q, "host", STORE_HOST_MAX - 1, &host, &err);
	if (rc) {
		reply_error(c, HTTP_BADREQUEST, err.msg);
		goto done;
	}
	rc = answer_names_json(ctx->st, want_hosts ? ANSWER_HOSTS :
			       ANSWER_GROUPS, host, from_s, to_s, &json, &len,
			       &err);
	if (rc) {
		reply_store_error(c, rc, &err);
		goto done;
	}
	reply(c, HTTP_OK, json, len);
done:
	free(json);
	evhttp_clear_headers(&q);
}

/* GET /hosts[?from&to] */
static void hosts_cb(struct api_call *c)
{
	names_reply(c, true);
}

/* GET /groups[?host&from&to] */
static void groups_cb(struct api_call *c)
{
	names_reply(c, false);
}

/* GET /healthz: 200 when the store answers, 503 otherwise. */
static void healthz_cb(struct api_call *c)
{
	static const char *const allowed[] = { NULL };
	static const char ok[] = "{\"status\":\"ok\"}\n";
	struct rttq_error err = { 0 };
	struct evkeyvalq q;
	int rc;

	TAILQ_INIT(&q);
	if (!request_ok(c))
		goto done;
	if (params_parse(c->req, allowed, &q, &err)) {
		reply_error(c, HTTP_BADREQUEST, err.msg);
		goto done;
	}
	rc = store_ping(c->ctx->st, &err);
	if (rc) {
		c->ctx->metrics.store_errors++;
		reply_error(c, 503, err.msg[0] ? err.msg : "store error");
		goto done;
	}
	reply(c, HTTP_OK, ok, sizeof(ok) - 1);
done:
	evhttp_clear_headers(&q);
}

/* GET /metrics: Prometheus text format 0.0.4. */
static void metrics_cb(struct api_call *c)
{
	static const char *const allowed[] = { NULL };
	struct rttq_error err = { 0 };
	struct evkeyvalq q;
	char *text = NULL;
	size_t len = 0;

	TAILQ_INIT(&q);
	if (!request_ok(c))
		goto done;
	if (params_parse(c->req, allowed, &q, &err)) {
		reply_error(c, HTTP_BADREQUEST, err.msg);
		goto done;
	}
	if (c->ctx->conns) {
		c->ctx->metrics.connections = c->ctx->conns->open;
		c->ctx->metrics.connections_total = c->ctx->conns->accepted;
	}
	if (api_metrics_render(&c->ctx->metrics, &text, &len)) {
		reply_error(c, HTTP_INTERNAL, "out of memory");
		goto done;
	}
	reply_typed(c, HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		    text, len);
done:
	free(text);
	evhttp_clear_headers(&q);
}

/* Anything else. */
static void not_found_cb(struct api_call *c)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(c->req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	char msg[160];

	snprintf(msg, sizeof(msg), "no such path '%.100s' (try /quantiles, "
		 "/series, /hosts, /groups, /healthz, /metrics)",
		 path ? path : "");
	reply_error(c, HTTP_NOTFOUND, msg);
}

/* With --auth-token-file, anything but /healthz needs the token; replies
 * 401 when it is missing or wrong.  A probe learns nothing else, not even
 * which paths exist. */
static bool authorized(struct api_call *c, enum api_endpoint ep)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(c->req);
	const char *cred;

	if (!c->ctx->auth || ep == EP_HEALTHZ)
		return true;
	cred = evhttp_find_header(in, "Authorization");
	if (auth_check(c->ctx->auth, cred))
		return true;
	evhttp_add_header(evhttp_request_get_output_headers(c->req),
			  "WWW-Authenticate", cred ? "Bearer realm=\"rttq\", "
			  "error=\"invalid_token\"" : "Bearer realm=\"rttq\"");
	reply_error(c, 401, cred ? "wrong credentials: the bearer token does "
		    "not match" : "authentication required: send "
		    "'Authorization: Bearer TOKEN'");
	return false;
}

static void (*const handler_of[EP_COUNT])(struct api_call *) = {
	[EP_QUANTILES] = quantiles_cb, [EP_SERIES] = series_cb,
	[EP_HOSTS] = hosts_cb,         [EP_GROUPS] = groups_cb,
	[EP_HEALTHZ] = healthz_cb,     [EP_METRICS] = metrics_cb,
	[EP_OTHER] = not_found_cb,
};

static double elapsed_s(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* Every request enters here: check the token, run the endpoint's handler,
 * count the status it sent and how long it took. */
static void dispatch(struct evhttp_request *req, void *arg)
{
	struct api_route *r = arg;
	struct api_call c = { .req = req, .ctx = r->ctx };
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (authorized(&c, r->ep))
		handler_of[r->ep](&c);
	api_metrics_observe(&r->ctx->metrics, r->ep, c.code, elapsed_s(&t0));
}

int handlers_register(struct evhttp *http, struct api_ctx *ctx)
{
	int ep;

	for (ep = 0; ep < EP_COUNT; ep++) {
		ctx->routes[ep].ctx = ctx;
		ctx->routes[ep].ep = ep;
		if (ep != EP_OTHER &&
		    evhttp_set_cb(http, api_metrics_endpoint_path(ep), dispatch,
				  &ctx->routes[ep]))
			return -ENOMEM;
	}
	evhttp_set_gencb(http, dispatch, &ctx->routes[EP_OTHER]);
	return 0;
}
