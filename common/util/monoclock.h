/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Monotonic milliseconds, for deadlines and retry waits that a step of the
 * wall clock must not stretch or cut short.
 */
#ifndef RTTQ_MONOCLOCK_H
#define RTTQ_MONOCLOCK_H

#include <stdint.h>

#include "rttq_export.h"

/** monoclock_ms() - CLOCK_MONOTONIC now, in milliseconds. */
RTTQ_API int64_t monoclock_ms(void);

/** monoclock_sleep_ms() - sleep @ms milliseconds (signals do not cut it
 * short); 0 or less returns at once. */
RTTQ_API void monoclock_sleep_ms(int64_t ms);

#endif /* RTTQ_MONOCLOCK_H */
