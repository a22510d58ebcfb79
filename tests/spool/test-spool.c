// SPDX-License-Identifier: BSD-2-Clause
/*
 * Unit test of rttq-agent's disk spool (agent/spool.c): append and replay
 * round-trip every field, a refused batch stays (and later appends land
 * after it), torn tails and damaged middle frames are skipped without
 * hiding intact frames, empty and unusable directories; every record keeps
 * its metric, and frames of version 1 (before metrics, as an older agent
 * left them) replay as rtt before the version 2 frames appended after them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "check.h"
#include "metric.h"
#include "spool.h"
#include "store.h"

/* Metrics of the sequence: NULL is written as, and replays as, "rtt". */
static const char *const metrics[] = { NULL, METRIC_JITTER, METRIC_COUNTERS,
				       METRIC_HANDSHAKE };

/* Record @i of a deterministic sequence; @buf holds its digest and group. */
struct rec_buf {
	char group[64];
	uint8_t digest[16];
};

static struct store_record make_rec(unsigned int i, struct rec_buf *b)
{
	size_t len = i % 7 + 1;

	snprintf(b->group, sizeof(b->group), i % 3 ? "raddr:10.0.0.%u" : "all",
		 i);
	for (size_t k = 0; k < len; k++)
		b->digest[k] = (uint8_t)(i * 31 + k);
	return (struct store_record){
		.host = "host-a",
		.group = b->group,
		.metric = metrics[i % 4],
		.period_s = 5,
		.start_s = 1700000000 + 5 * (int64_t)i,
		.periods = 1,
		.periods_total = 1,
		.count = 1000 + i,
		.sum_us = 123.25 * i,
		.min_us = 0.1 + i,
		.max_us = 1e9 + i,
		.digest = b->digest,
		.digest_len = len,
	};
}

static void append_range(struct spool *sp, unsigned int from, unsigned int to)
{
	struct rttq_error err = { 0 };

	for (unsigned int i = from; i < to; i++) {
		struct rec_buf b;
		struct store_record r = make_rec(i, &b);
		int rc = spool_append(sp, &r, 1, &err);

		CHECK(rc == 0, "append %u: %s", i, err.msg);
	}
}

/* What a replay saw: sequence numbers in order, and where to refuse. */
struct seen {
	unsigned int ids[4096];
	size_t n;
	size_t batches;
	size_t refuse_batch; /* 1-based batch to refuse; 0: none */
	unsigned int v1_below; /* records below this were version 1: rtt */
	size_t damage_calls;
	uint64_t damage_bytes;
};

static int on_batch(const struct store_record *recs, size_t n, void *arg)
{
	struct seen *s = arg;

	s->batches++;
	if (s->refuse_batch && s->batches == s->refuse_batch)
		return -EIO;
	for (size_t k = 0; k < n; k++) {
		unsigned int i = (unsigned int)((recs[k].start_s - 1700000000) / 5);
		struct rec_buf b;
		struct store_record want = make_rec(i, &b);
		const struct store_record *r = &recs[k];

		if (s->v1_below && i < s->v1_below)
			want.metric = METRIC_RTT;
		CHECK(strcmp(r->host, want.host) == 0 &&
			      strcmp(r->group, want.group) == 0 &&
			      strcmp(r->metric,
				     metric_or_rtt(want.metric)) == 0 &&
			      r->period_s == want.period_s &&
			      r->periods == want.periods &&
			      r->periods_total == want.periods_total &&
			      r->count == want.count &&
			      r->sum_us == want.sum_us &&
			      r->min_us == want.min_us &&
			      r->max_us == want.max_us &&
			      r->digest_len == want.digest_len &&
			      memcmp(r->digest, want.digest, r->digest_len) == 0,
		      "record %u differs after the round trip", i);
		if (s->n < sizeof(s->ids) / sizeof(s->ids[0]))
			s->ids[s->n++] = i;
	}
	return 0;
}

static void on_damage(const char *path, uint64_t offset, uint64_t bytes,
		      void *arg)
{
	struct seen *s = arg;

	printf("damage in %s: %llu bytes at %llu\n", path,
	       (unsigned long long)bytes, (unsigned long long)offset);
	s->damage_calls++;
	s->damage_bytes += bytes;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : -1;
}

static void expect_ids(const struct seen *s, const unsigned int *want,
		       size_t n, const char *what)
{
	CHECK(s->n == n, "%s: replayed %zu records, want %zu", what, s->n, n);
	for (size_t k = 0; k < n && k < s->n; k++)
		CHECK(s->ids[k] == want[k], "%s: record %zu is #%u, want #%u",
		      what, k, s->ids[k], want[k]);
}

