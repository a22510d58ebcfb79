/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sampled event stream of a collector opened with collector_opts.
 * events (kernel/events.h): each record with its group's name and the
 * wall-clock time it happened, and the records as users see them, one
 * line or one JSON object each.  Used by `rttq events`; read through
 * ring_reader.h like the closed-connection records.
 */
#ifndef RTTQ_EVENT_READER_H
#define RTTQ_EVENT_READER_H

#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "event_record.h"
#include "strbuf.h"

struct collector;
struct event_stream;

/*
 * Called with one event: @e as the kernel wrote it, @group its group's
 * name ("all" without --group-by and for drops, "?" when its id was
 * recycled since), valid only during the call.  Return non-zero to stop.
 */
typedef int (*events_fn)(struct event_stream *es,
			 const struct event_record *e, const char *group,
			 void *arg);

/**
 * event_stream_open() - start receiving events.
 * @c: a collector opened with events (it must outlive the stream).
 * @fn: called per event by event_stream_poll(), in the order they
 *      happened on each CPU.
 * @out: receives the stream.
 * @err: names the step that failed.
 *
 * @return 0, -ENOENT (events are off in @c), -ENOMEM, or the negative
 *         errno of setting up the ring buffer.
 */
int event_stream_open(struct collector *c, events_fn fn, void *arg,
		      struct event_stream **out, struct rttq_error *err);

/**
 * event_stream_poll() - wait up to @timeout_ms for events and hand each
 * to the stream's events_fn.
 *
 * @return the events handled (0 on timeout), the first non-zero value of
 *         the events_fn, or a negative errno (-EINTR when a signal came).
 */
int event_stream_poll(struct event_stream *es, int timeout_ms,
		      struct rttq_error *err);

/**
 * event_stream_lost() - sampled events the kernel had no room for since
 * the collector opened (the ring was full: read more often, sample less).
 */
uint64_t event_stream_lost(const struct event_stream *es);

/** event_stream_free() - stop and free; NULL does nothing. */
void event_stream_free(struct event_stream *es);

/**
 * event_type_find() - EVENT_* of type name @name ("rtt", "retrans",
 * "drop").
 *
 * @return the type, or -1 when no type has that name.
 */
int event_type_find(const char *name);

/**
 * event_json() - @e as one JSON object, no newline: "time" (UTC, µs),
 * "type", "group", "laddr", "lport", "raddr", "rport" (a drop: the
 * packet's source and destination) and the value: "srtt_us" and
 * "jitter_us" (rtt), "cause" (fast, timeout, tlp, syn) and "segs"
 * (retrans), "reason" (the kernel's drop reason name), "reason_code" and
 * "proto" (tcp, udp, other) (drop).
 * @b: receives the text.
 */
void event_json(struct event_stream *es, struct strbuf *b,
		const struct event_record *e, const char *group);

/**
 * event_line() - @e as one line of text: time, type, the connection
 * (source -> destination) and the value as key=value pairs.
 */
void event_line(struct event_stream *es, FILE *out,
		const struct event_record *e, const char *group);

#endif /* RTTQ_EVENT_READER_H */
