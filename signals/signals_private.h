/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Inside librttq-signals: the handle behind <rttq/signals.h>, shared by
 * signals_open.c (open, close, errors) and signals_sample.c (the sample
 * a read_and_reset() call hands out).
 */
#ifndef RTTQ_SIGNALS_PRIVATE_H
#define RTTQ_SIGNALS_PRIVATE_H

#include <stdint.h>

#include "collector.h"
#include "error.h"
#include "rttq/signals.h"

/* The library's exports: everything else is hidden, and the version
 * script (signals/librttq-signals.map) keeps the common libraries' own
 * RTTQ_API symbols out of the dynamic symbol table. */
#define SIGNALS_API __attribute__((visibility("default")))

struct rttq_signals {
	struct collector *collector;
	/* What the reads since the last sample took (collector_add_totals()
	 * adds), its histograms rtt and sndbuf (thousandths of a per cent)
	 * of the collector's sub-bits, the other distributions NULL. */
	struct collector_totals acc;
	uint64_t last_ns;          /* CLOCK_MONOTONIC of the last sample */
	struct rttq_error err;     /* of the last failed call, "" if none */
};

/** signals_acc_init() - allocate @acc's histograms.  @return 0, -ENOMEM. */
int signals_acc_init(struct collector_totals *acc);

/** signals_acc_free() - release @acc's histograms. */
void signals_acc_free(struct collector_totals *acc);

/**
 * signals_drain() - one collector_add_totals() of @h into @h->acc.
 *
 * @return 0 or collector_add_totals()'s negative errno (@h->err says
 *         why).
 */
int signals_drain(struct rttq_signals *h);

/**
 * signals_acc_take() - @acc as a sample covering @interval_ns, and @acc
 * emptied for the next one.
 */
void signals_acc_take(struct collector_totals *acc, uint64_t interval_ns,
		      struct rttq_signal_sample *out);

/** signals_now_ns() - CLOCK_MONOTONIC in ns. */
uint64_t signals_now_ns(void);

#endif /* RTTQ_SIGNALS_PRIVATE_H */
