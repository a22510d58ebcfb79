// SPDX-License-Identifier: BSD-2-Clause
/*
 * libFuzzer target for what rttq-api reads from a URL: the query string
 * (api/params.c on libevent's decoder), then times, durations, text and
 * quantile lists (common/util/timeparse.c, common/query/answer_json.c).  Whatever the
 * bytes, nothing may crash, leak or hang; a refusal must come with a
 * message; an accepted time must be in range and survive format + parse.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "answer_json.h"
#include "fuzz.h"
#include "params.h"
#include "timeparse.h"

#define INPUT_MAX 8192

static void fail(const char *why, const char *text)
{
	fprintf(stderr, "fuzz-params: %s; input: '%.200s'\n", why, text);
	abort();
}

static void check_refusal(int rc, const struct rttq_error *err,
			  const char *text)
{
	if (rc >= 0)
		fail("negative code expected", text);
	if (!err->msg[0])
		fail("refused without a message", text);
}

/* An accepted time lies in [0, TIMEPARSE_MAX_S] and formats back to
 * itself. */
static void check_time(const char *text)
{
	char buf[TIMEPARSE_RFC3339_LEN];
	struct rttq_error err = { 0 };
	int64_t s = -1, back = -1;
	long ns = -1, back_ns = -1;
	int rc = timeparse_time(text, &s, &ns, &err);

	if (rc) {
		check_refusal(rc, &err, text);
		return;
	}
	if (s < 0 || s > TIMEPARSE_MAX_S || ns < 0 || ns > 999999999)
		fail("accepted time out of range", text);
	if (timeparse_format(s, buf, sizeof(buf)))
		fail("accepted time does not format", text);
	if (timeparse_time(buf, &back, &back_ns, NULL) || back != s ||
	    back_ns != 0)
		fail("format + parse changed the time", text);
}

static void check_duration(const char *text)
{
	struct rttq_error err = { 0 };
	int64_t s = -1;
	int rc = timeparse_duration(text, &s, &err);

	if (rc) {
		check_refusal(rc, &err, text);
		return;
	}
	if (s <= 0 || s > TIMEPARSE_MAX_S)
		fail("accepted duration out of range", text);
}

static void check_query(const char *text)
{
	static const char *const allowed[] = { "from", "to", "host", "group",
					       "q", "step", NULL };
	struct answer_quantiles qs;
	struct rttq_error err = { 0 };
	struct evkeyvalq q;
	const char *v = NULL;
	int64_t from_s = -1, to_s = -1;
	int rc;
	size_t i;

	rc = params_parse_query(text, allowed, &q, &err);
	if (rc) {
		check_refusal(rc, &err, text);
		goto done;
	}
	memset(&err, 0, sizeof(err));
	rc = params_time(&q, "from", true, 0, &from_s, &err);
	if (rc)
		check_refusal(rc, &err, text);
	else if (from_s < 0 || from_s > TIMEPARSE_MAX_S + 1)
		fail("'from' out of range", text);
	memset(&err, 0, sizeof(err));
	rc = params_time(&q, "to", false, -1, &to_s, &err);
	if (rc)
		check_refusal(rc, &err, text);
	else if (to_s < 0 || to_s > TIMEPARSE_MAX_S)
		fail("'to' out of range", text);
	memset(&err, 0, sizeof(err));
	rc = params_text(&q, "host", 255, &v, &err);
	if (rc)
		check_refusal(rc, &err, text);
	else if (v && (!*v || strlen(v) > 255))
		fail("'host' accepted empty or too long", text);
	v = evhttp_find_header(&q, "q");
	memset(&err, 0, sizeof(err));
	rc = answer_quantiles_parse(v, &qs, &err);
	if (rc)
		check_refusal(rc, &err, text);
	else
		for (i = 0; i < qs.n; i++)
			if (!(qs.q[i] >= 0 && qs.q[i] <= 1) || !qs.name[i][0])
				fail("accepted quantile out of 0..1", text);
	v = evhttp_find_header(&q, "step");
	if (v)
		check_duration(v);
done:
	evhttp_clear_headers(&q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (size > INPUT_MAX)
		return 0;
	/* The parsers take C strings: stop at the first NUL like a URL
	 * decoder's caller would. */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_query(text);
	check_time(text);
	check_duration(text);
	free(text);
	return 0;
}
