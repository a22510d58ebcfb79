#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-floor.sh: the floor under what rttq costs a bulk transfer.  Under
# `iperf3 -P 4` between two network namespaces on a veth pair, rttq's own
# programs (SET=validator: `rttq signals`, what --validate loads;
# SET=flows: `rttq flows --closed` + `rttq events --signals stages`, as
# the old bench-iperf.sh did) against as many *empty* tp_btf programs on
# the same hooks (bench/floor.bpf.c, attached by bench-floor):
#  0. what an empty program costs a run with bpf_stats off and on
#     (bench-floor --calibrate), against what bpf_stats reports for it;
#     on a busy machine this wanders (another process may hold bpf_stats
#     on, or share the CPU), so take it with the rounds below;
#  1. bpf_stats of both during one run: runs/s, ns/run and share of one
#     core per program, and their total;
#  2. throughput with nothing, the empty set and rttq, in ROUNDS short
#     rounds (bpf_stats off), the three in a rotating order so drift hits
#     each alike; each round's change is against the same round's run
#     with nothing, and the median and quartiles of those changes are
#     printed.
# Both iperf3 ends run on CPU 0 at nice -20 (PIN=one, the default):
# other work, at a 70th of their weight there, moves to CPU 1, so the
# rounds measure one CPU's capacity, in which the programs' cost shows
# whole, and not what other builds left of two.  (As SCHED_FIFO tasks on
# one CPU the two ends livelock: the client spins and the server never
# runs.)  PIN=split puts the client on CPU 0 and the server on CPU 1.
# What the empty set costs no tp_btf program can go under.  Prints
# numbers, asserts nothing.  Needs root, iperf3, bpftool, jq.
set -euo pipefail

: "${RTTQ:?set by meson}" "${FLOOR:?set by meson}" "${FLOOR_OBJ:?set by meson}"
SET=${SET:-validator}
ROUNDS=${ROUNDS:-12}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-3}
PIN=${PIN:-one}
STATS_S=${STATS_S:-5}
PORT=5206
KERNEL_SRC=$(dirname "$0")/../kernel

# shellcheck source=../tests/support/harness.sh
. "$(dirname "$0")/../tests/support/harness.sh"
require_root "network namespaces and BPF"
require_kernel bpf
require_command iperf3 "tools/bootstrap.sh (Debian package iperf3)"
require_command jq "tools/bootstrap.sh (Debian package jq)"
require_command bpftool "tools/bootstrap.sh (Debian package bpftool)"
[[ $SET == validator || $SET == flows ]] || die "SET: validator or flows, not '$SET'"
case $PIN in
one) server_on=(taskset -c 0 nice -n -20) client_on=(taskset -c 0 nice -n -20) ;;
split) server_on=(taskset -c 1) client_on=(taskset -c 0) ;;
*) die "PIN: one or split, not '$PIN'" ;;
esac
harness_start bench-floor
A=rttq-fla-$$
B=rttq-flb-$$
ADDR_B=10.82.0.2
obs_pids=()
stats_was=

# shellcheck disable=SC2317  # run by the harness at exit
on_cleanup() {
	observe_stop
	[[ -z $stats_was ]] || sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	ip netns pids "$B" 2>/dev/null | xargs -r kill 2>/dev/null || true
}

veth_pair "$A" "$B" 10.82.0.1 "$ADDR_B"
ip netns exec "$B" "${server_on[@]}" iperf3 -s -p "$PORT" -D
# shellcheck disable=SC2317  # called by wait_until
iperf_listening() {
	ip netns exec "$B" ss -Htln "sport = :$PORT" | grep -q LISTEN
}
wait_until 5 "iperf3 listening" iperf_listening || exit 1

# One iperf3 run of SEC seconds (the first one omitted: slow start):
# received bits per second.
run() {
	ip netns exec "$A" "${client_on[@]}" iperf3 -c "$ADDR_B" -p "$PORT" -P 4 \
		-t "$1" -O 1 -J | jq '.end.sum_received.bits_per_second'
}

# rttq's programs of SET, attached and ready.
real_start() {
	if [[ $SET == validator ]]; then
		"$RTTQ" signals --interval 1 >"$tmp/real.out" 2>"$tmp/real.err" &
		obs_pids+=($!)
		# The first line comes one interval after the programs attach.
		wait_for_match 20 "$tmp/real.out" '/events/p' >/dev/null ||
			die "rttq signals did not start: $(cat "$tmp/real.err")"
		return
	fi
	"$RTTQ" flows --closed --json >/dev/null 2>"$tmp/flows.err" &
	obs_pids+=($!)
	"$RTTQ" events --json --signals stages >/dev/null 2>"$tmp/events.err" &
	obs_pids+=($!)
	wait_for_match 20 "$tmp/flows.err" '/attached rttq_flow_state/p' >/dev/null ||
		die "rttq flows did not start: $(cat "$tmp/flows.err")"
	wait_for_match 20 "$tmp/events.err" '/attached rttq_stage_xmit/p' >/dev/null ||
		die "rttq events did not start: $(cat "$tmp/events.err")"
}

# Empty programs, as many on each hook as rttq has (hooks.txt).
floor_start() {
	# shellcheck disable=SC2046  # one word per hook
	"$FLOOR" "$FLOOR_OBJ" $(cat "$tmp/hooks.txt") >"$tmp/floor.out" 2>&1 &
	obs_pids+=($!)
	wait_for_match 20 "$tmp/floor.out" '/^ready/p' >/dev/null ||
		die "bench-floor did not start: $(cat "$tmp/floor.out")"
}

