// SPDX-License-Identifier: BSD-2-Clause
/*
 * event_reader.h: the events ring buffer through ring_reader.h, each
 * record's kernel time (CLOCK_MONOTONIC) turned into wall-clock time by
 * the offset between the two clocks at open, its drop reason named from
 * the running kernel's BTF (collector_drop_reasons()), its group by
 * group_cache.h, and its retransmit
 * cause by rttq.h's counter order.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "collector.h"
#include "event_reader.h"
#include "flow_format.h"
#include "group_cache.h"
#include "ring_reader.h"
#include "rttq.h"

struct event_stream {
	struct ring_reader *ring;
	struct collector *c;
	events_fn fn;
	void *arg;
	int64_t realtime_off_ns;     /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	struct group_cache groups;
	char reasons[RTTQ_DROP_SLOTS][METRIC_NAME_MAX];
};

static const char *const type_names[EVENT_TYPES] = {
	[EVENT_RTT] = "rtt",
	[EVENT_RETRANS] = "retrans",
	[EVENT_DROP] = "drop",
};

/* By enum rttq_counter's first four: the causes on_retrans() gives. */
static const char *const cause_names[] = {
	[RTTQ_C_RETRANS_FAST] = "fast",
	[RTTQ_C_RETRANS_TIMEOUT] = "timeout",
	[RTTQ_C_RETRANS_TLP] = "tlp",
	[RTTQ_C_RETRANS_SYN] = "syn",
};

static const char *const proto_names[RTTQ_DROP_PROTOS] = {
	[RTTQ_DROP_TCP] = "tcp",
	[RTTQ_DROP_UDP] = "udp",
	[RTTQ_DROP_OTHER] = "other",
};

int event_type_find(const char *name)
{
	int t;

	for (t = 0; t < (int)EVENT_TYPES; t++)
		if (!strcmp(name, type_names[t]))
			return t;
	return -1;
}

static int64_t ns_of(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int on_event(const void *data, size_t size, void *ctx)
{
	struct event_stream *es = ctx;
	const struct event_record *e = data;

	if (size < sizeof(*e) || e->type >= EVENT_TYPES)
		return 0;
	return es->fn(es, e, group_cache_name(&es->groups, e->group), es->arg);
}

int event_stream_open(struct collector *c, events_fn fn, void *arg,
		      struct event_stream **out, struct rttq_error *err)
{
	struct collector_event_fds fds;
	struct event_stream *es;
	int rc;

	*out = NULL;
	if (collector_event_fds(c, &fds))
		return rttq_fail(err, -ENOENT,
				 "events: off in this collector (see its log)");
	es = calloc(1, sizeof(*es));
	if (!es)
		return rttq_fail(err, -ENOMEM, "events: out of memory");
	es->c = c;
	es->groups.c = c;
	es->fn = fn;
	es->arg = arg;
	es->realtime_off_ns = ns_of(CLOCK_REALTIME) - ns_of(CLOCK_MONOTONIC);
	collector_drop_reasons(es->reasons);
	rc = ring_reader_open(fds.ring, "events: ring buffer events", on_event,
			      es, &es->ring, err);
	if (rc) {
		free(es);
		return rc;
	}
	*out = es;
	return 0;
}

int event_stream_poll(struct event_stream *es, int timeout_ms,
		      struct rttq_error *err)
{
	group_cache_forget(&es->groups);
	return ring_reader_poll(es->ring, timeout_ms, err);
}

uint64_t event_stream_lost(const struct event_stream *es)
{
	return collector_events_lost(es->c);
}

void event_stream_free(struct event_stream *es)
{
	if (!es)
		return;
	ring_reader_free(es->ring);
	group_cache_free(&es->groups);
	free(es);
}

/* ---------------------------------------------------------------------- */
/* As users see them                                                      */
/* ---------------------------------------------------------------------- */

/* "2026-12-07T10:40:01.123456Z" of @e into @buf. */
static const char *time_text(const struct event_stream *es,
			     const struct event_record *e, char *buf,
			     size_t size)
{
	int64_t ns = (int64_t)e->ts_ns + es->realtime_off_ns;
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%06dZ",
		 (int)(ns % 1000000000 / 1000));
	return buf;
}

static const char *cause_text(uint32_t which)
{
	return which < sizeof(cause_names) / sizeof(cause_names[0]) &&
			       cause_names[which]
		       ? cause_names[which]
		       : "unknown";
}

static const char *reason_text(const struct event_stream *es,
			       uint32_t reason)
{
	return es->reasons[reason < RTTQ_DROP_UNLISTED ? reason
						       : RTTQ_DROP_UNLISTED];
}

static const char *proto_text(uint8_t proto)
{
	return proto < RTTQ_DROP_PROTOS ? proto_names[proto] : "other";
}

void event_json(struct event_stream *es, struct strbuf *b,
		const struct event_record *e, const char *group)
{
	char t[40], a[INET6_ADDRSTRLEN];

	strbuf_addf(b, "{\"time\":\"%s\",\"type\":\"%s\",\"group\":",
		    time_text(es, e, t, sizeof(t)), type_names[e->type]);
	flow_json_string(b, group);
	strbuf_addf(b, ",\"laddr\":\"%s\"",
		    flow_addr_text(e->family, e->laddr, a, sizeof(a)));
	strbuf_addf(b, ",\"lport\":%u", e->lport);
	strbuf_addf(b, ",\"raddr\":\"%s\"",
		    flow_addr_text(e->family, e->raddr, a, sizeof(a)));
	strbuf_addf(b, ",\"rport\":%u", e->rport);
	switch (e->type) {
	case EVENT_RTT:
		strbuf_addf(b, ",\"srtt_us\":%" PRIu32 ",\"jitter_us\":%" PRIu32,
			    e->value, e->value2);
		break;
	case EVENT_RETRANS:
		strbuf_addf(b, ",\"cause\":\"%s\",\"segs\":%" PRIu32,
			    cause_text(e->value2), e->value);
		break;
	default:
		strbuf_addf(b, ",\"reason\":\"%s\",\"reason_code\":%" PRIu32
			       ",\"proto\":\"%s\"",
			    reason_text(es, e->value), e->value,
			    proto_text(e->proto));
	}
	strbuf_addc(b, '}');
}

/* "10.0.0.1:443" or "[fe80::1]:443". */
static const char *endpoint(const struct event_record *e, int local,
			    char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	flow_addr_text(e->family, local ? e->laddr : e->raddr, a, sizeof(a));
	snprintf(buf, size, e->family == AF_INET6 ? "[%s]:%u" : "%s:%u",
		 e->family ? a : "-", local ? e->lport : e->rport);
	return buf;
}

void event_line(struct event_stream *es, FILE *out,
		const struct event_record *e, const char *group)
{
	char t[40], l[INET6_ADDRSTRLEN + 8], r[INET6_ADDRSTRLEN + 8];

	fprintf(out, "%s %-7s %s -> %s ", time_text(es, e, t, sizeof(t)),
		type_names[e->type], endpoint(e, 1, l, sizeof(l)),
		endpoint(e, 0, r, sizeof(r)));
	switch (e->type) {
	case EVENT_RTT:
		fprintf(out, "srtt_us=%" PRIu32 " jitter_us=%" PRIu32,
			e->value, e->value2);
		break;
	case EVENT_RETRANS:
		fprintf(out, "cause=%s segs=%" PRIu32, cause_text(e->value2),
			e->value);
		break;
	default:
		fprintf(out, "reason=%s proto=%s", reason_text(es, e->value),
			proto_text(e->proto));
	}
	fprintf(out, " group=%s\n", group);
}
