/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rttq-agent's disk spool (--spool DIR): records the store refused, kept in
 * one append-only file of checksummed frames (layout in spool.c) so that an
 * outage longer than the in-memory queue, or a stop during one, loses
 * nothing.  Replayed oldest first; the replayed part is removed.
 */
#ifndef RTTQ_AGENT_SPOOL_H
#define RTTQ_AGENT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define SPOOL_FILE_NAME "rttq-agent.spool"
#define SPOOL_BATCH_MAX 500 /* records handed to one replay callback */
/* Bound on the file (--spool-max, MiB): a long outage must not fill the
 * disk.  1 GiB holds ~2 days of 1-minute records for 1,000 groups (~550 KB
 * a group a day with rollups and frame headers). */
#define SPOOL_MAX_MIB_DEFAULT 1024
#define SPOOL_MAX_MIB_LIMIT (1u << 20)

struct spool;
struct store_record;

/* Called with up to SPOOL_BATCH_MAX records in spool order; they are valid
 * only during the call.  0: written, drop them from the spool; non-zero:
 * stop, keep them (and everything after) for the next replay. */
typedef int (*spool_batch_fn)(const struct store_record *recs, size_t n,
			      void *arg);

/* Called for each damaged stretch found while reading (torn tail, bad CRC,
 * garbage); @offset and @bytes locate it in the file. */
typedef void (*spool_damage_fn)(const char *path, uint64_t offset,
				uint64_t bytes, void *arg);

/**
 * spool_open() - open (creating DIR and the file when missing) the spool in
 * @dir and count the intact records it holds.
 * @dir: the directory; created with mode 0700 when missing (not parents).
 * @max_bytes: appends that would make the file larger fail (0: no bound);
 *       a file already larger (a lower bound than last run) is kept whole.
 * @damage: told about damaged stretches found while counting; may be NULL.
 * @damage_arg: passed to @damage.
 * @out: receives the spool.
 * @err: names the directory or file and the errno's text.
 *
 * @return 0, -EINVAL (empty @dir), the errno of mkdir/open/fstat (-EACCES,
 *         -ENOTDIR, -EROFS, ...), -ENOMEM.
 */
int spool_open(const char *dir, uint64_t max_bytes, spool_damage_fn damage,
	       void *damage_arg, struct spool **out, struct rttq_error *err);

/** spool_close() - close; NULL does nothing.  The file stays. */
void spool_close(struct spool *sp);

/**
 * spool_append() - append @n records as frames and fdatasync the file.
 * @sp: the spool.
 * @recs: records; every field is serialized (host included).
 * @n: how many; 0 does nothing.
 * @err: filled on failure.
 *
 * @return 0, -EINVAL (a host, group or digest too long for a frame, or
 *         a metric metric_name_valid() refuses),
 *         -EFBIG (the file would pass max_bytes: nothing appended),
 *         -ENOSPC / -EIO or another errno of write/fdatasync; a failed
 *         append is cut back to the previous end so no torn frame stays.
 */
int spool_append(struct spool *sp, const struct store_record *recs, size_t n,
		 struct rttq_error *err);

/**
 * spool_replay() - hand every intact record to @fn, oldest first, in
 * batches; skip damaged stretches (reported to @damage); remove what @fn
 * accepted.  Returns when the file is done or @fn refuses a batch.
 * @sp: the spool.
 * @fn: writes a batch.
 * @arg: passed to @fn.
 * @err: filled when the file cannot be read or rewritten.
 *
 * @return 0 (spool empty now), the non-zero value @fn returned (the refused
 *         batch and the rest kept), or a negative errno of mmap, write,
 *         rename (the file is left as it was: a later replay repeats
 *         records, which the store's idempotent writes absorb).
 */
int spool_replay(struct spool *sp, spool_batch_fn fn, void *arg,
		 struct rttq_error *err);

/** spool_records() - intact records in the spool now. */
uint64_t spool_records(const struct spool *sp);

/** spool_path() - the spool file's path, for messages. */
const char *spool_path(const struct spool *sp);

#endif /* RTTQ_AGENT_SPOOL_H */
