// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of the agent's /metrics exposition (agent/agent_metrics.h), fetched
 * over real HTTP on loopback: samples on either side of each exported bound
 * land in the right cumulative bucket for every sub-bits g, label values
 * are escaped, --max-groups is respected, a closed period's record
 * shows up as last-period quantiles, and jitter, handshake and the
 * counters come out as their exact families and lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "check.h"
#include "codec.h"
#include "counter_set.h"
#include "hist.h"
#include "agent_metrics.h"
#include "netaddr.h"
#include "store.h"
#include "tdigest.h"

struct fetch {
	struct event_base *base;
	int status;
	char *body;
};

static void on_response(struct evhttp_request *req, void *arg)
{
	struct fetch *f = arg;
	struct evbuffer *in;
	size_t len;

	REQUIRE(req, "no response (connection failed)");
	f->status = evhttp_request_get_response_code(req);
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	f->body = malloc(len + 1);
	REQUIRE(f->body, "out of memory");
	evbuffer_remove(in, f->body, len);
	f->body[len] = '\0';
	event_base_loopbreak(f->base);
}

/* GET @path from the endpoint on @base; the body (caller frees). */
static char *fetch(struct event_base *base, uint16_t port, const char *path,
		   int *status)
{
	struct fetch f = { .base = base, .status = -1 };
	struct evhttp_connection *conn;
	struct evhttp_request *req;

	conn = evhttp_connection_base_new(base, NULL, "127.0.0.1", port);
	REQUIRE(conn, "evhttp_connection_base_new failed");
	req = evhttp_request_new(on_response, &f);
	REQUIRE(req, "evhttp_request_new failed");
	REQUIRE_CMP(evhttp_make_request(conn, req, EVHTTP_REQ_GET, path), ==,
		    0);
	event_base_dispatch(base);
	evhttp_connection_free(conn);
	*status = f.status;
	return f.body;
}

static struct agent_metrics *start(struct event_base *base, unsigned int g,
			     uint32_t max_groups)
{
	struct agent_metrics_config cfg = {
		.sub_bits = g,
		.period_s = 5,
		.max_groups = max_groups,
		.version = "test",
	};
	struct rttq_error err = { 0 };
	struct agent_metrics *m = NULL;

	REQUIRE_CMP(netaddr_parse_listen("127.0.0.1:0", &cfg.listen, &err), ==,
		    0);
	REQUIRE(agent_metrics_new(base, &cfg, &m, &err) == 0, "agent_metrics_new: %s",
		err.msg);
	return m;
}

static void expect_line(const char *body, const char *line)
{
	const char *p = strstr(body, line);

	REQUIRE(p && (p == body || p[-1] == '\n') && p[strlen(line)] == '\n',
		"missing line: %s\n--- body ---\n%s", line, body);
}

/* One value on each side of the lowest and highest bound, two around the
 * 32 us bound: exact cumulative counts whatever g is. */
static void test_bounds_are_exact(unsigned int g)
{
	static const uint32_t values_us[] = { 15, 16, 31, 32, 4194303,
					      4194304 };
	struct event_base *base = event_base_new();
	struct hist *h = NULL;
	struct agent_metrics *m;
	char *body;
	size_t i;
	int status;

	REQUIRE(base, "event_base_new failed");
	m = start(base, g, 8);
	REQUIRE_CMP(hist_new(g, &h), ==, 0);
	for (i = 0; i < sizeof(values_us) / sizeof(values_us[0]); i++)
		hist_record(h, values_us[i], 1);
	REQUIRE_CMP(agent_metrics_add_delta(m, "all", METRIC_RTT, h), ==, 0);
	REQUIRE_CMP(agent_metrics_add_delta(m, "all", METRIC_RTT, h), ==, 0);

	body = fetch(base, agent_metrics_port(m), "/metrics", &status);
	REQUIRE_CMP(status, ==, 200);
	expect_line(body, "rttq_rtt_seconds_bucket{group=\"all\",le=\"0.000016\"} 2");
	expect_line(body, "rttq_rtt_seconds_bucket{group=\"all\",le=\"0.000032\"} 6");
	expect_line(body, "rttq_rtt_seconds_bucket{group=\"all\",le=\"0.000064\"} 8");
	expect_line(body, "rttq_rtt_seconds_bucket{group=\"all\",le=\"2.097152\"} 8");
	expect_line(body, "rttq_rtt_seconds_bucket{group=\"all\",le=\"4.194304\"} 10");
	expect_line(body, "rttq_rtt_seconds_bucket{group=\"all\",le=\"+Inf\"} 12");
	expect_line(body, "rttq_rtt_seconds_count{group=\"all\"} 12");
	expect_line(body, "rttq_agent_events_total 12");
	expect_line(body, "rttq_agent_info{version=\"test\",attach=\"none\"} 1");
	free(body);

	hist_free(h);
	agent_metrics_free(m);
	event_base_free(base);
}

