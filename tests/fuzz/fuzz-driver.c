// SPDX-License-Identifier: BSD-2-Clause
/*
 * Runs the codec fuzz target without libFuzzer, so every CI build exercises
 * it: each file of a corpus folder as is, then deterministic pseudo-random
 * mutations of it (bit flips, byte writes, cuts, inserts, duplicated runs).
 *
 *     fuzz-driver CORPUS_DIR [MUTATIONS_PER_FILE]
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fuzz.h"
#include "rng.h"

#define INPUT_MAX 4096

static size_t pick(uint64_t *state, size_t n)
{
	return n ? (size_t)(rng_xorshift64star(state) % n) : 0;
}

/* One to four random edits of @buf (@len bytes, room for INPUT_MAX). */
static size_t mutate(uint8_t *buf, size_t len, uint64_t *state)
{
	size_t edits = 1 + pick(state, 4), e;

	for (e = 0; e < edits; e++) {
		size_t at = pick(state, len), n;

		switch (pick(state, 5)) {
		case 0:
			if (len)
				buf[at] ^= (uint8_t)(1u << pick(state, 8));
			break;
		case 1:
			if (len)
				buf[at] = (uint8_t)rng_xorshift64star(state);
			break;
		case 2:
			len = at;
			break;
		case 3:
			if (len < INPUT_MAX) {
				memmove(buf + at + 1, buf + at, len - at);
				buf[at] = (uint8_t)rng_xorshift64star(state);
				len++;
			}
			break;
		default:
			n = 1 + pick(state, 16);
			if (at + n <= len && len + n <= INPUT_MAX) {
				memmove(buf + at + n, buf + at, len - at);
				len += n;
			}
			break;
		}
	}
	return len;
}

static int read_input(const char *dir, const char *name, uint8_t *buf,
		      size_t *len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return -errno;
	*len = fread(buf, 1, INPUT_MAX, f);
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t *seed = NULL, *buf = NULL;
	unsigned long per_file = 40, runs = 0, files = 0, m;
	uint64_t state = 0x5eedc0dec0ffee11ull;
	struct dirent *de;
	DIR *dir = NULL;
	int err = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: fuzz-driver CORPUS_DIR "
			"[MUTATIONS_PER_FILE]\n");
		return 2;
	}
	if (argc == 3) {
		char *end;

		errno = 0;
		per_file = strtoul(argv[2], &end, 10);
		if (errno || end == argv[2] || *end || per_file > 1000000) {
			fprintf(stderr, "fuzz-driver: bad count '%s'\n",
				argv[2]);
			return 2;
		}
	}
	seed = malloc(INPUT_MAX);
	buf = malloc(INPUT_MAX);
	dir = opendir(argv[1]);
	if (!seed || !buf || !dir) {
		fprintf(stderr, "fuzz-driver: %s: %s\n", argv[1],
			strerror(errno));
		goto cleanup;
	}
	while ((de = readdir(dir))) {
		size_t len;

		if (de->d_name[0] == '.' ||
		    read_input(argv[1], de->d_name, seed, &len))
			continue;
		files++;
		LLVMFuzzerTestOneInput(seed, len);
		runs++;
		for (m = 0; m < per_file; m++) {
			size_t n;

			memcpy(buf, seed, len);
			n = mutate(buf, len, &state);
			LLVMFuzzerTestOneInput(buf, n);
			runs++;
		}
	}
	printf("fuzz-driver: %lu files, %lu inputs, no invariant broken\n",
	       files, runs);
	CHECK(files > 0, "no input files in %s", argv[1]);
	err = check_report();
cleanup:
	if (dir)
		closedir(dir);
	free(seed);
	free(buf);
	return err;
}
