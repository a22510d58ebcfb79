// SPDX-License-Identifier: BSD-2-Clause
/*
 * rttq-agent's store writer (see writer.h).  Records live in two lists:
 *
 *   inbox  filled by writer_submit() on the loop's thread, under mu;
 *   queue  the writer thread's own: what the next store_put writes.
 *
 * The thread swaps the inbox out under mu and does every store and spool
 * call without holding it, so writer_submit() and writer_get_stats() (the
 * loop and /metrics) never wait behind a blocked write.  Order is kept:
 * the spool is always older than the queue, the queue older than the
 * inbox, and a write replays the spool before it writes the queue.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metric.h"
#include "monoclock.h"
#include "partial_merge.h"
#include "spool.h"
#include "store.h"
#include "writer.h"

/* While stopping, a failed write is retried this often. */
#define STOP_RETRY_MS 1000

struct reclist {
	struct store_record *recs; /* group, metric and digest owned, host borrowed */
	bool *checked;             /* per record: partial merge looked at */
	size_t n;
	size_t cap;
	size_t bytes;              /* digest, group and metric bytes held */
};

/* Flow-log records: each one's group and bytes owned. */
struct flowlist {
	struct store_flow *f;
	size_t n;
	size_t cap;
};

struct writer {
	struct writer_config cfg;
	pthread_t thread;
	bool started;

	pthread_mutex_t mu;
	pthread_cond_t cv;         /* inbox filled, stop asked, thread done */
	/* Under mu: */
	struct reclist inbox;
	struct flowlist inbox_flows;
	bool stopping;
	int64_t deadline_ms;       /* of the stop, monotonic */
	bool done;                 /* the thread has finished */
	enum writer_outcome outcome;
	struct writer_stats stats; /* pending_* count the queue only */
	uint64_t dropped_logged;

	/* The writer thread's only: */
	struct reclist queue;
	struct flowlist queue_flows;
	bool failing;              /* the last write failed */
	bool spill_failing;        /* the last spill failed (logged once) */
	int64_t retry_at_ms;       /* no write before this, monotonic */
};

/* -------------------------------------------------------------------------
 * Record lists
 * ------------------------------------------------------------------------- */

static size_t record_bytes(const struct store_record *r)
{
	return r->digest_len + strlen(r->group) + 1 +
	       strlen(metric_or_rtt(r->metric)) + 1;
}

static void record_free(const struct store_record *r)
{
	free((char *)r->group);
	free((char *)r->metric);
	free((uint8_t *)r->digest);
}

static void reclist_clear(struct reclist *l)
{
	for (size_t i = 0; i < l->n; i++)
		record_free(&l->recs[i]);
	l->n = 0;
	l->bytes = 0;
}

static void reclist_release(struct reclist *l)
{
	reclist_clear(l);
	free(l->recs);
	free(l->checked);
	memset(l, 0, sizeof(*l));
}

/* Room for one more record; -ENOMEM. */
static int reclist_grow(struct reclist *l)
{
	struct store_record *v;
	bool *c;
	size_t cap;

	if (l->n < l->cap)
		return 0;
	cap = l->cap ? 2 * l->cap : 64;
	v = realloc(l->recs, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->recs = v;
	c = realloc(l->checked, cap * sizeof(*c));
	if (!c)
		return -ENOMEM;
	l->checked = c;
	l->cap = cap;
	return 0;
}

/* Append a copy of @r (group, metric and digest duplicated, @host
 * borrowed). */
static int reclist_copy(struct reclist *l, const struct store_record *r,
			const char *host)
{
	struct store_record *copy;
	char *group, *metric;
	uint8_t *digest;

	if (reclist_grow(l))
		return -ENOMEM;
	group = strdup(r->group);
	metric = strdup(metric_or_rtt(r->metric));
	digest = malloc(r->digest_len ? r->digest_len : 1);
	if (!group || !metric || !digest) {
		free(group);
		free(metric);
		free(digest);
		return -ENOMEM;
	}
	if (r->digest_len)
		memcpy(digest, r->digest, r->digest_len);
	l->checked[l->n] = false;
	copy = &l->recs[l->n++];
	*copy = *r;
	copy->host = host;
	copy->group = group;
	copy->metric = metric;
	copy->digest = digest;
	l->bytes += record_bytes(r);
	return 0;
}

/* Append @r, taking over what it owns; -ENOMEM leaves it with the caller. */
static int reclist_move(struct reclist *l, const struct store_record *r)
{
	if (reclist_grow(l))
		return -ENOMEM;
	l->checked[l->n] = false;
	l->recs[l->n++] = *r;
	l->bytes += record_bytes(r);
	return 0;
}

static void flowlist_release(struct flowlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free((char *)l->f[i].group);
		free((void *)l->f[i].data);
	}
	free(l->f);
	memset(l, 0, sizeof(*l));
}

