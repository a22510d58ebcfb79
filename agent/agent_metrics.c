// SPDX-License-Identifier: BSD-2-Clause
/*
 * The agent's /metrics endpoint (see agent_metrics.h): per-group cumulative
 * RTT, jitter, handshake and sndbuf histograms (and the node's runqlat)
 * at power-of-two bounds, the group's
 * counters as Prometheus counters, last-period quantile gauges and the
 * agent's health, rendered on each scrape in the Prometheus text format
 * 0.0.4 by an evhttp server sharing the agent's event loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "buckets.h"
#include "codec.h"
#include "counter_prom.h"
#include "counter_set.h"
#include "hist.h"
#include "agent_metrics.h"
#include "metric.h"
#include "name_table.h"
#include "prom_text.h"
#include "store.h"
#include "tdigest.h"

#define BINS (AGENT_METRICS_LE_BOUNDS + 1) /* the last one is +Inf only */
#define HTTP_TIMEOUT_S 10
#define LISTEN_BACKLOG 16
#define BPF_STATS_SYSCTL "/proc/sys/kernel/bpf_stats_enabled"

static const double quantiles[] = { 0.5, 0.9, 0.99 };
static const char *const quantile_labels[] = { "0.5", "0.9", "0.99" };
#define NQUANTILES (sizeof(quantiles) / sizeof(quantiles[0]))

/* The distributions exported as histograms, in exposition order. */
enum { DIST_RTT, DIST_JITTER, DIST_HANDSHAKE, DIST_SNDBUF, DIST_RUNQLAT,
       DIST_FLOW_DURATION, DIST_RX_STACK, DIST_RX_SOCKET, DIST_TX_STACK,
       DIST_TX_QDISC, DISTS };

/*
 * Samples are integers in thousandths of what users read (metric.h):
 * times in us, exported in seconds (6 decimals); the packet stages' in
 * ns (9 decimals); sndbuf in thousandths of a per cent, exported as a
 * ratio of 1 (5 decimals).
 */
static const struct {
	const char *metric, *family, *help;
	unsigned int digits;   /* decimals of one sample unit */
} dists[DISTS] = {
	[DIST_RTT] = { METRIC_RTT, "rttq_rtt_seconds",
		       "TCP smoothed RTT (srtt) samples per group since the agent started.",
		       6 },
	[DIST_JITTER] = { METRIC_JITTER, "rttq_jitter_seconds",
			  "TCP RTT jitter (mdev, as ss -ti prints it) samples per group since the agent started.",
			  6 },
	[DIST_HANDSHAKE] = { METRIC_HANDSHAKE, "rttq_handshake_seconds",
			     "Time from SYN sent to ESTABLISHED of the connections this host opened, per group, since the agent started.",
			     6 },
	[DIST_SNDBUF] = { METRIC_SNDBUF, "rttq_sndbuf_ratio",
			  "Send buffer queued (sk_wmem_queued / sk_sndbuf) at each TCP RTT sample, per group, since the agent started.",
			  5 },
	[DIST_RUNQLAT] = { METRIC_RUNQLAT, "rttq_runqlat_seconds",
			   "Run-queue latency (wake-up or preemption to running) of the node's tasks since the agent started.",
			   6 },
	[DIST_FLOW_DURATION] = { METRIC_FLOW_DURATION, "rttq_flow_duration_seconds",
				 "Lifetime of the TCP connections that closed (SYN to close), per group, since the agent started (--signals flows).",
				 6 },
	[DIST_RX_STACK] = { METRIC_RX_STACK, "rttq_rx_stack_seconds",
			    "Sampled received segments: driver hand-off to TCP, per group, since the agent started (--signals stages).",
			    9 },
	[DIST_RX_SOCKET] = { METRIC_RX_SOCKET, "rttq_rx_socket_seconds",
			     "Sampled received data: TCP to the application's read, per group, since the agent started (--signals stages).",
			     9 },
	[DIST_TX_STACK] = { METRIC_TX_STACK, "rttq_tx_stack_seconds",
			    "Sampled sent segments: TCP's transmit to the device queue, per group, since the agent started (--signals stages).",
			    9 },
	[DIST_TX_QDISC] = { METRIC_TX_QDISC, "rttq_tx_qdisc_seconds",
			    "Sampled sent packets: device queue to the driver, per group, since the agent started (--signals stages).",
			    9 },
};

