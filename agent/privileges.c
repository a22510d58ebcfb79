// SPDX-License-Identifier: BSD-2-Clause
/*
 * Capability dropping with the raw capget/capset and prctl system calls
 * (glibc wraps neither capget nor capset, and libcap would be a dependency
 * for a dozen lines).  See privileges.h for what is kept and why.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/capability.h>

#include "privileges.h"

#define CAP_NUMBERS_KNOWN 41 /* 0..CAP_CHECKPOINT_RESTORE (40) */

static const char *const cap_names[CAP_NUMBERS_KNOWN] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

struct cap_sets {
	uint64_t effective;
	uint64_t permitted;
	uint64_t inheritable;
};

/* The highest capability this kernel knows; bits above it do not exist. */
static unsigned int last_cap(void)
{
	unsigned int last = CAP_NUMBERS_KNOWN - 1;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");

	if (f) {
		if (fscanf(f, "%u", &last) != 1 || last > 63)
			last = CAP_NUMBERS_KNOWN - 1;
		fclose(f);
	}
	return last;
}

static int caps_get(struct cap_sets *s)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &hdr, d) != 0)
		return -errno;
	s->effective = (uint64_t)d[1].effective << 32 | d[0].effective;
	s->permitted = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	s->inheritable = (uint64_t)d[1].inheritable << 32 | d[0].inheritable;
	return 0;
}

static int caps_set(const struct cap_sets *s)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {
		{
			.effective = (uint32_t)s->effective,
			.permitted = (uint32_t)s->permitted,
			.inheritable = (uint32_t)s->inheritable,
		},
		{
			.effective = (uint32_t)(s->effective >> 32),
			.permitted = (uint32_t)(s->permitted >> 32),
			.inheritable = (uint32_t)(s->inheritable >> 32),
		},
	};

	if (syscall(SYS_capset, &hdr, d) != 0)
		return -errno;
	return 0;
}

static const char *cap_name(unsigned int cap)
{
	return cap < CAP_NUMBERS_KNOWN ? cap_names[cap] : "CAP_?";
}

uint64_t privileges_drain_set(void)
{
	struct cap_sets s;

	if (caps_get(&s))
		return 0;
	if (s.permitted & PRIVILEGES_BIT(CAP_BPF))
		return PRIVILEGES_BIT(CAP_BPF);
	if (s.permitted & PRIVILEGES_BIT(CAP_SYS_ADMIN))
		return PRIVILEGES_BIT(CAP_SYS_ADMIN);
	return 0;
}

/*
 * The bounding set limits what any later execve can gain (a root execve
 * gets the whole bounding set otherwise), so it goes first, while
 * CAP_SETPCAP is still effective.
 */
static int drop_bounding(uint64_t keep, unsigned int last, bool can_setpcap,
			 uint64_t *left, struct rttq_error *err)
{
	unsigned int cap;
	int in_set;

	*left = 0;
	for (cap = 0; cap <= last; cap++) {
		if (keep & PRIVILEGES_BIT(cap))
			continue;
		in_set = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
		if (in_set <= 0)
			continue;
		if (!can_setpcap) {
			*left |= PRIVILEGES_BIT(cap);
			continue;
		}
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
			return rttq_fail(err, -errno,
					 "cannot drop %s from the bounding set: %s",
					 cap_name(cap), strerror(errno));
	}
	return 0;
}

int privileges_keep_only(uint64_t keep, struct privileges_report *report,
			 struct rttq_error *err)
{
	struct cap_sets before, want, after;
	uint64_t bounding_left = 0;
	int rc;

