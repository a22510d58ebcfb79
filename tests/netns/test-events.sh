#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test-events.sh: `rttq events --sample 100%` against the collector's own
# counts (issue #15's proof of the event stream).  The lossy lab of
# test-lossy.sh (two namespaces on a veth pair without segmentation
# offload, each dropping 4 % of the TCP packets it receives with a
# counted nftables rule) carries a bulk flow and a request/response flow
# while `rttq hist --counters --group-by raddr` and `rttq events` watch
# the same sockets.  Per group:
#   rtt events == the rtt count the collector drained for it
#   retransmit events' segments by cause == retrans.fast, .timeout, .tlp
#   (and at most retrans.syn: a listener's SYN-ACKs are not events)
#   (both exact but for the runs the kernel skipped: veth-lab.sh's
#   prog_misses and short_max)
# and node-wide: drop events of the lab's addresses with reason
# netfilter_drop == what the two rules dropped.  Then a 1/8 sample of the
# same kind of traffic keeps a share of the rtt events within binomial
# bounds (5 standard deviations) of 1/8 of the collector's count.
set -euo pipefail

: "${RTTQ:?set by meson}" "${TCP_PINGPONG:?set by meson}"

PORT=5202
DURATION_S=${DURATION_S:-5}
NET=10.79.0

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
# shellcheck source=veth-lab.sh
. "$(dirname "$0")/veth-lab.sh"
require_root "network namespaces, nftables and BPF"
require_kernel bpf
require_command nft "tools/bootstrap.sh (Debian package nftables)"
require_command jq "tools/bootstrap.sh (Debian package jq)"
harness_start events
A=rttq-eva-$$
B=rttq-evb-$$
ADDR_A=$NET.1
ADDR_B=$NET.2

# shellcheck disable=SC2317  # run by the harness at exit
on_cleanup() {
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	if [[ $harness_status -ne 0 || $failures -ne 0 ]]; then
		echo "--- rttq hist"
		cat "$tmp/hist.out" "$tmp/hist.err" 2>/dev/null || true
		echo "--- rttq events (stderr)"
		cat "$tmp/events.err" 2>/dev/null || true
	fi
}

lossy_lab_up "$A" "$B" "$ADDR_A" "$ADDR_B"

# counter GROUP NAME: NAME in GROUP's "counters:" block of rttq hist.
counter() {
	hist_counter "$tmp/hist.out" "$@"
}

# rtt_count GROUP: the events of GROUP's rtt histogram in rttq hist.
rtt_count() {
	awk -v g="$1:" '$1 == g && $3 == "events," { print $2; exit }' "$tmp/hist.out"
}

