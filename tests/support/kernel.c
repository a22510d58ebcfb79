// SPDX-License-Identifier: BSD-2-Clause
/*
 * The machine checks of kernel.h.  The tcp_probe tracepoint is looked up
 * in the kernel's BTF (its btf_trace_tcp_probe typedef) rather than in
 * tracefs, which need not be mounted; sk storage is probed by creating
 * such a map, as the collector's program needs one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kernel.h"

#define BTF_VMLINUX "/sys/kernel/btf/vmlinux"

static int missing(char *why, size_t len, const char *what)
{
	snprintf(why, len, "%s", what);
	return -ENOENT;
}

static int bpf_missing(char *why, size_t len)
{
	struct btf *btf;
	int id;

	if (access(BTF_VMLINUX, R_OK))
		return missing(why, len, "no BTF: " BTF_VMLINUX " is missing "
			       "(the kernel needs CONFIG_DEBUG_INFO_BTF=y)");
	btf = btf__load_vmlinux_btf();
	if (!btf)
		return missing(why, len, "cannot read the kernel's BTF at "
			       BTF_VMLINUX);
	id = btf__find_by_name_kind(btf, "btf_trace_tcp_probe",
				    BTF_KIND_TYPEDEF);
	btf__free(btf);
	if (id < 0)
		return missing(why, len, "no tcp_probe tracepoint in this "
			       "kernel (no btf_trace_tcp_probe in its BTF)");
	if (libbpf_probe_bpf_map_type(BPF_MAP_TYPE_SK_STORAGE, NULL) != 1)
		return missing(why, len, "BPF sk storage maps "
			       "(BPF_MAP_TYPE_SK_STORAGE) are not supported");
	return 0;
}

int kernel_missing(unsigned int features, char *why, size_t len)
{
	int rc;

	if (features & KERNEL_BPF) {
		rc = bpf_missing(why, len);
		if (rc)
			return rc;
	}
	if ((features & KERNEL_TUN) && access("/dev/net/tun", R_OK | W_OK))
		return missing(why, len, "/dev/net/tun missing (kernel "
			       "without CONFIG_TUN)");
	return 0;
}

void require_root(const char *what)
{
	if (geteuid() == 0)
		return;
	fprintf(stderr, "FAIL: %s needs root: run this suite as root\n",
		what);
	exit(1);
}

void skip_unless_kernel(unsigned int features)
{
	char why[256];

	if (!kernel_missing(features, why, sizeof(why)))
		return;
	printf("SKIP: %s\n", why);
	fflush(stdout);
	exit(EXIT_SKIP);
}
