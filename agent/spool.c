// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq-agent's disk spool: store records that could not be written, kept in
 * DIR/rttq-agent.spool until the store answers again (agent/spool.h).
 *
 * FILE LAYOUT
 * ===========
 * The file is a sequence of frames, appended and never edited in place:
 *
 *   <frame> <frame> ... <frame>
 *
 * Every integer is little-endian; doubles are their IEEE-754 bits as a
 * u64.  A frame is:
 *
 *   <magic> <len> <crc> <payload>
 *
 *   magic    4 bytes  "RQS" and the layout version, '2' (written) or
 *                     '1' (read): lets a reader find the next frame
 *                     after damage
 *   len      u32      payload bytes, 1 .. SPOOL_PAYLOAD_MAX (16 MiB)
 *   crc      u32      CRC-32 (zlib crc32(), polynomial 0xedb88320) of the
 *                     4 len bytes followed by the payload: a bit flipped in
 *                     len is caught as well as one in the payload
 *   payload  len      one serialized store_record:
 *
 *     host_len u16, host (host_len bytes, 1 .. STORE_HOST_MAX - 1, no NUL)
 *     group_len u16, group (group_len bytes, 1 .. STORE_GROUP_MAX - 1)
 *     metric_len u8, metric (metric_len bytes, metric_name_valid(); the
 *         record's metric, "rtt" when it named none)     [version 2 only]
 *     period_s u32, start_s i64, periods u32, periods_total u32,
 *     count u64, sum_us f64, min_us f64, max_us f64,
 *     digest_len u32, digest (digest_len bytes: codec_encode() output, or
 *         counter_set_encode() output for metric "counters")
 *
 *     so len = 2 + host_len + 2 + group_len [+ 1 + metric_len] + 56 +
 *     digest_len exactly.
 *
 * Version 1 frames (written before metrics existed) have no metric and
 * replay as "rtt"; a spool may hold both versions, as an agent upgraded
 * during an outage appends version 2 frames after its predecessor's.
 *
 * A frame is intact when the magic matches, len is in range and fits in
 * the file, the CRC matches and the payload parses to exactly len bytes.
 * Anything else at a frame boundary is damage (a torn tail from a crash
 * mid-append, a flipped bit): the reader reports it and resumes at the next
 * "RQS1" whose frame is intact, so one bad frame never hides the intact
 * frames after it.  A payload could contain "RQS1"; the CRC decides.
 *
 * Appends are fdatasync()ed before spool_append() returns and cut back to
 * the previous end when they fail.  Replay reads the file through mmap and,
 * when the store refused part of it, writes the rest to
 * rttq-agent.spool.tmp and renames it over the spool (so a crash leaves
 * either the old or the new file); when everything was written the file is
 * truncated to 0.  Records replayed twice (crash between the store write
 * and the truncation) are harmless: store writes are idempotent upserts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "metric.h"
#include "spool.h"
#include "store.h"

#define SPOOL_MAGIC "RQS2"  /* what appends write */
#define SPOOL_MAGIC_V1 "RQS1" /* read: records without a metric */
#define SPOOL_MAGIC_STEM 3  /* "RQS", the bytes both versions share */
#define SPOOL_HEADER_BYTES 12
#define SPOOL_FIXED_BYTES 56 /* the payload's fixed-width fields */
#define SPOOL_PAYLOAD_MAX (16u << 20)

struct spool {
	char *path;     /* DIR/rttq-agent.spool */
	char *tmp_path; /* DIR/rttq-agent.spool.tmp */
	int fd;         /* O_APPEND */
	uint64_t records;
	uint64_t max_bytes; /* 0: no bound */
	spool_damage_fn damage;
	void *damage_arg;
};

/* -------------------------------------------------------------------------
 * Little-endian encoding
 * ------------------------------------------------------------------------- */

static uint8_t *put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	return p + 2;
}

static uint8_t *put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + 4;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return p + 8;
}