/* Move @from's records to the end of @to; @from is left empty. */
static int flowlist_take(struct flowlist *to, struct flowlist *from)
{
	if (!to->n) {
		flowlist_release(to);
		*to = *from;
		memset(from, 0, sizeof(*from));
		return 0;
	}
	if (to->n + from->n > to->cap) {
		size_t cap = to->n + from->n;
		struct store_flow *f = realloc(to->f, cap * sizeof(*f));

		if (!f)
			return -ENOMEM;
		to->f = f;
		to->cap = cap;
	}
	memcpy(to->f + to->n, from->f, from->n * sizeof(*from->f));
	to->n += from->n;
	free(from->f);
	memset(from, 0, sizeof(*from));
	return 0;
}

static int flowlist_copy(struct flowlist *l, const struct store_flow *f,
			 const char *host)
{
	struct store_flow c = *f;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		struct store_flow *g = realloc(l->f, cap * sizeof(*g));

		if (!g)
			return -ENOMEM;
		l->f = g;
		l->cap = cap;
	}
	c.host = host;
	c.group = strdup(f->group);
	c.data = malloc(f->len);
	if (!c.group || !c.data) {
		free((char *)c.group);
		free((void *)c.data);
		return -ENOMEM;
	}
	memcpy((void *)c.data, f->data, f->len);
	l->f[l->n++] = c;
	return 0;
}

/* -------------------------------------------------------------------------
 * The writer thread: spool, store, queue
 * ------------------------------------------------------------------------- */

static uint64_t spooled(const struct writer *w)
{
	return w->cfg.spool ? spool_records(w->cfg.spool) : 0;
}

/* Count one store_put in the stats /metrics shows. */
static void note_write(struct writer *w, size_t records, int rc, bool retry)
{
	pthread_mutex_lock(&w->mu);
	if (retry)
		w->stats.retries++;
	if (rc) {
		w->stats.write_errors++;
	} else {
		w->stats.writes++;
		w->stats.records_written += records;
	}
	pthread_mutex_unlock(&w->mu);
}

/* Publish the queue and spool sizes; log drops since the last call. */
static void publish(struct writer *w, size_t in_hand, size_t in_hand_bytes)
{
	uint64_t dropped;

	pthread_mutex_lock(&w->mu);
	w->stats.pending_records = w->queue.n + in_hand;
	w->stats.pending_bytes = w->queue.bytes + in_hand_bytes;
	w->stats.pending_flows = w->queue_flows.n;
	w->stats.spool_records = w->cfg.spool ? (int64_t)spooled(w) : -1;
	dropped = w->stats.dropped - w->dropped_logged;
	w->dropped_logged = w->stats.dropped;
	pthread_mutex_unlock(&w->mu);
	if (dropped)
		agent_log("%llu records dropped: more than %u records or %u MiB waiting for the store%s",
			  (unsigned long long)dropped, w->cfg.queue_max,
			  WRITER_MAX_BYTES >> 20,
			  w->cfg.spool ? " and the spool failing" :
					 " (--spool keeps them on disk)");
}

