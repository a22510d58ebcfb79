#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# veth-lab.sh: sourced by the tests that join two network namespaces with a
# veth pair and read `rttq hist --counters` (test-lossy.sh, test-node.sh),
# so the reading of counters and the clean-up are written once.
#
#   lossy_lab_up NS_A NS_B ADDR_A ADDR_B
#       harness.sh's veth_pair with segmentation offload off (one segment
#       per packet) and in each namespace an nftables rule dropping 4 %
#       of the TCP packets it receives, counted
#   nft_dropped NS
#       packets NS's rule dropped
#   hist_counter FILE GROUP NAME
#       NAME in GROUP's "counters:" block of rttq hist's output FILE,
#       summed over its summaries (0 when absent)
#   veth_lab_cleanup
#       for the test's on_cleanup (harness.sh): kernel.bpf_stats_enabled
#       back to $stats_was when set, namespaces $A and $B gone, and rttq
#       hist's output ($tmp/hist.out, .err) shown when the test failed

lossy_lab_up() {
	local ns
	veth_pair "$1" "$2" "$3" "$4" gso_max_segs 1
	for ns in "$1" "$2"; do
		ip netns exec "$ns" nft -f - <<-EOF
		table inet lossy {
			chain input {
				type filter hook input priority 0;
				meta l4proto tcp numgen random mod 100 < 4 counter drop
			}
		}
		EOF
	done
}

nft_dropped() {
	ip netns exec "$1" nft list chain inet lossy input |
		awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }'
}

# short_max N: what a count of N events seen by a tracing program may
# fall short by beyond the runs the kernel says it skipped (prog_misses):
# 4 per mille, at least 3.  Now and then the kernel calls a tracepoint
# without running the BPF programs attached to it, and without counting a
# skipped run: an ftrace instance recorded such calls of
# tcp_retransmit_skb and kfree_skb, each in a softirq that ran on top of
# another process's task.  Retransmits are made up from the socket's own
# count (kernel/tcp_health.h); drops and RTT samples have nothing to make
# them up from.
short_max() {
	local m=$(($1 * 4 / 1000))
	echo $((m > 3 ? m : 3))
}

# prog_misses NAME PID...: runs of the programs called NAME that the
# processes PID... hold, skipped because the same program was already
# running on that CPU (a softirq's event interrupting it in process
# context): tracing programs do not nest, and the kernel counts what it
# skipped (bpftool's recursion_misses).  Other processes' programs of the
# same name (a benchmark beside the test) are not counted.
prog_misses() {
	local name=$1 pid ids
	shift
	ids=$(for pid; do
		grep -h '^prog_id:' /proc/"$pid"/fdinfo/* 2>/dev/null
	done | awk '{ print $2 }' | sort -nu | paste -sd, -)
	bpftool -j prog show | jq --arg n "$name" \
		"[.[] | select(.name == \$n and (.id | IN(${ids:-0}))) |
		  .recursion_misses // 0] | add // 0"
}

hist_counter() {
	awk -v g="$2 counters:" -v n="$3" '
		$0 == g { on = 1; next }
		on && NF == 0 { on = 0 }
		on && $1 == n { v += $2 }
		END { printf "%.0f\n", v }' "$1"
}

# shellcheck disable=SC2154  # harness_status, failures, tmp: harness.sh's
veth_lab_cleanup() {
	[[ -z ${stats_was:-} ]] || sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	if [[ $harness_status -ne 0 || $failures -ne 0 ]]; then
		echo "--- rttq hist"
		cat "$tmp/hist.out" "$tmp/hist.err" 2>/dev/null || true
	fi
}
