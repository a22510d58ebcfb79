// SPDX-License-Identifier: BSD-2-Clause
/*
 * Prometheus text writer of common/util/prom_text.h: the exact bytes of
 * HELP/TYPE lines, escaped label values and HELP text, special values and
 * a whole histogram series, rendered through prom_text_render().
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "prom_text.h"

static void write_all(FILE *f, const void *arg)
{
	static const char *const le[] = { "0.5", "1" };
	static const uint64_t counts[] = { 2, 0 };
	const struct prom_label labels[] = { { "group", "a\"b\\c\nd" },
					     { "q", "0.5" } };

	(void)arg;
	prom_family(f, "x_total", "counter", "Back\\slash and\nnewline.");
	prom_sample_u64(f, "x_total", NULL, 0, 18446744073709551615ull);
	prom_sample_u64(f, "x_total", labels, 2, 7);
	prom_sample_double(f, "y", labels, 1, NAN);
	prom_sample_double(f, "y", NULL, 0, INFINITY);
	prom_sample_double(f, "y", NULL, 0, -INFINITY);
	prom_sample_double(f, "y", NULL, 0, 0.1 + 0.2);
	prom_metric_u64(f, "z", "gauge", "One.", 3);
	prom_histogram(f, "h", &labels[1], le, counts, 2, 4.25, 5);
	prom_histogram(f, "g", NULL, le, counts, 0, 0, 0);
}

static const char expected[] =
	"# HELP x_total Back\\\\slash and\\nnewline.\n"
	"# TYPE x_total counter\n"
	"x_total 18446744073709551615\n"
	"x_total{group=\"a\\\"b\\\\c\\nd\",q=\"0.5\"} 7\n"
	"y{group=\"a\\\"b\\\\c\\nd\"} NaN\n"
	"y +Inf\n"
	"y -Inf\n"
	"y 0.3\n"
	"# HELP z One.\n"
	"# TYPE z gauge\n"
	"z 3\n"
	"h_bucket{q=\"0.5\",le=\"0.5\"} 2\n"
	"h_bucket{q=\"0.5\",le=\"1\"} 2\n"
	"h_bucket{q=\"0.5\",le=\"+Inf\"} 5\n"
	"h_sum{q=\"0.5\"} 4.25\n"
	"h_count{q=\"0.5\"} 5\n"
	"g_bucket{le=\"+Inf\"} 0\n"
	"g_sum 0\n"
	"g_count 0\n";

int main(void)
{
	char *text = NULL;
	size_t len = 0;

	check_section("exposition bytes");
	CHECK(prom_text_render(write_all, NULL, &text, &len) == 0, "render");
	CHECK(text && len == strlen(text), "length %zu", len);
	CHECK(text && strcmp(text, expected) == 0, "got:\n%s", text);
	free(text);
	return check_report();
}
