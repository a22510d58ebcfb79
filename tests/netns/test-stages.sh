#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test-stages.sh: --signals stages on the TUN delay lab (netns-setup.sh,
# a 5 ms round trip held by tun-relay) with eight request/response flows,
# while `rttq latency` and `rttq hist --counters` watch the same sockets
# (issue #15's proof of "where a packet's time goes"):
#   every stage of the client's group has samples, above 0 and below the
#   RTT (the relay's hold is outside the host's stack);
#   sampled 1 in 64, the counts are within binomial bounds (5 standard
#   deviations) of 1/64 of the packets: rx.stack of the segments TCP
#   received (the group's rtt count, one per segment), tx.stack and
#   tx.qdisc of the segments it sent (segs.out).
set -euo pipefail

: "${TUN_RELAY:?set by meson}" "${TCP_PINGPONG:?set by meson}" "${NETNS_SETUP:?set by meson}" "${RTTQ:?set by meson}"

PORT=5203
SERVER=10.9.1.2
RTT_MS=5
CLIENTS=8
DURATION_S=${DURATION_S:-8}

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
require_root "network namespaces, TUN devices and BPF"
require_kernel tun
require_kernel bpf
harness_start stages
dir=$tmp

# shellcheck disable=SC2317  # run by the harness at exit
on_cleanup() {
	bash "$NETNS_SETUP" down "$dir" >/dev/null 2>&1 || true
	if [[ $harness_status -ne 0 || $failures -ne 0 ]]; then
		echo "--- rttq latency"
		cat "$dir/latency.out" "$dir/latency.err" 2>/dev/null || true
		echo "--- rttq hist"
		cat "$dir/hist.out" "$dir/hist.err" 2>/dev/null || true
	fi
}

NETNS_CALIBRATE=0 bash "$NETNS_SETUP" up "$dir" "$SERVER=$RTT_MS"
# shellcheck disable=SC1091
. "$dir/env"

"$RTTQ" latency -i 86400 --group-by raddr --raddr 10.9.0.0/16 \
	>"$dir/latency.out" 2>"$dir/latency.err" &
latency_pid=$!
track_pid "$latency_pid"
"$RTTQ" hist --counters --group-by raddr --raddr 10.9.0.0/16 \
	--signals retrans >"$dir/hist.out" 2>"$dir/hist.err" &
hist_pid=$!
track_pid "$hist_pid"
wait_for_match 20 "$dir/latency.out" '/^Tracing/p' >/dev/null ||
	die "rttq latency did not start: $(cat "$dir/latency.err")"
wait_for_match 20 "$dir/hist.out" '/^Tracing/p' >/dev/null ||
	die "rttq hist did not start: $(cat "$dir/hist.err")"

ip netns exec "$NS_SERVER" "$TCP_PINGPONG" server -p "$PORT" >"$dir/server.out" 2>&1 &
track_pid $!
wait_for_match 10 "$dir/server.out" '/listening/p' >/dev/null ||
	die "tcp-pingpong server did not start"
# Eight connections, each 150 exchanges a second of 1,000 bytes each way
# (one at a time: a 5 ms round trip allows 200).
pids=()
for i in $(seq "$CLIENTS"); do
	ip netns exec "$NS_CLIENT" "$TCP_PINGPONG" client -a "$SERVER" -p "$PORT" \
		-d "$DURATION_S" -r 150 -s 1000 >"$dir/client$i.out" 2>&1 &
	pids+=($!)
done
for pid in "${pids[@]}"; do
	wait "$pid" || die "a tcp-pingpong client failed: $(cat "$dir"/client*.out)"
done
sleep 1
kill -INT "$latency_pid" "$hist_pid"
wait "$latency_pid" || die "rttq latency failed: $(cat "$dir/latency.err")"
wait "$hist_pid" || die "rttq hist failed: $(cat "$dir/hist.err")"

group=raddr:$SERVER
# row STAGE FIELD: a column of the group's row in rttq latency's table
# (3 SAMPLES, 4 P50, 5 P90, 6 P99, 7 MAX).
row() {
	awk -v g="$group" -v s="$1" -v f="$2" '$1 == g && $2 == s { v = $f } END { print v + 0 }' \
		"$dir/latency.out"
}
counter() {
	awk -v g="$group counters:" -v n="$1" '
		$0 == g { on = 1; next }
		on && NF == 0 { on = 0 }
		on && $1 == n { v += $2 }
		END { print v + 0 }' "$dir/hist.out"
}
rtt_n=$(awk -v g="$group:" '$1 == g && $3 == "events," { print $2; exit }' "$dir/hist.out")
segs=$(counter segs.out)
rtt_p50_us=$(row rtt 4)
echo "$group: rtt p50 $rtt_p50_us us over ${rtt_n:-0} segments received; segs.out $segs"
[[ ${rtt_n:-0} -gt 3000 && $segs -gt 3000 ]] || fail "too little traffic: rtt ${rtt_n:-0}, segs.out $segs"

# binomial STAGE N: the stage's samples within 5 sd of N / 64.
binomial() {
	local k
	k=$(row "$1" 3)
	echo "$group: $1 $k samples of $2 packets (1/64: $(($2 / 64)))"
	awk -v k="$k" -v n="$2" 'BEGIN {
		p = 1 / 64; m = n * p; s = sqrt(n * p * (1 - p))
		exit !(k >= m - 5 * s && k <= m + 5 * s) }' ||
		fail "$group: $1: $k samples, outside 5 sd of 1/64 of $2"
}

for stage in rx.stack rx.socket tx.stack tx.qdisc; do
	n=$(row $stage 3)
	p50=$(row $stage 4)
	max=$(row $stage 7)
	echo "$group: $stage samples $n p50 $p50 us max $max us"
	[[ $n -gt 0 ]] || fail "$group: no $stage samples"
	awk -v p="$p50" -v m="$max" -v r="$rtt_p50_us" 'BEGIN { exit !(p > 0 && m < r) }' ||
		fail "$group: $stage p50 $p50 us, max $max us: not above 0 and below the RTT $rtt_p50_us us"
done
binomial rx.stack "$rtt_n"
binomial tx.stack "$segs"
binomial tx.qdisc "$segs"

harness_finish
