/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-connection statistics from the kernel (kernel/flows.h) through a
 * collector opened with collector_opts.flows: every live connection of
 * every network namespace (the iter/tcp program sees only the reader's,
 * so the reader enters each in turn), and a record per connection as it
 * closes, from the flow_closed ring buffer.  Used by `rttq flows`.
 */
#ifndef RTTQ_FLOW_READER_H
#define RTTQ_FLOW_READER_H

#include <stdint.h>

#include "error.h"
#include "flow_record.h"

struct collector;
struct flows_closed;

/*
 * Called with one connection: @r as the kernel wrote it, @group its
 * group's name ("all" without --group-by, "?" when its id was recycled
 * since), both valid only during the call.  Return non-zero to stop.
 */
typedef int (*flows_fn)(const struct flow_record *r, const char *group,
			void *arg);

/**
 * flows_live() - every live connection (listeners, request and time-wait
 * sockets aside) in the collector's filters, of every network namespace
 * a process is in or /run/netns names, each namespace once.
 * @c: a collector opened with flows.
 * @fn: called per connection, in no particular order.
 * @skipped: receives how many namespaces could not be entered (gone by
 *           then, or entering refused); may be NULL.
 * @err: names the step that failed.
 *
 * @return 0, the first non-zero value of @fn, -ENOENT (flows are off in
 *         @c), or the negative errno of opening our own namespace,
 *         reading an iterator or getting back into our namespace.
 */
int flows_live(struct collector *c, flows_fn fn, void *arg,
	       unsigned int *skipped, struct rttq_error *err);

/**
 * flows_closed_open() - start receiving closed-connection records.
 * @c: a collector opened with flows (it must outlive the reader).
 * @fn: called per record by flows_closed_poll(), in the order they closed
 *      on each CPU.
 * @out: receives the reader.
 * @err: names the step that failed.
 *
 * @return 0, -ENOENT (flows are off in @c), -ENOMEM, or the negative
 *         errno of setting up the ring buffer.
 */
int flows_closed_open(struct collector *c, flows_fn fn, void *arg,
		      struct flows_closed **out, struct rttq_error *err);

/**
 * flows_closed_poll() - wait up to @timeout_ms for records and hand each
 * to the reader's flows_fn.
 *
 * @return the records handled (0 on timeout), the first non-zero value
 *         of the flows_fn, or a negative errno (-EINTR when a signal came:
 *         not an error for a loop that checks its exit flag).
 */
int flows_closed_poll(struct flows_closed *fc, int timeout_ms,
		      struct rttq_error *err);

/**
 * flows_closed_lost() - records the kernel had no room for since the
 * collector opened (the ring was full: read more often).
 */
uint64_t flows_closed_lost(const struct flows_closed *fc);

/** flows_closed_free() - stop and free; NULL does nothing. */
void flows_closed_free(struct flows_closed *fc);

#endif /* RTTQ_FLOW_READER_H */
