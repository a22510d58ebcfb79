// SPDX-License-Identifier: BSD-2-Clause
/*
 * Golden files of codec format version 1 (tests/unit/golden/, made once by
 * gen-golden.c): every stored encoding must keep decoding to exactly the
 * summary and quantiles recorded beside it, and every corrupt fixture must
 * keep failing with its recorded code.  Stored data outlives code changes.
 *
 *     test-codec-golden GOLDEN_DIR
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "codec.h"
#include "tdigest.h"

static const double golden_q[] = { 0.5, 0.9, 0.99, 0.999 };
#define GOLDEN_Q_COUNT (sizeof(golden_q) / sizeof(golden_q[0]))

static int read_file(const char *dir, const char *name, uint8_t **out,
		     size_t *len)
{
	char path[4096];
	uint8_t *buf = NULL;
	long size;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET))
		goto fail;
	buf = malloc(size ? (size_t)size : 1);
	if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size)
		goto fail;
	fclose(f);
	*out = buf;
	*len = (size_t)size;
	return 0;
fail:
	free(buf);
	fclose(f);
	return -EIO;
}

/* Exact, with NaN equal to NaN (the empty digest's extremes). */
static int same(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

/* Parse " %lf" fields with strtod; 0 when all @n were there. */
static int parse_doubles(char **p, double *out, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char *end;

		errno = 0;
		out[i] = strtod(*p, &end);
		if (end == *p || errno)
			return -EINVAL;
		*p = end;
	}
	return 0;
}

static void check_valid(const char *dir, char *line, int *files)
{
	char name[256], *p;
	unsigned long long count;
	double v[3 + GOLDEN_Q_COUNT];
	struct tdigest *td = NULL;
	uint8_t *buf = NULL, *again = NULL;
	size_t len = 0, len2 = 0, i;
	int n, rc;

	if (sscanf(line, "%255s %llu%n", name, &count, &n) != 2) {
		CHECK(0, "expected.txt: cannot parse '%s'", line);
		return;
	}
	p = line + n;
	if (!CHECK(!parse_doubles(&p, v, 3 + GOLDEN_Q_COUNT),
		   "expected.txt: %s: bad numbers", name))
		return;
	if (!CHECK(!read_file(dir, name, &buf, &len), "%s: unreadable", name))
		return;
	(*files)++;
	rc = codec_decode(buf, len, &td, NULL);
	if (!CHECK(rc == 0, "%s: %s", name, strerror(-rc)))
		goto cleanup;
	CHECK(tdigest_count(td) == count, "%s: count %llu, golden %llu", name,
	      (unsigned long long)tdigest_count(td), count);
	CHECK(same(tdigest_min(td), v[0]), "%s: min %.17g, golden %.17g",
	      name, tdigest_min(td), v[0]);
	CHECK(same(tdigest_max(td), v[1]), "%s: max %.17g, golden %.17g",
	      name, tdigest_max(td), v[1]);
	CHECK(same(tdigest_sum(td), v[2]), "%s: sum %.17g, golden %.17g",
	      name, tdigest_sum(td), v[2]);
	for (i = 0; i < GOLDEN_Q_COUNT; i++)
		CHECK(same(tdigest_quantile(td, golden_q[i]), v[3 + i]),
		      "%s: q%g %.17g, golden %.17g", name, golden_q[i],
		      tdigest_quantile(td, golden_q[i]), v[3 + i]);
	/* The encoder of this build still writes these very bytes. */
	if (CHECK(codec_encode(td, &again, &len2) == 0, "%s: re-encode", name))
		CHECK(len2 == len && !memcmp(again, buf, len),
		      "%s: re-encoding differs (%zu vs %zu bytes)", name, len2,
		      len);
cleanup:
	free(again);
	free(buf);
	tdigest_free(td);
}

static void check_invalid(const char *dir, char *line, int *files)
{
	struct rttq_error err = { 0 };
	struct tdigest *td = NULL;
	char name[256];
	uint8_t *buf = NULL;
	size_t len = 0;
	int code, rc;

	if (sscanf(line, "%255s %d", name, &code) != 2) {
		CHECK(0, "invalid.txt: cannot parse '%s'", line);
		return;
	}
	if (!CHECK(!read_file(dir, name, &buf, &len), "%s: unreadable", name))
		return;
	(*files)++;
	rc = codec_decode(buf, len, &td, &err);
	CHECK(rc == code, "%s: %d (%s), golden %d (%s): %s", name, rc,
	      strerror(-rc), code, strerror(-code), err.msg);
	CHECK(!td, "%s: a digest came back", name);
	tdigest_free(td);
	free(buf);
}

static int for_each_line(const char *dir, const char *list,
			 void (*fn)(const char *, char *, int *), int *files)
{
	char path[4096], line[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, list);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		line[strcspn(line, "\n")] = '\0';
		fn(dir, line, files);
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	int valid = 0, invalid = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: test-codec-golden GOLDEN_DIR\n");
		return 2;
	}
	check_section("format 1 golden encodings decode to their summaries");
	CHECK(!for_each_line(argv[1], "expected.txt", check_valid, &valid),
	      "%s/expected.txt unreadable", argv[1]);
	CHECK(valid >= 5, "only %d golden encodings", valid);

	check_section("corrupt fixtures fail with their recorded code");
	CHECK(!for_each_line(argv[1], "invalid.txt", check_invalid, &invalid),
	      "%s/invalid.txt unreadable", argv[1]);
	CHECK(invalid >= 7, "only %d corrupt fixtures", invalid);
	printf("%d golden, %d corrupt fixtures\n", valid, invalid);
	return check_report();
}
