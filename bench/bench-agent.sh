#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench-agent.sh: rttq-agent's own CPU use (utime + stime from /proc/PID/stat)
# over MEASURE_S seconds at --interval 5, as % of one core, with one group
# ("all") and with CONNS groups (--group-by rport over CONNS loopback
# connections from conn-fanout, each exchanging an echo once a second).
# Both agents run at once over the same traffic.  Printed, never asserted;
# the goal is below 0.5 % of one core with 1,000 groups.
set -euo pipefail

: "${RTTQ_AGENT:?set by meson}" "${CONN_FANOUT:?set by meson}"
CONNS=${CONNS:-1000}
MEASURE_S=${MEASURE_S:-60}
WARMUP_S=3

# shellcheck source=../tests/support/harness.sh
. "$(dirname "$0")/../tests/support/harness.sh"
require_root "loading BPF"
require_kernel bpf
harness_start bench-agent
dir=$tmp
pids=()

# shellcheck disable=SC2317  # run by the harness at exit
on_cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		stop_pid "$pid"
	done
	if [[ $harness_status -ne 0 ]]; then
		tail -n 5 "$dir"/*.err 2>/dev/null || true
	fi
}

# utime + stime of PID, in clock ticks.
cpu_ticks() {
	# Field 2 (comm) may hold spaces: count from after its ')'.
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

start_agent() {
	local name=$1
	shift
	"$RTTQ_AGENT" --store "sqlite:$dir/$name.db" --host bench --interval 5 \
		--include-loopback --metrics 127.0.0.1:0 -v "$@" > "$dir/$name.out" 2> "$dir/$name.err" < /dev/null &
	pids+=($!)
	wait_until 10 "rttq-agent ($name) attaching" \
		grep -q 'attached via' "$dir/$name.err" || exit 1
}

"$CONN_FANOUT" -n "$CONNS" > "$dir/fanout.out" 2> "$dir/fanout.err" < /dev/null &
pids+=($!)
fanout_pid=$!
fanout_ready() {
	grep -qx ready "$dir/fanout.out" && return 0
	kill -0 "$fanout_pid" 2>/dev/null || { cat "$dir/fanout.err"; exit 1; }
	return 1
}
wait_until 30 "conn-fanout ready" fanout_ready || exit 1

start_agent one
one_pid=${pids[-1]}
start_agent many --group-by rport --laddr 127.0.0.1 --max-groups 2048
many_pid=${pids[-1]}

# Warm-up and measurement are the benchmark's own durations.
sleep "$WARMUP_S"
one_t0=$(cpu_ticks "$one_pid")
many_t0=$(cpu_ticks "$many_pid")
wall_t0=$(date +%s%N)
sleep "$MEASURE_S"
one_t1=$(cpu_ticks "$one_pid")
many_t1=$(cpu_ticks "$many_pid")
wall_t1=$(date +%s%N)

hz=$(getconf CLK_TCK)
percent() {
	awk -v t="$1" -v hz="$hz" -v ns="$((wall_t1 - wall_t0))" \
		'BEGIN { printf "%.3f", t / hz / (ns / 1e9) * 100 }'
}
# The largest write is one period's records: a base, hour and day record
# per group.
records() {
	sed -n 's/.*wrote \([0-9]*\) records.*/\1/p' "$1" | sort -n | tail -n 1
}
echo "rttq-agent CPU over $(((wall_t1 - wall_t0) / 1000000000)) s at --interval 5, $CONNS loopback connections (1 echo/s each);"
echo "resolution $(percent 1) % (one tick):"
printf '  %-22s %s %% of one core (%d ticks; largest write %s records)\n' \
	"1 group (all):" "$(percent $((one_t1 - one_t0)))" $((one_t1 - one_t0)) "$(records "$dir/one.err")" \
	"$CONNS groups (rport):" "$(percent $((many_t1 - many_t0)))" $((many_t1 - many_t0)) "$(records "$dir/many.err")"