static void make_dir(char *tmpl)
{
	REQUIRE(mkdtemp(tmpl), "mkdtemp %s: %s", tmpl, strerror(errno));
}

static void remove_dir(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* A missing directory is created; an empty spool replays nothing. */
static void test_empty(const char *root)
{
	struct rttq_error err = { 0 };
	struct seen s = { 0 };
	struct spool *sp = NULL;
	char dir[512];
	struct stat st;
	int rc;

	snprintf(dir, sizeof(dir), "%s/new", root);
	rc = spool_open(dir, 0, on_damage, &s, &sp, &err);
	CHECK(rc == 0, "open %s: %s", dir, err.msg);
	if (rc)
		return;
	CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700,
	      "%s not created with mode 0700", dir);
	CHECK(spool_records(sp) == 0, "new spool holds %llu records",
	      (unsigned long long)spool_records(sp));
	CHECK(spool_replay(sp, on_batch, &s, &err) == 0, "replay: %s", err.msg);
	CHECK(s.batches == 0, "empty spool called back %zu times", s.batches);
	spool_close(sp);
}

/* Append, reopen, replay in order, file emptied; a refused batch and
 * everything after it stay, and appends after that land behind them. */
static void test_round_trip(const char *root)
{
	struct rttq_error err = { 0 };
	struct seen s = { 0 };
	struct spool *sp = NULL;
	unsigned int want[4096];
	char dir[512], path[600];
	int rc;

	snprintf(dir, sizeof(dir), "%s/rt", root);
	snprintf(path, sizeof(path), "%s/%s", dir, SPOOL_FILE_NAME);
	CHECK(spool_open(dir, 0, on_damage, &s, &sp, &err) == 0, "open: %s", err.msg);
	if (!sp)
		return;
	append_range(sp, 0, 3);
	spool_close(sp);

	CHECK(spool_open(dir, 0, on_damage, &s, &sp, &err) == 0, "reopen: %s",
	      err.msg);
	if (!sp)
		return;
	CHECK(spool_records(sp) == 3, "reopened spool holds %llu, want 3",
	      (unsigned long long)spool_records(sp));
	CHECK(spool_replay(sp, on_batch, &s, &err) == 0, "replay: %s", err.msg);
	for (unsigned int i = 0; i < 3; i++)
		want[i] = i;
	expect_ids(&s, want, 3, "three records");
	CHECK(spool_records(sp) == 0 && file_size(path) == 0,
	      "after a full replay: %llu records, %lld bytes",
	      (unsigned long long)spool_records(sp), (long long)file_size(path));

	/* 1200 records: batches of SPOOL_BATCH_MAX; refuse the second. */
	append_range(sp, 100, 100 + 1200);
	memset(&s, 0, sizeof(s));
	s.refuse_batch = 2;
	rc = spool_replay(sp, on_batch, &s, &err);
	CHECK(rc == -EIO, "refused replay returned %d, want -EIO", rc);
	CHECK(s.n == SPOOL_BATCH_MAX, "first batch had %zu records", s.n);
	CHECK(spool_records(sp) == 1200 - SPOOL_BATCH_MAX,
	      "after refusal %llu records left, want %d",
	      (unsigned long long)spool_records(sp), 1200 - SPOOL_BATCH_MAX);
	append_range(sp, 2000, 2003);
	spool_close(sp);

	memset(&s, 0, sizeof(s));
	CHECK(spool_open(dir, 0, on_damage, &s, &sp, &err) == 0, "reopen: %s",
	      err.msg);
	if (!sp)
		return;
	CHECK(spool_records(sp) == 1200 - SPOOL_BATCH_MAX + 3,
	      "reopened after refusal: %llu records",
	      (unsigned long long)spool_records(sp));
	CHECK(spool_replay(sp, on_batch, &s, &err) == 0, "replay: %s", err.msg);
	{
		size_t n = 0;

		for (unsigned int i = 100 + SPOOL_BATCH_MAX; i < 1300; i++)
			want[n++] = i;
		for (unsigned int i = 2000; i < 2003; i++)
			want[n++] = i;
		expect_ids(&s, want, n, "rest after a refused batch");
	}
	CHECK(s.damage_calls == 0, "damage reported on a clean spool");
	CHECK(file_size(path) == 0, "spool not emptied");
	spool_close(sp);
}

