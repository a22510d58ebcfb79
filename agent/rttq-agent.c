// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq-agent: the per-host daemon.  Loads the BPF collector, drains its
 * counters on a libevent timer, accumulates every metric (rtt, jitter,
 * handshake histograms and the counter sets) per group into UTC-aligned
 * periods (common/series/series.h), and writes the closed periods and
 * their 5-minute, hour and day rollups to the store.  SIGTERM, SIGINT or
 * --duration end it cleanly: a last drain, the partial period and the
 * rollups as they stand are written.
 * Store writes happen on their own thread (agent/writer.h), so a slow or
 * unreachable store never delays a drain.  With --spool DIR, records the
 * store refuses overflow the in-memory queue into a checksummed file
 * (agent/spool.h), replayed oldest first once the store answers, and
 * whatever a stop cannot write waits there.  SIGHUP rereads --peer-map.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "buckets.h"
#include "cli.h"
#include "collector_opts.h"
#include "counter_set.h"
#include "kernel_budget.h"
#include "hist.h"
#include "log.h"
#include "agent_metrics.h"
#include "agent_opts.h"
#include "numparse.h"
#include "privileges.h"
#include "series.h"
#include "spool.h"
#include "flow_log.h"
#include "store.h"
#include "tdigest.h"
#include "timeparse.h"
#include "writer.h"
#include "metric.h"

/* SIGTERM: keep trying the store this long, then spool the rest. */
#define STOP_FLUSH_MS 5000
/* Ticks fire this long after each multiple of --interval, so a drain right
 * after a period boundary is attributed to the period that just ended. */
#define TICK_MARGIN_MS 20
#define LOSS_REPORT_EVERY_MS 60000
#ifndef RTTQ_VERSION
#define RTTQ_VERSION "unknown"
#endif

