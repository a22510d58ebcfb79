// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit tests of what users type at the API and `rttq query`: RFC 3339 and
 * epoch times (common/util/timeparse.c), durations, quantile lists and the JSON
 * answer's shape (common/query/answer_json.c).
 */
#undef NDEBUG
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "answer_json.h"
#include "planner.h"
#include "tdigest.h"
#include "timeparse.h"

static void time_ok(const char *text, int64_t want_s, long want_ns)
{
	struct rttq_error err = { 0 };
	int64_t s = -1;
	long ns = -1;

	if (timeparse_time(text, &s, &ns, &err) || s != want_s ||
	    ns != want_ns) {
		fprintf(stderr, "'%s': got %lld.%09ld, want %lld.%09ld (%s)\n",
			text, (long long)s, ns, (long long)want_s, want_ns,
			err.msg);
		abort();
	}
}

static void time_bad(const char *text, const char *why)
{
	struct rttq_error err = { 0 };
	int64_t s = 0;

	if (timeparse_time(text, &s, NULL, &err) != -EINVAL ||
	    !strstr(err.msg, why)) {
		fprintf(stderr, "'%s' accepted or message '%s' lacks '%s'\n",
			text, err.msg, why);
		abort();
	}
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

	assert(timeparse_format(1700006400, buf, sizeof(buf)) == 0 &&
	       !strcmp(buf, "2023-11-15T00:00:00Z"));
	assert(timeparse_format(951825599, buf, sizeof(buf)) == 0 &&
	       !strcmp(buf, "2000-02-29T11:59:59Z"));
	assert(timeparse_format(TIMEPARSE_MAX_S, buf, sizeof(buf)) == 0 &&
	       !strcmp(buf, "9999-12-31T23:59:59Z"));
	assert(timeparse_format(-1, buf, sizeof(buf)) == -EINVAL && !*buf);
	assert(timeparse_format(0, buf, 10) == -EINVAL);
}

static void test_durations(void)
{
	struct rttq_error err = { 0 };
	int64_t s = 0;

	assert(timeparse_duration("400d", &s, &err) == 0 && s == 400 * 86400);
	assert(timeparse_duration("5s", &s, &err) == 0 && s == 5);
	assert(timeparse_duration("60", &s, &err) == 0 && s == 60);
	assert(timeparse_duration("1m", &s, &err) == 0 && s == 60);
	assert(timeparse_duration("2h", &s, &err) == 0 && s == 7200);
	assert(timeparse_duration("0", &s, &err) == -EINVAL);
	assert(timeparse_duration("5x", &s, &err) == -EINVAL &&
	       strstr(err.msg, "'5x'"));
	assert(timeparse_duration("5ss", &s, &err) == -EINVAL);
	assert(timeparse_duration("d", &s, &err) == -EINVAL);
	assert(timeparse_duration("", &s, &err) == -EINVAL);
	assert(timeparse_duration("999999999999d", &s, &err) == -ERANGE);
}

