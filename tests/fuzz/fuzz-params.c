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
#include "check.h"
#include "fuzz.h"
#include "params.h"
#include "timeparse.h"

#define INPUT_MAX 8192

/* A refusal: a negative code and a message.  On failure REQUIRE() ends
 * the run, which libFuzzer takes as a crash and keeps the input of. */
static void check_refusal(int rc, const struct rttq_error *err,
			  const char *text)
{
	REQUIRE(rc < 0, "code %d, negative expected; input '%.200s'", rc,
		text);
	REQUIRE(err->msg[0], "refused without a message; input '%.200s'",
		text);
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
	REQUIRE(s >= 0 && s <= TIMEPARSE_MAX_S && ns >= 0 && ns <= 999999999,
		"accepted time %lld.%09ld out of range; input '%.200s'",
		(long long)s, ns, text);
	REQUIRE(timeparse_format(s, buf, sizeof(buf)) == 0,
		"accepted time does not format; input '%.200s'", text);
	REQUIRE(timeparse_time(buf, &back, &back_ns, NULL) == 0 && back == s &&
			back_ns == 0,
		"format + parse changed the time to %s; input '%.200s'", buf,
		text);
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
	REQUIRE(s > 0 && s <= TIMEPARSE_MAX_S,
		"accepted duration %lld s out of range; input '%.200s'",
		(long long)s, text);
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
	else
		REQUIRE(from_s >= 0 && from_s <= TIMEPARSE_MAX_S + 1,
			"'from' %lld out of range; input '%.200s'",
			(long long)from_s, text);
	memset(&err, 0, sizeof(err));
	rc = params_time(&q, "to", false, -1, &to_s, &err);
	if (rc)
		check_refusal(rc, &err, text);
	else
		REQUIRE(to_s >= 0 && to_s <= TIMEPARSE_MAX_S,
			"'to' %lld out of range; input '%.200s'",
			(long long)to_s, text);
	memset(&err, 0, sizeof(err));
	rc = params_text(&q, "host", 255, &v, &err);
	if (rc)
		check_refusal(rc, &err, text);
	else
		REQUIRE(!v || (*v && strlen(v) <= 255),
			"'host' accepted empty or too long; input '%.200s'",
			text);
	v = evhttp_find_header(&q, "q");
	memset(&err, 0, sizeof(err));
	rc = answer_quantiles_parse(v, &qs, &err);
	if (rc)
		check_refusal(rc, &err, text);
	else
		for (i = 0; i < qs.n; i++)
			REQUIRE(qs.q[i] >= 0 && qs.q[i] <= 1 && qs.name[i][0],
				"accepted quantile %g out of 0..1; input "
				"'%.200s'", qs.q[i], text);
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
