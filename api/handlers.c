// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq-api request handlers (see handlers.h).  Every callback has the same
 * shape as libevent's sample/http-server.c: validate the method, then the
 * URI and its parameters, then do one thing and reply; failures reply
 * {"error":"..."} with a status telling whose fault it was (4xx the
 * client's, 500 a damaged record, 503 the store's).  Each path sends
 * exactly one reply.
 *
 * Endpoints that read the store (/quantiles, /series, /counters, /flows,
 * /hosts, /groups)
 * validate on the loop, then hand the reading to the query pool as an
 * api_job and reply when it comes back; /healthz reads what the store's
 * last ping said (store_health.c).  The loop itself never calls the store.  A
 * job that runs past --timeout is answered 504 by its timer (a ping, 503:
 * the store is not serving) and cancelled; a full queue is answered 503
 * with Retry-After.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "answer_counters.h"
#include "flow_answer.h"
#include "answer_json.h"
#include "answer_names.h"
#include "answer_series.h"
#include "auth.h"
#include "conn_limit.h"
#include "handlers.h"
#include "api_metrics.h"
#include "params.h"
#include "store_health.h"
#include "series.h"
#include "planner.h"
#include "query_pool.h"
#include "metric.h"
#include "numparse.h"
#include "store.h"

#define URI_MAX 4096 /* bytes of request target we accept */
#define DEFAULT_LIST_RANGE_S 86400
#define RETRY_AFTER_S "1" /* what a 503 for a full queue suggests */

/* One request on its way through a handler: what it needs to reply and,
 * once it has, the status sent (for the metrics). */
struct api_call {
	struct evhttp_request *req;
	struct api_ctx *ctx;
	enum api_endpoint ep;
	struct timespec t0;    /* arrival, for the latency histogram */
	int code;              /* 0 until a reply is queued */
	bool deferred;         /* a job replies and counts it later */
};

/* A request whose store reading runs on a query worker. */
struct api_job {
	struct query_job q;           /* the pool's part */
	struct api_call call;         /* dispatch()'s, copied */
	struct evkeyvalq params;      /* owns the strings preq points to */
	struct planner_request preq;  /* range, host, group (all endpoints) */
	struct answer_quantiles qs;
	struct answer_counter_names names; /* /counters */
	struct flow_answer_query flows; /* /flows */
	int64_t step_s;               /* /series, /counters (0: none) */
	const char *step_label;
	atomic_bool cancel;           /* set by the timer: stop the work */
	struct event *timer;          /* --timeout */
	bool replied;                 /* the timer answered already */
	/* Results, written by the worker, read by done() on the loop. */
	int rc;
	struct rttq_error err;
	char *json;
	size_t len;
	size_t records_read;
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
	case 504:
		return "Gateway Timeout";
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
 * a newer format) is ours, 500; a request the store refused as invalid,
 * 502; the rest is the store's (unreachable, locked, malformed replies,
 * I/O), 503. */
