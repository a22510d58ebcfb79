// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq-api: the HTTP query server.  Parses options, opens the store, starts
 * the query workers (query_pool.c) and the store's health pings
 * (store_health.c), binds an
 * evhttp server with bounded
 * headers, body, time per connection and number of connections
 * (conn_limit.c), registers the handlers (handlers.c) and runs the event
 * loop until SIGINT/SIGTERM.  Setup and teardown follow libevent's
 * http-server sample.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>

#include "auth.h"
#include "cli.h"
#include "conn_limit.h"
#include "dashboard.h"
#include "handlers.h"
#include "netaddr.h"
#include "numparse.h"
#include "query_pool.h"
#include "store_health.h"
#include "series.h"
#include "store.h"
#include "timeparse.h"

#define LISTEN_DEFAULT "127.0.0.1:8080"
#define MAX_RANGE_DEFAULT "400d"
#define MAX_HEADERS_BYTES 8192
#define MAX_BODY_BYTES 4096 /* every endpoint is a GET */
#define TIMEOUT_DEFAULT_S 30
#define MAX_POINTS 2000
#define MAX_CONNECTIONS_DEFAULT 512
/*
 * Default workers: one per CPU, at most 4.  Each fleet query plans its
 * hosts on up to 4 threads of its own, so more workers than CPUs only
 * queue on the CPU: measured on 2 cores under eight heavy fleet /series,
 * 4 workers and 2 answered the same 2.0 /series a second, but the loop's
 * /healthz p99 was 9.2-11.4 ms with 4 and 5.5 ms with 2.
 */
#define WORKERS_MAX_DEFAULT 4
#define MAX_QUEUE_DEFAULT 64
#define HEALTH_QUEUE 1 /* the one ping of store_health.c */
#define CONN_TIMEOUT_EXTRA_S 1
/*
 * glibc gives threads at most 8 malloc arenas per core and makes the rest
 * share, the loop's main arena included; a worker preempted inside malloc
 * then holds the loop up for as long as it waits for the CPU (measured:
 * 13-260 ms waits on the main arena's lock under eight fleet queries on 2
 * cores).  Room for one arena per thread: each worker, the planning and
 * merging threads it starts, the loop and the health-ping thread.
 */
#define ARENAS_PER_WORKER 8
#define ARENAS_EXTRA 4

/*
 * The loop asks the scheduler for a short slice (EEVDF's latency hint,
 * Linux 6.12 and later): a task with a short slice gets an early deadline
 * and preempts the query workers as soon as a request wakes it, instead
 * of waiting for their slice to end.  Older kernels refuse the call and
 * the loop keeps the default; nothing else changes.
 */
#define LOOP_SLICE_NS 100000 /* the smallest slice the kernel takes */

struct loop_sched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

static void loop_short_slice(void)
{
	struct loop_sched_attr a = {
		.size = sizeof(a),
		.policy = SCHED_OTHER,
		.runtime = LOOP_SLICE_NS,
	};

	a.nice = getpriority(PRIO_PROCESS, 0);
	(void)syscall(SYS_sched_setattr, 0, &a, 0);
}

static uint64_t default_workers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > WORKERS_MAX_DEFAULT ? WORKERS_MAX_DEFAULT : (uint64_t)n;
}

struct api_env {
	const char *store_url;
	struct netaddr_listen listen;
	uint32_t period_s;
	int64_t max_range_s;
	int64_t timeout_s;
	const char *max_range;  /* --max-range, read after the others */
	const char *token_path; /* NULL: no authentication */
	uint64_t max_connections;
	uint64_t workers;
	uint64_t max_queue;
};

static const char usage_text[] =
	"Usage: rttq-api [OPTIONS]\n"
	"\n"
	"Serves RTT quantiles and TCP counters from the rttq store over HTTP:\n"
	"  GET /quantiles?from=T&to=T[&host=H][&group=G][&q=50,99.9]\n"
	"      [&metric=rtt|jitter|handshake]\n"
	"  GET /series?from=T&to=T&step=1m|5m|1h|1d[&host][&group][&q][&metric]\n"
	"  GET /counters?from=T&to=T[&host][&group][&names=retrans.*,segs.out]\n"
	"      [&step=1m|5m|1h|1d]\n"
	"  GET /flows?from=T&to=T[&host=H][&raddr=CIDR][&limit=N]\n"
	"  GET /hosts[?from&to]   GET /groups[?host&from&to]   GET /healthz\n"
	"  GET /metrics (Prometheus text format)\n"
	"T is RFC 3339 or epoch seconds; answers are JSON, milliseconds.\n"
	"\n"
	"Options:\n"
	"  --store URL        store (default " STORE_URL_DEFAULT ")\n"
	"  --listen ADDR:PORT address (default " LISTEN_DEFAULT
	"; [::1]:8080 for IPv6;\n"
	"                     port 0 picks a free one, printed at start)\n"
	"  --period SEC       answer only from hosts with this base period\n"
	"                     (default: every host, each at the base periods\n"
	"                     the store lists for it; also ?period= per query)\n"
	"  --max-range DUR    longest from..to accepted (default "
	MAX_RANGE_DEFAULT ")\n"
	"  --timeout SEC      the longest a query may run before it is answered\n"
	"                     504 and cancelled; connections idle one second\n"
	"                     longer are closed (default 30)\n"
	"  --workers N        threads reading the store for queries (default:\n"
	"                     one per CPU, at most 4)\n"
	"  --max-queue N      queries waiting for a worker; more are answered\n"
	"                     503 with Retry-After (default 64)\n"
	"  --max-connections N  open client connections; more wait in the\n"
	"                     listen backlog (default 512)\n"
	"  --auth-token-file PATH  require 'Authorization: Bearer TOKEN' on\n"
	"                     every path but /healthz; PATH holds TOKEN\n"
	"  -h, --help         this text\n";