/* 10^@digits: one unit of what dists[] exports in sample units. */
static double unit_scale(unsigned int digits)
{
	double one = 1;

	while (digits--)
		one *= 10;
	return one;
}

struct mhist {
	uint64_t bins[BINS];   /* samples per bound, not yet cumulated */
	uint64_t count;
	double sum;            /* in sample units, of bucket midpoints:
				* drained samples are only known to their
				* fine bucket */
};

struct mgroup {
	char *name;
	struct mhist h[DISTS];
	struct counter_set counters; /* totals since the agent started */
	double last_q_s[NQUANTILES];
	int64_t last_start_s;  /* period the quantiles describe; -1: none */
	bool retired;          /* id recycled: dropped at the next forget */
};

struct agent_metrics {
	struct agent_metrics_config cfg;
	struct evhttp *http;
	uint16_t port;
	time_t start_s;

	struct mgroup *groups;  /* in order of first sight: "all" first */
	size_t n;
	size_t cap;
	struct name_table names; /* group name -> position in groups */

	int64_t last_start_s;   /* start of the latest closed base period */
	uint64_t groups_dropped_samples;
	uint64_t drains;
	uint64_t drain_errors;
};

/* -------------------------------------------------------------------------
 * Groups: cumulative histograms at the exported bounds
 * ------------------------------------------------------------------------- */

static struct mgroup *group_find(const struct agent_metrics *m,
				 const char *name)
{
	uint32_t pos;

	if (name_table_find(&m->names, name, &pos))
		return NULL;
	return &m->groups[pos];
}

/* The group named @name, created when new and room is left; NULL with
 * *@rc = -ENOSPC or -ENOMEM otherwise. */
static struct mgroup *group_get(struct agent_metrics *m, const char *name,
				int *rc)
{
	struct mgroup *g;

	*rc = 0;
	g = group_find(m, name);
	if (g)
		return g;
	/* "all" plus max_groups others, as the series table keeps. */
	if (m->n >= (size_t)m->cfg.max_groups + 1) {
		*rc = -ENOSPC;
		return NULL;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 16;

		g = realloc(m->groups, cap * sizeof(*g));
		if (!g) {
			*rc = -ENOMEM;
			return NULL;
		}
		m->groups = g;
		m->cap = cap;
	}
	g = &m->groups[m->n];
	memset(g, 0, sizeof(*g));
	g->counters = (struct counter_set)COUNTER_SET_INIT;
	g->name = strdup(name);
	if (!g->name || name_table_add(&m->names, g->name, (uint32_t)m->n)) {
		free(g->name);
		*rc = -ENOMEM;
		return NULL;
	}
	g->last_start_s = -1;
	m->n++;
	return g;
}

/* The exported bin of fine bucket [lo, @hi): the first bound 2^k >= hi
 * (its values are all < hi), or the +Inf bin past 2^MAX. */
static unsigned int bin_of(uint64_t hi)
{
	unsigned int log2_ceil;

	if (hi <= (1ull << AGENT_METRICS_LE_MIN_LOG2))
		return 0;
	log2_ceil = 64 - (unsigned int)__builtin_clzll(hi - 1);
	if (log2_ceil > AGENT_METRICS_LE_MAX_LOG2)
		return AGENT_METRICS_LE_BOUNDS;
	return log2_ceil - AGENT_METRICS_LE_MIN_LOG2;
}