static void test_quantile_lists(void)
{
	struct answer_quantiles qs;
	struct rttq_error err = { 0 };

	assert(answer_quantiles_parse(NULL, &qs, &err) == 0 && qs.n == 5);
	assert(!strcmp(qs.name[0], "p50") && !strcmp(qs.name[4], "p99"));
	assert(qs.q[1] == 0.75);
	assert(answer_quantiles_parse("99.9,p50,99.990,0,100", &qs, &err) ==
	       0);
	assert(qs.n == 5 && !strcmp(qs.name[0], "p99.9") &&
	       !strcmp(qs.name[1], "p50") && !strcmp(qs.name[2], "p99.99") &&
	       !strcmp(qs.name[3], "p0") && !strcmp(qs.name[4], "p100"));
	assert(fabs(qs.q[0] - 0.999) < 1e-12 && qs.q[4] == 1.0);
	assert(answer_quantiles_parse("100.001", &qs, &err) == -EINVAL &&
	       strstr(err.msg, "above 100"));
	assert(answer_quantiles_parse("50,", &qs, &err) == -EINVAL &&
	       strstr(err.msg, "empty"));
	assert(answer_quantiles_parse("50,50.0", &qs, &err) == -EINVAL &&
	       strstr(err.msg, "twice"));
	assert(answer_quantiles_parse("99.9999", &qs, &err) == -EINVAL);
	assert(answer_quantiles_parse("-1", &qs, &err) == -EINVAL);
	assert(answer_quantiles_parse("5e1", &qs, &err) == -EINVAL &&
	       strstr(err.msg, "'5e1'"));
	assert(answer_quantiles_parse("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,"
				      "17", &qs, &err) == -EINVAL);
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
	assert(answer_quantiles_parse("50,99.9", &qs, NULL) == 0);
	assert(answer_quantiles_json(&a, &req, &qs, &json, NULL) == 0);
	assert(!strcmp(json, "{\"agg_level\":\"1m\",\"sample_count\":0,"
			     "\"quantiles\":{},\"from\":\"2023-11-15T00:00:00Z\","
			     "\"to\":\"2023-11-15T01:00:00Z\",\"group\":\"all\","
			     "\"hosts\":0,\"records\":{\"1d\":0,\"1h\":0,"
			     "\"5m\":0,\"1m\":0},\"records_read\":0}\n"));
	free(json);
	/* Only the rollup levels a base period has: 5m needs a period
	 * dividing 300 s, 1h one shorter than an hour. */
	req.period_s = 5;
	a.records[PLANNER_LEVEL_5MIN] = 7;
	assert(answer_quantiles_json(&a, &req, &qs, &json, NULL) == 0);
	assert(strstr(json, "\"records\":{\"1d\":0,\"1h\":0,\"5m\":7,"
			    "\"5s\":0}"));
	free(json);
	req.period_s = 600;
	assert(answer_quantiles_json(&a, &req, &qs, &json, NULL) == 0);
	assert(strstr(json, "\"records\":{\"1d\":0,\"1h\":0,\"10m\":0}"));
	free(json);
	req.period_s = 3600;
	assert(answer_quantiles_json(&a, &req, &qs, &json, NULL) == 0);
	assert(strstr(json, "\"records\":{\"1d\":0,\"1h\":0}"));
	free(json);
	req.period_s = 60;
	a.records[PLANNER_LEVEL_5MIN] = 0;

	/* 1..1000 ms: p50 near 500 ms, values in ms with 3 decimals. */
	assert(tdigest_new(TDIGEST_COMPRESSION_DEFAULT, &a.digest) == 0);
	for (i = 1; i <= 1000; i++)
		assert(tdigest_add(a.digest, i * 1000.0, 1) == 0);
	a.count = 1000;
	a.sum_us = 500500000.0;
	a.min_us = 1000;
	a.max_us = 1000000;
	a.hosts = 1;
	req.host = "h\"1";
	assert(answer_quantiles_json(&a, &req, &qs, &json, NULL) == 0);
	assert(!strncmp(json, "{\"agg_level\":\"1m\",\"sample_count\":1000,"
			      "\"quantiles\":{\"p50\":\"50", 58));
	assert(strstr(json, "\"host\":\"h\\\"1\""));
	assert(strstr(json, "\"min_ms\":\"1.000\",\"max_ms\":\"1000.000\","
			    "\"mean_ms\":\"500.500\""));
	free(json);
	planner_answer_clear(&a);

	assert(answer_error_json("bad \"x\"\n", &json, NULL) == 0);
	assert(!strcmp(json, "{\"error\":\"bad \\\"x\\\"\\n\"}\n"));
	free(json);
	/* Not UTF-8: replaced, still valid JSON. */
	assert(answer_error_json("host \xff", &json, NULL) == 0);
	assert(!strcmp(json, "{\"error\":\"host ?\"}\n"));
	free(json);
}

int main(void)
{
	test_times();
	test_durations();
	test_quantile_lists();
	test_json();
	printf("ok\n");
	return 0;
}