	rc = caps_get(&before);
	if (rc)
		return rttq_fail(err, rc, "capget: %s", strerror(-rc));
	rc = drop_bounding(keep, last_cap(),
			   before.effective & PRIVILEGES_BIT(CAP_SETPCAP),
			   &bounding_left, err);
	if (rc)
		return rc;
	/* Ambient capabilities are cleared with the permitted ones anyway;
	 * kernels before 4.3 have none and answer EINVAL. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 &&
	    errno != EINVAL)
		return rttq_fail(err, -errno, "cannot clear ambient capabilities: %s",
				 strerror(errno));
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return rttq_fail(err, -errno, "cannot set no_new_privs: %s",
				 strerror(errno));

	want.permitted = before.permitted & keep;
	want.effective = want.permitted;
	want.inheritable = 0;
	rc = caps_set(&want);
	if (rc)
		return rttq_fail(err, rc, "capset: %s", strerror(-rc));
	rc = caps_get(&after);
	if (rc)
		return rttq_fail(err, rc, "capget: %s", strerror(-rc));
	if (after.permitted != want.permitted ||
	    after.effective != want.effective || after.inheritable != 0)
		return rttq_fail(err, -EIO,
				 "capabilities read back as effective %#llx permitted %#llx, not %#llx",
				 (unsigned long long)after.effective,
				 (unsigned long long)after.permitted,
				 (unsigned long long)want.permitted);
	if (report) {
		report->kept = after.permitted;
		report->dropped = before.permitted & ~after.permitted;
		report->bounding_left = bounding_left;
	}
	return 0;
}

/*
 * Whether fd-based bpf() commands work with no capability in effect: since
 * Linux 6.5 the kernel checks privileges only where BPF objects are created,
 * so the holder of a map or program fd may use it unprivileged; before, the
 * sysctl kernel.unprivileged_bpf_disabled gated every command.  The answer
 * comes from the kernel itself: effective capabilities are cleared for one
 * BPF_OBJ_GET_INFO_BY_FD on @probe_fd, then restored from the permitted set
 * (no privilege is needed to do either).
 */
static bool bpf_works_unprivileged(int probe_fd)
{
	struct bpf_prog_info info;
	__u32 info_len = sizeof(info);
	struct cap_sets saved, none;
	bool works;

	if (probe_fd < 0 || caps_get(&saved))
		return false;
	none = saved;
	none.effective = 0;
	if (caps_set(&none))
		return false;
	memset(&info, 0, sizeof(info));
	works = bpf_obj_get_info_by_fd(probe_fd, &info, &info_len) == 0;
	caps_set(&saved);
	return works;
}

int privileges_drop_for_drain(int probe_fd, char *summary, size_t len,
			      struct rttq_error *err)
{
	struct privileges_report r;
	char kept[64], left[128];
	bool unprivileged = bpf_works_unprivileged(probe_fd);
	int rc;

	rc = privileges_keep_only(unprivileged ? 0 : privileges_drain_set(),
				  &r, err);
	if (rc)
		return rc;
	privileges_format(r.kept, kept, sizeof(kept));
	privileges_format(r.bounding_left, left, sizeof(left));
	snprintf(summary, len,
		 "privileges: kept %s (%s); dropped %d others; no_new_privs set%s%s%s",
		 kept,
		 unprivileged ?
			 "this kernel lets the holder of a BPF fd drain it" :
			 "draining the BPF maps needs it",
		 __builtin_popcountll(r.dropped),
		 r.bounding_left ? "; bounding set still holds " : "",
		 r.bounding_left ? left : "",
		 r.bounding_left ? " (no CAP_SETPCAP to drop them)" : "");
	return 0;
}

void privileges_format(uint64_t set, char *buf, size_t len)
{
	size_t used = 0, n;
	unsigned int cap;

	if (!len)
		return;
	buf[0] = '\0';
	for (cap = 0; cap < 64; cap++) {
		if (!(set & PRIVILEGES_BIT(cap)))
			continue;
		n = strlen(cap_name(cap)) + (used ? 1 : 0);
		if (used + n >= len)
			return;
		snprintf(buf + used, len - used, "%s%s", used ? "," : "",
			 cap_name(cap));
		used += n;
	}
	if (!used)
		snprintf(buf, len, "none");
}