/* Move the whole queue to the spool (it is older than anything later). */
static int spill_queue(struct writer *w)
{
	struct rttq_error err = { 0 };
	size_t n = w->queue.n;
	int rc;

	if (!w->cfg.spool || n == 0)
		return w->cfg.spool ? 0 : -ENOENT;
	rc = spool_append(w->cfg.spool, w->queue.recs, n, &err);
	if (rc) {
		if (!w->spill_failing)
			agent_log("%s", err.msg);
		w->spill_failing = true;
		return rc;
	}
	w->spill_failing = false;
	if (w->cfg.verbose)
		agent_log("spooled %zu records to %s (%llu there now)", n,
			  spool_path(w->cfg.spool),
			  (unsigned long long)spooled(w));
	reclist_clear(&w->queue);
	return 0;
}

/*
 * Move @batch (taken from the inbox) to the queue.  While the store fails
 * the queue holds at most queue_max records; when the store works a close
 * may exceed that and is written at once.  At a bound the queue spills to
 * the spool; without one (or when it fails) the record is dropped.
 */
static void take_batch(struct writer *w, struct reclist *batch)
{
	uint32_t queue_max = w->failing ? w->cfg.queue_max : 0;
	uint64_t dropped = 0;

	for (size_t i = 0; i < batch->n; i++) {
		const struct store_record *r = &batch->recs[i];
		bool full = w->queue.bytes + record_bytes(r) > WRITER_MAX_BYTES ||
			    (queue_max && w->queue.n >= queue_max);

		if (full && spill_queue(w) == 0)
			full = false;
		if (full || reclist_move(&w->queue, r)) {
			record_free(r);
			dropped++;
		}
	}
	batch->n = 0; /* everything moved or freed */
	batch->bytes = 0;
	if (dropped) {
		pthread_mutex_lock(&w->mu);
		w->stats.dropped += dropped;
		pthread_mutex_unlock(&w->mu);
	}
}

struct replay_ctx {
	struct writer *w;
	struct rttq_error *err;
};

/* spool_batch_fn: one batch of spooled records to the store. */
static int replay_batch(const struct store_record *recs, size_t n, void *arg)
{
	struct replay_ctx *c = arg;
	int rc;

	rc = store_put(c->w->cfg.store, recs, n, c->err);
	note_write(c->w, n, rc, true);
	return rc;
}

/* The spool, oldest first, before the queue (which is newer). */
static int replay_spool(struct writer *w, struct rttq_error *err)
{
	struct replay_ctx c = { .w = w, .err = err };
	uint64_t before = spooled(w);
	int rc;

	if (!before)
		return 0;
	rc = spool_replay(w->cfg.spool, replay_batch, &c, err);
	if (!rc)
		agent_log("spool %s: replayed %llu records",
			  spool_path(w->cfg.spool), (unsigned long long)before);
	return rc;
}

/*
 * The partial records of the period the agent started in may meet the
 * partial record an earlier run wrote when it stopped in that period.
 * Each is merged once, before its first write, so a retry after a write
 * that half succeeded never merges it twice.  (One spilled to the spool
 * before it could be checked is written as is.)
 */
static int merge_earlier_run(struct writer *w, struct rttq_error *err)
{
	struct reclist *q = &w->queue;

	for (size_t i = 0; i < q->n; i++) {
		struct store_record *r = &q->recs[i];
		size_t len = r->digest_len;
		bool merged;
		int rc;

		if (q->checked[i] || r->start_s != w->cfg.first_start_s ||
		    r->periods != 0 || r->periods_total != 1)
			continue;
		rc = partial_merge_stored(w->cfg.store, r, &merged, err);
		/* Only a record that cannot be merged is written over: not
		 * one that could not be read (a network fault is -ETIMEDOUT,
		 * -EPROTO, ..., and waits for the next try). */
		if (rc == -EBADMSG || rc == -ENOTSUP)
			agent_log("%s; writing over it", err->msg);
		else if (rc)
			return rc;
		else if (merged)
			agent_log("group %s, %s: merged the partial period an earlier run wrote (%llu %s together)",
				  r->group, r->metric,
				  (unsigned long long)r->count,
				  strcmp(r->metric, METRIC_COUNTERS) == 0 ?
					  "counters" : "samples");
		q->bytes = q->bytes - len + r->digest_len;
		q->checked[i] = true;
	}
	return 0;
}

/* Replay the spool, then write the queue in one store_put.  On failure
 * everything stays where it was for the next try. */
