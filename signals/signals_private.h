/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside librttq-signals: the handle behind <rttq/signals.h>, shared by
 * signals_open.c (open, close, errors) and signals_sample.c (the sample
 * a read_and_reset() call hands out).
 */
#ifndef RTTQ_SIGNALS_PRIVATE_H
#define RTTQ_SIGNALS_PRIVATE_H

#include <stdint.h>

#include "error.h"
#include "rttq/signals.h"

/* The library's exports: everything else is hidden, and the version
 * script (signals/librttq-signals.map) keeps the common libraries' own
 * RTTQ_API symbols out of the dynamic symbol table. */
#define SIGNALS_API __attribute__((visibility("default")))

struct collector;
struct hist;

/*
 * What the drains since the last sample handed out.  Accumulated, not
 * overwritten: a drain that fails halfway has already taken its deltas,
 * so they wait here for the next successful call.
 */
struct signals_acc {
	struct hist *rtt;          /* group "all", metric rtt */
	struct hist *sndbuf;       /* group "all", thousandths of a per cent */
	uint64_t send_bytes, recv_bytes, drops, retransmits, softirq_ns;
};

struct rttq_signals {
	struct collector *collector;
	struct signals_acc acc;
	uint64_t last_ns;          /* CLOCK_MONOTONIC of the last sample */
	struct rttq_error err;     /* of the last failed call, "" if none */
};

/** signals_acc_init() - allocate @acc's histograms.  @return 0, -ENOMEM. */
int signals_acc_init(struct signals_acc *acc);

/** signals_acc_free() - release @acc's histograms. */
void signals_acc_free(struct signals_acc *acc);

/**
 * signals_drain() - one collector_drain() of @h, added to @h->acc.
 *
 * @return 0 or collector_drain()'s negative errno (@h->err says why).
 */
int signals_drain(struct rttq_signals *h);

/**
 * signals_acc_take() - @acc as a sample covering @interval_ns, and @acc
 * emptied for the next one.
 */
void signals_acc_take(struct signals_acc *acc, uint64_t interval_ns,
		      struct rttq_signal_sample *out);

/** signals_now_ns() - CLOCK_MONOTONIC in ns. */
uint64_t signals_now_ns(void);

#endif /* RTTQ_SIGNALS_PRIVATE_H */
