#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test-flow-log.sh: rttq-agent --flow-log end to end on loopback.  An
# agent with --flow-log 100% (--include-loopback, --rport of a lab HTTP
# server) watches curl's requests; rttq-api's /flows must then give one
# record per request, on curl's local port, with the server's port and
# the bytes it read (a 300,000-byte download among them); raddr and limit
# filter it.  A second agent with --flow-log 25% over 40 requests keeps
# exactly 10: the share is counted, not drawn.
set -euo pipefail

: "${RTTQ_AGENT:?set by meson}" "${RTTQ_API:?set by meson}" "${FLOWS_LAB:?set by meson}"

REQUESTS=6

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
require_root "BPF"
require_kernel bpf
require_command curl "tools/bootstrap.sh (Debian package curl)"
require_command jq "tools/bootstrap.sh (Debian package jq)"
require_command python3 "tools/bootstrap.sh (Debian package python3)"
harness_start flow-log

http_port=$(free_port) || die "no free port"
python3 "$FLOWS_LAB" http "$http_port" &
track_pid $!
listening() {
	[[ -n $(ss -ltnH "sport = :$http_port") ]]
}
wait_until 10 "the lab's server listening" listening

# start_agent NAME RATE [METRICS]: an agent writing to sqlite:$tmp/NAME.db
# (/metrics at METRICS, default off).
start_agent() {
	"$RTTQ_AGENT" --store "sqlite:$tmp/$1.db" --host "$1" \
		--include-loopback --rport "$http_port" --flow-log "$2" \
		--metrics "${3:-off}" --period 60 >"$tmp/$1.out" 2>"$tmp/$1.err" &
	agent_pid=$!
	track_pid "$agent_pid"
	wait_for_match 30 "$tmp/$1.err" '/attached via/p' >/dev/null ||
		die "rttq-agent did not start: $(cat "$tmp/$1.err")"
}

stop_agent() {
	kill -TERM "$agent_pid"
	wait "$agent_pid" || fail "rttq-agent exited with $?: $(tail -3 "$tmp/$1.err")"
}

from=$(date -u +%s)
start_agent full 100%
: >"$tmp/ports.txt"
for ((i = 0; i < REQUESTS; i++)); do
	curl -sS -o /dev/null -w '%{local_port}\n' \
		"http://127.0.0.1:$http_port/sleep/10" >>"$tmp/ports.txt"
done
big=$(curl -sS -o /dev/null -w '%{local_port}' "http://127.0.0.1:$http_port/big")
stop_agent full
grep -q "flow log: $((REQUESTS + 1)) closed connections read, $((REQUESTS + 1)) kept" \
	"$tmp/full.err" || fail "agent's flow-log line: $(grep 'flow log' "$tmp/full.err")"

start_api "$tmp/api" "$RTTQ_API" --store "sqlite:$tmp/full.db"
range="from=$from&to=$(($(date -u +%s) + 1))"
http_expect 200 "/flows?$range"
cp "$tmp/body" "$tmp/flows.json"
n=$(jq length "$tmp/flows.json")
[[ $n == $((REQUESTS + 1)) ]] || fail "/flows: $n records, want $((REQUESTS + 1))"
while read -r p; do
	m=$(jq --argjson p "$p" --argjson s "$http_port" \
		'[.[] | select(.lport == $p and .rport == $s and .raddr == "127.0.0.1" and .host == "full" and .closed)] | length' \
		"$tmp/flows.json")
	[[ $m == 1 ]] || fail "request from port $p: $m records, want 1"
done <"$tmp/ports.txt"
got=$(jq --argjson p "$big" '.[] | select(.lport == $p) | .bytes_received' "$tmp/flows.json")
[[ -n $got && $got -ge 300000 ]] || fail "download's bytes_received $got, want >= 300000"
# Newest first: the download closed last.
[[ $(jq '.[0].lport' "$tmp/flows.json") == "$big" ]] ||
	fail "first record is not the last close: $(jq -c '.[0]' "$tmp/flows.json")"
http_expect 200 "/flows?$range&raddr=127.0.0.0/8&limit=3"
[[ $(jq length "$tmp/body") == 3 ]] || fail "limit=3: $(jq length "$tmp/body")"
http_expect 200 "/flows?$range&raddr=10.0.0.0/8"
[[ $(cat "$tmp/body") == "[]" ]] || fail "raddr=10.0.0.0/8: $(head -c 200 "$tmp/body")"
http_expect 200 "/flows?$range&host=other"
[[ $(cat "$tmp/body") == "[]" ]] || fail "host=other: $(head -c 200 "$tmp/body")"
kill -TERM "$server_pid"
wait "$server_pid" || true

# ---- a quarter: exactly one close in four, and /metrics says so ----
metrics_port=$(free_port) || die "no free port"
start_agent quarter 25% "127.0.0.1:$metrics_port"
for ((i = 0; i < 40; i++)); do
	curl -sS -o /dev/null "http://127.0.0.1:$http_port/sleep/1"
done
# shellcheck disable=SC2317  # called by wait_until
flow_log_counted() {
	curl -sS "http://127.0.0.1:$metrics_port/metrics" >"$tmp/metrics.txt" &&
		grep -qx 'rttq_flow_log_read_total 40' "$tmp/metrics.txt"
}
wait_until 10 "/metrics counting 40 closes read" flow_log_counted ||
	fail "/metrics: $(grep '^rttq_flow_log' "$tmp/metrics.txt")"
for want in 'kept_total 10' 'refused_total 0' 'lost_total 0'; do
	grep -qx "rttq_flow_log_$want" "$tmp/metrics.txt" ||
		fail "/metrics lacks rttq_flow_log_$want: $(grep '^rttq_flow_log' "$tmp/metrics.txt")"
done
stop_agent quarter
grep -q "flow log: 40 closed connections read, 10 kept" "$tmp/quarter.err" ||
	fail "25%: $(grep 'flow log' "$tmp/quarter.err")"
start_api "$tmp/api2" "$RTTQ_API" --store "sqlite:$tmp/quarter.db"
http_expect 200 "/flows?from=$from&to=$(($(date -u +%s) + 1))&limit=10000"
[[ $(jq length "$tmp/body") == 10 ]] || fail "25% of 40: $(jq length "$tmp/body") records stored"
kill -TERM "$server_pid"
wait "$server_pid" || true

harness_finish
