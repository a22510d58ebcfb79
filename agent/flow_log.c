// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq-agent's flow log (see flow_log.h): a timer on the agent's loop
 * reads the closed-connection ring, a counter keeps the configured share,
 * and each kept record goes to the writer with its close time moved from
 * the kernel's monotonic clock (bpf_ktime_get_ns()) to the wall clock.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "flow_log.h"
#include "flow_reader.h"
#include "log.h"
#include "store.h"
#include "writer.h"

#define PPM 1000000u

struct flow_log {
	struct flows_closed *fc;
	struct writer *w;
	struct event *timer;
	uint32_t ppm;
	uint32_t acc;        /* parts counted towards the next kept record */
	int64_t off_ns;      /* wall clock minus monotonic, at this read */
	uint64_t read, kept, refused;
	uint64_t lost_logged;
};

uint32_t flow_log_rate_ppm(double rate)
{
	double ppm = rate * PPM + 0.5;

	return ppm < 1 ? 1 : ppm > PPM ? PPM : (uint32_t)ppm;
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int one_closed(const struct flow_record *r, const char *group,
		      void *arg)
{
	struct flow_log *fl = arg;
	struct store_flow f;

	fl->read++;
	/* Exactly ppm of every million, spread evenly. */
	fl->acc += fl->ppm;
	if (fl->acc < PPM)
		return 0;
	fl->acc -= PPM;
	f = (struct store_flow){
		.group = group,
		.time_ms = ((int64_t)r->now_ns + fl->off_ns) / 1000000,
		.data = r,
		.len = sizeof(*r),
	};
	if (writer_submit_flows(fl->w, &f, 1))
		fl->refused++;
	else
		fl->kept++;
	return 0;
}

static void poll_ring(struct flow_log *fl)
{
	struct rttq_error err = { 0 };
	uint64_t lost;
	int rc;

	fl->off_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	rc = flows_closed_poll(fl->fc, 0, &err);
	if (rc < 0 && rc != -EINTR)
		agent_log("flow log: %s", err.msg);
	lost = flows_closed_lost(fl->fc);
	if (lost != fl->lost_logged) {
		agent_log("flow log: %llu closed-connection records lost (the ring buffer was full)",
			  (unsigned long long)(lost - fl->lost_logged));
		fl->lost_logged = lost;
	}
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	poll_ring(arg);
}

int flow_log_start(struct collector *c, uint32_t ppm, struct writer *w,
		   struct event_base *base, struct flow_log **out,
		   struct rttq_error *err)
{
	const struct timeval tv = { .tv_usec = FLOW_LOG_POLL_MS * 1000 };
	struct flow_log *fl;
	int rc;

	*out = NULL;
	fl = calloc(1, sizeof(*fl));
	if (!fl)
		return rttq_fail(err, -ENOMEM, "out of memory");
	fl->w = w;
	fl->ppm = ppm;
	rc = flows_closed_open(c, one_closed, fl, &fl->fc, err);
	if (rc) {
		free(fl);
		return rc;
	}
	fl->timer = event_new(base, -1, EV_PERSIST, on_timer, fl);
	if (!fl->timer || event_add(fl->timer, &tv)) {
		flow_log_stop(fl);
		return rttq_fail(err, -ENOMEM, "out of memory");
	}
	*out = fl;
	return 0;
}

void flow_log_get_stats(const struct flow_log *fl, struct flow_log_stats *out)
{
	*out = (struct flow_log_stats){ 0 };
	if (!fl)
		return;
	out->read = fl->read;
	out->kept = fl->kept;
	out->refused = fl->refused;
	out->lost = flows_closed_lost(fl->fc);
}

void flow_log_stop(struct flow_log *fl)
{
	if (!fl)
		return;
	if (fl->timer)
		event_free(fl->timer);
	poll_ring(fl);
	agent_log("flow log: %llu closed connections read, %llu kept, %llu dropped (writer full), %llu lost",
		  (unsigned long long)fl->read, (unsigned long long)fl->kept,
		  (unsigned long long)fl->refused,
		  (unsigned long long)flows_closed_lost(fl->fc));
	flows_closed_free(fl->fc);
	free(fl);
}