/* The group kinds of --group-by raddr/N, peer, port and cgroup are label
 * values as they are: ':', '/', ',' and '.' need no escaping. */
static void test_new_group_kinds_verbatim(void)
{
	static const char name[] = "raddr:2001:db8::/64,peer:db-primary,"
				   "port:443,cgroup:/system.slice/nginx.service";
	struct event_base *base = event_base_new();
	struct hist *h = NULL;
	struct agent_metrics *m;
	char *body, line[256];
	int status;

	REQUIRE(base, "event_base_new failed");
	m = start(base, 5, 4);
	REQUIRE_CMP(hist_new(5, &h), ==, 0);
	hist_record(h, 100, 2);
	REQUIRE_CMP(agent_metrics_add_delta(m, "all", METRIC_RTT, h), ==, 0);
	REQUIRE_CMP(agent_metrics_add_delta(m, name, METRIC_RTT, h), ==, 0);
	body = fetch(base, agent_metrics_port(m), "/metrics", &status);
	REQUIRE_CMP(status, ==, 200);
	snprintf(line, sizeof(line), "rttq_rtt_seconds_count{group=\"%s\"} 2",
		 name);
	expect_line(body, line);
	free(body);
	hist_free(h);
	agent_metrics_free(m);
	event_base_free(base);
}

static void test_labels_escaped_and_groups_bounded(void)
{
	struct event_base *base = event_base_new();
	struct hist *h = NULL;
	struct agent_metrics *m;
	char *body;
	int status;

	REQUIRE(base, "event_base_new failed");
	m = start(base, 5, 2);
	REQUIRE_CMP(hist_new(5, &h), ==, 0);
	hist_record(h, 100, 3);
	REQUIRE_CMP(agent_metrics_add_delta(m, "all", METRIC_RTT, h), ==, 0);
	REQUIRE_CMP(agent_metrics_add_delta(m, "a\"b\\c\nd", METRIC_RTT, h),
		    ==, 0);
	REQUIRE_CMP(agent_metrics_add_delta(m, "rport:443", METRIC_RTT, h), ==,
		    0);
	REQUIRE_CMP(agent_metrics_add_delta(m, "rport:80", METRIC_RTT, h), ==,
		    -ENOSPC);
	REQUIRE_CMP(agent_metrics_add_delta(m, "rport:443", METRIC_RTT, h), ==,
		    0);

	body = fetch(base, agent_metrics_port(m), "/metrics", &status);
	REQUIRE_CMP(status, ==, 200);
	expect_line(body, "rttq_rtt_seconds_count{group=\"a\\\"b\\\\c\\nd\"} 3");
	expect_line(body, "rttq_rtt_seconds_count{group=\"rport:443\"} 6");
	REQUIRE(!strstr(body, "rport:80"),
		"a group past --max-groups was exported");
	expect_line(body, "rttq_agent_metrics_dropped_samples_total 3");
	free(body);

	body = fetch(base, agent_metrics_port(m), "/other", &status);
	REQUIRE_CMP(status, ==, 404);
	free(body);

	hist_free(h);
	agent_metrics_free(m);
	event_base_free(base);
}