int agent_metrics_add_delta(struct agent_metrics *m, const char *group,
			    const char *metric, const struct hist *delta)
{
	unsigned int sub_bits, d;
	uint32_t index = 0;
	uint64_t count;
	struct mgroup *g;
	struct mhist *h;
	int rc;

	if (!m)
		return 0;
	metric = metric_or_rtt(metric);
	for (d = 0; d < DISTS && strcmp(dists[d].metric, metric) != 0; d++)
		;
	if (d == DISTS)
		return 0;
	sub_bits = hist_sub_bits(delta);
	if (sub_bits != m->cfg.sub_bits)
		return -EINVAL;
	g = group_get(m, group, &rc);
	if (!g) {
		if (rc == -ENOSPC)
			m->groups_dropped_samples += hist_count(delta);
		return rc;
	}
	h = &g->h[d];
	while (hist_next_slot(delta, &index, &count)) {
		h->bins[bin_of(bucket_hi(index, sub_bits))] += count;
		index++;
	}
	h->count += hist_count(delta);
	h->sum += hist_sum_us(delta);
	return 0;
}

int agent_metrics_add_counters(struct agent_metrics *m, const char *group,
			       const struct counter_set *delta)
{
	struct mgroup *g;
	int rc;

	if (!m)
		return 0;
	g = group_get(m, group, &rc);
	if (!g)
		return rc;
	for (size_t i = 0; i < delta->n && rc == 0; i++)
		if (delta->v[i].value)
			rc = counter_set_add(&g->counters, delta->v[i].name,
					     delta->v[i].value);
	return rc;
}

/* Quantiles of one record's digest, in seconds; 0 when it decodes. */
static int record_quantiles(const struct store_record *r, double *q_s)
{
	struct tdigest *td = NULL;
	size_t i;

	if (codec_decode(r->digest, r->digest_len, &td, NULL) != 0)
		return -EINVAL;
	for (i = 0; i < NQUANTILES; i++)
		q_s[i] = tdigest_quantile(td, quantiles[i]) / 1e6;
	tdigest_free(td);
	return 0;
}

void agent_metrics_note_records(struct agent_metrics *m,
				const struct store_record *recs, size_t n)
{
	double q_s[NQUANTILES];
	struct mgroup *g;
	size_t i;
	int rc;

	if (!m)
		return;
	for (i = 0; i < n; i++) {
		const struct store_record *r = &recs[i];

		if (r->period_s != m->cfg.period_s || r->count == 0 ||
		    r->start_s < m->last_start_s ||
		    strcmp(metric_or_rtt(r->metric), METRIC_RTT) != 0)
			continue;
		if (record_quantiles(r, q_s))
			continue;
		g = group_get(m, r->group, &rc);
		if (!g)
			continue;
		memcpy(g->last_q_s, q_s, sizeof(q_s));
		g->last_start_s = r->start_s;
		m->last_start_s = r->start_s;
	}
}

void agent_metrics_retire(struct agent_metrics *m, const char *group)
{
	struct mgroup *g = m ? group_find(m, group) : NULL;

	if (g)
		g->retired = true;
}

void agent_metrics_forget_retired(struct agent_metrics *m)
{
	size_t r, w = 0;

	if (!m)
		return;
	/* Keep the order of first sight; the index follows the array. */
	for (r = 0; r < m->n; r++) {
		if (m->groups[r].retired) {
			free(m->groups[r].name);
			counter_set_free(&m->groups[r].counters);
			continue;
		}
		m->groups[w++] = m->groups[r];
	}
	if (w == m->n)
		return;
	m->n = w;
	name_table_clear(&m->names);
	for (r = 0; r < m->n; r++)
		name_table_add(&m->names, m->groups[r].name, (uint32_t)r);
}

void agent_metrics_note_drain(struct agent_metrics *m, int rc)
{
	if (!m)
		return;
	m->drains++;
	if (rc < 0)
		m->drain_errors++;
}

/* -------------------------------------------------------------------------
 * Exposition (text format 0.0.4)
 * ------------------------------------------------------------------------- */