observe_stop() {
	local pid
	for pid in "${obs_pids[@]}"; do
		kill -INT "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	obs_pids=()
}

# Ids of the programs the observers hold, one a line (their fds say).
observed_ids() {
	local pid
	for pid in "${obs_pids[@]}"; do
		grep -h '^prog_id:' /proc/"$pid"/fdinfo/* 2>/dev/null | awk '{ print $2 }'
	done | sort -nu
}

# "ID NAME RUN_TIME_NS RUN_CNT" of the programs whose ids are in FILE.
prog_stats() {
	bpftool -j prog show |
		jq -r --slurpfile ids <(jq -R 'tonumber' "$1" | jq -s .) \
			'.[] | select(.id as $i | $ids[0] | index($i)) |
			 "\(.id) \(.name) \(.run_time_ns // 0) \(.run_cnt // 0)"'
}

# "NAME HOOK" of every tp_btf program in kernel/ and of the floor's.
awk '/SEC\("tp_btf\//{
	match($0, /tp_btf\/[a-z_0-9]+/); hook = substr($0, RSTART + 7, RLENGTH - 7)
	getline
	if (match($0, /BPF_PROG\(rttq_[a-z_0-9]+/))
		print substr($0, RSTART + 9, RLENGTH - 9), hook }' \
	"$KERNEL_SRC"/*.h "$KERNEL_SRC"/rttq.bpf.c >"$tmp/hook_of"

# rttq's hooks under this SET, one word per program.
real_start
observed_ids >"$tmp/ids"
prog_stats "$tmp/ids" | awk 'NR == FNR { h[$1] = $2; next }
	($2 in h) { print h[$2] }' "$tmp/hook_of" - | sort >"$tmp/hooks.txt"
observe_stop
[[ -s $tmp/hooks.txt ]] || die "no tp_btf programs of rttq found"

others=$(bpftool -j prog show | jq '[.[] | select(.type == "tracing")] | length')
echo "SET=$SET: rttq attaches $(wc -l <"$tmp/hooks.txt") tp_btf programs:" \
	"$(uniq -c "$tmp/hooks.txt" | awk '{ printf "%s%s x%d", (NR > 1 ? ", " : ""), $2, $1 }')"
echo "iperf3 -P 4 over veth, PIN=$PIN (${client_on[*]} / ${server_on[*]}), $(nproc) CPUs;" \
	"other builds may be running; $others tracing programs of others loaded"

# 0. The empty program's cost per run.
"$FLOOR" --calibrate "$FLOOR_OBJ"

# 1. bpf_stats: what each program costs per run and in all.
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
for what in floor real; do
	"${what}_start"
	observed_ids >"$tmp/ids"
	prog_stats "$tmp/ids" >"$tmp/before"
	t0=$(date +%s.%N)
	bps=$(run "$((STATS_S + 1))")
	t1=$(date +%s.%N)
	prog_stats "$tmp/ids" >"$tmp/after"
	observe_stop
	echo "bpf_stats, $what ($(awk -v b="$bps" 'BEGIN { printf "%.2f", b / 1e9 }') Gbit/s):"
	awk -v wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" '
		FILENAME == ARGV[1] { h[$1] = $2; next }
		FILENAME == ARGV[2] { t[$1] = $3; n[$1] = $4; next }
		{ dn = $4 - n[$1]; dt = $3 - t[$1]; sum += dt
		  printf "  %-22s %-20s %9.0f runs/s %7.1f ns/run %6.3f %% of a core\n",
			$2, ($2 in h) ? h[$2] : "", dn / wall, dn ? dt / dn : 0,
			dt / 1e9 / wall * 100 }
		END { printf "  total %.3f %% of one core\n", sum / 1e9 / wall * 100 }' \
		"$tmp/hook_of" "$tmp/before" "$tmp/after"
done
sysctl -qw kernel.bpf_stats_enabled="$stats_was"
stats_was=

# 2. Throughput, rotating the order each round.
[[ $ROUNDS -gt 0 ]] || harness_finish
configs=(none floor real)
for r in $(seq "$ROUNDS"); do
	for k in 0 1 2; do
		c=${configs[$(((r + k) % 3))]}
		[[ $c == none ]] || "${c}_start"
		echo "$r $c $(run "$((SECONDS_PER_RUN + 1))")" >>"$tmp/rounds"
		observe_stop
	done
done
echo "throughput, $ROUNDS rounds of ${SECONDS_PER_RUN} s (Gbit/s median [quartiles]; change against the same round's none):"
for c in "${configs[@]}"; do
	awk -v c="$c" 'NR == FNR { if ($2 == "none") base[$1] = $3; next }
		$2 == c { print $3 / 1e9, ($3 - base[$1]) / base[$1] * 100 }' \
		"$tmp/rounds" "$tmp/rounds" >"$tmp/$c"
	gbit=$(cut -d' ' -f1 "$tmp/$c" | sort -g | awk '{ v[NR] = $1 } END {
		printf "%.2f [%.2f %.2f]", v[int((NR + 1) / 2)], v[int((NR + 3) / 4)], v[int((3 * NR + 3) / 4)] }')
	change=$(cut -d' ' -f2 "$tmp/$c" | sort -g | awk '{ v[NR] = $1 } END {
		printf "%+.1f %% [%+.1f %+.1f]", v[int((NR + 1) / 2)], v[int((NR + 3) / 4)], v[int((3 * NR + 3) / 4)] }')
	printf "  %-6s %s  change %s\n" "$c" "$gbit" "$change"
done
harness_finish
