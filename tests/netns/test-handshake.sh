#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test-handshake.sh: handshake and jitter per group on the TUN delay lab
# (netns-setup.sh), read through `rttq hist --metric`.
#   handshake: 20 connections to each peer, the group's p50 within 5 % of
#              the RTT set for it (SYN out to ESTABLISHED is one round trip);
#   jitter:    one long flow per peer, the group's jitter (mdev_us >> 2 per
#              segment) against the rttvar ss -ti prints for that socket
#              while it runs: the same quantity, so ss's figure lies
#              between a quarter of the group's p50 and twice its p99 (one
#              instant against a run), and both are far below
#              the RTT on a relay that holds packets for a fixed time.
set -euo pipefail

: "${RTTQ:?set by meson}" "${TUN_RELAY:?set by meson}" "${TCP_PINGPONG:?set by meson}" "${NETNS_SETUP:?set by meson}"

FLOWS=(10.9.1.2=20 10.9.2.2=80)
PORT=5201
CONNECTIONS=20
JITTER_S=9
SETTLE_S=3
TOLERANCE=0.05

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
require_root "network namespaces, TUN devices and BPF"
require_kernel tun bpf
harness_start handshake
dir=$tmp

# shellcheck disable=SC2317  # run by the harness at exit
on_cleanup() {
	bash "$NETNS_SETUP" down "$dir" >/dev/null 2>&1 || true
	if [[ $harness_status -ne 0 || $failures -ne 0 ]]; then
		cat "$dir"/hist-*.out "$dir"/hist-*.err 2>/dev/null || true
	fi
}

# hist NAME METRIC: rttq hist of METRIC per peer in the background.
hist() {
	"$RTTQ" hist --metric "$2" --group-by raddr --raddr 10.9.0.0/16 \
		--signals jitter,conn >"$dir/hist-$1.out" 2>"$dir/hist-$1.err" &
	eval "hist_$1=\$!"
	track_pid $!
	wait_for_match 20 "$dir/hist-$1.out" '/^Tracing/p' >/dev/null ||
		die "rttq hist --metric $2 did not start: $(cat "$dir/hist-$1.err")"
}

# stop_hist NAME: its summary is printed at SIGINT.
stop_hist() {
	local pid
	pid=$(eval "echo \$hist_$1")
	kill -INT "$pid"
	wait "$pid" || die "rttq hist ($1) failed: $(cat "$dir/hist-$1.err")"
}

# field NAME GROUP WHAT: "p50" (us) or "events" of GROUP in hist NAME.
field() {
	sed -n "s/^$2: \\([0-9]*\\) events, p50 \\([0-9.]*\\) us, p90 \\([0-9.]*\\) us, p99 \\([0-9.]*\\) us.*/\\1 \\2 \\3 \\4/p" \
		"$dir/hist-$1.out" | awk -v w="$3" '
		{ n = $1; p50 = $2; p90 = $3; p99 = $4 }
		END { print (w == "events" ? n : w == "p50" ? p50 : w == "p90" ? p90 : p99) + 0 }'
}

bash "$NETNS_SETUP" up "$dir" "${FLOWS[@]}"
# shellcheck disable=SC1091
. "$dir/env"
ip netns exec "$NS_SERVER" "$TCP_PINGPONG" server -p "$PORT" --realtime \
	>"$dir/server.out" 2>&1 &
track_pid $!
wait_until 5 "the tcp-pingpong server listening" \
	grep -qx listening "$dir/server.out" || die "no tcp-pingpong server"

# Jitter: one long flow per peer, counted once it has settled (a new
# connection's mdev starts at half its first RTT and takes a few dozen
# samples to decay; counting those would put the group's p50 anywhere
# between the two), and ss -ti near its end.
pids=()
for flow in "${FLOWS[@]}"; do
	addr=${flow%%=*}
	ip netns exec "$NS_CLIENT" "$TCP_PINGPONG" client -a "$addr" -p "$PORT" \
		-d "$JITTER_S" -r 20 --realtime >"$dir/long-$addr.out" 2>&1 &
	pids+=($!)
done
sleep "$SETTLE_S"
hist jitter jitter
sleep $((JITTER_S - SETTLE_S - 1))
ip netns exec "$NS_CLIENT" ss -tin >"$dir/ss.txt"
wait "${pids[@]}" || die "a long flow failed"
stop_hist jitter

# Handshakes: CONNECTIONS short connections to each peer, all at once.
hist handshake handshake
pids=()
for flow in "${FLOWS[@]}"; do
	addr=${flow%%=*}
	for ((i = 0; i < CONNECTIONS; i++)); do
		ip netns exec "$NS_CLIENT" "$TCP_PINGPONG" client -a "$addr" \
			-p "$PORT" -d 1 -r 5 >"$dir/short-$addr-$i.out" 2>&1 &
		pids+=($!)
	done
done
wait "${pids[@]}" || die "a short connection failed"
stop_hist handshake

for flow in "${FLOWS[@]}"; do
	addr=${flow%%=*}
	set_ms=${flow#*=}
	group="raddr:$addr"
	n=$(field handshake "$group" events)
	p50=$(field handshake "$group" p50)
	echo "$group: set RTT $set_ms ms; handshake: $n connections, p50 $p50 us"
	[[ $n -eq $CONNECTIONS ]] || fail "$group: $n handshakes, $CONNECTIONS connections opened"
	awk -v got="$p50" -v want="$((set_ms * 1000))" -v tol="$TOLERANCE" \
		'BEGIN { d = got - want; if (d < 0) d = -d; exit !(d <= tol * want) }' ||
		fail "$group: handshake p50 $p50 us not within 5 % of $set_ms ms"

	rttvar_ms=$(awk -v peer="$addr:$PORT" '
		$1 == "ESTAB" { hit = ($5 == peer); next }
		hit && match($0, /rtt:[0-9.]+\/[0-9.]+/) {
			split(substr($0, RSTART + 4, RLENGTH - 4), a, "/"); print a[2]; exit
		}' "$dir/ss.txt")
	j50=$(field jitter "$group" p50)
	j99=$(field jitter "$group" p99)
	echo "$group: jitter p50 $j50 us, p99 $j99 us; ss -ti rttvar ${rttvar_ms:-none} ms"
	[[ -n $rttvar_ms ]] || { fail "$group: no ss -ti line for the long flow"; continue; }
	# ss reads one socket's rttvar at one instant, to 1 us, after the
	# ACK that tcp_probe saw before it; the group's quantiles cover the
	# ~120 events of the run.  So the instant can sit well below the
	# median under load (5 us against 13 seen), hence a quarter, and
	# above the p99 (118 us against 108.5 once), hence twice: still far
	# from mdev itself, four times rttvar.
	awk -v ss="$rttvar_ms" -v p50="$j50" -v p99="$j99" -v rtt="$set_ms" \
		'BEGIN { us = ss * 1000; exit !(us >= p50 / 4 - 2 && us <= p99 * 2 + 1 && p50 < rtt * 1000 / 4) }' ||
		fail "$group: ss rttvar $rttvar_ms ms outside the group's jitter (p50 $j50 us, p99 $j99 us)"
done

harness_finish
