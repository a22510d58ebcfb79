// SPDX-License-Identifier: BSD-2-Clause
/*
 * kernel-features FEATURE...: the checks of kernel.h for shell tests.
 * FEATURE is "bpf" or "tun".  Exits 0 when the kernel has them all, 77
 * (meson's skip) after printing "SKIP: <why>" when one is missing, 1 when
 * not root (the BPF probe needs it), 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>

#include "kernel.h"

int main(int argc, char **argv)
{
	unsigned int features = 0;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "bpf"))
			features |= KERNEL_BPF;
		else if (!strcmp(argv[i], "tun"))
			features |= KERNEL_TUN;
		else {
			fprintf(stderr, "usage: kernel-features bpf|tun...\n");
			return 2;
		}
	}
	if (features & KERNEL_BPF)
		require_root("probing BPF support");
	skip_unless_kernel(features);
	return 0;
}
