// SPDX-License-Identifier: BSD-2-Clause
/*
 * Sampling rates of common/util/numparse.h (`rttq events --sample`):
 * percentages and fractions to the exact share, and every refusal (0,
 * above 100 %, no unit, trailing text) naming the flag and the value.
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "check.h"
#include "numparse.h"

static void test_accepted(void)
{
	static const struct {
		const char *text;
		double want;
	} ok[] = {
		{ "1%", 0.01 }, { "100%", 1.0 }, { "0.5%", 0.005 },
		{ "1/64", 1.0 / 64 }, { "1/1", 1.0 }, { "3/4", 0.75 },
	};
	double v;
	size_t i;

	check_section("numparse_rate accepted");
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		v = -1;
		CHECK(numparse_rate("--sample", ok[i].text, &v, NULL) == 0 &&
		      fabs(v - ok[i].want) < 1e-12, "%s", ok[i].text);
	}
}

static void test_refused(void)
{
	static const char *const bad[] = {
		"0%", "0/64", "150%", "2/1", "1", "0.01", "%", "1/", "/64",
		"1%x", "1/64x", "-1%", "nan%", "inf%", "1/0", "",
	};
	struct rttq_error err = { 0 };
	double v;
	size_t i;

	check_section("numparse_rate refused");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		CHECK(numparse_rate("--sample", bad[i], &v, &err) == -EINVAL &&
		      strstr(err.msg, "--sample") && strstr(err.msg, bad[i]),
		      "'%s' refused, message names it: %s", bad[i], err.msg);
	}
}

int main(void)
{
	test_accepted();
	test_refused();
	return check_report();
}