static int write_queue(struct writer *w)
{
	struct rttq_error err = { 0 };
	size_t n = w->queue.n;
	int rc;

	if (n == 0 && w->queue_flows.n == 0 && spooled(w) == 0)
		return 0;
	rc = replay_spool(w, &err);
	if (!rc)
		rc = merge_earlier_run(w, &err);
	if (!rc && n) {
		rc = store_put(w->cfg.store, w->queue.recs, n, &err);
		note_write(w, n, rc, w->failing);
	}
	if (!rc && n)
		reclist_clear(&w->queue);
	/* After the records: they are the agent's purpose, the flow log a
	 * sample beside them. */
	if (!rc && w->queue_flows.n) {
		rc = store_put_flows(w->cfg.store, w->queue_flows.f,
				     w->queue_flows.n, &err);
		if (!rc) {
			pthread_mutex_lock(&w->mu);
			w->stats.flows_written += w->queue_flows.n;
			pthread_mutex_unlock(&w->mu);
			n += w->queue_flows.n;
			flowlist_release(&w->queue_flows);
		}
	}
	if (rc) {
		if (!w->failing || w->cfg.verbose)
			agent_log("store write failed: %s; keeping %zu records (%zu KiB)%s in memory%s%s, retrying every %u s",
				  err.msg, w->queue.n, w->queue.bytes >> 10,
				  w->queue_flows.n ? " and flow-log records" : "",
				  w->cfg.spool ? ", then in " : "",
				  w->cfg.spool ? spool_path(w->cfg.spool) : "",
				  (w->cfg.retry_ms + 999) / 1000);
		w->failing = true;
		w->retry_at_ms = monoclock_ms() + w->cfg.retry_ms;
		return rc;
	}
	if (w->failing)
		agent_log("store write recovered: %zu records written", n);
	else if (w->cfg.verbose && n)
		agent_log("wrote %zu records", n);
	w->failing = false;
	return 0;
}

/* Something to write, and not inside the wait after a failure. */
static bool write_due(const struct writer *w, int64_t now)
{
	return (w->queue.n || w->queue_flows.n || spooled(w)) &&
	       (!w->failing || now >= w->retry_at_ms);
}

/* Keep writing until @deadline_ms, then spool what is left. */
static enum writer_outcome flush_until(struct writer *w, int64_t deadline_ms)
{
	while (write_queue(w) != 0) {
		if (monoclock_ms() + STOP_RETRY_MS >= deadline_ms) {
			size_t n = w->queue.n;

			size_t nf = w->queue_flows.n;

			if (nf) {
				agent_log("%zu flow-log records not written", nf);
				pthread_mutex_lock(&w->mu);
				w->stats.flows_dropped += nf;
				pthread_mutex_unlock(&w->mu);
				flowlist_release(&w->queue_flows);
			}
			if (spill_queue(w) == 0)
				return WRITER_SPOOLED;
			agent_log("%zu records not written", n);
			return WRITER_LOST;
		}
		monoclock_sleep_ms(STOP_RETRY_MS);
	}
	return WRITER_ALL_WRITTEN;
}