static uint8_t *put_f64(uint8_t *p, double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	return put_u64(p, bits);
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v = 0;

	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static double get_f64(const uint8_t *p)
{
	uint64_t bits = get_u64(p);
	double v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

static uint32_t frame_crc(const uint8_t *len_bytes, const uint8_t *payload,
			  uint32_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	crc = crc32(crc, len_bytes, 4);
	crc = crc32(crc, payload, len);
	return (uint32_t)crc;
}

/* -------------------------------------------------------------------------
 * Frames
 * ------------------------------------------------------------------------- */

/* Payload bytes of @r, or 0 when a field cannot be framed. */
static size_t payload_len(const struct store_record *r)
{
	size_t host = r->host ? strlen(r->host) : 0;
	size_t group = r->group ? strlen(r->group) : 0;
	const char *metric = metric_or_rtt(r->metric);
	size_t len;

	if (!host || host >= STORE_HOST_MAX || !group ||
	    group >= STORE_GROUP_MAX || !metric_name_valid(metric) ||
	    r->digest_len > SPOOL_PAYLOAD_MAX)
		return 0;
	len = 2 + host + 2 + group + 1 + strlen(metric) + SPOOL_FIXED_BYTES +
	      r->digest_len;
	return len <= SPOOL_PAYLOAD_MAX ? len : 0;
}

/* Write the frame of @r (payload_len() bytes of payload) at @p. */
static void frame_encode(uint8_t *p, const struct store_record *r, size_t len)
{
	uint8_t *lenp = p + 4, *payload = p + SPOOL_HEADER_BYTES, *q = payload;
	size_t host = strlen(r->host), group = strlen(r->group);
	const char *metric = metric_or_rtt(r->metric);
	size_t mlen = strlen(metric);

	memcpy(p, SPOOL_MAGIC, 4);
	put_u32(lenp, (uint32_t)len);
	q = put_u16(q, (uint16_t)host);
	memcpy(q, r->host, host);
	q += host;
	q = put_u16(q, (uint16_t)group);
	memcpy(q, r->group, group);
	q += group;
	*q++ = (uint8_t)mlen;
	memcpy(q, metric, mlen);
	q += mlen;
	q = put_u32(q, r->period_s);
	q = put_u64(q, (uint64_t)r->start_s);
	q = put_u32(q, r->periods);
	q = put_u32(q, r->periods_total);
	q = put_u64(q, r->count);
	q = put_f64(q, r->sum_us);
	q = put_f64(q, r->min_us);
	q = put_f64(q, r->max_us);
	q = put_u32(q, (uint32_t)r->digest_len);
	if (r->digest_len)
		memcpy(q, r->digest, r->digest_len);
	put_u32(p + 8, frame_crc(lenp, payload, (uint32_t)len));
}

/* Where a decoded frame's strings go. */
struct frame_names {
	char host[STORE_HOST_MAX];
	char group[STORE_GROUP_MAX];
	char metric[METRIC_NAME_MAX];
};

/*
 * Decode the frame at @p (@avail bytes left in the file), of either
 * version.  @names receives the NUL-terminated strings; the digest points
 * into @p.  Returns the frame's size, or 0 when no intact frame starts at
 * @p.
 */
static size_t frame_decode(const uint8_t *p, size_t avail,
			   struct store_record *r, struct frame_names *names)
{
	char *host = names->host, *group = names->group;
	const uint8_t *q, *end;
	bool v1;
	uint32_t len;
	size_t n;

	if (avail < SPOOL_HEADER_BYTES)
		return 0;
	v1 = memcmp(p, SPOOL_MAGIC_V1, 4) == 0;
	if (!v1 && memcmp(p, SPOOL_MAGIC, 4) != 0)
		return 0;
	len = get_u32(p + 4);
	if (len == 0 || len > SPOOL_PAYLOAD_MAX ||
	    len > avail - SPOOL_HEADER_BYTES)
		return 0;
	q = p + SPOOL_HEADER_BYTES;
	end = q + len;
	if (frame_crc(p + 4, q, len) != get_u32(p + 8))
		return 0;

	/* The CRC matched; still check every length against the payload, as
	 * a frame written by a buggy or different version could lie. */
	if (end - q < 2 || (n = get_u16(q)) == 0 || n >= STORE_HOST_MAX ||
	    (size_t)(end - q - 2) < n)
		return 0;
	memcpy(host, q + 2, n);
	host[n] = '\0';
	q += 2 + n;
	if (end - q < 2 || (n = get_u16(q)) == 0 || n >= STORE_GROUP_MAX ||
	    (size_t)(end - q - 2) < n)
		return 0;
	memcpy(group, q + 2, n);
	group[n] = '\0';
	q += 2 + n;
	if (v1) {
		snprintf(names->metric, sizeof(names->metric), "%s",
			 METRIC_RTT);
	} else {
		if (end - q < 1 || (n = *q) == 0 || n >= METRIC_NAME_MAX ||
		    (size_t)(end - q - 1) < n)
			return 0;
		memcpy(names->metric, q + 1, n);
		names->metric[n] = '\0';
		if (!metric_name_valid(names->metric))
			return 0;
		q += 1 + n;
	}
	if (end - q < SPOOL_FIXED_BYTES)
		return 0;
	r->host = host;
	r->group = group;
	r->metric = names->metric;
	r->period_s = get_u32(q);
	r->start_s = (int64_t)get_u64(q + 4);
	r->periods = get_u32(q + 12);
	r->periods_total = get_u32(q + 16);
	r->count = get_u64(q + 20);
	r->sum_us = get_f64(q + 28);
	r->min_us = get_f64(q + 36);
	r->max_us = get_f64(q + 44);
	r->digest_len = get_u32(q + 52);
	q += SPOOL_FIXED_BYTES;
	if ((size_t)(end - q) != r->digest_len)
		return 0;
	r->digest = q;
	return SPOOL_HEADER_BYTES + len;
}

/* Offset of the next intact frame at or after @from (or @size), for
 * resuming after damage. */
static size_t next_intact(const uint8_t *buf, size_t size, size_t from,
			  struct frame_names *names)
{
	struct store_record r = { 0 };

	while (from + SPOOL_HEADER_BYTES <= size) {
		const uint8_t *m = memmem(buf + from, size - from, SPOOL_MAGIC,
					  SPOOL_MAGIC_STEM);

		if (!m)
			break;
		from = (size_t)(m - buf);
		if (frame_decode(m, size - from, &r, names))
			return from;
		from++;
	}
	return size;
}

/* -------------------------------------------------------------------------
 * Reading the file
 * ------------------------------------------------------------------------- */

struct walk {
	struct store_record *recs; /* SPOOL_BATCH_MAX */
	struct frame_names *names;
};

static int walk_alloc(struct walk *w, size_t n)
{
	w->recs = calloc(n, sizeof(*w->recs));
	w->names = calloc(n, sizeof(*w->names));
	return w->recs && w->names ? 0 : -ENOMEM;
}

static void walk_free(struct walk *w)
{
	free(w->recs);
	free(w->names);
}

/* Map the whole file read-only; *@size 0 leaves *@buf NULL. */
static int map_file(struct spool *sp, const uint8_t **buf, size_t *size,
		    struct rttq_error *err)
{
	struct stat st;
	void *m;

	*buf = NULL;
	*size = 0;
	if (fstat(sp->fd, &st) != 0)
		return rttq_fail(err, -errno, "spool %s: %s", sp->path,
				 strerror(errno));
	if (st.st_size == 0)
		return 0;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, sp->fd, 0);
	if (m == MAP_FAILED)
		return rttq_fail(err, -errno, "spool %s: cannot map it: %s",
				 sp->path, strerror(errno));
	*buf = m;
	*size = (size_t)st.st_size;
	return 0;
}

/* Count intact frames, reporting damage. */
static int count_records(struct spool *sp, struct rttq_error *err)
{
	struct frame_names *names = NULL;
	struct store_record r = { 0 };
	const uint8_t *buf;
	size_t size, off = 0, len;
	int rc;

	sp->records = 0;
	rc = map_file(sp, &buf, &size, err);
	if (rc || !size)
		return rc;
	names = malloc(sizeof(*names));
	if (!names) {
		rc = rttq_fail(err, -ENOMEM, "spool %s: out of memory",
			       sp->path);
		goto cleanup;
	}
	while (off < size) {
		len = frame_decode(buf + off, size - off, &r, names);
		if (len) {
			sp->records++;
			off += len;
			continue;
		}
		len = next_intact(buf, size, off + 1, names);
		if (sp->damage)
			sp->damage(sp->path, off, len - off, sp->damage_arg);
		off = len;
	}
cleanup:
	free(names);
	munmap((void *)buf, size);
	return rc;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Replace the spool with its bytes from @keep_from on (write a temporary
 * file, rename it over the spool, reopen). */
static int keep_tail(struct spool *sp, const uint8_t *buf, size_t size,
		     size_t keep_from, struct rttq_error *err)
{
	int fd, rc;

	fd = open(sp->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return rttq_fail(err, -errno, "spool %s: cannot create: %s",
				 sp->tmp_path, strerror(errno));
	rc = write_all(fd, buf + keep_from, size - keep_from);
	if (!rc && fdatasync(fd) != 0)
		rc = -errno;
	close(fd);
	if (!rc && rename(sp->tmp_path, sp->path) != 0)
		rc = -errno;
	if (rc) {
		unlink(sp->tmp_path);
		return rttq_fail(err, rc, "spool %s: cannot rewrite it: %s",
				 sp->path, strerror(-rc));
	}
	fd = open(sp->path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return rttq_fail(err, -errno, "spool %s: cannot reopen: %s",
				 sp->path, strerror(errno));
	close(sp->fd);
	sp->fd = fd;
	return 0;
}

/* -------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------- */

int spool_open(const char *dir, uint64_t max_bytes, spool_damage_fn damage,
	       void *damage_arg, struct spool **out, struct rttq_error *err)
{
	struct spool *sp;
	size_t n;
	int rc;

	*out = NULL;
	if (!dir || !dir[0])
		return rttq_fail(err, -EINVAL, "--spool: empty directory name");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return rttq_fail(err, -errno, "spool directory %s: cannot create it: %s",
				 dir, strerror(errno));
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return rttq_fail(err, -ENOMEM, "spool: out of memory");
	sp->fd = -1;
	sp->max_bytes = max_bytes;
	sp->damage = damage;
	sp->damage_arg = damage_arg;
	n = strlen(dir) + sizeof("/" SPOOL_FILE_NAME ".tmp");
	sp->path = malloc(n);
	sp->tmp_path = malloc(n);
	if (!sp->path || !sp->tmp_path) {
		rc = rttq_fail(err, -ENOMEM, "spool: out of memory");
		goto fail;
	}
	snprintf(sp->path, n, "%s/%s", dir, SPOOL_FILE_NAME);
	snprintf(sp->tmp_path, n, "%s/%s.tmp", dir, SPOOL_FILE_NAME);
	sp->fd = open(sp->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (sp->fd < 0) {
		rc = rttq_fail(err, -errno, "spool %s: cannot open it for writing: %s",
			       sp->path, strerror(errno));
		goto fail;
	}
	rc = count_records(sp, err);
	if (rc)
		goto fail;
	*out = sp;
	return 0;
fail:
	spool_close(sp);
	return rc;
}

void spool_close(struct spool *sp)
{
	if (!sp)
		return;
	if (sp->fd >= 0)
		close(sp->fd);
	free(sp->path);
	free(sp->tmp_path);
	free(sp);
}

int spool_append(struct spool *sp, const struct store_record *recs, size_t n,
		 struct rttq_error *err)
{
	size_t total = 0, i, len, off = 0;
	uint8_t *buf;
	struct stat st;
	int rc;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		len = payload_len(&recs[i]);
		if (!len)
			return rttq_fail(err, -EINVAL,
					 "spool %s: record %s/%s start %lld cannot be framed (empty or too long field)",
					 sp->path, recs[i].host ? recs[i].host : "",
					 recs[i].group ? recs[i].group : "",
					 (long long)recs[i].start_s);
		total += SPOOL_HEADER_BYTES + len;
	}
	buf = malloc(total);
	if (!buf)
		return rttq_fail(err, -ENOMEM, "spool %s: out of memory",
				 sp->path);
	for (i = 0; i < n; i++) {
		len = payload_len(&recs[i]);
		frame_encode(buf + off, &recs[i], len);
		off += SPOOL_HEADER_BYTES + len;
	}
	if (fstat(sp->fd, &st) != 0) {
		rc = -errno;
		goto out;
	}
	if (sp->max_bytes && (uint64_t)st.st_size + total > sp->max_bytes) {
		free(buf);
		return rttq_fail(err, -EFBIG, "spool %s: full (%.1f MiB, --spool-max): %zu records not spooled",
				 sp->path, (double)sp->max_bytes / (1 << 20),
				 n);
	}
	rc = write_all(sp->fd, buf, total);
	if (!rc && fdatasync(sp->fd) != 0)
		rc = -errno;
	if (rc && ftruncate(sp->fd, st.st_size) != 0)
		rc = -errno; /* the torn tail stays; readers skip it */
out:
	free(buf);
	if (rc)
		return rttq_fail(err, rc, "spool %s: cannot append %zu records: %s",
				 sp->path, n, strerror(-rc));
	sp->records += n;
	return 0;
}

int spool_replay(struct spool *sp, spool_batch_fn fn, void *arg,
		 struct rttq_error *err)
{
	struct walk w = { 0 };
	const uint8_t *buf;
	size_t size, off = 0, len, batch_from = 0, n = 0;
	uint64_t written = 0;
	int rc, fn_rc = 0;

	rc = map_file(sp, &buf, &size, err);
	if (rc)
		return rc;
	if (!size) {
		sp->records = 0;
		return 0;
	}
	if (walk_alloc(&w, SPOOL_BATCH_MAX)) {
		rc = rttq_fail(err, -ENOMEM, "spool %s: out of memory",
			       sp->path);
		goto cleanup;
	}
	while (off < size) {
		len = frame_decode(buf + off, size - off, &w.recs[n],
				   &w.names[n]);
		if (!len) {
			len = next_intact(buf, size, off + 1, &w.names[n]);
			if (sp->damage)
				sp->damage(sp->path, off, len - off,
					   sp->damage_arg);
			off = len;
			continue;
		}
		if (n == 0)
			batch_from = off;
		off += len;
		if (++n < SPOOL_BATCH_MAX)
			continue;
		fn_rc = fn(w.recs, n, arg);
		if (fn_rc)
			break;
		written += n;
		n = 0;
	}
	if (!fn_rc && n) {
		fn_rc = fn(w.recs, n, arg);
		if (!fn_rc)
			written += n;
	}
	if (fn_rc) {
		/* Keep the refused batch and everything after it. */
		if (batch_from > 0)
			rc = keep_tail(sp, buf, size, batch_from, err);
		if (!rc) {
			sp->records = sp->records > written ?
					      sp->records - written : 0;
			rc = fn_rc;
		}
		goto cleanup;
	}
	if (ftruncate(sp->fd, 0) != 0 || fdatasync(sp->fd) != 0) {
		rc = rttq_fail(err, -errno, "spool %s: cannot truncate it: %s",
			       sp->path, strerror(errno));
		goto cleanup;
	}
	sp->records = 0;
cleanup:
	walk_free(&w);
	munmap((void *)buf, size);
	return rc;
}

uint64_t spool_records(const struct spool *sp)
{
	return sp ? sp->records : 0;
}

const char *spool_path(const struct spool *sp)
{
	return sp->path;
}
