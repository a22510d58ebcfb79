// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of what users type at the API and `rttq query`: RFC 3339 and
 * epoch times (common/util/timeparse.c), durations, quantile lists and the JSON
 * answer's shape (common/query/answer_json.c).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer_json.h"
#include "check.h"
#include "planner.h"
#include "tdigest.h"
#include "timeparse.h"

static void time_ok(const char *text, int64_t want_s, long want_ns)
{
	struct rttq_error err = { 0 };
	int64_t s = -1;
	long ns = -1;

	CHECK(timeparse_time(text, &s, &ns, &err) == 0 && s == want_s &&
	      ns == want_ns, "'%s': got %lld.%09ld, want %lld.%09ld (%s)",
	      text, (long long)s, ns, (long long)want_s, want_ns, err.msg);
}

static void time_bad(const char *text, const char *why)
{
	struct rttq_error err = { 0 };
	int64_t s = 0;

	CHECK(timeparse_time(text, &s, NULL, &err) == -EINVAL &&
	      strstr(err.msg, why),
	      "'%s' accepted or message '%s' lacks '%s'", text, err.msg, why);
}

static void test_times(void)
{
	char buf[TIMEPARSE_RFC3339_LEN];

	time_ok("2023-11-15T00:00:00Z", 1700006400, 0);
	time_ok("2023-11-15t00:00:00z", 1700006400, 0);
	time_ok("2023-11-15T01:30:00+01:30", 1700006400, 0);
	time_ok("2023-11-14T22:00:00-02:00", 1700006400, 0);
	time_ok("2023-11-15T00:00:00.5Z", 1700006400, 500000000);
	time_ok("2023-11-15T00:00:00.123456789Z", 1700006400, 123456789);
	time_ok("1700006400", 1700006400, 0);
	time_ok("0", 0, 0);
	time_ok("1970-01-01T00:00:00Z", 0, 0);
	time_ok("2024-02-29T12:00:00Z", 1709208000, 0);
	time_ok("2000-02-29T00:00:00Z", 951782400, 0);
	time_ok("9999-12-31T23:59:59Z", TIMEPARSE_MAX_S, 0);

	time_bad("", "empty");
	time_bad("2023-02-29T00:00:00Z", "day 29");
	time_bad("2023-02-30T00:00:00Z", "day 30");
	time_bad("1900-02-29T00:00:00Z", "day 29");
	time_bad("2023-04-31T00:00:00Z", "day 31");
	time_bad("2023-13-01T00:00:00Z", "month 13");
	time_bad("2023-00-01T00:00:00Z", "month 00");
	time_bad("2023-11-15T24:00:00Z", "hour 24");
	time_bad("2023-11-15T23:60:00Z", "minute 60");
	time_bad("2023-12-31T23:59:60Z", "second 60");
	time_bad("2023-11-15T00:00:00", "'Z' or an offset");
	time_bad("2023-11-15T00:00:00Zx", "unexpected 'x'");
	time_bad("2023-11-15T00:00:00+01:00 ", "unexpected");
	time_bad("2023-11-15T00:00:00+24:00", "offset");
	time_bad("2023-11-15T00:00:00+0100", "not RFC 3339");
	time_bad("2023-11-15 00:00:00Z", "not RFC 3339");
	time_bad("2023-11-15T00:00:00.Z", "fraction");
	time_bad("2023-11-15T00:00:00.1234567890Z", "fraction");
	time_bad("1969-12-31T23:59:59Z", "before 1970");
	time_bad("1970-01-01T00:30:00+01:00", "before 1970");
	time_bad("1700006400.5", "not RFC 3339");
	time_bad("-1", "not RFC 3339");
	time_bad("99999999999999999999", "9999");
	time_bad("yesterday", "'yesterday'");

	REQUIRE_CMP(timeparse_format(1700006400, buf, sizeof(buf)), ==, 0);
	REQUIRE_STR(buf, "2023-11-15T00:00:00Z");
	REQUIRE_CMP(timeparse_format(951825599, buf, sizeof(buf)), ==, 0);
	REQUIRE_STR(buf, "2000-02-29T11:59:59Z");
	REQUIRE_CMP(timeparse_format(TIMEPARSE_MAX_S, buf, sizeof(buf)), ==, 0);
	REQUIRE_STR(buf, "9999-12-31T23:59:59Z");
	REQUIRE_CMP(timeparse_format(-1, buf, sizeof(buf)), ==, -EINVAL);
	REQUIRE(!*buf, "'%s' left in the buffer", buf);
	REQUIRE_CMP(timeparse_format(0, buf, 10), ==, -EINVAL);
}

