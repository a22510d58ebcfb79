/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the root test suites need from the machine, checked the same way
 * by every test: not being root is the tester's mistake and fails the
 * test; a kernel without a feature the product needs (BTF, the tcp_probe
 * tracepoint, BPF sk storage, TUN devices) skips it with exit status 77
 * and says which feature is missing.  Shell tests reach the same checks
 * through the kernel-features program (harness.sh's require_kernel).
 */
#ifndef RTTQ_TESTS_KERNEL_H
#define RTTQ_TESTS_KERNEL_H

#include <stddef.h>

#define KERNEL_BPF (1u << 0) /* BTF, tcp_probe, BPF sk storage maps */
#define KERNEL_TUN (1u << 1) /* /dev/net/tun */

/* meson's code for a skipped test. */
#define EXIT_SKIP 77

/**
 * kernel_missing() - the first of @features this kernel lacks.
 * @features: KERNEL_* bits.
 * @why: receives a sentence naming the missing feature.
 * @len: size of @why.
 *
 * The BPF map probe needs root: call require_root() first.
 * @return 0 when everything is there, else -ENOENT with @why filled in.
 */
int kernel_missing(unsigned int features, char *why, size_t len);

/**
 * require_root() - fail the test (exit 1) unless it runs as root.
 * @what: what needs root, for the message.
 */
void require_root(const char *what);

/**
 * skip_unless_kernel() - exit EXIT_SKIP, printing "SKIP: <why>", when
 * kernel_missing() finds one of @features missing; return otherwise.
 */
void skip_unless_kernel(unsigned int features);

#endif /* RTTQ_TESTS_KERNEL_H */