# within GOT WANT SKIPPED: GOT equals WANT but for runs the kernel
# skipped, counted (SKIPPED) or not (short_max).  Each side's program may
# be the one skipped, so the two counts part either way.
within() {
	local d=$(($1 - $2))
	[[ ${d#-} -le $(($3 + $(short_max "$2"))) ]]
}

# traffic: a bulk flow and a request/response flow for DURATION_S.
traffic() {
	local bulk rr
	ip netns exec "$A" "$TCP_PINGPONG" client -a "$ADDR_B" -p "$PORT" \
		-d "$DURATION_S" -r 200 -s 65536 >"$tmp/bulk.out" 2>&1 &
	bulk=$!
	ip netns exec "$A" "$TCP_PINGPONG" client -a "$ADDR_B" -p "$PORT" \
		-d "$DURATION_S" -r 100 >"$tmp/rr.out" 2>&1 &
	rr=$!
	wait "$bulk" "$rr" || die "a tcp-pingpong client failed"
	# The last FINs and their retransmits.
	sleep 2
}

# watch SAMPLE: rttq hist and rttq events over the same sockets.
watch_start() {
	"$RTTQ" hist --counters --group-by raddr --raddr "$NET.0/24" \
		--signals retrans,drops >"$tmp/hist.out" 2>"$tmp/hist.err" &
	hist_pid=$!
	track_pid "$hist_pid"
	"$RTTQ" events --sample "$1" --json --group-by raddr \
		--raddr "$NET.0/24" >"$tmp/events.json" 2>"$tmp/events.err" &
	events_pid=$!
	track_pid "$events_pid"
	wait_for_match 20 "$tmp/hist.out" '/^Tracing/p' >/dev/null ||
		die "rttq hist did not start: $(cat "$tmp/hist.err")"
	wait_for_match 20 "$tmp/events.err" '/attached rttq_ev_drop/p' >/dev/null ||
		die "rttq events did not start: $(cat "$tmp/events.err")"
}

watch_stop() {
	kill -INT "$events_pid" "$hist_pid"
	wait "$events_pid" || die "rttq events failed: $(cat "$tmp/events.err")"
	wait "$hist_pid" || die "rttq hist failed: $(cat "$tmp/hist.err")"
	lost=$(sed -n 's/.* drop events, \([0-9]*\) lost$/\1/p' "$tmp/events.err")
	[[ $lost == 0 ]] || fail "rttq events lost '$lost' events: the counts cannot match"
}

# ev_count JQ_FILTER: events selected by the filter.
ev_count() {
	jq -s "[.[] | select($1)] | length" "$tmp/events.json"
}

ip netns exec "$B" "$TCP_PINGPONG" server -a "$ADDR_B" -p "$PORT" \
	>"$tmp/server.out" 2>&1 &
track_pid $!
wait_for_match 10 "$tmp/server.out" '/listening/p' >/dev/null ||
	die "tcp-pingpong server did not start"

watch_start 100%
traffic
missed_drop=$(prog_misses rttq_ev_drop "$events_pid")
# Both sides' programs: a run one of them skipped counts on one side only.
missed_retrans=$(prog_misses rttq_retrans "$events_pid" "$hist_pid")
missed_rtt=$(($(prog_misses rttq_ev_rtt "$events_pid") +
	$(prog_misses rttq_tp_btf "$hist_pid")))
nft=$(($(nft_dropped "$A") + $(nft_dropped "$B")))
watch_stop

for peer in "$ADDR_B" "$ADDR_A"; do
	group="raddr:$peer"
	want=$(rtt_count "$group")
	got=$(ev_count ".type == \"rtt\" and .group == \"$group\"")
	echo "$group: rtt events $got, the collector's rtt count ${want:-none} (runs skipped: $missed_rtt)"
	[[ -n $want && $want -gt 0 ]] || fail "$group: the collector counted no rtt"
	within "$got" "$want" "$missed_rtt" ||
		fail "$group: $got rtt events, the collector drained $want ($missed_rtt runs skipped)"
	for cause in fast timeout tlp syn; do
		got=$(jq -s "[.[] | select(.type == \"retrans\" and .group == \"$group\" and .cause == \"$cause\") | .segs] | add // 0" "$tmp/events.json")
		want=$(counter "$group" "retrans.$cause")
		echo "$group: retrans $cause: events $got segments, retrans.$cause $want"
		if [[ $cause == syn ]]; then
			[[ $got -le $want ]] || fail "$group: $got SYN retransmit events, retrans.syn $want"
		else
			within "$got" "$want" "$missed_retrans" ||
				fail "$group: retransmit events of cause $cause: $got segments, retrans.$cause $want ($missed_retrans runs skipped)"
		fi
	done
done
total=$(ev_count '.type == "retrans"')
[[ $total -gt 0 ]] || fail "no retransmit events: the lab lost nothing"
odd=$(ev_count '.type == "retrans" and (.cause | IN("fast", "timeout", "tlp", "syn") | not)')
[[ $odd == 0 ]] || fail "$odd retransmit events with no known cause"

drops=$(ev_count ".type == \"drop\" and .reason == \"netfilter_drop\" and .proto == \"tcp\" and (.laddr | startswith(\"$NET.\")) and (.raddr | startswith(\"$NET.\"))")
echo "drop events netfilter_drop of the lab $drops; nftables dropped $nft (runs skipped: drop $missed_drop, retransmit $missed_retrans)"
[[ $nft -gt 0 ]] || fail "the nftables rules dropped nothing"
[[ $drops -le $nft && $((drops + missed_drop + $(short_max "$nft"))) -ge $nft ]] ||
	fail "$drops netfilter_drop events of the lab, the rules dropped $nft"
ports=$(ev_count ".type == \"drop\" and .reason == \"netfilter_drop\" and (.laddr | startswith(\"$NET.\")) and (.lport == $PORT or .rport == $PORT)")
[[ $ports == "$drops" ]] || fail "$((drops - ports)) of the lab's drop events lack port $PORT"

# A sample: one event in 8 kept on average (kernel/sampler.h).
watch_start 1/8
traffic
watch_stop
for peer in "$ADDR_B" "$ADDR_A"; do
	group="raddr:$peer"
	n=$(rtt_count "$group")
	got=$(ev_count ".type == \"rtt\" and .group == \"$group\"")
	echo "$group: 1/8 sample: $got rtt events of $n"
	awk -v k="$got" -v n="${n:-0}" 'BEGIN {
		p = 1 / 8; m = n * p; s = sqrt(n * p * (1 - p))
		exit !(n > 100 && k >= m - 5 * s && k <= m + 5 * s) }' ||
		fail "$group: $got of $n rtt events kept, outside 5 sd of 1/8"
done

harness_finish
