// SPDX-License-Identifier: BSD-2-Clause
/*
 * GET /flows's answer (flow_answer.h): the stored closed-flow records read
 * newest first, the remote-address filter applied here (the store selects
 * by host and time only), stopping at the limit, each formatted by
 * flow_json() so /flows and `rttq flows --json` share one field list.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flow_answer.h"
#include "flow_format.h"
#include "store.h"
#include "strbuf.h"
#include "timeparse.h"

#define STOP_LIMIT 1 /* the callback's "enough": not an error */

struct answer {
	const struct flow_answer_query *q;
	struct strbuf b;
	size_t n;       /* objects written */
	size_t read;    /* records the store returned */
	struct rttq_error *err;
};

int flow_record_matches(const struct flow_record *r,
			const struct addr_filter *f)
{
	uint8_t want[16];
	uint32_t mask[4];
	unsigned int bits;
	uint8_t m[16];

	if (!f->family)
		return 1;
	netaddr_mapped(f, want, &bits);
	netaddr_prefix_mask(bits, mask);
	memcpy(m, mask, sizeof(m));
	for (int i = 0; i < 16; i++)
		if ((r->raddr[i] & m[i]) != (want[i] & m[i]))
			return 0;
	return 1;
}

/* "2026-12-07T10:40:01.123Z" */
static void add_time(struct strbuf *b, int64_t ms)
{
	char text[TIMEPARSE_RFC3339_LEN];

	if (timeparse_format(ms / 1000, text, sizeof(text))) {
		strbuf_adds(b, "null");
		return;
	}
	text[strlen(text) - 1] = '\0'; /* the 'Z', put back after the ms */
	strbuf_addf(b, "\"%s.%03dZ\"", text, (int)(ms % 1000));
}

static int one_flow(const struct store_flow *f, void *arg)
{
	struct answer *a = arg;
	struct flow_record r;
	struct strbuf obj = STRBUF_INIT;

	a->read++;
	if (a->q->cancel && atomic_load(a->q->cancel))
		return rttq_fail(a->err, -ECANCELED, "flows: cancelled");
	if (f->len != sizeof(r))
		return rttq_fail(a->err, -EBADMSG,
				 "flow record of %s at %lld ms: %zu bytes, this rttq reads %zu (written by another version?)",
				 f->host, (long long)f->time_ms, f->len,
				 sizeof(r));
	memcpy(&r, f->data, sizeof(r));
	if (!flow_record_matches(&r, &a->q->raddr))
		return 0;
	strbuf_adds(&a->b, a->n ? ",\n{\"host\":" : "{\"host\":");
	flow_json_string(&a->b, f->host);
	strbuf_adds(&a->b, ",\"time\":");
	add_time(&a->b, f->time_ms);
	/* flow_json()'s fields follow, its own '{' dropped. */
	flow_json(&obj, &r, f->group);
	if (obj.oom || obj.len < 2) {
		strbuf_release(&obj);
		return rttq_fail(a->err, -ENOMEM, "out of memory");
	}
	strbuf_addc(&a->b, ',');
	strbuf_add(&a->b, obj.buf + 1, obj.len - 1);
	strbuf_release(&obj);
	return ++a->n >= a->q->limit ? STOP_LIMIT : 0;
}

int flow_answer_json(struct store *st, const struct flow_answer_query *q,
		     char **json, size_t *len, size_t *records_read,
		     struct rttq_error *err)
{
	struct answer a = { .q = q, .b = STRBUF_INIT, .err = err };
	int rc;

	*json = NULL;
	*len = 0;
	strbuf_addc(&a.b, '[');
	rc = store_flows(st, q->host, q->from_ms, q->to_ms, one_flow, &a, err);
	*records_read = a.read;
	if (rc == STOP_LIMIT)
		rc = 0;
	if (rc) {
		strbuf_release(&a.b);
		return rc;
	}
	strbuf_adds(&a.b, "]\n");
	*json = strbuf_detach(&a.b, len);
	if (!*json)
		return rttq_fail(err, -ENOMEM, "out of memory");
	return 0;
}