static void patch(const char *path, off_t at, const void *bytes, size_t n)
{
	int fd = open(path, O_WRONLY);

	CHECK(fd >= 0 && pwrite(fd, bytes, n, at) == (ssize_t)n,
	      "patch %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* A crash mid-append leaves a torn tail; a flipped bit or a lying length
 * in the middle spoils one frame.  Intact frames around them survive. */
static void test_damage(const char *root)
{
	struct rttq_error err = { 0 };
	struct seen s = { 0 };
	struct spool *sp = NULL;
	char dir[512], path[600];
	off_t ends[8];
	unsigned int want[8];
	int fd;

	snprintf(dir, sizeof(dir), "%s/dmg", root);
	snprintf(path, sizeof(path), "%s/%s", dir, SPOOL_FILE_NAME);
	CHECK(spool_open(dir, 0, NULL, NULL, &sp, &err) == 0, "open: %s", err.msg);
	if (!sp)
		return;
	for (unsigned int i = 0; i < 6; i++) {
		append_range(sp, i, i + 1);
		ends[i] = file_size(path);
	}
	spool_close(sp);

	/* Torn tail: cut record 5 in half. */
	CHECK(truncate(path, ends[4] + (ends[5] - ends[4]) / 2) == 0,
	      "truncate: %s", strerror(errno));
	/* A flipped payload byte in record 1. */
	{
		uint8_t x = 0xff;

		patch(path, ends[0] + 20, &x, 1);
	}
	/* A length far beyond the file in record 3 (the CRC covers it). */
	{
		uint8_t len[4] = { 0xff, 0xff, 0x00, 0x00 };

		patch(path, ends[2] + 4, len, 4);
	}

	CHECK(spool_open(dir, 0, on_damage, &s, &sp, &err) == 0, "open damaged: %s",
	      err.msg);
	if (!sp)
		return;
	CHECK(spool_records(sp) == 3, "damaged spool counts %llu intact, want 3",
	      (unsigned long long)spool_records(sp));
	CHECK(s.damage_calls == 3, "open reported %zu damaged stretches, want 3",
	      s.damage_calls);
	memset(&s, 0, sizeof(s));
	CHECK(spool_replay(sp, on_batch, &s, &err) == 0, "replay: %s", err.msg);
	want[0] = 0;
	want[1] = 2;
	want[2] = 4;
	expect_ids(&s, want, 3, "intact frames around damage");
	CHECK(s.damage_calls == 3 &&
		      s.damage_bytes == (uint64_t)((ends[1] - ends[0]) +
						  (ends[3] - ends[2]) +
						  (ends[5] - ends[4]) / 2),
	      "replay reported %zu stretches, %llu bytes", s.damage_calls,
	      (unsigned long long)s.damage_bytes);
	CHECK(file_size(path) == 0, "damaged spool not emptied after replay");

	/* Garbage only (no magic at all): skipped whole, nothing replayed. */
	fd = open(path, O_WRONLY | O_TRUNC);
	CHECK(fd >= 0 && write(fd, "not a spool at all\n", 19) == 19,
	      "write garbage");
	if (fd >= 0)
		close(fd);
	memset(&s, 0, sizeof(s));
	CHECK(spool_replay(sp, on_batch, &s, &err) == 0, "replay garbage: %s",
	      err.msg);
	CHECK(s.n == 0 && s.damage_calls == 1 && s.damage_bytes == 19,
	      "garbage: %zu records, %zu stretches, %llu bytes", s.n,
	      s.damage_calls, (unsigned long long)s.damage_bytes);
	spool_close(sp);
}

/*
 * The frame of @r in layout @version as spool.c documents it, written
 * here independently so that a change of the bytes on disk fails this
 * test: version 1 has no metric.  Returns the frame's length.
 */
static size_t encode_frame(int version, const struct store_record *r,
			   uint8_t *out)
{
	const char *metric = metric_or_rtt(r->metric);
	uint8_t *q = out + 12;
	uint32_t len, crc;
	uint64_t bits;
	size_t n;

#define PUT(v, bytes)                                            \
	do {                                                     \
		uint64_t v_ = (v);                               \
		for (int k_ = 0; k_ < (bytes); k_++)             \
			*q++ = (uint8_t)(v_ >> (8 * k_));        \
	} while (0)
	n = strlen(r->host);
	PUT(n, 2);
	memcpy(q, r->host, n);
	q += n;
	n = strlen(r->group);
	PUT(n, 2);
	memcpy(q, r->group, n);
	q += n;
	if (version == 2) {
		n = strlen(metric);
		PUT(n, 1);
		memcpy(q, metric, n);
		q += n;
	}
	PUT(r->period_s, 4);
	PUT((uint64_t)r->start_s, 8);
	PUT(r->periods, 4);
	PUT(r->periods_total, 4);
	PUT(r->count, 8);
	memcpy(&bits, &r->sum_us, 8);
	PUT(bits, 8);
	memcpy(&bits, &r->min_us, 8);
	PUT(bits, 8);
	memcpy(&bits, &r->max_us, 8);
	PUT(bits, 8);
	PUT(r->digest_len, 4);
	memcpy(q, r->digest, r->digest_len);
	q += r->digest_len;
	len = (uint32_t)(q - out - 12);
	memcpy(out, version == 2 ? "RQS2" : "RQS1", 4);
	q = out + 4;
	PUT(len, 4);
	crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), out + 4, 4);
	crc = (uint32_t)crc32(crc, out + 12, len);
	PUT(crc, 4);
#undef PUT
	return 12 + len;
}

