#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test-known-rtt.sh: proof with known RTTs, end to end.  rttq-agent (5 s
# periods, --group-by raddr) watches concurrent TCP flows whose RTTs the
# netns relay sets to 2, 20 and 80 ms (IPv4) and 20 ms (IPv6); after 3+
# complete periods it gets SIGTERM.  Then `rttq query` must give every
# flow's group a p50 within 5 % of its set RTT, and group "all" the mixture;
# the last base record must be the partial period flushed on SIGTERM.  Agents
# started with --raddr / --rport filters beside it must record only what
# their filter lets through.
set -euo pipefail

: "${TUN_RELAY:?set by meson}" "${TCP_PINGPONG:?set by meson}" "${NETNS_SETUP:?set by meson}"
: "${RTTQ_AGENT:?set by meson}" "${RTTQ:?set by meson}" "${E2E_RECORDS:?set by meson}"

FLOWS=(10.9.0.2=2 10.9.1.2=20 10.9.2.2=80 fd00:9::3=20)
PORT=5301
UNUSED_PORT=5302
PERIOD_S=5
COMPLETE_PERIODS=3
HOST=e2e
RATE_PER_S=50
TOLERANCE=0.05

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
require_root "BPF, network namespaces and TUN devices"
require_kernel bpf tun
harness_start e2e
dir=$tmp
agent_pids=()
other_pids=()
started_s=$(date +%s)

# shellcheck disable=SC2317  # run by the harness at exit
on_cleanup() {
	local pid f
	for pid in "${agent_pids[@]}" "${other_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${agent_pids[@]}" "${other_pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	bash "$NETNS_SETUP" down "$dir/ns" >/dev/null 2>&1 || true
	if [[ $harness_status -ne 0 || $failures -ne 0 ]]; then
		for f in "$dir"/agent-*.err "$dir/ns/relay.err"; do
			[[ -s $f ]] || continue
			echo "--- $f"
			tail -n 20 "$f"
		done
	fi
}

within() {
	awk -v got="$1" -v want="$2" -v tol="$TOLERANCE" \
		'BEGIN { d = got - want; if (d < 0) d = -d; exit !(got != "" && d <= tol * want) }'
}

# Field of an `rttq query` answer: sample_count, or a quoted number such as
# p50 or min_ms.
json_field() {
	sed -n "s/.*\"$2\":\"\{0,1\}\([0-9.]*\).*/\1/p" <<< "$1"
}

# Starts an agent writing to $dir/NAME.db; waits until it has attached.
# Metrics on any free port: several agents run at once.
start_agent() {
	local name=$1
	shift
	"$RTTQ_AGENT" --store "sqlite:$dir/$name.db" --host "$HOST" \
		--period "$PERIOD_S" --interval 1 --group-by raddr \
		--metrics 127.0.0.1:0 "$@" \
		> "$dir/agent-$name.out" 2> "$dir/agent-$name.err" < /dev/null &
	agent_pids+=($!)
	wait_until 10 "rttq-agent ($name) attaching" agent_attached "$name" &&
		return 0
	cat "$dir/agent-$name.err"
	exit 1
}

# The agent NAME said it attached, or is gone (then it never will).
agent_attached() {
	grep -q 'attached via' "$dir/agent-$1.err" && return 0
	kill -0 "${agent_pids[-1]}" 2>/dev/null || die "rttq-agent ($1) exited"
	return 1
}

# SIGTERM every agent; each must exit 0 after writing its partial period.
stop_agents() {
	local pid status
	for pid in "${agent_pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || fail "rttq-agent pid $pid exited before SIGTERM"
	done
	for pid in "${agent_pids[@]}"; do
		status=0
		wait "$pid" || status=$?
		[[ $status -eq 0 ]] || fail "rttq-agent pid $pid exited $status after SIGTERM"
	done
	agent_pids=()
}

# No --period: the query finds the agent's 5 s base period in the store.
query() {
	local store=$1 group=$2
	"$RTTQ" query --store "sqlite:$dir/$store.db" --host "$HOST" \
		--from "$from_s" --to "$to_s" --group "$group"
}

now_ms() {
	date +%s%3N
}

sleep_until_s() {
	local left_ms=$(($1 * 1000 - $(now_ms)))
	[[ $left_ms -le 0 ]] || sleep "$(awk -v ms="$left_ms" 'BEGIN { printf "%.3f", ms / 1000 }')"
}

