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

if [[ $EUID -ne 0 ]]; then
	echo "SKIP: loading BPF needs root"
	exit 77
fi

dir=$(mktemp -d /tmp/rttq-bench-agent.XXXXXX)
pids=()

# shellcheck disable=SC2317  # runs as the EXIT trap
on_exit() {
	local status=$? pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [[ $status -ne 0 ]]; then
		tail -n 5 "$dir"/*.err 2>/dev/null || true
	fi
	rm -rf "$dir"
	exit "$status"
}
trap on_exit EXIT

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
	for _ in $(seq 100); do
		grep -q 'attached via' "$dir/$name.err" && return 0
		sleep 0.1
	done
	echo "rttq-agent ($name) did not attach"
	exit 1
}

"$CONN_FANOUT" -n "$CONNS" > "$dir/fanout.out" 2> "$dir/fanout.err" < /dev/null &
pids+=($!)
fanout_pid=$!
for _ in $(seq 300); do
	grep -qx ready "$dir/fanout.out" && break
	kill -0 "$fanout_pid" 2>/dev/null || { cat "$dir/fanout.err"; exit 1; }
	sleep 0.1
done
grep -qx ready "$dir/fanout.out" || { echo "conn-fanout not ready"; exit 1; }

start_agent one
one_pid=${pids[-1]}
start_agent many --group-by rport --laddr 127.0.0.1 --max-groups 2048
many_pid=${pids[-1]}

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
