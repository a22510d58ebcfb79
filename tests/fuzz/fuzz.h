/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The libFuzzer entry point of fuzz-codec.c, declared for the plain driver
 * (fuzz-driver.c) that feeds it a fixed corpus when libFuzzer is absent.
 */
#ifndef RTTQ_TESTS_FUZZ_H
#define RTTQ_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif /* RTTQ_TESTS_FUZZ_H */