# Started before the relay so that its calibration runs under the same load.
start_agent main
bash "$NETNS_SETUP" up "$dir/ns" "${FLOWS[@]}"
# shellcheck disable=SC1091
. "$dir/ns/env"
echo "relay trims ${TRIM_US} us of measured overhead from each round trip"

# Beside the main agent, over the same flows: one flow's address only; client
# sockets only (their remote port is the server's); a port nothing uses.
start_agent raddr --raddr 10.9.1.2
start_agent rport --rport "$PORT"
start_agent unused --rport "$UNUSED_PORT"

ip netns exec "$NS_SERVER" "$TCP_PINGPONG" server -p "$PORT" --realtime > "$dir/server.out" 2>&1 &
other_pids+=($!)
wait_until 5 "the tcp-pingpong server listening" \
	grep -qx listening "$dir/server.out" || { cat "$dir/server.out"; exit 1; }

# Only periods that start after the flows do are asked about: earlier ones
# hold the relay's calibration flows, run before its holds were trimmed.
flows_s=$(date +%s)
from_s=$(((flows_s / PERIOD_S + 1) * PERIOD_S))
# SIGTERM 2 s into the period after the complete ones, flows still running,
# so the partial period has samples of every flow.
term_s=$((from_s + COMPLETE_PERIODS * PERIOD_S + 2))
duration_s=$((term_s - flows_s + 3))
client_pids=()
for flow in "${FLOWS[@]}"; do
	addr=${flow%%=*}
	ip netns exec "$NS_CLIENT" "$TCP_PINGPONG" client -a "$addr" -p "$PORT" \
		-d "$duration_s" -r "$RATE_PER_S" --realtime > "$dir/client-$addr.out" 2>&1 &
	client_pids+=($!)
done
other_pids+=("${client_pids[@]}")
# SIGTERM at a set point in a period is the subject: wait for the clock.
sleep_until_s "$term_s"
stop_agents
to_s=$term_s
for pid in "${client_pids[@]}"; do
	status=0
	wait "$pid" || status=$?
	[[ $status -eq 0 ]] || fail "client $pid exited with $status"
done