/* A closed base period's record gives the summary's quantiles; a rollup
 * (3600 s) record does not. */
static void test_last_period_quantiles(void)
{
	struct event_base *base = event_base_new();
	struct store_record recs[2];
	struct tdigest *td = NULL;
	struct hist *h = NULL;
	uint8_t *digest = NULL;
	size_t len = 0;
	struct agent_metrics *m;
	char *body;
	int status;

	REQUIRE(base, "event_base_new failed");
	m = start(base, 5, 8);
	REQUIRE_CMP(hist_new(5, &h), ==, 0);
	hist_record(h, 1000, 100); /* 1 ms */
	REQUIRE_CMP(agent_metrics_add_delta(m, "all", METRIC_RTT, h), ==, 0);
	REQUIRE_CMP(tdigest_from_hist(h, TDIGEST_COMPRESSION_DEFAULT, &td), ==,
		    0);
	REQUIRE_CMP(codec_encode(td, &digest, &len), ==, 0);
	memset(recs, 0, sizeof(recs));
	recs[0] = (struct store_record){ .host = "h", .group = "all",
					 .period_s = 5, .start_s = 1700006400,
					 .periods = 1, .periods_total = 1,
					 .count = 100, .digest = digest,
					 .digest_len = len };
	recs[1] = recs[0];
	recs[1].group = "hourly-only";
	recs[1].period_s = 3600;
	agent_metrics_note_records(m, recs, 2);

	body = fetch(base, agent_metrics_port(m), "/metrics", &status);
	REQUIRE_CMP(status, ==, 200);
	expect_line(body, "rttq_rtt_last_period_seconds{group=\"all\",quantile=\"0.5\"} 0.001");
	expect_line(body, "rttq_rtt_last_period_seconds{group=\"all\",quantile=\"0.99\"} 0.001");
	expect_line(body, "rttq_rtt_last_period_start_timestamp_seconds 1700006400");
	REQUIRE(!strstr(body, "hourly-only"),
		"an hourly record counted as the last period");
	free(body);

	free(digest);
	tdigest_free(td);
	hist_free(h);
	agent_metrics_free(m);
	event_base_free(base);
}

/* The text of @body from @from to its end. */
static char *section(const char *body, const char *from)
{
	const char *a = strstr(body, from);
	char *out;

	REQUIRE(a, "no \"%s\" in\n%s", from, body);
	out = strdup(a);
	REQUIRE(out, "out of memory");
	return out;
}

static void add_counters(struct agent_metrics *m, const char *group,
			 const char *const *names, const uint64_t *values,
			 size_t n)
{
	struct counter_set d = COUNTER_SET_INIT;

	for (size_t i = 0; i < n; i++)
		REQUIRE_CMP(counter_set_add(&d, names[i], values[i]), ==, 0);
	REQUIRE_CMP(agent_metrics_add_counters(m, group, &d), ==, 0);
	counter_set_free(&d);
}

/*
 * Jitter and handshake samples each go to their own histogram family,
 * never to rttq_rtt_seconds; counters drained twice come out as their
 * exact totals, in the families and labels README names, byte for byte.
 */
