#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test-netns.sh: the netns harness gives concurrent TCP flows the RTTs it was
# asked for.  Sets up client/server namespaces with 2, 20 and 80 ms over IPv4
# and 20 ms over IPv6, runs one request/response flow to each at once, and
# requires the application p50 RTT and the median of the kernel's srtt
# (tcp_info after each exchange) of every flow within 5 % of its set RTT;
# then tears down and checks that no namespace or relay process is left.
# ss's rtt (one snapshot of an EWMA, so not asserted) is printed alongside.
set -euo pipefail

: "${TUN_RELAY:?set by meson}" "${TCP_PINGPONG:?set by meson}" "${NETNS_SETUP:?set by meson}"

FLOWS=(10.9.0.2=2 10.9.1.2=20 10.9.2.2=80 fd00:9::3=20)
PORT=5201
DURATION_S=8
RATE_PER_S=50
TOLERANCE=0.05
# A loaded 2-core VM adds up to ~0.15 ms of wakeup latency to every round
# trip, which is 7 % of the 2 ms flow: this harness check allows that much
# in absolute terms (the end-to-end test in tests/e2e keeps to 5 %).
FLOOR_MS=0.15

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
require_root "network namespaces and TUN devices"
require_kernel tun
harness_start netns-test
dir=$tmp

# shellcheck disable=SC2317  # run by the harness at exit
on_cleanup() {
	bash "$NETNS_SETUP" down "$dir" >/dev/null 2>&1 || true
	if [[ $harness_status -ne 0 || $failures -ne 0 ]]; then
		echo "--- relay stderr"
		cat "$dir/relay.err" 2>/dev/null || true
	fi
}

within() {
	awk -v got="$1" -v want="$2" -v tol="$TOLERANCE" -v floor="$FLOOR_MS" \
		'BEGIN { d = got - want; if (d < 0) d = -d; b = tol * want; if (b < floor) b = floor
			 exit !(got != "" && d <= b) }'
}

# "rtt:20.254/0.051" of the connection to ADDR, in ms.
ss_rtt_ms() {
	local addr=$1
	[[ $addr == *:* ]] && addr="[$addr]"
	awk -v peer="$addr:$PORT" '
		$1 == "ESTAB" { hit = ($5 == peer); next }
		hit && match($0, /rtt:[0-9.]+/) { print substr($0, RSTART + 4, RLENGTH - 4); exit }
	' "$dir/ss.txt"
}

bash "$NETNS_SETUP" up "$dir" "${FLOWS[@]}"
# shellcheck disable=SC1091
. "$dir/env"
echo "relay trims ${TRIM_US} us of measured overhead from each round trip"

ip netns exec "$NS_SERVER" "$TCP_PINGPONG" server -p "$PORT" --realtime > "$dir/server.out" 2>&1 &
track_pid $!
wait_until 5 "the tcp-pingpong server listening" \
	grep -qx listening "$dir/server.out" || { cat "$dir/server.out"; exit 1; }

client_pids=()
for flow in "${FLOWS[@]}"; do
	addr=${flow%%=*}
	ip netns exec "$NS_CLIENT" "$TCP_PINGPONG" client -a "$addr" -p "$PORT" \
		-d "$DURATION_S" -r "$RATE_PER_S" --realtime > "$dir/client-$addr.out" 2>&1 &
	client_pids+=($!)
done
# The kernel's own view while the flows run (what rttq-agent will see),
# taken once every flow's connection has made 20 exchanges, after which
# its smoothed RTT (an EWMA of gain 1/8) has forgotten 93 % of its start.
flows_settled() {
	local flow addr
	ip netns exec "$NS_CLIENT" ss -tin > "$dir/ss.txt" || return 1
	for flow in "${FLOWS[@]}"; do
		addr=${flow%%=*}
		[[ $addr == *:* ]] && addr="[$addr]"
		awk -v peer="$addr:$PORT" -v min=20 '
			$1 == "ESTAB" { hit = ($5 == peer); next }
			hit && match($0, /data_segs_out:[0-9]+/) {
				found = substr($0, RSTART + 14, RLENGTH - 14) + 0 >= min
				exit
			}
			END { exit !found }' "$dir/ss.txt" || return 1
	done
}
wait_until "$DURATION_S" "20 exchanges on every flow (ss -tin)" \
	flows_settled
for pid in "${client_pids[@]}"; do
	status=0
	wait "$pid" || status=$?
	[[ $status -eq 0 ]] || fail "client $pid exited with $status"
done

for flow in "${FLOWS[@]}"; do
	addr=${flow%%=*}
	set_ms=${flow#*=}
	line=$(cat "$dir/client-$addr.out")
	p50=$(sed -n 's/^rtt_p50_ms=\([0-9.]*\).*/\1/p' <<< "$line")
	srtt=$(sed -n 's/.* srtt_p50_ms=\([0-9.]*\).*/\1/p' <<< "$line")
	ss_rtt=$(ss_rtt_ms "$addr")
	echo "flow $addr set_rtt_ms=$set_ms ss_rtt_ms=${ss_rtt:-none} $line"
	within "$p50" "$set_ms" || fail "$addr: application p50 ${p50:-none} ms, set $set_ms ms"
	within "$srtt" "$set_ms" || fail "$addr: kernel srtt p50 ${srtt:-none} ms, set $set_ms ms"
done

bash "$NETNS_SETUP" down "$dir"
if ip netns list | awk '{ print $1 }' | grep -q "^$NS_PREFIX-"; then
	fail "namespaces left after down: $(ip netns list | grep "^$NS_PREFIX-" | tr '\n' ' ')"
fi
# Also catches the relay that calibration started and replaced.
if left=$(pgrep -f -- "--netns-a $NS_CLIENT "); then
	fail "tun-relay still running after down: pid $left"
fi
harness_finish
