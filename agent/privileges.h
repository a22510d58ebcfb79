/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Least privilege for rttq-agent: once the BPF program is attached and the
 * store is open, the agent keeps only what draining the maps needs -- CAP_BPF
 * on kernels that gate every bpf() command on it while the sysctl
 * kernel.unprivileged_bpf_disabled is set (before 6.5), nothing on newer
 * ones -- and drops the rest from every capability set.
 */
#ifndef RTTQ_PRIVILEGES_H
#define RTTQ_PRIVILEGES_H

#include <stddef.h>
#include <stdint.h>

#include <linux/capability.h>

#include "error.h"

/* Kernel headers older than 5.8 lack these; the numbers are ABI. */
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* A capability number as a bit of a set (CAP_BPF is 39, so 64 bits). */
#define PRIVILEGES_BIT(cap) (1ull << (cap))

struct privileges_report {
	uint64_t kept;          /* permitted = effective afterwards */
	uint64_t dropped;       /* were permitted before, are not now */
	uint64_t bounding_left; /* not in @keep but still in the bounding set
				 * (dropping it needs CAP_SETPCAP) */
};

/**
 * privileges_drain_set() - the capabilities draining the maps needs here:
 * CAP_BPF where the process holds it, else CAP_SYS_ADMIN (kernels before
 * 5.8 have no CAP_BPF and gate bpf() on CAP_SYS_ADMIN), else none.
 *
 * @return a set of PRIVILEGES_BIT()s.
 */
uint64_t privileges_drain_set(void);

/**
 * privileges_keep_only() - drop every capability not in @keep, from the
 * bounding set (when CAP_SETPCAP allows), the ambient set, and the
 * inheritable, permitted and effective sets; set no_new_privs, so no
 * execve can give any of them back.  Permanent for the process.
 * @keep: PRIVILEGES_BIT()s to keep; those not permitted now stay absent.
 * @report: what was kept and dropped; may be NULL.
 * @err: filled on failure.
 *
 * @return 0; -EPERM or -EINVAL when the kernel refuses a step (capset,
 * PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS), -EIO when the sets read back
 * differ from the ones set.
 */
int privileges_keep_only(uint64_t keep, struct privileges_report *report,
			 struct rttq_error *err);

/**
 * privileges_drop_for_drain() - keep only what draining needs, asking the
 * kernel: none when fd-based bpf() commands work unprivileged (Linux >= 6.5
 * checks only when objects are created), else privileges_drain_set(); then
 * privileges_keep_only() and a one-line account for the log, such as
 * "privileges: kept none (...); dropped 40 others; no_new_privs set".
 * @probe_fd: an fd of the attached program or a map (-1: assume needed).
 * @summary: the line, always NUL-terminated when @len > 0.
 * @len: size of @summary (256 is plenty).
 * @err: filled on failure.
 *
 * @return as privileges_keep_only().
 */
int privileges_drop_for_drain(int probe_fd, char *summary, size_t len,
			      struct rttq_error *err);

/**
 * privileges_format() - "CAP_BPF,CAP_PERFMON" (or "none") into @buf.
 * @set: PRIVILEGES_BIT()s.
 * @buf: destination, always NUL-terminated when @len > 0.
 * @len: size of @buf; the list is cut at a name boundary when short.
 */
void privileges_format(uint64_t set, char *buf, size_t len);

#endif /* RTTQ_PRIVILEGES_H */
