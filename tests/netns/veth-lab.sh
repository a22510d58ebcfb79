#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# veth-lab.sh: sourced by the tests that join two network namespaces with a
# veth pair and read `rttq hist --counters` (test-lossy.sh, test-node.sh),
# so the lab and the reading of counters are written once.
#
#   veth_lab_up NS_A DEV_A ADDR_A NS_B DEV_B ADDR_B [LINK_ARGS...]
#       both namespaces, the pair, each end's address (/24) and lo up;
#       LINK_ARGS (e.g. gso_max_segs 1) are set on both ends first
#   hist_counter FILE GROUP NAME
#       NAME in GROUP's "counters:" block of rttq hist's output FILE,
#       summed over its summaries (0 when absent)
#   veth_lab_cleanup
#       for the test's on_cleanup (harness.sh): kernel.bpf_stats_enabled
#       back to $stats_was when set, namespaces $A and $B gone, and rttq
#       hist's output ($tmp/hist.out, .err) shown when the test failed

veth_lab_up() {
	local a=$1 dev_a=$2 addr_a=$3 b=$4 dev_b=$5 addr_b=$6 side ns dev addr
	shift 6
	ip netns add "$a"
	ip netns add "$b"
	ip link add "$dev_a" netns "$a" type veth peer name "$dev_b" netns "$b"
	for side in "$a:$dev_a:$addr_a" "$b:$dev_b:$addr_b"; do
		IFS=: read -r ns dev addr <<<"$side"
		ip -n "$ns" link set lo up
		[[ $# -eq 0 ]] || ip -n "$ns" link set "$dev" "$@"
		ip -n "$ns" addr add "$addr/24" dev "$dev"
		ip -n "$ns" link set "$dev" up
	done
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
