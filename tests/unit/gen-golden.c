// SPDX-License-Identifier: BSD-2-Clause
/*
 * Writes the golden codec fixtures of tests/unit/golden/ (run once per
 * format version, then commit the output): valid encodings with their
 * decoded summary in expected.txt, and corrupt ones with the error each must
 * produce in invalid.txt.  test-codec-golden.c reads them back.
 *
 *     gen-golden DIR
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "codec.h"
#include "hist.h"
#include "rng.h"
#include "tdigest.h"

static const double golden_q[] = { 0.5, 0.9, 0.99, 0.999 };

/* Whole microseconds, lognormal: median 5 ms, sigma 0.8. */
static uint32_t lognormal_us(uint64_t *state)
{
	return (uint32_t)rng_lognormal(state, 5000, 0.8);
}

static int write_file(const char *dir, const char *name, const uint8_t *buf,
		      size_t len)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f) {
		fprintf(stderr, "gen-golden: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	ok = fwrite(buf, 1, len, f) == len;
	ok = !fclose(f) && ok;
	if (!ok) {
		fprintf(stderr, "gen-golden: %s: write failed\n", path);
		return -EIO;
	}
	return 0;
}

static void put_crc(uint8_t *buf, size_t len)
{
	uint32_t crc = (uint32_t)crc32(0, buf, (uInt)(len - 4));
	int i;

	for (i = 0; i < 4; i++)
		buf[len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

/* Encode @td as DIR/@name and describe its decoded summary in @expected. */
static int emit_valid(const char *dir, FILE *expected, const char *name,
		      struct tdigest *td)
{
	struct tdigest *back = NULL;
	uint8_t *buf = NULL;
	size_t len = 0, i;
	int err;

	err = codec_encode(td, &buf, &len);
	if (!err)
		err = write_file(dir, name, buf, len);
	/* The summary is what a reader of these bytes must see. */
	if (!err)
		err = codec_decode(buf, len, &back, NULL);
	if (!err) {
		fprintf(expected, "%s %llu %.17g %.17g %.17g", name,
			(unsigned long long)tdigest_count(back),
			tdigest_min(back), tdigest_max(back), tdigest_sum(back));
		for (i = 0; i < sizeof(golden_q) / sizeof(golden_q[0]); i++)
			fprintf(expected, " %.17g",
				tdigest_quantile(back, golden_q[i]));
		fputc('\n', expected);
	}
	tdigest_free(back);
	free(buf);
	return err;
}

static int emit_invalid(const char *dir, FILE *invalid, const char *name,
			const uint8_t *buf, size_t len, int code)
{
	int err = write_file(dir, name, buf, len);

	if (!err)
		fprintf(invalid, "%s %d %s\n", name, code,
			strerror(-code));
	return err;
}

/* Corrupt copies of @good (@len bytes), one per way of being wrong. */
static int emit_invalids(const char *dir, FILE *invalid, const uint8_t *good,
			 size_t len)
{
	uint8_t *b = malloc(len + 1);
	int err = 0;

	if (!b)
		return -ENOMEM;
	err = emit_invalid(dir, invalid, "bad-truncated-header.bin", good, 20,
			   -EBADMSG);
	if (!err)
		err = emit_invalid(dir, invalid, "bad-truncated-body.bin", good,
				   len / 2, -EBADMSG);
	memcpy(b, good, len);
	b[len / 3] ^= 0x04;
	if (!err)
		err = emit_invalid(dir, invalid, "bad-bitflip.bin", b, len,
				   -EBADMSG);
	memcpy(b, good, len);
	b[0] = 'H';
	b[1] = 'D';
	if (!err)
		err = emit_invalid(dir, invalid, "bad-magic.bin", b, len,
				   -EBADMSG);
	memcpy(b, good, len);
	b[2] = 2;
	put_crc(b, len);
	if (!err)
		err = emit_invalid(dir, invalid, "bad-version-2.bin", b, len,
				   -ENOTSUP);
	memcpy(b, good, len - 4);
	b[len - 4] = 0;
	put_crc(b, len + 1);
	if (!err)
		err = emit_invalid(dir, invalid, "bad-trailing-byte.bin", b,
				   len + 1, -EBADMSG);
	/* Count one higher than the weights add up to, CRC still valid. */
	memcpy(b, good, len);
	b[30]++;
	put_crc(b, len);
	if (!err)
		err = emit_invalid(dir, invalid, "bad-count.bin", b, len,
				   -EBADMSG);
	free(b);
	return err;
}

int main(int argc, char **argv)
{
	struct tdigest *td = NULL;
	struct hist *h = NULL;
	FILE *expected = NULL, *invalid = NULL;
	char path[4096];
	uint8_t *good = NULL;
	size_t len = 0, i;
	uint64_t state = 20240601;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: gen-golden DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/expected.txt", argv[1]);
	expected = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/invalid.txt", argv[1]);
	invalid = fopen(path, "w");
	if (!expected || !invalid) {
		fprintf(stderr, "gen-golden: %s: %s\n", argv[1], strerror(errno));
		err = -errno;
		goto cleanup;
	}
	fprintf(expected, "# file count min max sum p50 p90 p99 p99.9 "
		"(written by gen-golden, format version %d)\n", CODEC_VERSION);
	fprintf(invalid, "# file codec_decode() result (written by "
		"gen-golden)\n");

	err = tdigest_new(100, &td);
	if (!err)
		err = emit_valid(argv[1], expected, "v1-empty.bin", td);
	if (!err)
		err = tdigest_add(td, 4013, 1);
	if (!err)
		err = emit_valid(argv[1], expected, "v1-single.bin", td);
	tdigest_free(td);
	td = NULL;

	if (!err)
		err = tdigest_new(100, &td);
	if (!err)
		err = tdigest_add(td, 20000, 100000);
	if (!err)
		err = emit_valid(argv[1], expected, "v1-constant.bin", td);
	tdigest_free(td);
	td = NULL;

	if (!err)
		err = tdigest_new(100, &td);
	for (i = 0; !err && i < 10000; i++)
		err = tdigest_add(td, lognormal_us(&state), 1);
	if (!err)
		err = emit_valid(argv[1], expected, "v1-lognormal-1e4.bin", td);
	if (!err)
		err = codec_encode(td, &good, &len);
	if (!err)
		err = emit_invalids(argv[1], invalid, good, len);
	tdigest_free(td);
	td = NULL;

	/* The agent's path: exact histogram, then digest. */
	if (!err)
		err = hist_new(5, &h);
	for (i = 0; !err && i < 100000; i++)
		hist_record(h, lognormal_us(&state), 1);
	if (!err)
		err = tdigest_from_hist(h, 100, &td);
	if (!err)
		err = emit_valid(argv[1], expected, "v1-hist-lognormal-1e5.bin",
				 td);
	if (err)
		fprintf(stderr, "gen-golden: failed: %d %s\n", err,
			strerror(-err));
cleanup:
	if (expected && fclose(expected))
		err = -EIO;
	if (invalid && fclose(invalid))
		err = -EIO;
	free(good);
	hist_free(h);
	tdigest_free(td);
	return err != 0;
}
