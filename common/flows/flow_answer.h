/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The answer of GET /flows: the sampled closed-flow records the agents
 * stored (store_flows()), filtered by remote address, newest first, as a
 * JSON array of flow_json() objects with the host and the close time in
 * front.  Here rather than in api/ so that the record's bytes are read
 * next to the code that defines their fields.
 */
#ifndef RTTQ_FLOW_ANSWER_H
#define RTTQ_FLOW_ANSWER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "netaddr.h"
#include "error.h"
#include "flow_record.h"

struct store;
struct store_flow;

#define FLOW_ANSWER_LIMIT_DEFAULT 100
#define FLOW_ANSWER_LIMIT_MAX 10000

struct flow_answer_query {
	const char *host;          /* NULL: every host */
	int64_t from_ms, to_ms;    /* close time, UTC epoch ms, inclusive */
	struct addr_filter raddr;  /* family 0: every remote address */
	size_t limit;              /* most records answered, >= 1 */
	const atomic_bool *cancel; /* set: stop reading; may be NULL */
};

/**
 * flow_answer_json() - the records of @q as a JSON array, one object per
 * record: "host", "time" (RFC 3339 UTC with milliseconds), then
 * flow_json()'s fields.
 * @st: the store.
 * @q: what to answer.
 * @json: receives the malloc()ed text, a newline at the end.
 * @len: receives its length.
 * @records_read: receives how many records the store returned (the
 *       filtered-out ones too).
 * @err: receives a message; may be NULL.
 *
 * @return 0; -ECANCELED when @q->cancel was set; -EBADMSG for a stored
 *         record of another size than struct flow_record (written by
 *         another rttq version); -ENOMEM; the errors of store_flows().
 */
int flow_answer_json(struct store *st, const struct flow_answer_query *q,
		     char **json, size_t *len, size_t *records_read,
		     struct rttq_error *err);

/**
 * flow_record_matches() - whether @r's remote address lies in @f.
 * @f: a filter from netaddr_parse_cidr(); family 0 matches every record.
 */
int flow_record_matches(const struct flow_record *r,
			const struct addr_filter *f);

#endif /* RTTQ_FLOW_ANSWER_H */