/* 2^k sample units as a decimal of @digits places without trailing
 * zeros: 2^4 us is "0.000016" s, 2^20 us is "1.048576". */
static void format_bound(char *out, size_t size, unsigned int k,
			 unsigned int digits)
{
	unsigned long v = 1ul << k, one = (unsigned long)unit_scale(digits);
	size_t len;

	snprintf(out, size, "%lu.%0*lu", v / one, (int)digits, v % one);
	len = strlen(out);
	while (out[len - 1] == '0')
		out[--len] = '\0';
	if (out[len - 1] == '.')
		out[--len] = '\0';
}

/* One family per distribution.  rtt lists every group, as it always did;
 * the others only the groups that have samples of them (a kernel without
 * them, or a group only listening, shows none; runqlat is "all" only). */
static void put_histograms(FILE *f, const struct agent_metrics *m)
{
	char bounds[AGENT_METRICS_LE_BOUNDS][24];
	const char *le[AGENT_METRICS_LE_BOUNDS];
	size_t i, k;
	unsigned int d;

	for (d = 0; d < DISTS; d++) {
		for (k = 0; k < AGENT_METRICS_LE_BOUNDS; k++) {
			format_bound(bounds[k], sizeof(bounds[k]),
				     (unsigned int)(AGENT_METRICS_LE_MIN_LOG2 + k),
				     dists[d].digits);
			le[k] = bounds[k];
		}
		prom_family(f, dists[d].family, "histogram", dists[d].help);
		/* The last bin (above every bound) is the +Inf bucket. */
		for (i = 0; i < m->n; i++) {
			const struct mgroup *g = &m->groups[i];
			const struct mhist *h = &g->h[d];
			struct prom_label group = { "group", g->name };

			if (d != DIST_RTT && h->count == 0)
				continue;
			prom_histogram(f, dists[d].family, &group, le, h->bins,
				       AGENT_METRICS_LE_BOUNDS,
				       h->sum / unit_scale(dists[d].digits),
				       h->count);
		}
	}
}

/*
 * A summary in the Prometheus sense: the quantiles cover a recent window
 * (the last closed base period, from the t-digest the store received), while
 * _sum and _count are cumulative like those of rttq_rtt_seconds.  A group
 * with no samples in that period has no quantile lines.
 */
static void put_last_period(FILE *f, const struct agent_metrics *m)
{
	size_t i, q;

	prom_family(f, "rttq_rtt_last_period_seconds", "summary",
		    "RTT quantiles of the last closed base period (from its stored t-digest); _sum and _count since the agent started.");
	for (i = 0; i < m->n; i++) {
		const struct mgroup *g = &m->groups[i];
		struct prom_label labels[2] = { { "group", g->name },
						{ "quantile", NULL } };

		if (g->last_start_s >= 0 && g->last_start_s == m->last_start_s) {
			for (q = 0; q < NQUANTILES; q++) {
				labels[1].value = quantile_labels[q];
				prom_sample_double(f, "rttq_rtt_last_period_seconds",
						   labels, 2, g->last_q_s[q]);
			}
		}
		prom_sample_double(f, "rttq_rtt_last_period_seconds_sum",
				   labels, 1, g->h[DIST_RTT].sum / 1e6);
		prom_sample_u64(f, "rttq_rtt_last_period_seconds_count",
				labels, 1, g->h[DIST_RTT].count);
	}
	if (m->last_start_s > 0) {
		prom_family(f, "rttq_rtt_last_period_start_timestamp_seconds",
			    "gauge",
			    "Start of the last closed base period (UTC epoch seconds).");
		prom_sample_u64(f,
				"rttq_rtt_last_period_start_timestamp_seconds",
				NULL, 0, (uint64_t)m->last_start_s);
	}
}