static void test_durations(void)
{
	struct rttq_error err = { 0 };
	int64_t s = 0;

	REQUIRE_CMP(timeparse_duration("400d", &s, &err), ==, 0);
	REQUIRE_CMP(s, ==, 400 * 86400);
	REQUIRE_CMP(timeparse_duration("5s", &s, &err), ==, 0);
	REQUIRE_CMP(s, ==, 5);
	REQUIRE_CMP(timeparse_duration("60", &s, &err), ==, 0);
	REQUIRE_CMP(s, ==, 60);
	REQUIRE_CMP(timeparse_duration("1m", &s, &err), ==, 0);
	REQUIRE_CMP(s, ==, 60);
	REQUIRE_CMP(timeparse_duration("2h", &s, &err), ==, 0);
	REQUIRE_CMP(s, ==, 7200);
	REQUIRE_CMP(timeparse_duration("0", &s, &err), ==, -EINVAL);
	REQUIRE_CMP(timeparse_duration("5x", &s, &err), ==, -EINVAL);
	REQUIRE_CONTAINS(err.msg, "'5x'");
	REQUIRE_CMP(timeparse_duration("5ss", &s, &err), ==, -EINVAL);
	REQUIRE_CMP(timeparse_duration("d", &s, &err), ==, -EINVAL);
	REQUIRE_CMP(timeparse_duration("", &s, &err), ==, -EINVAL);
	REQUIRE_CMP(timeparse_duration("999999999999d", &s, &err), ==, -ERANGE);
	/* Whole seconds only: "ms" would have to be rounded. */
	REQUIRE_CMP(timeparse_duration("500ms", &s, &err), ==, -EINVAL);
	REQUIRE_CONTAINS(err.msg, "'500ms'");

	/* --interval and --group-idle: milliseconds too, same units else. */
	REQUIRE_CMP(timeparse_duration_ms("250ms", &s, &err), ==, 0);
	REQUIRE_CMP(s, ==, 250);
	REQUIRE_CMP(timeparse_duration_ms("10m", &s, &err), ==, 0);
	REQUIRE_CMP(s, ==, 600000);
	REQUIRE_CMP(timeparse_duration_ms("5", &s, &err), ==, 0);
	REQUIRE_CMP(s, ==, 5000);
	REQUIRE_CMP(timeparse_duration_ms("1d", &s, &err), ==, 0);
	REQUIRE_CMP(s, ==, 86400000);
	REQUIRE_CMP(timeparse_duration_ms("0ms", &s, &err), ==, -EINVAL);
	REQUIRE_CMP(timeparse_duration_ms("5mss", &s, &err), ==, -EINVAL);
	REQUIRE_CMP(timeparse_duration_ms("5us", &s, &err), ==, -EINVAL);
	REQUIRE_CONTAINS(err.msg, "ms, s, m, h or d");
	REQUIRE_CMP(timeparse_duration_ms("999999999999d", &s, &err), ==,
		    -ERANGE);
}

static void test_quantile_lists(void)
{
	struct answer_quantiles qs;
	struct rttq_error err = { 0 };

	REQUIRE_CMP(answer_quantiles_parse(NULL, &qs, &err), ==, 0);
	REQUIRE_CMP(qs.n, ==, 5);
	REQUIRE_STR(qs.name[0], "p50");
	REQUIRE_STR(qs.name[4], "p99");
	REQUIRE_CMP(qs.q[1], ==, 0.75);
	REQUIRE_CMP(answer_quantiles_parse("99.9,p50,99.990,0,100", &qs, &err),
		    ==, 0);
	REQUIRE_CMP(qs.n, ==, 5);
	REQUIRE_STR(qs.name[0], "p99.9");
	REQUIRE_STR(qs.name[1], "p50");
	REQUIRE_STR(qs.name[2], "p99.99");
	REQUIRE_STR(qs.name[3], "p0");
	REQUIRE_STR(qs.name[4], "p100");
	REQUIRE_CMP(fabs(qs.q[0] - 0.999), <, 1e-12);
	REQUIRE_CMP(qs.q[4], ==, 1.0);
	REQUIRE_CMP(answer_quantiles_parse("100.001", &qs, &err), ==, -EINVAL);
	REQUIRE_CONTAINS(err.msg, "above 100");
	REQUIRE_CMP(answer_quantiles_parse("50,", &qs, &err), ==, -EINVAL);
	REQUIRE_CONTAINS(err.msg, "empty");
	REQUIRE_CMP(answer_quantiles_parse("50,50.0", &qs, &err), ==, -EINVAL);
	REQUIRE_CONTAINS(err.msg, "twice");
	REQUIRE_CMP(answer_quantiles_parse("99.9999", &qs, &err), ==, -EINVAL);
	REQUIRE_CMP(answer_quantiles_parse("-1", &qs, &err), ==, -EINVAL);
	REQUIRE_CMP(answer_quantiles_parse("5e1", &qs, &err), ==, -EINVAL);
	REQUIRE_CONTAINS(err.msg, "'5e1'");
	REQUIRE_CMP(answer_quantiles_parse("1,2,3,4,5,6,7,8,9,10,11,12,13,"
					   "14,15,16,17", &qs, &err),
		    ==, -EINVAL);
}

