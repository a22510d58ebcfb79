#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# test-bpf-arch.sh: the BPF object built for each CPU rttq supports is a BPF
# ELF with every program, map and BTF section the loader needs, bpftool
# makes a skeleton of it, and its kprobe program reads its first argument
# where that CPU's pt_regs keeps it: the reason the object is per CPU.
#
# usage: test-bpf-arch.sh LLVM_OBJDUMP BPFTOOL ARCH OBJECT [ARCH OBJECT]...
# An OBJECT of "missing" (no uapi headers for ARCH here) skips the test.
set -euo pipefail

objdump=$1
bpftool=$2
shift 2

# Byte offset of the first argument register in the struct the kprobe
# program's context is: x86 struct pt_regs .di (the 15th unsigned long),
# arm64 struct user_pt_regs .regs[0].
declare -A parm1_off=([x86]=112 [arm64]=0)
sections=(fentry/tcp_rcv_established tp_btf/tcp_probe raw_tp/tcp_probe
	kprobe/tcp_rcv_established .maps license .rodata .BTF .BTF.ext)

failed=0
skipped=()
fail() {
	echo "FAIL $*" >&2
	failed=1
}

while [ $# -ge 2 ]; do
	arch=$1 obj=$2
	shift 2
	if [ "$obj" = missing ]; then
		skipped+=("$arch")
		continue
	fi
	if ! grep -q 'file format elf64-bpf' <<<"$("$objdump" -f "$obj")"; then
		fail "$arch: $obj is not a 64-bit BPF ELF"
		continue
	fi
	headers=$("$objdump" -h "$obj")
	for s in "${sections[@]}"; do
		grep -qE "^ *[0-9]+ +$s " <<<"$headers" ||
			fail "$arch: no section $s in $obj"
	done
	"$bpftool" gen skeleton "$obj" name rttq_bpf >/dev/null ||
		fail "$arch: bpftool gen skeleton refuses $obj"
	# The first read through the context (r1) is BPF_KPROBE's argument.
	load=$("$objdump" -d --section=kprobe/tcp_rcv_established "$obj" |
		grep -m1 -oE '\(r1 \+ [0-9]+\)' || true)
	want="(r1 + ${parm1_off[$arch]})"
	if [ "$load" != "$want" ]; then
		fail "$arch: kprobe reads its argument at ${load:-nothing}, not $want"
	else
		echo "ok $arch: $obj, kprobe argument at $load"
	fi
done

if [ $failed -ne 0 ]; then
	exit 1
fi
if [ ${#skipped[@]} -ne 0 ]; then
	echo "SKIP ${skipped[*]}: no uapi asm/ headers (Debian: linux-libc-dev-<arch>-cross)"
	exit 77
fi