/* Sleep on cv until submit, stop, or @until_ms (monotonic; 0: no limit). */
static void wait_locked(struct writer *w, int64_t until_ms)
{
	struct timespec ts;

	if (!until_ms) {
		pthread_cond_wait(&w->cv, &w->mu);
		return;
	}
	ts.tv_sec = until_ms / 1000;
	ts.tv_nsec = (until_ms % 1000) * 1000000;
	pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct reclist batch = { 0 };
	struct flowlist flows = { 0 };
	enum writer_outcome outcome;
	int64_t deadline_ms;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		int64_t now = monoclock_ms();

		if (!w->stopping && w->inbox.n == 0 &&
		    w->inbox_flows.n == 0 && !write_due(w, now)) {
			wait_locked(w, w->failing && (w->queue.n ||
						      w->queue_flows.n ||
						      spooled(w)) ?
					       w->retry_at_ms : 0);
			continue;
		}
		/* Swap the inbox out: the loop refills an empty one. */
		reclist_release(&batch);
		batch = w->inbox;
		memset(&w->inbox, 0, sizeof(w->inbox));
		flows = w->inbox_flows;
		memset(&w->inbox_flows, 0, sizeof(w->inbox_flows));
		deadline_ms = w->stopping ? w->deadline_ms : 0;
		pthread_mutex_unlock(&w->mu);

		publish(w, batch.n, batch.bytes);
		take_batch(w, &batch);
		if (flowlist_take(&w->queue_flows, &flows)) {
			agent_log("%zu flow-log records dropped: out of memory",
				  flows.n);
			flowlist_release(&flows);
		}
		if (deadline_ms)
			break;
		if (write_due(w, monoclock_ms()))
			write_queue(w);
		publish(w, 0, 0);
		pthread_mutex_lock(&w->mu);
	}
	outcome = flush_until(w, deadline_ms);
	publish(w, 0, 0);
	reclist_release(&batch);

	pthread_mutex_lock(&w->mu);
	w->outcome = outcome;
	w->done = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* -------------------------------------------------------------------------
 * The loop's side
 * ------------------------------------------------------------------------- */

int writer_start(const struct writer_config *cfg, struct writer **out,
		 struct rttq_error *err)
{
	pthread_condattr_t ca;
	struct writer *w;
	int rc;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return rttq_fail(err, -ENOMEM, "out of memory");
	w->cfg = *cfg;
	w->stats.spool_records = cfg->spool ? (int64_t)spool_records(cfg->spool) :
					      -1;
	pthread_mutex_init(&w->mu, NULL);
	/* Retry times are monotonic: a clock step must not stall writes. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&w->thread, NULL, writer_main, w);
	if (rc) {
		writer_free(w);
		return rttq_fail(err, -EAGAIN, "cannot start the store writer thread: %s",
				 strerror(rc));
	}
	w->started = true;
	*out = w;
	return 0;
}

int writer_submit_flows(struct writer *w, const struct store_flow *flows,
			size_t n)
{
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < n && !rc; i++) {
		/* The thread's queue is not ours to read: its size is in
		 * the stats, published after each round. */
		if (w->inbox_flows.n + w->stats.pending_flows >=
		    WRITER_MAX_FLOWS) {
			w->stats.flows_dropped += n - i;
			rc = -ENOBUFS;
		} else {
			rc = flowlist_copy(&w->inbox_flows, &flows[i],
					   w->cfg.host);
		}
	}
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int writer_submit(struct writer *w, const struct store_record *recs, size_t n)
{
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < n && !rc; i++) {
		if (w->inbox.bytes + record_bytes(&recs[i]) > WRITER_MAX_BYTES) {
			w->stats.dropped += n - i;
			rc = -ENOBUFS;
		} else {
			rc = reclist_copy(&w->inbox, &recs[i], w->cfg.host);
		}
	}
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void writer_get_stats(struct writer *w, struct writer_stats *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->stats;
	out->pending_records += w->inbox.n;
	out->pending_bytes += w->inbox.bytes;
	out->pending_flows += w->inbox_flows.n;
	pthread_mutex_unlock(&w->mu);
}

enum writer_outcome writer_stop(struct writer *w, int64_t timeout_ms)
{
	enum writer_outcome outcome;

	if (!w->started)
		return w->outcome;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	/* Non-zero: the thread takes 0 for "not stopping". */
	w->deadline_ms = monoclock_ms() + (timeout_ms > 0 ? timeout_ms : 0) + 1;
	/* Also cuts a write already blocked in the store (a DynamoDB outage
	 * costs ~13 s of retries): it gives up at its next retry. */
	store_set_deadline(w->cfg.store, w->deadline_ms);
	pthread_cond_broadcast(&w->cv);
	while (!w->done)
		pthread_cond_wait(&w->cv, &w->mu);
	outcome = w->outcome;
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	w->started = false;
	return outcome;
}

void writer_free(struct writer *w)
{
	if (!w)
		return;
	writer_stop(w, 0);
	reclist_release(&w->inbox);
	reclist_release(&w->queue);
	flowlist_release(&w->inbox_flows);
	flowlist_release(&w->queue_flows);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