/* 1 when kernel.bpf_stats_enabled is on, else 0. */
static int bpf_stats_enabled(void)
{
	char c = '0';
	int fd = open(BPF_STATS_SYSCTL, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (read(fd, &c, 1) != 1)
		c = '0';
	close(fd);
	return c == '1';
}

/* Run time and runs per program, labelled by attach point, so the cost
 * of each --signals family can be read apart. */
static void put_bpf_stats(FILE *f, const struct agent_metrics_health *h)
{
	struct bpf_prog_info info[AGENT_PROGS_MAX];
	int ok[AGENT_PROGS_MAX];
	int enabled = bpf_stats_enabled();
	unsigned int i, n = h->n_progs < AGENT_PROGS_MAX ? h->n_progs :
							   AGENT_PROGS_MAX;

	prom_metric_u64(f, "rttq_bpf_stats_enabled", "gauge",
			"Whether kernel.bpf_stats_enabled is 1 (BPF run time is counted).",
			(uint64_t)enabled);
	if (!enabled || n == 0)
		return;
	for (i = 0; i < n; i++) {
		__u32 len = sizeof(info[i]);

		memset(&info[i], 0, sizeof(info[i]));
		ok[i] = bpf_obj_get_info_by_fd(h->prog_fds[i], &info[i],
					       &len) == 0;
	}
	prom_family(f, "rttq_bpf_run_time_seconds_total", "counter",
		    "Time each of the collector's BPF programs ran while bpf_stats was enabled.");
	for (i = 0; i < n; i++) {
		struct prom_label l = { "program", h->prog_names[i] };

		if (ok[i])
			prom_sample_double(f, "rttq_bpf_run_time_seconds_total",
					   &l, 1,
					   (double)info[i].run_time_ns / 1e9);
	}
	prom_family(f, "rttq_bpf_run_count_total", "counter",
		    "Runs of each of the collector's BPF programs while bpf_stats was enabled.");
	for (i = 0; i < n; i++) {
		struct prom_label l = { "program", h->prog_names[i] };

		if (ok[i])
			prom_sample_u64(f, "rttq_bpf_run_count_total", &l, 1,
					info[i].run_cnt);
	}
}

/* --flow-log's totals: what a missing flow in GET /flows is owed to. */
static void put_flow_log(FILE *f, const struct agent_metrics_health *h)
{
	prom_metric_u64(f, "rttq_flow_log_read_total", "counter",
			"Closed-connection records the flow log read (--flow-log).",
			h->flows.read);
	prom_metric_u64(f, "rttq_flow_log_kept_total", "counter",
			"Closed-connection records sampled and handed to the store writer.",
			h->flows.kept);
	prom_metric_u64(f, "rttq_flow_log_refused_total", "counter",
			"Sampled closed-connection records refused because the writer was full.",
			h->flows.refused);
	prom_metric_u64(f, "rttq_flow_log_lost_total", "counter",
			"Closed-connection records lost because the ring buffer was full.",
			h->flows.lost);
}

static void put_health(FILE *f, const struct agent_metrics *m)
{
	struct agent_metrics_health h = { .spool_records = -1 };
	const struct mgroup *all = group_find(m, "all");
	struct prom_label info[2] = { { "version", NULL }, { "attach", NULL } };
	size_t i;

	if (m->cfg.health)
		m->cfg.health(&h, m->cfg.health_arg);
	info[0].value = m->cfg.version ? m->cfg.version : "unknown";
	info[1].value = h.attach ? h.attach : "none";

	/* One unlabelled value each, in this order. */
	const struct {
		const char *name, *type, *doc;
		uint64_t v;
	} rows[] = {
		{ "rttq_agent_start_time_seconds", "gauge",
		  "When the agent started (UTC epoch seconds).",
		  (uint64_t)m->start_s },
		{ "rttq_agent_events_total", "counter",
		  "RTT samples counted by the kernel program (group all).",
		  all ? all->h[DIST_RTT].count : 0 },
		{ "rttq_agent_drains_total", "counter",
		  "Reads of the kernel counters.",
		  m->drains },
		{ "rttq_agent_drain_errors_total", "counter",
		  "Reads of the kernel counters that failed.",
		  m->drain_errors },
		{ "rttq_agent_groups", "gauge",
		  "Groups held in the open period (all included).",
		  h.groups },
		{ "rttq_agent_overflow_samples_total", "counter",
		  "Samples whose group found no slot in the kernel map (counted in all only; raise --max-groups).",
		  h.overflow },
		{ "rttq_agent_groups_recycled_total", "counter",
		  "Kernel group ids given back by groups idle for --group-idle.",
		  h.groups_recycled },
		{ "rttq_agent_series_dropped_samples_total", "counter",
		  "Samples refused because --max-day-groups groups were held (seen since 00:00 UTC).",
		  h.series_dropped },
		{ "rttq_agent_metrics_dropped_samples_total", "counter",
		  "Samples of groups beyond --max-groups left out of the rttq_*_seconds histograms.",
		  m->groups_dropped_samples },
		{ "rttq_store_writes_total", "counter",
		  "Successful store writes (one per batch of records).",
		  h.store_writes },
		{ "rttq_store_write_errors_total", "counter",
		  "Store writes that failed (their records stay pending).",
		  h.store_write_errors },
		{ "rttq_store_retries_total", "counter",
		  "Store writes that retried records of a failed write.",
		  h.store_retries },
		{ "rttq_store_records_written_total", "counter",
		  "Records written to the store.",
		  h.store_records },
		{ "rttq_agent_pending_records", "gauge",
		  "Records in memory waiting for the store.",
		  h.pending_records },
		{ "rttq_agent_pending_bytes", "gauge",
		  "Digest, group and metric bytes of the pending records.",
		  h.pending_bytes },
		{ "rttq_agent_pending_dropped_records_total", "counter",
		  "Records dropped because the pending queue was full.",
		  h.pending_dropped },
	};

	prom_family(f, "rttq_agent_info", "gauge",
		    "Always 1; labels say the version and BPF attach mode.");
	prom_sample_u64(f, "rttq_agent_info", info, 2, 1);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		prom_metric_u64(f, rows[i].name, rows[i].type, rows[i].doc,
				rows[i].v);
	if (h.spool_records >= 0)
		prom_metric_u64(f, "rttq_agent_spool_records", "gauge",
				"Records in the on-disk spool waiting for the store.",
				(uint64_t)h.spool_records);
	if (h.flow_log)
		put_flow_log(f, &h);
	put_bpf_stats(f, &h);
}

/* counter_prom_group_fn over the groups in order of first sight. */
static void counters_of(size_t i, const char **group,
			const struct counter_set **counters, const void *arg)
{
	const struct agent_metrics *m = arg;

	*group = m->groups[i].name;
	*counters = &m->groups[i].counters;
}

/* prom_write_fn: the whole exposition, built on each scrape. */
static void put_exposition(FILE *f, const void *arg)
{
	const struct agent_metrics *m = arg;

	put_health(f, m);
	put_histograms(f, m);
	put_last_period(f, m);
	counter_prom_put(f, m->n, counters_of, m);
}

/* -------------------------------------------------------------------------
 * HTTP
 * ------------------------------------------------------------------------- */

static void send_text(struct evhttp_request *req, int code, const char *reason,
		      const char *text)
{
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", "text/plain; charset=utf-8");
	evbuffer_add_printf(b, "%s\n", text);
	evhttp_send_reply(req, code, reason, b);
	evbuffer_free(b);
}

/* GET or HEAD /metrics: the whole exposition, built on each scrape. */
static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct agent_metrics *m = arg;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evbuffer *b;
	char *text = NULL;
	size_t len = 0;

	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Allow", "GET, HEAD");
		send_text(req, 405, "Method Not Allowed",
			  "only GET and HEAD are served");
		return;
	}
	b = evbuffer_new();
	if (!b || prom_text_render(put_exposition, m, &text, &len) ||
	    evbuffer_add(b, text, len)) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		goto out;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "Content-Type", PROM_TEXT_CONTENT_TYPE);
	evhttp_send_reply(req, HTTP_OK, "OK", b);
