// SPDX-License-Identifier: BSD-2-Clause
/*
 * ring_reader.h: libbpf's ring_buffer, read the same way for every
 * stream from the kernel, records written without a wakeup included.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "ring_reader.h"

struct ring_reader {
	struct ring_buffer *ring;
	const char *what;
	ring_record_fn fn;
	void *arg;
};

static int on_record(void *ctx, void *data, size_t size)
{
	struct ring_reader *rr = ctx;

	return rr->fn(data, size, rr->arg);
}

int ring_reader_open(int ring_fd, const char *what, ring_record_fn fn,
		     void *arg, struct ring_reader **out,
		     struct rttq_error *err)
{
	struct ring_reader *rr;
	int rc;

	*out = NULL;
	rr = calloc(1, sizeof(*rr));
	if (!rr)
		return rttq_fail(err, -ENOMEM, "%s: out of memory", what);
	rr->what = what;
	rr->fn = fn;
	rr->arg = arg;
	rr->ring = ring_buffer__new(ring_fd, on_record, rr, NULL);
	if (!rr->ring) {
		rc = -errno;
		free(rr);
		return rttq_fail(err, rc, "%s: %s", what, strerror(-rc));
	}
	*out = rr;
	return 0;
}

int ring_reader_poll(struct ring_reader *rr, int timeout_ms,
		     struct rttq_error *err)
{
	int rc = ring_buffer__poll(rr->ring, timeout_ms);

	/* Writers may skip the wakeup until a batch is there (kernel/
	 * events.h): what came without one is read at the timeout. */
	if (rc == 0)
		rc = ring_buffer__consume(rr->ring);
	if (rc < 0 && rc != -EINTR)
		return rttq_fail(err, rc, "%s: reading: %s", rr->what,
				 strerror(-rc));
	return rc;
}

void ring_reader_free(struct ring_reader *rr)
{
	if (!rr)
		return;
	ring_buffer__free(rr->ring);
	free(rr);
}