static void test_metrics_and_counters(void)
{
	static const char *const all_names[] = {
		"drops.tcp.netfilter_drop", "drops.udp.no_socket", "retrans.fast",
		"segs.out", "loss.recovery", "drops.other.unknown",
		"future.counter",
	};
	static const uint64_t all_1[] = { 5, 1, 3, 1000, 1, 2, 7 };
	static const uint64_t all_2[] = { 4, 0, 2, (1ull << 53) + 1, 0, 0, 0 };
	static const char *const peer_names[] = {
		"conn.opened", "conn.failed", "rst.received", "retrans.timeout",
		"retrans.tlp", "segs.out",
	};
	static const uint64_t peer_1[] = { 3, 1, 2, 1, 4, 90 };
	struct event_base *base = event_base_new();
	struct hist *jit = NULL, *hs = NULL, *sb = NULL, *st = NULL;
	struct agent_metrics *m;
	char *body, *text;
	int status;

	REQUIRE(base, "event_base_new failed");
	m = start(base, 5, 4);
	REQUIRE_CMP(hist_new(5, &jit), ==, 0);
	REQUIRE_CMP(hist_new(5, &hs), ==, 0);
	hist_record(jit, 20, 3);    /* 20 us: below 32 us */
	hist_record(hs, 1500, 2);   /* 1.5 ms: below 2.048 ms */
	REQUIRE_CMP(agent_metrics_add_delta(m, "all", METRIC_JITTER, jit), ==,
		    0);
	REQUIRE_CMP(agent_metrics_add_delta(m, "peer:db", METRIC_HANDSHAKE, hs),
		    ==, 0);
	/* A distribution without a family is left out, not an error. */
	REQUIRE_CMP(agent_metrics_add_delta(m, "all", "other", hs), ==, 0);
	add_counters(m, "all", all_names, all_1, 7);
	add_counters(m, "all", all_names, all_2, 7);
	add_counters(m, "peer:db", peer_names, peer_1, 6);
	/* Drops of a keyed group are not node-wide: they go to "other". */
	{
		static const char *const n[] = { "drops.tcp.odd" };
		static const uint64_t v[] = { 1 };

		add_counters(m, "peer:db", n, v, 1);
	}
	/* Bytes per group by direction and protocol; softirq time
	 * node-wide, in seconds ("all" only: elsewhere it is "other"). */
	{
		static const char *const an[] = { "softirq.net_rx_ns",
						   "softirq.net_tx_ns" };
		static const uint64_t av[] = { 1500000000, 2500 };
		static const char *const pn[] = { "bytes.sent.tcp",
						   "bytes.received.udp",
						   "softirq.net_rx_ns" };
		static const uint64_t pv[] = { 4000, 200, 3 };

		add_counters(m, "all", an, av, 2);
		add_counters(m, "peer:db", pn, pv, 3);
	}
	/* sndbuf samples are thousandths of a per cent: a ratio of 1 is
	 * 100,000; runqlat is a time, in us. */
	REQUIRE_CMP(hist_new(5, &sb), ==, 0);
	hist_record(sb, 32100, 2);  /* 32.1 %: below 0.32768 */
	REQUIRE_CMP(agent_metrics_add_delta(m, "peer:db", METRIC_SNDBUF, sb),
		    ==, 0);
	REQUIRE_CMP(agent_metrics_add_delta(m, "all", METRIC_RUNQLAT, hs), ==,
		    0);
	/* A packet stage's samples are ns: 3,000 ns lies below 2^12 ns. */
	REQUIRE_CMP(hist_new(5, &st), ==, 0);
	hist_record(st, 3000, 4);
	REQUIRE_CMP(agent_metrics_add_delta(m, "peer:db", METRIC_RX_STACK, st),
		    ==, 0);

	body = fetch(base, agent_metrics_port(m), "/metrics", &status);
	REQUIRE_CMP(status, ==, 200);
	/* No jitter or handshake reached rtt. */
	expect_line(body, "rttq_rtt_seconds_count{group=\"all\"} 0");
	expect_line(body, "rttq_rtt_seconds_count{group=\"peer:db\"} 0");
	expect_line(body, "rttq_agent_events_total 0");
	expect_line(body, "rttq_jitter_seconds_bucket{group=\"all\",le=\"0.000016\"} 0");
	expect_line(body, "rttq_jitter_seconds_bucket{group=\"all\",le=\"0.000032\"} 3");
	expect_line(body, "rttq_jitter_seconds_count{group=\"all\"} 3");
	expect_line(body, "rttq_handshake_seconds_bucket{group=\"peer:db\",le=\"0.001024\"} 0");
	expect_line(body, "rttq_handshake_seconds_bucket{group=\"peer:db\",le=\"0.002048\"} 2");
	expect_line(body, "rttq_handshake_seconds_count{group=\"peer:db\"} 2");
	REQUIRE(!strstr(body, "rttq_jitter_seconds_count{group=\"peer:db\"}"),
		"a group without jitter samples has a jitter histogram");
	REQUIRE(!strstr(body, "rttq_handshake_seconds_count{group=\"all\"}"),
		"a group without handshakes has a handshake histogram");
	expect_line(body, "rttq_sndbuf_ratio_bucket{group=\"peer:db\",le=\"0.16384\"} 0");
	expect_line(body, "rttq_sndbuf_ratio_bucket{group=\"peer:db\",le=\"0.32768\"} 2");
	expect_line(body, "rttq_sndbuf_ratio_count{group=\"peer:db\"} 2");
	expect_line(body, "rttq_runqlat_seconds_bucket{group=\"all\",le=\"0.002048\"} 2");
	REQUIRE(!strstr(body, "rttq_runqlat_seconds_count{group=\"peer:db\"}"),
		"runqlat listed for a group without it");
	expect_line(body, "rttq_rx_stack_seconds_bucket{group=\"peer:db\",le=\"0.000002048\"} 0");
	expect_line(body, "rttq_rx_stack_seconds_bucket{group=\"peer:db\",le=\"0.000004096\"} 4");
	expect_line(body, "rttq_rx_stack_seconds_count{group=\"peer:db\"} 4");
	REQUIRE(!strstr(body, "rttq_tx_qdisc_seconds_count"),
		"a stage without samples listed");

	text = section(body, "# HELP rttq_retransmits_total");
	REQUIRE_STR(text,
		"# HELP rttq_retransmits_total Successful TCP retransmissions per group by cause (fast, timeout, tlp, syn).\n"
		"# TYPE rttq_retransmits_total counter\n"
		"rttq_retransmits_total{group=\"all\",cause=\"fast\"} 5\n"
		"rttq_retransmits_total{group=\"peer:db\",cause=\"timeout\"} 1\n"
		"rttq_retransmits_total{group=\"peer:db\",cause=\"tlp\"} 4\n"
		"# HELP rttq_connections_total TCP connections per group: opened (active), accepted (passive), failed (opened, closed before ESTABLISHED), closed (established ones, --signals flows).\n"
		"# TYPE rttq_connections_total counter\n"
		"rttq_connections_total{group=\"peer:db\",event=\"failed\"} 1\n"
		"rttq_connections_total{group=\"peer:db\",event=\"opened\"} 3\n"
		"# HELP rttq_resets_total TCP resets per group, sent or received.\n"
		"# TYPE rttq_resets_total counter\n"
		"rttq_resets_total{group=\"peer:db\",direction=\"received\"} 2\n"
		"# HELP rttq_segments_sent_total TCP segments sent per group.\n"
		"# TYPE rttq_segments_sent_total counter\n"
		"rttq_segments_sent_total{group=\"all\"} 9007199254741993\n"
		"rttq_segments_sent_total{group=\"peer:db\"} 90\n"
		"# HELP rttq_loss_episodes_total TCP loss episodes entered per group: recovery (fast recovery) or timeout (RTO loss state).\n"
		"# TYPE rttq_loss_episodes_total counter\n"
		"rttq_loss_episodes_total{group=\"all\",kind=\"recovery\"} 1\n"
		"# HELP rttq_drops_total Packets the kernel freed with a drop reason, node-wide, by protocol and reason (as the kernel names it).\n"
		"# TYPE rttq_drops_total counter\n"
		"rttq_drops_total{proto=\"other\",reason=\"unknown\"} 2\n"
		"rttq_drops_total{proto=\"tcp\",reason=\"netfilter_drop\"} 9\n"
		"rttq_drops_total{proto=\"udp\",reason=\"no_socket\"} 1\n"
		"# HELP rttq_closed_flow_bytes_total Bytes of the TCP connections that closed, per group, as the kernel counted them over each connection's life (--signals flows).\n"
		"# TYPE rttq_closed_flow_bytes_total counter\n"
		"# HELP rttq_bytes_total Payload bytes of the send and receive calls per group, by direction (sent, received) and protocol (tcp, udp).\n"
		"# TYPE rttq_bytes_total counter\n"
		"rttq_bytes_total{group=\"peer:db\",direction=\"received\",proto=\"udp\"} 200\n"
		"rttq_bytes_total{group=\"peer:db\",direction=\"sent\",proto=\"tcp\"} 4000\n"
		"# HELP rttq_softirq_seconds_total Time the CPUs spent in the network softirqs, node-wide, by vector (net_rx, net_tx).\n"
		"# TYPE rttq_softirq_seconds_total counter\n"
		"rttq_softirq_seconds_total{vec=\"net_rx\"} 1.5\n"
		"rttq_softirq_seconds_total{vec=\"net_tx\"} 2.5e-06\n"
		"# HELP rttq_other_counters_total Counters this agent has no family for, by name.\n"
		"# TYPE rttq_other_counters_total counter\n"
		"rttq_other_counters_total{group=\"all\",counter=\"future.counter\"} 7\n"
		"rttq_other_counters_total{group=\"peer:db\",counter=\"drops.tcp.odd\"} 1\n"
		"rttq_other_counters_total{group=\"peer:db\",counter=\"softirq.net_rx_ns\"} 3\n");
	free(text);
	free(body);

	/* A retired group leaves with its counters; its key starts again
	 * from zero. */
	agent_metrics_retire(m, "peer:db");
	agent_metrics_forget_retired(m);
	add_counters(m, "peer:db", peer_names, peer_1, 1);
	body = fetch(base, agent_metrics_port(m), "/metrics", &status);
	expect_line(body, "rttq_connections_total{group=\"peer:db\",event=\"opened\"} 3");
	REQUIRE(!strstr(body, "event=\"failed\""),
		"a retired group's counters stayed");
	free(body);

	hist_free(jit);
	hist_free(hs);
	hist_free(sb);
	hist_free(st);
	agent_metrics_free(m);
	event_base_free(base);
}