out:
	free(text);
	if (b)
		evbuffer_free(b);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	send_text(req, HTTP_NOTFOUND, "Not Found",
		  "not found; metrics are at /metrics");
}

/* A listening, non-blocking socket on @l; its fd or a negative errno. */
static int listen_on(const struct netaddr_listen *l, uint16_t *port,
		     struct rttq_error *err)
{
	char where[NETADDR_TEXT_MAX];
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, rc;

	if (netaddr_sockaddr(l, &ss, &len))
		return rttq_fail(err, -EINVAL,
				 "metrics: \"%s\" is not an address", l->addr);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return rttq_fail(err, -errno, "metrics: socket: %s",
				 strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 ||
	    listen(fd, LISTEN_BACKLOG) != 0 ||
	    (rc = netaddr_local_port(fd)) < 0) {
		rc = -errno;
		close(fd);
		return rttq_fail(err, rc,
				 "metrics: cannot listen on %s: %s (use --metrics ADDR:PORT or --metrics off)",
				 netaddr_format(l->addr, l->port, where,
						sizeof(where)),
				 strerror(-rc));
	}
	*port = (uint16_t)rc;
	return fd;
}

int agent_metrics_new(struct event_base *base,
		      const struct agent_metrics_config *cfg,
		      struct agent_metrics **out, struct rttq_error *err)
{
	struct agent_metrics *m;
	int fd = -1, rc;

