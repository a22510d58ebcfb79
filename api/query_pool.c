// SPDX-License-Identifier: BSD-2-Clause
/*
 * Query workers of rttq-api (see query_pool.h).  Jobs wait in a FIFO under
 * a mutex; a worker takes one, runs it with its own store handle and puts
 * it on the finished list, then writes a byte to a pipe whose read end is
 * an event on the loop, which runs done() for every finished job.  A pipe
 * rather than event_active() keeps libevent free of threading support.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <event2/event.h>

#include "query_pool.h"
#include "store.h"

/*
 * Workers run at a lower priority than the loop: on a small machine a few
 * fleet queries (each planning on threads of its own, which inherit this)
 * take every core, and the loop's replies -- /healthz, /metrics, queued
 * answers -- then wait for CPU.  Measured on 2 cores with eight clients
 * asking a 6-day fleet /series back to back (bench/bench-api-loaded.sh),
 * /healthz p50/p99 were 13.9/40.8 ms at equal priority, 0.4-0.5/12.6-13.6
 * ms at nice 10 (nice 19: no better).  SCHED_IDLE was tried too: it did
 * not lower the p99 reliably, and with other work on the machine it cut
 * the queries' throughput by 15-60 % (they get only the CPU left over).
 * Nice 10 is safe only because the loop shares no lock with the workers
 * that they hold for long: malloc arenas and SQLite's global mutex are
 * kept apart (rttq-api.c, store_sqlite.c).
 */
#define WORKER_NICE 10

struct worker {
	struct query_pool *pool;
	struct store *st;         /* this worker's own handle */
	pthread_t thread;
	bool started;
	bool background;          /* at WORKER_NICE */
};

struct query_pool {
	struct store *st;         /* the server's; used inline without workers */
	struct worker *workers;
	unsigned int n_workers;
	size_t queue_max;
	int wake[2];              /* finished jobs: workers -> loop */
	struct event *wake_ev;

	pthread_mutex_t mu;
	pthread_cond_t work_cv;
	struct query_job *head, *tail; /* waiting, oldest first */
	size_t waiting;
	struct query_job *finished;    /* any order */
	bool stopping;
};

static void push_finished(struct query_pool *p, struct query_job *job)
{
	static const char one = 1;

	pthread_mutex_lock(&p->mu);
	job->next = p->finished;
	p->finished = job;
	pthread_mutex_unlock(&p->mu);
	/* A full pipe already holds a wake-up; nothing is lost. */
	if (write(p->wake[1], &one, 1) < 0 && errno != EAGAIN)
		return;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct query_pool *p = w->pool;
	struct query_job *job;

	/* Per thread on Linux; failure leaves it at the loop's priority. */
	if (w->background)
		(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
				  WORKER_NICE);
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->work_cv, &p->mu);
		job = p->head;
		if (!job) { /* stopping, nothing left */
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		p->head = job->next;
		if (!p->head)
			p->tail = NULL;
		p->waiting--;
		pthread_mutex_unlock(&p->mu);
		job->ran = true;
		job->work(job, w->st);
		push_finished(p, job);
	}
}

/* Run done() of every finished job, on the loop. */
static void deliver(struct query_pool *p)
{
	struct query_job *job, *next;

	pthread_mutex_lock(&p->mu);
	job = p->finished;
	p->finished = NULL;
	pthread_mutex_unlock(&p->mu);
	for (; job; job = next) {
		next = job->next;
		job->done(job);
	}
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	char buf[256];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	deliver(arg);
}

int query_pool_new(struct event_base *base, struct store *st,
		   unsigned int workers, size_t queue_max, bool background,
		   struct query_pool **out, struct rttq_error *err)
{
	struct query_pool *p;
	unsigned int i;
	int rc = 0;

	*out = NULL;
	if (!workers || !queue_max)
		return rttq_fail(err, -EINVAL, "query pool: no workers or "
				 "no queue");
	p = calloc(1, sizeof(*p));
	if (!p)
		return rttq_fail(err, -ENOMEM, "out of memory");
	p->st = st;
	p->queue_max = queue_max;
	p->wake[0] = p->wake[1] = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	if (pipe2(p->wake, O_NONBLOCK | O_CLOEXEC)) {
		rc = rttq_fail(err, -errno, "query pool: pipe: %s",
			       strerror(errno));
		goto fail;
	}
	p->wake_ev = event_new(base, p->wake[0], EV_READ | EV_PERSIST, on_wake,
			       p);
	if (!p->wake_ev || event_add(p->wake_ev, NULL)) {
		rc = rttq_fail(err, -ENOMEM, "query pool: cannot watch the "
			       "pipe");
		goto fail;
	}
	p->workers = calloc(workers, sizeof(*p->workers));
	if (!p->workers) {
		rc = rttq_fail(err, -ENOMEM, "out of memory");
		goto fail;
	}
	for (i = 0; i < workers; i++) {
		struct worker *w = &p->workers[i];

		rc = store_open_sibling(st, &w->st, err);
		if (rc == -ENOTSUP && i == 0) {
			rc = 0; /* no second handle: run inline */
			break;
		}
		if (rc)
			goto fail;
		w->pool = p;
		w->background = background;
		p->n_workers++;
		rc = pthread_create(&w->thread, NULL, work, w);
		if (rc) {
			rc = rttq_fail(err, -rc, "query pool: thread: %s",
				       strerror(rc));
			goto fail;
		}
		w->started = true;
	}
	*out = p;
	return 0;
fail:
	query_pool_free(p);
	return rc;
}

int query_pool_submit(struct query_pool *p, struct query_job *job)
{
	job->next = NULL;
	job->ran = false;
	if (!p->n_workers) {
		job->ran = true;
		job->work(job, p->st);
		job->done(job);
		return 0;
	}
	pthread_mutex_lock(&p->mu);
	if (p->waiting >= p->queue_max) {
		pthread_mutex_unlock(&p->mu);
		return -EAGAIN;
	}
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	p->waiting++;
	pthread_cond_signal(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

size_t query_pool_waiting(struct query_pool *p)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = p->waiting;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void query_pool_free(struct query_pool *p)
{
	struct query_job *job, *next;
	unsigned int i;

	if (!p)
		return;
	/* Jobs never started go back unrun; running ones finish. */
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	job = p->head;
	p->head = p->tail = NULL;
	p->waiting = 0;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; p->workers && i < p->n_workers; i++)
		if (p->workers[i].started)
			pthread_join(p->workers[i].thread, NULL);
	for (; job; job = next) {
		next = job->next;
		job->done(job);
	}
	deliver(p);
	for (i = 0; p->workers && i < p->n_workers; i++)
		store_close(p->workers[i].st);
	free(p->workers);
	if (p->wake_ev)
		event_free(p->wake_ev);
	if (p->wake[0] >= 0)
		close(p->wake[0]);
	if (p->wake[1] >= 0)
		close(p->wake[1]);
	pthread_cond_destroy(&p->work_cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}