# --- The main agent: each flow's group, then the mixture -------------------
sum_count=0
for flow in "${FLOWS[@]}"; do
	addr=${flow%%=*}
	set_ms=${flow#*=}
	answer=$(query main "raddr:$addr")
	p50=$(json_field "$answer" p50)
	count=$(json_field "$answer" sample_count)
	client_p50=$(sed -n 's/^rtt_p50_ms=\([0-9.]*\).*/\1/p' "$dir/client-$addr.out")
	echo "raddr:$addr set_rtt_ms=$set_ms p50_ms=${p50:-none} sample_count=${count:-none} (application p50 ${client_p50:-none} ms)"
	[[ ${count:-0} -gt 0 ]] || fail "raddr:$addr: no samples ($answer)"
	within "$p50" "$set_ms" || fail "raddr:$addr: p50 ${p50:-none} ms, set $set_ms ms"
	sum_count=$((sum_count + ${count:-0}))
done

answer=$(query main all)
p50=$(json_field "$answer" p50)
count=$(json_field "$answer" sample_count)
min_ms=$(json_field "$answer" min_ms)
max_ms=$(json_field "$answer" max_ms)
echo "all p50_ms=${p50:-none} sample_count=${count:-none} min_ms=${min_ms:-none} max_ms=${max_ms:-none} (flow groups: $sum_count samples)"
awk -v v="$p50" 'BEGIN { exit !(v != "" && v >= 2 && v <= 80) }' ||
	fail "all: p50 ${p50:-none} ms is not within the set RTTs 2..80 ms"
[[ ${count:-0} -ge $sum_count ]] || fail "all: $count samples, fewer than the flow groups' $sum_count"
# Both ends of the mixture are in it: the 2 ms and the 80 ms flow.
awk -v v="$min_ms" -v tol="$TOLERANCE" 'BEGIN { exit !(v != "" && v <= 2 * (1 + tol)) }' ||
	fail "all: min ${min_ms:-none} ms, expected 2 ms or less"
awk -v v="$max_ms" -v tol="$TOLERANCE" 'BEGIN { exit !(v != "" && v >= 80 * (1 - tol)) }' ||
	fail "all: max ${max_ms:-none} ms, expected 80 ms or more"

# --- SIGTERM flushed the partial period -------------------------------------
records=$("$E2E_RECORDS" "sqlite:$dir/main.db" "$HOST" all "$PERIOD_S" "$from_s" "$to_s")
echo "base records of all (start periods periods_total count):"
awk '{ print "  " $0 }' <<< "$records"
complete=$(awk '$2 == $3 && $4 > 0' <<< "$records" | wc -l)
[[ $complete -ge $COMPLETE_PERIODS ]] ||
	fail "$complete complete base records, expected $COMPLETE_PERIODS or more"
read -r last_start last_periods last_total last_count < <(tail -n 1 <<< "$records")
[[ ${last_start:-0} -eq $((term_s / PERIOD_S * PERIOD_S)) ]] ||
	fail "last base record starts at ${last_start:-none}, not at the period SIGTERM cut ($((term_s / PERIOD_S * PERIOD_S)))"
[[ ${last_periods:-1} -eq 0 && ${last_total:-0} -eq 1 && ${last_count:-0} -gt 0 ]] ||
	fail "last base record is not a partial period with samples: periods=${last_periods:-} periods_total=${last_total:-} count=${last_count:-}"

# --- Filters -----------------------------------------------------------------
# --raddr 10.9.1.2: that flow alone, nothing of the others.
answer=$(query raddr raddr:10.9.1.2)
p50=$(json_field "$answer" p50)
count=$(json_field "$answer" sample_count)
echo "--raddr 10.9.1.2: raddr:10.9.1.2 p50_ms=${p50:-none} sample_count=${count:-none}"
[[ ${count:-0} -gt 0 ]] || fail "--raddr 10.9.1.2 recorded nothing of its own flow"
within "$p50" 20 || fail "--raddr 10.9.1.2: p50 ${p50:-none} ms, set 20 ms"
all_count=$(json_field "$(query raddr all)" sample_count)
[[ ${all_count:-x} == "${count:-y}" ]] ||
	fail "--raddr 10.9.1.2: all has ${all_count:-none} samples, its one group $count"
for group in raddr:10.9.0.2 raddr:10.9.2.2 raddr:fd00:9::3 raddr:10.9.0.1; do
	count=$(json_field "$(query raddr "$group")" sample_count)
	[[ ${count:-x} == 0 ]] || fail "--raddr 10.9.1.2 recorded ${count:-?} samples of $group"
done

# --rport PORT: the client sockets; the server's (peer 10.9.0.1) are out.
sum_count=0
for flow in "${FLOWS[@]}"; do
	count=$(json_field "$(query rport "raddr:${flow%%=*}")" sample_count)
	[[ ${count:-0} -gt 0 ]] || fail "--rport $PORT recorded nothing of raddr:${flow%%=*}"
	sum_count=$((sum_count + ${count:-0}))
done
all_count=$(json_field "$(query rport all)" sample_count)
echo "--rport $PORT: all sample_count=${all_count:-none}, flow groups $sum_count"
[[ ${all_count:-x} == "$sum_count" ]] ||
	fail "--rport $PORT: all has ${all_count:-none} samples, the client flows $sum_count"
for group in raddr:10.9.0.1 raddr:fd00:9::1; do
	count=$(json_field "$(query rport "$group")" sample_count)
	[[ ${count:-x} == 0 ]] || fail "--rport $PORT recorded ${count:-?} samples of server sockets ($group)"
done

# --rport UNUSED_PORT: nothing at all.
for group in all raddr:10.9.0.2 raddr:fd00:9::3; do
	count=$(json_field "$(query unused "$group")" sample_count)
	[[ ${count:-x} == 0 ]] || fail "--rport $UNUSED_PORT recorded ${count:-?} samples in $group"
done

# --- Teardown leaves nothing behind ----------------------------------------
for pid in "${other_pids[@]}"; do
	kill -TERM "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
done
other_pids=()
bash "$NETNS_SETUP" down "$dir/ns"
if ip netns list | awk '{ print $1 }' | grep -q "^$NS_PREFIX-"; then
	fail "namespaces left after down: $(ip netns list | grep "^$NS_PREFIX-" | tr '\n' ' ')"
fi
echo "ran $(($(date +%s) - started_s)) s"
harness_finish