static void reply_store_error(struct api_call *c, int rc,
			      const struct rttq_error *err)
{
	bool ours = rc == -EBADMSG || rc == -ENOTSUP || rc == -ENOMEM;
	int code = ours ? HTTP_INTERNAL :
		   rc == -EINVAL ? HTTP_BADREQUEST :
		   rc == -EREMOTEIO ? 502 : 503;

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

/* For endpoints that take none: any query parameter is answered 400. */
static bool no_params(struct api_call *c)
{
	static const char *const allowed[] = { NULL };
	struct rttq_error err = { 0 };
	struct evkeyvalq q;
	int rc;

	TAILQ_INIT(&q);
	rc = params_parse(c->req, allowed, &q, &err);
	evhttp_clear_headers(&q);
	if (rc)
		reply_error(c, HTTP_BADREQUEST, err.msg);
	return rc == 0;
}

/* -------------------------------------------------------------------------
 * Store work on the query pool
 * ------------------------------------------------------------------------- */

static double elapsed_s(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* Count a finished request: its status and time since arrival. */
static void call_observe(const struct api_call *c)
{
	api_metrics_observe(&c->ctx->metrics, c->ep, c->code,
			    elapsed_s(&c->t0));
}

/* A job for @c, or NULL after replying 500. */
static struct api_job *job_new(struct api_call *c)
{
	struct api_job *job = calloc(1, sizeof(*job));

	if (!job) {
		reply_error(c, HTTP_INTERNAL, "out of memory");
		return NULL;
	}
	job->call = *c;
	TAILQ_INIT(&job->params);
	atomic_init(&job->cancel, false);
	job->preq.cancel = &job->cancel;
	return job;
}

static void job_free(struct api_job *job)
{
	if (job->timer)
		event_free(job->timer);
	evhttp_clear_headers(&job->params);
	free(job->json);
	free(job);
}

/* On a worker: read the store and build the answer's text. */
static void job_work(struct query_job *q, struct store *st)
{
	struct api_job *job = (struct api_job *)q;
	struct planner_answer ans = { 0 };

	switch (job->call.ep) {
	case EP_QUANTILES:
		job->rc = planner_run(st, &job->preq, &ans, &job->err);
		job->records_read = ans.records_read;
		if (job->rc == 0 &&
		    answer_quantiles_json(&ans, &job->preq, &job->qs,
					  &job->json, &job->len))
			job->rc = rttq_fail(&job->err, -ENOMEM,
					    "out of memory");
		planner_answer_clear(&ans);
		break;
	case EP_SERIES:
		job->rc = answer_series_json(st, &job->preq, job->step_s,
					     job->step_label, &job->qs,
					     &job->records_read, &job->json,
					     &job->len, &job->err);
		break;
	case EP_COUNTERS:
		job->rc = answer_counters_json(st, &job->preq, &job->names,
					       job->step_s, job->step_label,
					       &job->records_read, &job->json,
					       &job->len, &job->err);
		break;
	case EP_FLOWS:
		job->rc = flow_answer_json(st, &job->flows, &job->json,
					   &job->len, &job->records_read,
					   &job->err);
		break;
	default: /* EP_HOSTS, EP_GROUPS */
		job->rc = answer_names_json(st, job->call.ep == EP_HOSTS ?
					    ANSWER_HOSTS : ANSWER_GROUPS,
					    job->preq.host, job->preq.from_s,
					    job->preq.to_s, &job->json,
					    &job->len, &job->err);
		break;
	}
}

/* On the loop: the one reply, unless the timer sent it already. */
static void job_done(struct query_job *q)
{
	struct api_job *job = (struct api_job *)q;
	struct api_call *c = &job->call;

	c->ctx->metrics.records_read += job->records_read;
	if (!job->replied) {
		if (!q->ran)
			reply_error(c, 503, "server stopping; query not run");
		else if (job->rc)
			reply_store_error(c, job->rc, &job->err);
		else
			reply(c, HTTP_OK, job->json, job->len);
		call_observe(c);
	}
	job_free(job);
}

/* --timeout passed: answer 504 now and let the worker stop early. */
static void job_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct api_job *job = arg;
	char msg[128];

	atomic_store(&job->cancel, true);
	job->replied = true;
	snprintf(msg, sizeof(msg), "query took longer than the server's "
		 "--timeout of %lld s and was cancelled; ask for a shorter "
		 "range or a larger step",
		 (long long)job->call.ctx->timeout_s);
	reply_error(&job->call, 504, msg);
	call_observe(&job->call);
}

/* Queue @job (made by job_new(@c)) on @pool; a full queue is answered
 * 503. */
static void job_submit(struct api_call *c, struct query_pool *pool,
		       struct api_job *job)
{
	struct api_ctx *ctx = c->ctx;
	struct timeval tv = { .tv_sec = ctx->timeout_s };
	char msg[128];

	job->q.work = job_work;
	job->q.done = job_done;
	if (ctx->timeout_s > 0) {
		job->timer = evtimer_new(ctx->base, job_timeout, job);
		if (!job->timer || evtimer_add(job->timer, &tv)) {
			reply_error(c, HTTP_INTERNAL, "out of memory");
			job_free(job);
			return;
		}
	}
	/* From here the job replies and counts (inline pools at once). */
	c->deferred = true;
	if (query_pool_submit(pool, &job->q) == 0)
		return;
	c->deferred = false;
	snprintf(msg, sizeof(msg), "server busy: %zu queries are waiting; "
		 "retry in a moment", query_pool_waiting(pool));
	evhttp_add_header(evhttp_request_get_output_headers(c->req),
			  "Retry-After", RETRY_AFTER_S);
	reply_error(c, 503, msg);
	job_free(job);
}

/* The end of every store endpoint's handler: a request whose parameters
 * failed (@rc) is answered 400 with the message, else queued. */
static void submit_parsed(struct api_call *c, struct api_job *job, int rc)
{
	if (rc) {
		reply_error(c, HTTP_BADREQUEST, job->err.msg);
		job_free(job);
		return;
	}
	job_submit(c, c->ctx->pool, job);
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

/* Everything /quantiles, /series and /counters share: range, host,
 * group and period (a filter: the planner reads each host's base periods
 * from the store). */
static int parse_where(const struct evkeyvalq *q, const struct api_ctx *ctx,
		       struct planner_request *preq, struct rttq_error *err)
{
	const char *period = NULL;
	int rc;

	preq->period_s = ctx->period_s;
	rc = parse_range(q, ctx, -1, -1, &preq->from_s, &preq->to_s, err);
	if (rc == 0)
		rc = params_text(q, "period", 16, &period, err);
	if (rc == 0 && period && series_parse_period(period, &preq->period_s,
						     err))
		rc = rttq_error_prefix(err, "parameter 'period'");
	if (rc == 0)
		rc = params_text(q, "host", STORE_HOST_MAX - 1, &preq->host,
				 err);
	if (rc == 0)
		rc = params_text(q, "group", STORE_GROUP_MAX - 1,
				 &preq->group, err);
	return rc;
}

/* /quantiles and /series: parse_where(), then q and metric. */
static int parse_selection(const struct evkeyvalq *q,
			   const struct api_ctx *ctx,
			   struct planner_request *preq,
			   struct answer_quantiles *qs, struct rttq_error *err)
{
	const char *qtext = NULL, *metric = NULL;
	int rc;

	rc = parse_where(q, ctx, preq, err);
	if (rc == 0)
		rc = params_text(q, "q", 1024, &qtext, err);
	if (rc == 0 && answer_quantiles_parse(qtext, qs, err))
		rc = rttq_error_prefix(err, "parameter 'q'");
	if (rc == 0)
		rc = params_text(q, "metric", METRIC_NAME_MAX - 1, &metric,
				 err);
	if (rc == 0 && answer_metric_parse(metric, &preq->metric, err))
		rc = rttq_error_prefix(err, "parameter 'metric'");
	return rc;
}

/* GET /quantiles?from&to[&host][&group][&q][&metric] */
static void quantiles_cb(struct api_call *c)
{
	static const char *const allowed[] = { "from", "to", "host", "group",
					       "q", "period", "metric", NULL };
	struct api_job *job;
	int rc;

	if (!request_ok(c) || !(job = job_new(c)))
		return;
	rc = params_parse(c->req, allowed, &job->params, &job->err);
	if (rc == 0)
		rc = parse_selection(&job->params, c->ctx, &job->preq,
				     &job->qs, &job->err);
	submit_parsed(c, job, rc);
}

/* step, a multiple of @period_s when the request names a base period
 * (else the planner checks each host's). */
static int parse_step(const struct evkeyvalq *q, uint32_t period_s,
		      int64_t *step_s, const char **label,
		      struct rttq_error *err)
{
	const char *v = evhttp_find_header(q, "step");

	if (!v)
		return rttq_fail(err, -EINVAL, "parameter 'step' is required "
				 "(1m, 5m, 1h or 1d)");
	if (answer_step_parse(v, period_s, step_s, label, err))
		return rttq_error_prefix(err, "parameter 'step'");
	return 0;
}

/* The step of @job and the points it makes, within --max-points. */
static int parse_points(struct api_job *job, const struct api_ctx *ctx)
{
	int64_t points;
	int rc;

	rc = parse_step(&job->params, job->preq.period_s, &job->step_s,
			&job->step_label, &job->err);
	if (rc)
		return rc;
	points = job->preq.to_s / job->step_s -
		 job->preq.from_s / job->step_s + 1;
	if (points > ctx->max_points)
		rc = rttq_fail(&job->err, -EINVAL, "parameter 'step': "
			       "%lld points, more than %lld; use a "
			       "larger step", (long long)points,
			       (long long)ctx->max_points);
	return rc;
}

/* GET /series?from&to&step[&host][&group][&q][&metric] */
static void series_cb(struct api_call *c)
{
	static const char *const allowed[] = { "from", "to", "step", "host",
					       "group", "q", "period",
					       "metric", NULL };
	struct api_job *job;
	int rc;

	if (!request_ok(c) || !(job = job_new(c)))
		return;
	rc = params_parse(c->req, allowed, &job->params, &job->err);
	if (rc == 0)
		rc = parse_selection(&job->params, c->ctx, &job->preq,
				     &job->qs, &job->err);
	if (rc == 0)
		rc = parse_points(job, c->ctx);
	submit_parsed(c, job, rc);
}

/* GET /counters?from&to[&host][&group][&names][&period][&step] */
static void counters_cb(struct api_call *c)
{
	static const char *const allowed[] = { "from", "to", "host", "group",
					       "names", "period", "step",
					       NULL };
	const char *names = NULL;
	struct api_job *job;
	int rc;

	if (!request_ok(c) || !(job = job_new(c)))
		return;
	rc = params_parse(c->req, allowed, &job->params, &job->err);
	if (rc == 0)
		rc = parse_where(&job->params, c->ctx, &job->preq, &job->err);
	if (rc == 0)
		rc = params_text(&job->params, "names", 2048, &names,
				 &job->err);
	if (rc == 0 && answer_counter_names_parse(names, &job->names,
						  &job->err))
		rc = rttq_error_prefix(&job->err, "parameter 'names'");
	/* A step is optional here: points only when asked for. */
	if (rc == 0 && evhttp_find_header(&job->params, "step"))
		rc = parse_points(job, c->ctx);
	submit_parsed(c, job, rc);
}

/* GET /flows?from&to[&host][&raddr][&limit]: the stored flow log, newest
 * first.  from/to are whole seconds, as everywhere; a record's close
 * time is in milliseconds, so 'to' reaches the end of its second. */
static void flows_cb(struct api_call *c)
{
	static const char *const allowed[] = { "from", "to", "host", "raddr",
					       "limit", NULL };
	struct flow_answer_query *fq;
	const char *raddr = NULL, *limit = NULL;
	int64_t from_s, to_s;
	uint64_t n = FLOW_ANSWER_LIMIT_DEFAULT;
	struct api_job *job;
	int rc;

	if (!request_ok(c) || !(job = job_new(c)))
		return;
	fq = &job->flows;
	fq->cancel = &job->cancel;
	rc = params_parse(c->req, allowed, &job->params, &job->err);
	if (rc == 0)
		rc = parse_range(&job->params, c->ctx, -1, -1, &from_s, &to_s,
				 &job->err);
	if (rc == 0)
		rc = params_text(&job->params, "host", STORE_HOST_MAX - 1,
				 &fq->host, &job->err);
	if (rc == 0)
		rc = params_text(&job->params, "raddr", NETADDR_ADDR_MAX + 4,
				 &raddr, &job->err);
	if (rc == 0 && raddr &&
	    netaddr_parse_cidr(raddr, &fq->raddr, &job->err))
		rc = rttq_error_prefix(&job->err, "parameter 'raddr'");
	if (rc == 0)
		rc = params_text(&job->params, "limit", 16, &limit, &job->err);
	if (rc == 0 && limit)
		rc = numparse_uint("parameter 'limit'", limit, 1,
				   FLOW_ANSWER_LIMIT_MAX, &n, &job->err);
	if (rc == 0) {
		fq->from_ms = from_s * 1000;
		fq->to_ms = to_s * 1000 + 999;
		fq->limit = (size_t)n;
	}
	submit_parsed(c, job, rc);
}

/* /hosts and /groups: names with records in [from, to] (last 24 h). */
static void names_reply(struct api_call *c, bool want_hosts)
{
	static const char *const hosts_allowed[] = { "from", "to", NULL };
	static const char *const groups_allowed[] = { "from", "to", "host",
						      NULL };
	int64_t now = (int64_t)time(NULL);
	struct api_job *job;
	int rc;

	if (!request_ok(c) || !(job = job_new(c)))
		return;
	rc = params_parse(c->req, want_hosts ? hosts_allowed : groups_allowed,
			  &job->params, &job->err);
	if (rc == 0)
		rc = parse_range(&job->params, c->ctx,
				 now - DEFAULT_LIST_RANGE_S, now,
				 &job->preq.from_s, &job->preq.to_s,
				 &job->err);
	if (rc == 0 && !want_hosts)
		rc = params_text(&job->params, "host", STORE_HOST_MAX - 1,
				 &job->preq.host, &job->err);
	submit_parsed(c, job, rc);
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

/*
 * GET /healthz: 200 when the store answered its last ping, 503 otherwise.
 * The pings run on their own thread every second (store_health.c), never
 * on the loop (on DynamoDB a ping is a network round trip) and never
 * behind the queries' queue; a probe only reads their outcome, so it
 * answers as fast as the loop does however busy the workers are.
 */
static void healthz_cb(struct api_call *c)
{
	static const char ok[] = "{\"status\":\"ok\"}\n";
	struct rttq_error err = { 0 };
	int rc;

	if (!request_ok(c) || !no_params(c))
		return;
	rc = store_health_get(c->ctx->health, &err);
	if (rc) {
		c->ctx->metrics.store_errors++;
		reply_error(c, 503, err.msg[0] ? err.msg : strerror(-rc));
	} else {
		reply(c, HTTP_OK, ok, sizeof(ok) - 1);
	}
}

/* GET /metrics: Prometheus text format 0.0.4. */
static void metrics_cb(struct api_call *c)
{
	char *text = NULL;
	size_t len = 0;

	if (!request_ok(c) || !no_params(c))
		return;
	if (c->ctx->conns) {
		c->ctx->metrics.connections = c->ctx->conns->open;
		c->ctx->metrics.connections_total = c->ctx->conns->accepted;
	}
	if (api_metrics_render(&c->ctx->metrics, &text, &len)) {
		reply_error(c, HTTP_INTERNAL, "out of memory");
		return;
	}
	reply_typed(c, HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
		    text, len);
	free(text);
}

/* Anything else. */
static void not_found_cb(struct api_call *c)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(c->req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	char msg[160];

	snprintf(msg, sizeof(msg), "no such path '%.100s' (try /quantiles, "
		 "/series, /counters, /flows, /hosts, /groups, /healthz, /metrics)",
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
	[EP_COUNTERS] = counters_cb,   [EP_HEALTHZ] = healthz_cb,     [EP_METRICS] = metrics_cb,
	[EP_FLOWS] = flows_cb,
	[EP_OTHER] = not_found_cb,
};

/* Every request enters here: check the token, run the endpoint's handler,
 * count the status it sent and how long it took. */
static void dispatch(struct evhttp_request *req, void *arg)
{
	struct api_route *r = arg;
	struct api_call c = { .req = req, .ctx = r->ctx, .ep = r->ep };

	clock_gettime(CLOCK_MONOTONIC, &c.t0);
	if (authorized(&c, r->ep))
		handler_of[r->ep](&c);
	if (!c.deferred)
		call_observe(&c);
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