static void test_parse_listen(void)
{
	struct netaddr_listen l;

	REQUIRE_CMP(netaddr_parse_listen("127.0.0.1:9477", &l, NULL), ==, 0);
	REQUIRE_STR(l.addr, "127.0.0.1");
	REQUIRE_CMP(l.port, ==, 9477);
	REQUIRE_CMP(netaddr_parse_listen("[::1]:0", &l, NULL), ==, 0);
	REQUIRE_STR(l.addr, "::1");
	REQUIRE_CMP(l.port, ==, 0);
	REQUIRE_CMP(netaddr_parse_listen("::1:80", &l, NULL), ==, -EINVAL);
	REQUIRE_CMP(netaddr_parse_listen("localhost:80", &l, NULL), ==,
		    -EINVAL);
	REQUIRE_CMP(netaddr_parse_listen("1.2.3.4:65536", &l, NULL), ==,
		    -EINVAL);
	REQUIRE_CMP(netaddr_parse_listen("1.2.3.4:-1", &l, NULL), ==, -EINVAL);
	REQUIRE_CMP(netaddr_parse_listen("1.2.3.4:", &l, NULL), ==, -EINVAL);
	REQUIRE_CMP(netaddr_parse_listen("9477", &l, NULL), ==, -EINVAL);
	agent_metrics_free(NULL);
}

int main(void)
{
	test_parse_listen();
	test_bounds_are_exact(3);
	test_bounds_are_exact(5);
	test_bounds_are_exact(7);
	test_labels_escaped_and_groups_bounded();
	test_new_group_kinds_verbatim();
	test_last_period_quantiles();
	test_metrics_and_counters();
	return check_report();
}
