/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Records from a BPF ring buffer: the one reader of both the
 * closed-connection records (flow_reader.c) and the sampled events
 * (event_reader.c).  Those the kernel had no room for are counted by the
 * collector (collector_flows_lost(), collector_events_lost()).
 */
#ifndef RTTQ_RING_READER_H
#define RTTQ_RING_READER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct ring_reader;

/*
 * Called with one record of @size bytes (valid only during the call).
 * Return non-zero to stop the poll (ring_reader_poll() returns it).
 */
typedef int (*ring_record_fn)(const void *data, size_t size, void *arg);

/**
 * ring_reader_open() - start reading ring buffer @ring_fd.
 * @what: what the messages start with ("flows: ring buffer flow_closed"),
 *        kept (a string that outlives the reader).
 * @out: receives the reader.
 * @err: names the step that failed.
 *
 * @return 0, -ENOMEM, or the negative errno of setting up the ring.
 */
int ring_reader_open(int ring_fd, const char *what, ring_record_fn fn,
		     void *arg, struct ring_reader **out,
		     struct rttq_error *err);

/**
 * ring_reader_poll() - wait up to @timeout_ms for records and hand each
 * to the reader's ring_record_fn, in the order written on each CPU; at
 * the timeout, those written without waking the reader.
 *
 * @return the records handled (0 on timeout), the first non-zero value
 *         of the ring_record_fn, or a negative errno (-EINTR when a
 *         signal came: not an error for a loop that checks its exit flag).
 */
int ring_reader_poll(struct ring_reader *rr, int timeout_ms,
		     struct rttq_error *err);

/** ring_reader_free() - stop and free; NULL does nothing. */
void ring_reader_free(struct ring_reader *rr);

#endif /* RTTQ_RING_READER_H */