	*out = NULL;
	if (cfg->sub_bits < BUCKET_SUB_BITS_MIN ||
	    cfg->sub_bits > BUCKET_SUB_BITS_MAX || cfg->period_s == 0)
		return rttq_fail(err, -EINVAL,
				 "metrics: sub-bits %u or period %u s out of range",
				 cfg->sub_bits, cfg->period_s);
	m = calloc(1, sizeof(*m));
	if (!m)
		return rttq_fail(err, -ENOMEM, "metrics: out of memory");
	m->cfg = *cfg;
	m->start_s = time(NULL);
	m->last_start_s = -1;
	m->http = evhttp_new(base);
	if (!m->http) {
		rc = rttq_fail(err, -ENOMEM, "metrics: cannot create the HTTP server");
		goto fail;
	}
	evhttp_set_timeout(m->http, HTTP_TIMEOUT_S);
	evhttp_set_max_headers_size(m->http, 8192);
	evhttp_set_max_body_size(m->http, 4096);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
						    EVHTTP_REQ_POST |
						    EVHTTP_REQ_PUT |
						    EVHTTP_REQ_DELETE);
	if (evhttp_set_cb(m->http, "/metrics", on_metrics, m) != 0) {
		rc = rttq_fail(err, -ENOMEM, "metrics: cannot register /metrics");
		goto fail;
	}
	evhttp_set_gencb(m->http, on_other, m);
	fd = listen_on(&cfg->listen, &m->port, err);
	if (fd < 0) {
		rc = fd;
		goto fail;
	}
	if (!evhttp_accept_socket_with_handle(m->http, fd)) {
		close(fd);
		rc = rttq_fail(err, -ENOMEM, "metrics: cannot accept on the socket");
		goto fail;
	}
	*out = m;
	return 0;

fail:
	agent_metrics_free(m);
	return rc;
}

uint16_t agent_metrics_port(const struct agent_metrics *m)
{
	return m->port;
}

void agent_metrics_free(struct agent_metrics *m)
{
	size_t i;

	if (!m)
		return;
	if (m->http)
		evhttp_free(m->http); /* closes the bound socket */
	for (i = 0; i < m->n; i++) {
		free(m->groups[i].name);
		counter_set_free(&m->groups[i].counters);
	}
	free(m->groups);
	name_table_release(&m->names);
	free(m);
}