/*
 * An agent upgraded while its spool held records: version 1 frames (no
 * metric) replay as rtt, in order, before the version 2 frames the new
 * agent appended; a damaged version 1 frame is skipped up to the next
 * frame of either version.  The bytes appended are exactly the
 * documented version 2 layout, and a metric no store would take is
 * refused.
 */
static void test_versions(const char *root)
{
	struct rttq_error err = { 0 };
	struct seen s = { 0 };
	struct spool *sp = NULL;
	uint8_t frame[1024], got[1024];
	unsigned int want[16];
	char dir[512], path[600];
	size_t len, k = 0;
	int fd;

	snprintf(dir, sizeof(dir), "%s/versions", root);
	snprintf(path, sizeof(path), "%s/%s", dir, SPOOL_FILE_NAME);
	REQUIRE(mkdir(dir, 0700) == 0, "mkdir %s", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	REQUIRE(fd >= 0, "create %s", path);
	for (unsigned int i = 0; i < 4; i++) {
		struct rec_buf b;
		struct store_record r = make_rec(i, &b);

		len = encode_frame(1, &r, frame);
		/* Frame 2 loses a byte of its digest to a flipped bit. */
		if (i == 2)
			frame[len - 1] ^= 0x40;
		REQUIRE(write(fd, frame, len) == (ssize_t)len, "write v1");
	}
	close(fd);

	CHECK(spool_open(dir, 0, on_damage, &s, &sp, &err) == 0, "open: %s",
	      err.msg);
	if (!sp)
		return;
	CHECK(spool_records(sp) == 3, "version 1 spool counts %llu, want 3",
	      (unsigned long long)spool_records(sp));
	/* Appended after them: version 2, byte for byte the layout. */
	{
		struct rec_buf b;
		struct store_record r = make_rec(6, &b); /* "counters" */
		off_t before = file_size(path);

		append_range(sp, 4, 8);
		len = encode_frame(2, &r, frame);
		fd = open(path, O_RDONLY);
		REQUIRE(fd >= 0, "open %s", path);
		/* Records 4 and 5 come first: find 6 by its offset. */
		{
			struct rec_buf b4, b5;
			struct store_record r4 = make_rec(4, &b4);
			struct store_record r5 = make_rec(5, &b5);
			off_t at = before + (off_t)encode_frame(2, &r4, got) +
				   (off_t)encode_frame(2, &r5, got);

			CHECK(pread(fd, got, len, at) == (ssize_t)len &&
				      memcmp(got, frame, len) == 0,
			      "frame of record 6 is not the version 2 layout");
		}
		close(fd);
	}
	{
		struct rec_buf b;
		struct store_record r = make_rec(9, &b);

		r.metric = "Not-A-Metric";
		CHECK(spool_append(sp, &r, 1, &err) == -EINVAL,
		      "a bad metric was spooled");
	}
	memset(&s, 0, sizeof(s));
	s.v1_below = 4;
	CHECK(spool_replay(sp, on_batch, &s, &err) == 0, "replay: %s", err.msg);
	want[k++] = 0;
	want[k++] = 1;
	want[k++] = 3;
	for (unsigned int i = 4; i < 8; i++)
		want[k++] = i;
	expect_ids(&s, want, k, "version 1 then version 2");
	CHECK(s.damage_calls == 1, "replay reported %zu damaged stretches",
	      s.damage_calls);
	spool_close(sp);
}

/* --spool-max: an append that would pass the bound fails whole with
 * -EFBIG and a message naming the file; what was there stays intact. */
static void test_bound(const char *root)
{
	struct rttq_error err = { 0 };
	struct seen s = { 0 };
	struct spool *sp = NULL;
	struct rec_buf b;
	struct store_record r = make_rec(0, &b);
	unsigned int want[64];
	char dir[512], path[600];
	long long three, before;
	int rc;

	snprintf(dir, sizeof(dir), "%s/bound", root);
	snprintf(path, sizeof(path), "%s/%s", dir, SPOOL_FILE_NAME);
	/* The size of three frames, then a bound that holds exactly them. */
	CHECK(spool_open(dir, 0, NULL, NULL, &sp, &err) == 0, "open: %s", err.msg);
	if (!sp)
		return;
	append_range(sp, 0, 3);
	three = file_size(path);
	spool_close(sp);
	CHECK(truncate(path, 0) == 0, "truncate %s", path);

	CHECK(spool_open(dir, (uint64_t)three, NULL, NULL, &sp, &err) == 0,
	      "open bounded: %s", err.msg);
	if (!sp)
		return;
	append_range(sp, 0, 3);
	before = file_size(path);
	rc = spool_append(sp, &r, 1, &err);
	printf("bounded spool: %s\n", err.msg);
	CHECK(rc == -EFBIG && strstr(err.msg, path) && strstr(err.msg, "--spool-max"),
	      "append past the bound: %d \"%s\"", rc, err.msg);
	CHECK(file_size(path) == before && spool_records(sp) == 3,
	      "refused append changed the file: %lld bytes, %llu records",
	      (long long)file_size(path), (unsigned long long)spool_records(sp));
	CHECK(spool_replay(sp, on_batch, &s, &err) == 0, "replay: %s", err.msg);
	for (unsigned int i = 0; i < 3; i++)
		want[i] = i;
	expect_ids(&s, want, 3, "bounded spool");
	/* Replayed: room again. */
	CHECK(spool_append(sp, &r, 1, &err) == 0, "append after replay: %s",
	      err.msg);
	spool_close(sp);
}

/* Unusable directories fail with the path and the errno's text. */
static void test_bad_dir(const char *root)
{
	struct rttq_error err = { 0 };
	struct spool *sp = NULL;
	char file[512], dir[600];
	int fd, rc;

	snprintf(file, sizeof(file), "%s/plain-file", root);
	fd = open(file, O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0, "create %s", file);
	if (fd >= 0)
		close(fd);
	snprintf(dir, sizeof(dir), "%s/sub", file);
	rc = spool_open(dir, 0, NULL, NULL, &sp, &err);
	printf("spool under a file: %s\n", err.msg);
	CHECK(rc == -ENOTDIR && !sp, "open under a file returned %d", rc);
	CHECK(strstr(err.msg, dir) && strstr(err.msg, strerror(ENOTDIR)),
	      "message \"%s\" does not name %s and the cause", err.msg, dir);

	rc = spool_open("", 0, NULL, NULL, &sp, &err);
	CHECK(rc == -EINVAL && strstr(err.msg, "--spool"),
	      "empty name: %d \"%s\"", rc, err.msg);

	/* A directory without write permission: root bypasses modes, so
	 * this part needs an ordinary user; the read-only file system case
	 * covers root. */
	if (geteuid() != 0) {
		snprintf(dir, sizeof(dir), "%s/ro", root);
		CHECK(mkdir(dir, 0500) == 0, "mkdir %s", dir);
		rc = spool_open(dir, 0, NULL, NULL, &sp, &err);
		printf("read-only directory: %s\n", err.msg);
		CHECK(rc == -EACCES && strstr(err.msg, SPOOL_FILE_NAME) &&
			      strstr(err.msg, strerror(EACCES)),
		      "read-only dir: %d \"%s\"", rc, err.msg);
	} else {
		rc = spool_open("/proc/rttq-spool-test", 0, NULL, NULL, &sp, &err);
		printf("directory in /proc: %s\n", err.msg);
		CHECK(rc < 0 && !sp && strstr(err.msg, "/proc/rttq-spool-test"),
		      "/proc dir: %d \"%s\"", rc, err.msg);
	}
}

int main(void)
{
	char root[] = "/tmp/rttq-spool-test.XXXXXX";

	make_dir(root);
	test_empty(root);
	test_round_trip(root);
	test_damage(root);
	test_versions(root);
	test_bound(root);
	test_bad_dir(root);
	remove_dir(root);
	return check_report();
}
