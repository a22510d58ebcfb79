#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-signals-validate.sh: what `rttq signals --validate` reports rttq
# costs under `iperf3 -P 4` at full speed between two network namespaces
# on a veth pair (goal: under 0.5 % of one core), with the RTT events per
# second and iperf3's throughput without rttq and with it.  The validator
# attaches once iperf3 is running (its baseline is the loaded machine),
# and both throughputs are the mean of the same one-second intervals.
# Prints numbers; asserts nothing.  Needs root and iperf3.
set -euo pipefail

: "${RTTQ:?set by meson}"

IPERF_S=${IPERF_S:-16}
VALIDATE_S=${VALIDATE_S:-10}
ATTACH_AFTER_S=2      # iperf3 ramps up before the validator's baseline
FIRST=4 LAST=13       # iperf3 intervals [FIRST, LAST): rttq attached
PORT=5201

# shellcheck source=../tests/support/harness.sh
. "$(dirname "$0")/../tests/support/harness.sh"
require_root "network namespaces and BPF"
require_kernel bpf
require_command iperf3 "the Debian package iperf3"
harness_start bench-signals
A=rttq-sva$$
B=rttq-svb$$

veth_pair "$A" "$B" 10.78.0.1 10.78.0.2
ip netns exec "$B" iperf3 -s -p "$PORT" > "$tmp/server.out" 2>&1 &
track_pid $!
# shellcheck disable=SC2317  # called by wait_until
iperf_listening() {
	ip netns exec "$B" ss -Htln "sport = :$PORT" | grep -q LISTEN
}
wait_until 5 "iperf3 listening" iperf_listening || exit 1

# iperf3 -P 4 for IPERF_S s into FILE, one line per second in Mbit/s.
run_iperf() {
	ip netns exec "$A" iperf3 -c 10.78.0.2 -p "$PORT" -P 4 -t "$IPERF_S" \
		-i 1 -f m > "$1"
}

# Mean Mbit/s of FILE's [SUM] lines for intervals FIRST..LAST-1.
mean_mbps() {
	awk -v first="$FIRST" -v last="$LAST" '
		$1 == "[SUM]" && $3 == "sec" && $NF != "receiver" && $NF != "sender" {
			split($2, t, "-"); if (t[1] + 0 >= first && t[1] + 0 < last) { s += $6; n++ }
		}
		END { if (n) printf "%.0f", s / n; else print "?" }' "$1"
}

run_iperf "$tmp/without.txt"
run_iperf "$tmp/with.txt" &
iperf_pid=$!
sleep "$ATTACH_AFTER_S"
rc=0
"$RTTQ" signals --validate --duration "$VALIDATE_S" > "$tmp/validate.txt" 2>&1 || rc=$?
wait "$iperf_pid"

echo "iperf3 -P 4 over veth, intervals ${FIRST}-${LAST} s: without rttq $(mean_mbps "$tmp/without.txt") Mbit/s, with rttq signals --validate $(mean_mbps "$tmp/with.txt") Mbit/s"
sed -n '/^baseline/p; /^validate:/,$p' "$tmp/validate.txt"
echo "rttq signals --validate exit status: $rc (3: above the 0.5 % target)"
harness_finish