struct agent {
	const struct agent_opts *opts;
	struct event_base *base;
	struct store *store;
	struct collector *collector;
	struct series_table *series;
	struct agent_metrics *metrics; /* NULL with --metrics off */
	struct event *tick_ev;
	int64_t last_drain_ms;   /* end of the previous drain window */
	int64_t drain_at_s;      /* when the drain running now counts its
				  * deltas (drain_and_close()) */
	uint64_t overflow_seen;  /* collector_overflow() last reported */
	uint64_t dropped_seen;   /* series_table_dropped() last reported */
	int64_t last_loss_report_ms;
	bool verbose;            /* -v: log every write */
	struct spool *spool;     /* NULL without --spool */
	struct writer *writer;   /* owns store and spool once started */
	struct flow_log *flow_log; /* NULL without --flow-log */
	uint64_t all_records;    /* base-period records of group "all" */
	uint64_t all_samples;    /* and their samples, for the stop line */
	int exit_code;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* floor(ms / 1000), also before 1970. */
static int64_t ms_to_s(int64_t ms)
{
	return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

/* -------------------------------------------------------------------------
 * Handing records to the writer
 * ------------------------------------------------------------------------- */

/* series_emit_fn: one close's records to the writer thread. */
static int submit_records(const struct store_record *recs, size_t n,
			  void *arg)
{
	struct agent *a = arg;
	int rc;

	agent_metrics_note_records(a->metrics, recs, n);
	for (size_t i = 0; i < n; i++) {
		if (recs[i].period_s == a->opts->period_s &&
		    strcmp(recs[i].group, "all") == 0 &&
		    strcmp(metric_or_rtt(recs[i].metric), METRIC_RTT) == 0) {
			a->all_records++;
			a->all_samples += recs[i].count;
		}
	}
	rc = writer_submit(a->writer, recs, n);
	if (rc == -ENOMEM)
		agent_log("out of memory handing %zu records to the writer", n);
	/* -ENOBUFS is counted and reported by the writer. */
	return rc == -ENOMEM ? rc : 0;
}

/* Report damage the spool skipped: the records in it are lost. */
static void spool_damaged(const char *path, uint64_t offset, uint64_t bytes,
			  void *arg)
{
	agent_log("spool %s: skipping %llu damaged bytes at offset %llu (torn or corrupt frame; CRC-32 mismatch)",
		  path, (unsigned long long)bytes, (unsigned long long)offset);
}

/* -------------------------------------------------------------------------
 * Draining and periods
 * ------------------------------------------------------------------------- */

/* collector_group_fn: one group's delta of one distribution into the
 * series table and /metrics. */
static int add_group(const char *group, const char *metric,
		     const struct hist *delta, void *arg)
{
	struct agent *a = arg;
	int rc;

	agent_metrics_add_delta(a->metrics, group, metric, delta);
	rc = series_table_add_metric(a->series, group, metric, a->drain_at_s,
				     delta);
	if (rc == -ENOSPC || rc == -E2BIG)
		return 0; /* counted; reported after the drain */
	if (rc)
		agent_log("group %s: cannot add %s samples: %s", group, metric,
			  strerror(-rc));
	return rc == -ENOMEM ? rc : 0;
}

/* collector_counters_fn: one group's counters that moved, into the series
 * table and /metrics. */
static int add_counters(const char *group, const struct counter_set *delta,
			void *arg)
{
	struct agent *a = arg;
	int rc;

	agent_metrics_add_counters(a->metrics, group, delta);
	rc = series_table_add_counters(a->series, group, a->drain_at_s, delta);
	if (rc == -ENOSPC)
		return 0; /* the group's samples are counted and reported */
	if (rc)
		agent_log("group %s: cannot add counters: %s", group,
			  strerror(-rc));
	return rc == -ENOMEM ? rc : 0;
}

/* Say how many samples found no group (kernel map or series table full),
 * at most once a minute so a busy host does not flood the log. */
static void report_losses(struct agent *a, int64_t at_ms, bool final)
{
	uint64_t overflow = collector_overflow(a->collector);
	uint64_t dropped = series_table_dropped(a->series);

	if (!final && at_ms - a->last_loss_report_ms < LOSS_REPORT_EVERY_MS)
		return;
	if (overflow == a->overflow_seen && dropped == a->dropped_seen)
		return;
	a->last_loss_report_ms = at_ms;
	if (overflow > a->overflow_seen)
		agent_log("%llu RTT samples found no room for a group key in the kernel (--max-groups %u)",
			(unsigned long long)(overflow - a->overflow_seen),
			a->opts->collector.max_groups);
	if (dropped > a->dropped_seen)
		agent_log("%llu samples refused: more than %u groups held since the day began (--max-day-groups)",
			(unsigned long long)(dropped - a->dropped_seen),
			a->opts->day_groups);
	a->overflow_seen = overflow;
	a->dropped_seen = dropped;
}

/* collector_retire_fn: the group's id went back to the kernel; /metrics
 * forgets it once the close after this drain has written its period. */
static void note_retired(const char *group, void *arg)
{
	struct agent *a = arg;

	if (a->verbose)
		agent_log("group %s: no events for --group-idle, its kernel id is recycled",
			  group);
	agent_metrics_retire(a->metrics, group);
}

/*
 * Drain the kernel and close the periods that ended by @at_ms.  A drain's
 * samples arrived between the previous drain and now; they are attributed
 * to the middle of that window, which with ticks just after each multiple of
 * the interval lies inside the period they came from.
 */
static void drain_and_close(struct agent *a, int64_t at_ms)
{
	struct rttq_error err = { 0 };
	int rc;

	a->drain_at_s = ms_to_s(a->last_drain_ms +
				(at_ms - a->last_drain_ms) / 2);
	rc = collector_drain(a->collector, add_group, a, &err);
	agent_metrics_note_drain(a->metrics, rc);
	if (rc < 0)
		agent_log("drain failed: %s", err.msg[0] ? err.msg : strerror(-rc));
	else
		a->last_drain_ms = at_ms;

	rc = series_table_tick(a->series, ms_to_s(at_ms));
	if (rc)
		agent_log("closing period failed: %s (retrying next tick)",
			strerror(-rc));
	agent_metrics_forget_retired(a->metrics);

	report_losses(a, at_ms, false);
}

/* Arm the tick for the next multiple of the interval (plus a margin). */
static void schedule_tick(struct agent *a)
{
	int64_t interval_ms = a->opts->interval_ms;
	int64_t now = now_ms();
	int64_t next = (now / interval_ms + 1) * interval_ms + TICK_MARGIN_MS;
	struct timeval tv;

	if (next - now < TICK_MARGIN_MS)
		next += interval_ms;
	tv.tv_sec = (next - now) / 1000;
	tv.tv_usec = ((next - now) % 1000) * 1000;
	evtimer_add(a->tick_ev, &tv);
}

/* agent_metrics_health_fn: the agent's state, read on each scrape. */
static void fill_health(struct agent_metrics_health *h, void *arg)
{
	const struct agent *a = arg;
	struct writer_stats ws = { .spool_records = -1 };

	h->attach = collector_attach_mode(a->collector);
	h->groups = series_table_groups(a->series);
	h->overflow = collector_overflow(a->collector);
	h->groups_recycled = collector_recycled(a->collector);
	h->series_dropped = series_table_dropped(a->series);
	if (a->writer)
		writer_get_stats(a->writer, &ws);
	h->pending_records = ws.pending_records;
	h->pending_bytes = ws.pending_bytes;
	h->pending_dropped = ws.dropped;
	h->spool_records = ws.spool_records;
	h->store_writes = ws.writes;
	h->store_write_errors = ws.write_errors;
	h->store_retries = ws.retries;
	h->store_records = ws.records_written;
	h->flow_log = a->flow_log != NULL;
	flow_log_get_stats(a->flow_log, &h->flows);
	h->n_progs = collector_prog_fds(a->collector, h->prog_fds,
				       h->prog_names, AGENT_PROGS_MAX);
}

/* Serve /metrics on the agent's loop unless --metrics off.  When the
 * default address is taken (another agent, a test), measuring matters more
 * than the endpoint: say so and go on without it. */
static int start_metrics(struct agent *a)
{
	const struct agent_opts *o = a->opts;
	char where[NETADDR_TEXT_MAX];
	struct agent_metrics_config cfg = {
		.listen = o->metrics,
		.sub_bits = o->collector.sub_bits,
		.period_s = o->period_s,
		.max_groups = o->collector.max_groups,
		.version = RTTQ_VERSION,
		.health = fill_health,
		.health_arg = a,
	};
	struct rttq_error err = { 0 };
	int rc;

	if (!o->metrics_on)
		return 0;
	rc = agent_metrics_new(a->base, &cfg, &a->metrics, &err);
	if (rc && !o->metrics_given && rc != -ENOMEM) {
		agent_log("%s; running without it", err.msg);
		return 0;
	}
	if (rc) {
		agent_log("%s", err.msg);
		return rc;
	}
	agent_log("metrics at http://%s/metrics",
		  netaddr_format(o->metrics.addr,
				 agent_metrics_port(a->metrics), where,
				 sizeof(where)));
	return 0;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;

	drain_and_close(a, now_ms());
	schedule_tick(a);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;

	if (what & EV_SIGNAL)
		agent_log("%s: writing the partial period and stopping",
			strsignal((int)fd));
	else
		agent_log("--duration reached: writing the partial period and stopping");
	event_base_loopbreak(a->base);
}

/* SIGHUP: reread --peer-map; a bad file keeps the old map (the
 * collector changes nothing unless the whole file is valid). */
static void on_reload(evutil_socket_t fd, short what, void *arg)
{
	struct agent *a = arg;
	struct rttq_error err = { 0 };

	if (!a->opts->collector.peer_map) {
		agent_log("SIGHUP: nothing to reload (no --peer-map)");
		return;
	}
	if (collector_reload_peer_map(a->collector, &err))
		agent_log("SIGHUP: keeping the previous peer map: %s", err.msg);
	else
		agent_log("SIGHUP: peer map %s reloaded",
			  a->opts->collector.peer_map);
}

/* Last drain, partial period and rollups; tries until STOP_FLUSH_MS, then
 * spools what could not be written (or, without --spool, reports it). */
static int shut_down(struct agent *a)
{
	int64_t at_ms = now_ms();
	struct writer_stats ws;
	int rc;

	drain_and_close(a, at_ms);
	report_losses(a, at_ms, true);
	flow_log_stop(a->flow_log); /* its last records before the stop */
	a->flow_log = NULL;
	rc = series_table_flush(a->series, ms_to_s(at_ms));
	if (rc)
		agent_log("closing the partial period failed: %s",
			  strerror(-rc));
	switch (writer_stop(a->writer, STOP_FLUSH_MS)) {
	case WRITER_ALL_WRITTEN:
		agent_log("stopped; all records written (%llu base-period records of group \"all\", %llu samples)",
			  (unsigned long long)a->all_records,
			  (unsigned long long)a->all_samples);
		return rc ? 1 : 0;
	case WRITER_SPOOLED:
		writer_get_stats(a->writer, &ws);
		agent_log("stopped; %lld records left in the spool %s for the next start",
			  (long long)ws.spool_records, spool_path(a->spool));
		return rc ? 1 : 0;
	default:
		agent_log("stopped with records not written (no --spool)");
		return 1;
	}
}

int main(int argc, char **argv)
{
	struct agent_opts opts;
	struct agent a = { .opts = &opts, .exit_code = 1 };
	struct event *sigterm_ev = NULL, *sigint_ev = NULL, *stop_ev = NULL;
	struct event *sighup_ev = NULL;
	struct rttq_error err = { 0 };
	struct series_config scfg;
	const struct kernel_budget *budget;
	int rc;

	agent_opts_init(&opts);
	rc = agent_opts_parse(argc, argv, &opts);
	if (rc != CLI_CONTINUE)
		return rc;
	a.verbose = opts.collector.verbose;
	signal(SIGPIPE, SIG_IGN);

	scfg = (struct series_config){
		.host = opts.host,
		.period_s = opts.period_s,
		.sub_bits = opts.collector.sub_bits,
		.compression = opts.compression,
		.max_groups = opts.day_groups,
		.emit = submit_records,
		.emit_arg = &a,
	};
	if (series_table_new(&scfg, &a.series, &err)) {
		agent_log("%s", err.msg);
		goto cleanup;
	}
	/* The store first: a typo in --store should not cost a BPF load. */
	if (store_open(opts.store_url, &a.store, &err)) {
		agent_log("cannot open the store: %s", err.msg);
		goto cleanup;
	}
	if (opts.spool_dir) {
		if (spool_open(opts.spool_dir,
			       (uint64_t)opts.spool_max_mib << 20, spool_damaged,
			       &a, &a.spool, &err)) {
			agent_log("%s", err.msg);
			goto cleanup;
		}
		if (spool_records(a.spool))
			agent_log("spool %s: %llu records from an earlier run, replaying them when the store answers",
				spool_path(a.spool),
				(unsigned long long)spool_records(a.spool));
	}
	opts.collector.log = agent_log_line;
	if (collector_open(&opts.collector, &a.collector, &err)) {
		agent_log("%s", err.msg);
		goto cleanup;
	}
	collector_on_retire(a.collector, note_retired, &a);
	collector_on_counters(a.collector, add_counters, &a);
	agent_log("attached via %s; host %s, period %u s, drain every %lld ms, writing to %s",
		collector_attach_mode(a.collector), opts.host, opts.period_s,
		(long long)opts.interval_ms, opts.store_url);
	budget = collector_budget(a.collector);
	agent_log("kernel memory: %llu KiB reserved of %llu MiB on %d CPUs (%llu KiB whatever the groups, %llu bytes per group); %u groups reserved, %u fit",
		(unsigned long long)(budget->reserved + 1023) >> 10,
		(unsigned long long)budget->budget >> 20, budget->ncpus,
		(unsigned long long)(budget->fixed + 1023) >> 10,
		(unsigned long long)budget->per_group,
		opts.collector.group_by ? budget->groups : 0, budget->fit);

	a.base = event_base_new();
	if (!a.base) {
		agent_log("cannot create the event loop");
		goto cleanup;
	}
	a.tick_ev = evtimer_new(a.base, on_tick, &a);
	sigterm_ev = evsignal_new(a.base, SIGTERM, on_stop, &a);
	sigint_ev = evsignal_new(a.base, SIGINT, on_stop, &a);
	sighup_ev = evsignal_new(a.base, SIGHUP, on_reload, &a);
	if (!a.tick_ev || !sigterm_ev || !sigint_ev || !sighup_ev ||
	    event_add(sigterm_ev, NULL) || event_add(sigint_ev, NULL) ||
	    event_add(sighup_ev, NULL)) {
		agent_log("cannot register the timer and signal events");
		goto cleanup;
	}
	if (start_metrics(&a))
		goto cleanup;
	if (opts.duration_s) {
		struct timeval tv = { .tv_sec = opts.duration_s };

		stop_ev = evtimer_new(a.base, on_stop, &a);
		if (!stop_ev || evtimer_add(stop_ev, &tv)) {
			agent_log("cannot register the --duration timer");
			goto cleanup;
		}
	}

	/* Attached, store open, sockets bound: drop every capability that
	 * draining the maps does not need (agent/privileges.h). */
	{
		char line[256];

		if (privileges_drop_for_drain(collector_prog_fd(a.collector),
					      line, sizeof(line), &err)) {
			agent_log("cannot drop privileges: %s", err.msg);
			goto cleanup;
		}
		agent_log("%s", line);
	}
	/* Observation starts now (the kernel counts from the attach), rounded
	 * up to a whole second so a start 0.4 s into a period marks it
	 * partial.  No group has samples yet: this tick emits nothing. */
	a.last_drain_ms = now_ms();
	series_table_tick(a.series, ms_to_s(a.last_drain_ms + 999));

	/* After the drop: capabilities are per thread, and the writer must
	 * not keep what the loop gave up.  It replays an earlier run's spool
	 * as soon as the store answers. */
	{
		struct writer_config wcfg = {
			.store = a.store,
			.spool = a.spool,
			.host = opts.host,
			.queue_max = opts.queue_max,
			/* A failing store is tried at most once a
			 * second, however short the drain interval. */
			.retry_ms = opts.interval_ms < 1000
					    ? 1000
					    : (uint32_t)opts.interval_ms,
			.first_start_s = series_table_open_start(a.series),
			.verbose = a.verbose,
		};

		if (writer_start(&wcfg, &a.writer, &err)) {
			agent_log("%s", err.msg);
			goto cleanup;
		}
	}
	if (opts.flow_log_ppm &&
	    flow_log_start(a.collector, opts.flow_log_ppm, a.writer, a.base,
			   &a.flow_log, &err)) {
		agent_log("--flow-log: %s", err.msg);
		goto cleanup;
	}

	schedule_tick(&a);

	if (event_base_dispatch(a.base) < 0) {
		agent_log("event loop failed");
		goto cleanup;
	}
	a.exit_code = shut_down(&a);

cleanup:
	if (stop_ev)
		event_free(stop_ev);
	if (sighup_ev)
		event_free(sighup_ev);
	if (sigint_ev)
		event_free(sigint_ev);
	if (sigterm_ev)
		event_free(sigterm_ev);
	if (a.tick_ev)
		event_free(a.tick_ev);
	/* Before the loop its timer is on and the writer it submits to. */
	flow_log_stop(a.flow_log);
	agent_metrics_free(a.metrics);
	if (a.base)
		event_base_free(a.base);
	writer_free(a.writer); /* before the store and spool it writes */
	collector_close(a.collector);
	store_close(a.store);
	series_table_free(a.series);
	spool_close(a.spool);
	return a.exit_code;
}