static void test_json(void)
{
	struct planner_request req = { .period_s = 60, .from_s = 1700006400,
				       .to_s = 1700010000 };
	struct planner_answer a = { 0 };
	struct answer_quantiles qs;
	char *json = NULL;
	int i;

	planner_answer_clear(&a);
	REQUIRE_CMP(answer_quantiles_parse("50,99.9", &qs, NULL), ==, 0);
	REQUIRE_CMP(answer_quantiles_json(&a, &req, &qs, &json, NULL), ==, 0);
	REQUIRE_STR(json, "{\"agg_level\":\"1m\",\"sample_count\":0,"
		    "\"quantiles\":{},\"from\":\"2023-11-15T00:00:00Z\","
		    "\"to\":\"2023-11-15T01:00:00Z\",\"group\":\"all\","
		    "\"hosts\":0,\"records\":{\"1d\":0,\"1h\":0,"
		    "\"5m\":0,\"1m\":0},\"records_read\":0}\n");
	free(json);
	/* Only the rollup levels a base period has: 5m needs a period
	 * dividing 300 s, 1h one shorter than an hour. */
	req.period_s = 5;
	a.records[PLANNER_LEVEL_5MIN] = 7;
	REQUIRE_CMP(answer_quantiles_json(&a, &req, &qs, &json, NULL), ==, 0);
	REQUIRE_CONTAINS(json, "\"records\":{\"1d\":0,\"1h\":0,\"5m\":7,"
			 "\"5s\":0}");
	free(json);
	req.period_s = 600;
	REQUIRE_CMP(answer_quantiles_json(&a, &req, &qs, &json, NULL), ==, 0);
	REQUIRE_CONTAINS(json, "\"records\":{\"1d\":0,\"1h\":0,\"10m\":0}");
	free(json);
	req.period_s = 3600;
	REQUIRE_CMP(answer_quantiles_json(&a, &req, &qs, &json, NULL), ==, 0);
	REQUIRE_CONTAINS(json, "\"records\":{\"1d\":0,\"1h\":0}");
	free(json);
	req.period_s = 60;
	a.records[PLANNER_LEVEL_5MIN] = 0;

	/* 1..1000 ms: p50 near 500 ms, values in ms with 3 decimals. */
	REQUIRE_CMP(tdigest_new(TDIGEST_COMPRESSION_DEFAULT, &a.digest), ==, 0);
	for (i = 1; i <= 1000; i++)
		REQUIRE_CMP(tdigest_add(a.digest, i * 1000.0, 1), ==, 0);
	a.count = 1000;
	a.sum_us = 500500000.0;
	a.min_us = 1000;
	a.max_us = 1000000;
	a.hosts = 1;
	req.host = "h\"1";
	REQUIRE_CMP(answer_quantiles_json(&a, &req, &qs, &json, NULL), ==, 0);
	REQUIRE(!strncmp(json, "{\"agg_level\":\"1m\",\"sample_count\":1000,"
			 "\"quantiles\":{\"p50\":\"50", 58),
		"the answer begins %.70s", json);
	REQUIRE_CONTAINS(json, "\"host\":\"h\\\"1\"");
	REQUIRE_CONTAINS(json, "\"min_ms\":\"1.000\",\"max_ms\":\"1000.000\","
			 "\"mean_ms\":\"500.500\"");
	free(json);
	planner_answer_clear(&a);

	REQUIRE_CMP(answer_error_json("bad \"x\"\n", &json, NULL), ==, 0);
	REQUIRE_STR(json, "{\"error\":\"bad \\\"x\\\"\\n\"}\n");
	free(json);
	/* Not UTF-8: replaced, still valid JSON. */
	REQUIRE_CMP(answer_error_json("host \xff", &json, NULL), ==, 0);
	REQUIRE_STR(json, "{\"error\":\"host ?\"}\n");
	free(json);
}

int main(void)
{
	test_times();
	test_durations();
	test_quantile_lists();
	test_json();
	return check_report();
}