static const struct option long_options[] = {
	{ "store", required_argument, NULL, 's' },
	{ "listen", required_argument, NULL, 'l' },
	{ "period", required_argument, NULL, 'p' },
	{ "max-range", required_argument, NULL, 'r' },
	{ "timeout", required_argument, NULL, 't' },
	{ "max-connections", required_argument, NULL, 'c' },
	{ "workers", required_argument, NULL, 'w' },
	{ "max-queue", required_argument, NULL, 'q' },
	{ "auth-token-file", required_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

#define PROG "rttq-api"

/* cli_spec.option: one option into the struct api_env at @ctx. */
static int parse_option(int opt, const char *arg, void *ctx)
{
	struct api_env *env = ctx;
	struct rttq_error err = { 0 };
	unsigned long long n;
	char *end = NULL;
	int64_t v;

	switch (opt) {
	case 's':
		env->store_url = arg;
		return 0;
	case 'l':
		if (netaddr_parse_listen(arg, &env->listen, &err))
			return cli_flag_error(PROG, "--listen", &err);
		return 0;
	case 'p':
		if (series_parse_period(arg, &env->period_s, &err))
			return cli_flag_error(PROG, "--period", &err);
		return 0;
	case 'r':
		env->max_range = arg;
		return 0;
	case 't':
		if (timeparse_duration(arg, &v, &err) || v > 3600)
			return cli_usage_error(PROG, "--timeout: '%s' is not "
					       "1..3600 s", arg);
		env->timeout_s = v;
		return 0;
	case 'c':
		errno = 0;
		n = strtoull(arg, &end, 10);
		if (errno || end == arg || *end || arg[0] == '-' || n == 0 ||
		    n > 1000000)
			return cli_usage_error(PROG, "--max-connections: '%s' "
					       "is not 1..1000000", arg);
		env->max_connections = n;
		return 0;
	case 'a':
		env->token_path = arg;
		return 0;
	case 'w':
		if (numparse_uint("--workers", arg, 1, 64, &env->workers,
				  &err))
			return cli_usage_error(PROG, "%s", err.msg);
		return 0;
	case 'q':
		if (numparse_uint("--max-queue", arg, 1, 100000,
				  &env->max_queue, &err))
			return cli_usage_error(PROG, "%s", err.msg);
		return 0;
	}
	return cli_usage_error(PROG, "unknown option");
}

/* Parse argv into @env; see CLI_CONTINUE in cli.h for the result. */
static int parse_args(int argc, char **argv, struct api_env *env)
{
	static const struct cli_spec spec = {
		.prog = PROG,
		.usage = usage_text,
		.options = long_options,
		.option = parse_option,
	};
	struct rttq_error err = { 0 };
	int rc;

	if (netaddr_parse_listen(LISTEN_DEFAULT, &env->listen, &err))
		return cli_flag_error(PROG, "--listen", &err);
	rc = cli_parse(&spec, argc, argv, env);
	if (rc != CLI_CONTINUE)
		return rc;
	if (timeparse_duration(env->max_range, &env->max_range_s, &err))
		return cli_flag_error(PROG, "--max-range", &err);
	return CLI_CONTINUE;
}

static void on_signal(evutil_socket_t sig, short events, void *arg)
{
	event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
	struct api_env env = {
		.store_url = STORE_URL_DEFAULT,
		.max_range = MAX_RANGE_DEFAULT,
		.period_s = 0, /* each host's, from the store */
		.timeout_s = TIMEOUT_DEFAULT_S,
		.max_connections = MAX_CONNECTIONS_DEFAULT,
		.workers = default_workers(),
		.max_queue = MAX_QUEUE_DEFAULT,
	};
	struct conn_limit conns = { 0 };
	struct auth auth;
	struct api_ctx ctx = { .max_points = MAX_POINTS };
	struct query_pool *pinger = NULL; /* the store's health pings */
	struct event_base *base = NULL;
	struct evhttp *http = NULL;
	struct evhttp_bound_socket *sock = NULL;
	struct event *sigint = NULL, *sigterm = NULL;
	struct rttq_error err = { 0 };
	char where[NETADDR_TEXT_MAX];
	char period[24]; /* "5 s" */
	int ret = 1, rc, port;

	rc = parse_args(argc, argv, &env);
	if (rc != CLI_CONTINUE)
		return rc;
#ifdef M_ARENA_MAX
	/* Before any thread starts; failure only leaves glibc's default. */
	(void)mallopt(M_ARENA_MAX, (int)env.workers * ARENAS_PER_WORKER +
				   ARENAS_EXTRA);
#endif
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
		perror("rttq-api: ignoring SIGPIPE");
		return 1;
	}

	if (env.token_path) {
		rc = auth_load_token(&auth, env.token_path, &err);
		if (rc) {
			fprintf(stderr, "rttq-api: --auth-token-file: %s\n",
				err.msg);
			return 1;
		}
		ctx.auth = &auth;
	}
	rc = store_open_read(env.store_url, &ctx.st, &err);
	if (rc) {
		fprintf(stderr, "rttq-api: %s\n", err.msg);
		return 1;
	}
	ctx.period_s = env.period_s;
	ctx.max_range_s = env.max_range_s;
	ctx.timeout_s = env.timeout_s;

	base = event_base_new();
	if (!base) {
		fprintf(stderr, "rttq-api: cannot create the event base\n");
		goto cleanup;
	}
	ctx.base = base;
	rc = query_pool_new(base, ctx.st, (unsigned int)env.workers,
			    env.max_queue, true, &ctx.pool, &err);
	if (rc == 0)
		rc = query_pool_new(base, ctx.st, 1, HEALTH_QUEUE, false,
				    &pinger, &err);
	if (rc == 0)
		rc = store_health_start(base, pinger, env.timeout_s,
					&ctx.health, &err);
	if (rc) {
		fprintf(stderr, "rttq-api: %s\n", err.msg);
		goto cleanup;
	}
	http = evhttp_new(base);
	if (!http) {
		fprintf(stderr, "rttq-api: cannot create the HTTP server\n");
		goto cleanup;
	}
	evhttp_set_max_headers_size(http, MAX_HEADERS_BYTES);
	evhttp_set_max_body_size(http, MAX_BODY_BYTES);
	/* A second longer than a query may run: the job's timer answers 504
	 * before the connection's own timeout could close it silently. */
	evhttp_set_timeout(http, (int)env.timeout_s + CONN_TIMEOUT_EXTRA_S);
	/* Let every method reach the handlers, which answer 405 in JSON. */
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
				   EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
				   EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
				   EVHTTP_REQ_TRACE | EVHTTP_REQ_PATCH);
	if (handlers_register(http, &ctx) || dashboard_register(http)) {
		fprintf(stderr, "rttq-api: cannot register handlers\n");
		goto cleanup;
	}
	sock = evhttp_bind_socket_with_handle(http, env.listen.addr,
					      env.listen.port);
	if (!sock) {
		fprintf(stderr, "rttq-api: cannot listen on %s port %u: %s\n",
			env.listen.addr, env.listen.port, strerror(errno));
		goto cleanup;
	}
	if (conn_limit_install(&conns, base, http, sock, env.max_connections)) {
		fprintf(stderr, "rttq-api: cannot limit connections\n");
		goto cleanup;
	}
	ctx.conns = &conns;
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	if (!sigint || !sigterm || event_add(sigint, NULL) ||
	    event_add(sigterm, NULL)) {
		fprintf(stderr, "rttq-api: cannot install signal handlers\n");
		goto cleanup;
	}
	/* The port actually bound: --listen ...:0 asks the kernel for one. */
	port = netaddr_local_port(evhttp_bound_socket_get_fd(sock));
	snprintf(period, sizeof(period), "%u s", env.period_s);
	printf("rttq-api: listening on %s (store %s%s%s%s)\n",
	       netaddr_format(env.listen.addr, port < 0 ? 0 : (uint16_t)port,
			      where, sizeof(where)),
	       env.store_url, env.period_s ? ", only base period " : "",
	       env.period_s ? period : "",
	       ctx.auth ? ", bearer token required" : "");
	fflush(stdout);

	/* After the pools: their threads must not inherit the short slice. */
	loop_short_slice();
	if (event_base_dispatch(base) < 0) {
		fprintf(stderr, "rttq-api: event loop failed\n");
		goto cleanup;
	}
	ret = 0;
cleanup:
	if (sigint)
		event_free(sigint);
	if (sigterm)
		event_free(sigterm);
	/* Before the server: pending jobs still reply to their requests. */
	query_pool_free(ctx.pool);
	query_pool_free(pinger);
	store_health_free(ctx.health); /* after its pool: done() uses it */
	if (http)
		evhttp_free(http);
	if (base)
		event_base_free(base);
	store_close(ctx.st);
	return ret;
}
