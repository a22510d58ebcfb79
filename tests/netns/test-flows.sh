#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test-flows.sh: `rttq flows` against the kernel's own view (issue #15's
# proof).  Two network namespaces on a veth pair, neither of them rttq's:
#   live: four idle connections (flows-lab.py idle/hold) seen from both
#   ends; `rttq flows --once --json` gives cwnd, mss, bytes_sent,
#   bytes_received and retrans_packets as `ss -tin` in each namespace does
#   (idle, so nothing moves between the reads: checked by reading ss
#   before and after), each in its peer's group (--group-by raddr);
#   read_bytes/write_bytes as the client did, seen by
#   an `rttq flows --json -i 1` loaded before the connections opened.
#   closed: 38 HTTP requests (curl to flows-lab.py http) give one record
#   each in `rttq flows --closed --json`, durations within 10 % of curl's
#   time_total; the client of a 300,000-byte download read at least that.
#   agent: the same closes through the collector's drain (`rttq hist -M
#   flow_duration --counters`, --signals flows): conn.closed and the
#   flow_duration count equal the records, flow.bytes_* their sums.
#   lossy: 4 uploads through a rule dropping every 20th packet: per
#   connection fast_retrans + timeouts summed equal retrans.fast +
#   retrans.timeout of the same connections (`rttq hist --counters`);
#   retrans_packets counts tail loss probes too, so it is at least that.
# BPF_STATS=1 (the benchmark) also prints the ns/event of each program
# loaded during the HTTP requests (kernel.bpf_stats_enabled).
set -euo pipefail

: "${RTTQ:?set by meson}" "${FLOWS_LAB:?set by meson}"

REQUESTS=38
TOLERANCE=0.10

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
require_root "network namespaces and BPF"
require_kernel bpf
require_command curl "tools/bootstrap.sh (Debian package curl)"
require_command jq "tools/bootstrap.sh (Debian package jq)"
require_command python3 "tools/bootstrap.sh (Debian package python3)"
require_command ss "tools/bootstrap.sh (Debian package iproute2)"
harness_start flows
A=rttq-flowa-$$
B=rttq-flowb-$$
ADDR_A=10.78.0.1
ADDR_B=10.78.0.2
HTTP_PORT=8080
HOLD_PORT=9000
SINK_PORT=9100

stats_was=
# shellcheck disable=SC2317  # run by the harness at exit
on_cleanup() {
	[[ -z $stats_was ]] || sysctl -qw kernel.bpf_stats_enabled="$stats_was"
	ip netns pids "$A" 2>/dev/null | xargs -r kill 2>/dev/null || true
	ip netns pids "$B" 2>/dev/null | xargs -r kill 2>/dev/null || true
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	if [[ $harness_status -ne 0 || $failures -ne 0 ]]; then
		echo "--- rttq flows --closed"
		cat "$tmp/closed.json" "$tmp/closed.err" 2>/dev/null || true
	fi
}

if [[ ${BPF_STATS:-0} == 1 ]]; then
	require_command bpftool "tools/bootstrap.sh (Debian package bpftool)"
	stats_was=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
fi

veth_pair "$A" "$B" "$ADDR_A" "$ADDR_B"

ip netns exec "$B" python3 "$FLOWS_LAB" http "$HTTP_PORT" &
track_pid $!
ip netns exec "$B" python3 "$FLOWS_LAB" hold "$HOLD_PORT" &
track_pid $!
ip netns exec "$B" python3 "$FLOWS_LAB" sink "$SINK_PORT" &
track_pid $!
listening() {
	[[ -n $(ip netns exec "$B" ss -ltnH "sport = :$1") ]]
}
wait_until 10 "the lab's servers listening" listening "$HTTP_PORT"
wait_until 10 "the lab's servers listening" listening "$HOLD_PORT"
wait_until 10 "the lab's servers listening" listening "$SINK_PORT"

# ---- live: four idle connections, both ends ----
# Reads and writes count while rttq is loaded: this one watches from
# before the connections open, printing every connection each second.
"$RTTQ" flows --json -i 1 >"$tmp/watch.json" 2>"$tmp/watch.err" &
watch_pid=$!
track_pid "$watch_pid"
wait_for_match 20 "$tmp/watch.err" '/attached rttq_flow_state/p' >/dev/null ||
	die "rttq flows --json -i 1 did not start: $(cat "$tmp/watch.err")"
ip netns exec "$A" python3 "$FLOWS_LAB" idle "$ADDR_B" "$HOLD_PORT" \
	1000 50000 300000 1000000 >"$tmp/idle.txt" &
track_pid $!
idle_ready() {
	[[ -f $tmp/idle.txt && $(wc -l <"$tmp/idle.txt") -eq 4 ]]
}
wait_until 20 "four idle connections" idle_ready
# Delayed ACKs and window updates settle within a few RTTs of a veth.
sleep 0.5

# ss_fields NS: "laddr lport raddr rport cwnd mss bytes_sent
# bytes_received retrans" per connection to or from the hold server.
ss_fields() {
	ip netns exec "$1" ss -tinH "( sport = :$HOLD_PORT or dport = :$HOLD_PORT )" |
		awk '
		/^[A-Z0-9-]/ || /^[0-9]/ {
			if (key != "") print key, c, m, s, r, t
			split($4, l, ":"); split($5, p, ":")
			key = l[1] " " l[2] " " p[1] " " p[2]
			c = m = s = r = t = 0
			next
		}
		{
			for (i = 1; i <= NF; i++) {
				split($i, kv, ":")
				if (kv[1] == "cwnd") c = kv[2]
				if (kv[1] == "mss") m = kv[2]
				if (kv[1] == "bytes_sent") s = kv[2]
				if (kv[1] == "bytes_received") r = kv[2]
				if (kv[1] == "retrans") { split(kv[2], rt, "/"); t = rt[2] }
			}
		}
		END { if (key != "") print key, c, m, s, r, t }' | sort
}

for ns in "$A" "$B"; do
	ss_fields "$ns"
done | sort >"$tmp/ss.before"
"$RTTQ" flows --once --json --group-by raddr 2>"$tmp/live.err" >"$tmp/live.json" ||
	die "rttq flows --once --json failed: $(cat "$tmp/live.err")"
for ns in "$A" "$B"; do
	ss_fields "$ns"
done | sort >"$tmp/ss.after"
cmp -s "$tmp/ss.before" "$tmp/ss.after" ||
	fail "ss changed between the reads (not idle):" "$(diff "$tmp/ss.before" "$tmp/ss.after")"
[[ $(wc -l <"$tmp/ss.before") -eq 8 ]] ||
	fail "ss shows $(wc -l <"$tmp/ss.before") connections of the lab, not 8"

jq -r --arg p "$HOLD_PORT" '
	select((.lport | tostring) == $p or (.rport | tostring) == $p) |
	select(.laddr | startswith("10.78.0.")) |
	"\(.laddr) \(.lport) \(.raddr) \(.rport) \(.cwnd) \(.mss) \(.bytes_sent) \(.bytes_received) \(.retrans_packets)"' \
	"$tmp/live.json" | sort >"$tmp/rttq.live"
if ! cmp -s "$tmp/ss.before" "$tmp/rttq.live"; then
	fail "rttq flows and ss -tin differ (laddr lport raddr rport cwnd mss bytes_sent bytes_received retrans):" \
		"$(diff "$tmp/ss.before" "$tmp/rttq.live")"
fi

# What each client read and wrote: exactly what flows-lab.py did, in the
# watcher's last look at each connection.
sleep 1.5
stop_pid "$watch_pid"
i=0
for n in 1000 50000 300000 1000000; do
	i=$((i + 1))
	lport=$(sed -n "${i}p" "$tmp/idle.txt")
	got=$(jq -r --argjson p "$lport" --arg a "$ADDR_A" \
		'select(.lport == $p and .laddr == $a) | "\(.read_bytes) \(.write_bytes)"' \
		"$tmp/watch.json" | tail -n 1)
	want="$n $((4 + n / 2))"
	[[ $got == "$want" ]] ||
		fail "client port $lport: read_bytes write_bytes '$got', want '$want'"
done
# Each in the group it counts in: its peer's.
misgrouped=$(jq -r --arg p "$HOLD_PORT" '
	select(.lport == ($p | tonumber) or .rport == ($p | tonumber)) |
	select(.group != "raddr:" + .raddr) | "\(.lport) \(.group)"' "$tmp/live.json")
[[ -z $misgrouped ]] || fail "connections outside their peer's group: $misgrouped"
echo "live: $(wc -l <"$tmp/rttq.live") connections match ss -tin"

# ---- closed: one record per HTTP request ----
"$RTTQ" flows --closed --json --rport "$HTTP_PORT" \
	>"$tmp/closed.json" 2>"$tmp/closed.err" &
closed_pid=$!
track_pid "$closed_pid"
wait_for_match 20 "$tmp/closed.err" '/attached rttq_flow_state/p' >/dev/null ||
	die "rttq flows --closed did not start: $(cat "$tmp/closed.err")"
# The agent's numbers of the same closes (--signals flows), as the
# collector's drain hands them to it.
"$RTTQ" hist -M flow_duration --counters --rport "$HTTP_PORT" \
	>"$tmp/hist.out" 2>"$tmp/hist.err" &
hist_pid=$!
track_pid "$hist_pid"
wait_for_match 20 "$tmp/hist.err" '/attached rttq_flow_state/p' >/dev/null ||
	die "rttq hist -M flow_duration did not start: $(cat "$tmp/hist.err")"

: >"$tmp/curl.txt"
for ((i = 0; i < REQUESTS; i++)); do
	ms=$((40 + (i * 37) % 160))
	ip netns exec "$A" curl -sS -o /dev/null \
		-w '%{local_port} %{time_total}\n' \
		"http://$ADDR_B:$HTTP_PORT/sleep/$ms" >>"$tmp/curl.txt"
done
big=$(ip netns exec "$A" curl -sS -o /dev/null -w '%{local_port} %{size_download}' \
	"http://$ADDR_B:$HTTP_PORT/big")
# The last close needs the server's ACK of our FIN: a veth RTT.
sleep 0.5
if [[ ${BPF_STATS:-0} == 1 ]]; then
	echo "ns/event of every rttq program loaded (rttq flows --closed and rttq hist -M flow_duration), $REQUESTS + 1 HTTP requests:"
	bpftool -j prog show | jq -r '
		map(select(.name | startswith("rttq_")) |
		    {name, t: (.run_time_ns // 0), n: (.run_cnt // 0)}) |
		group_by(.name)[] |
		{name: .[0].name, t: (map(.t) | add), n: (map(.n) | add)} |
		"\(.name) runs \(.n) ns/event \(if .n > 0 then (.t / .n | floor) else "-" end)"'
fi
kill -INT "$closed_pid" "$hist_pid"
wait "$closed_pid" || fail "rttq flows --closed exited with $?"
wait "$hist_pid" || fail "rttq hist exited with $?"

read -r big_port big_size <<<"$big"
[[ $big_size -eq 300000 ]] || fail "curl downloaded $big_size bytes, not 300000"
big_read=$(jq -r --argjson p "$big_port" 'select(.lport == $p) | .read_bytes' "$tmp/closed.json")
[[ -n $big_read && $big_read -ge 300000 ]] ||
	fail "read_bytes of the 300,000-byte download: '$big_read'"

bad=0
worst=0
while read -r port secs; do
	n=$(jq -r --argjson p "$port" 'select(.lport == $p)' "$tmp/closed.json" | jq -s length)
	if [[ $n -ne 1 ]]; then
		fail "request from port $port: $n closed records, want 1"
		bad=$((bad + 1))
		continue
	fi
	ms=$(jq -r --argjson p "$port" 'select(.lport == $p) | .duration_ms' "$tmp/closed.json")
	if ! awk -v r="$ms" -v c="$secs" -v t="$TOLERANCE" \
		'BEGIN { c *= 1000; d = r - c; if (d < 0) d = -d; exit !(r != "null" && d <= t * c) }'; then
		fail "request from port $port: duration_ms $ms, curl measured $(awk -v c="$secs" 'BEGIN { print c * 1000 }') ms"
		bad=$((bad + 1))
	fi
	worst=$(awk -v r="$ms" -v c="$secs" -v w="$worst" 'BEGIN {
		d = (r - c * 1000) / (c * 1000); if (d < 0) d = -d
		printf "%.4f", (d > w ? d : w) }')
done <"$tmp/curl.txt"
records=$(jq -s length "$tmp/closed.json")
[[ $records -eq $((REQUESTS + 1)) ]] ||
	fail "$records closed records for $((REQUESTS + 1)) connections to port $HTTP_PORT"
grep -q ", 0 lost" "$tmp/closed.err" || fail "records lost: $(tail -1 "$tmp/closed.err")"
echo "closed: $records records, $((REQUESTS - bad)) of $REQUESTS requests within $TOLERANCE of curl's time (worst $worst)"

# hist_counter NAME [FILE]: NAME in the "all counters:" block of rttq
# hist's output (default: the HTTP requests').
hist_counter() {
	awk -v n="$1" '$0 == "all counters:" { on = 1; next }
		on && $1 == n { v = $2 } END { print v + 0 }' "${2:-$tmp/hist.out}"
}
events=$(sed -n 's/^all: \([0-9]*\) events.*/\1/p' "$tmp/hist.out")
[[ $events == "$records" ]] ||
	fail "flow_duration counted '$events' connections, rttq flows --closed $records"
[[ $(hist_counter conn.closed) -eq $records ]] ||
	fail "conn.closed $(hist_counter conn.closed), closed records $records"
for f in bytes_sent bytes_received; do
	want=$(jq -s "map(.$f) | add" "$tmp/closed.json")
	[[ $(hist_counter "flow.$f") -eq $want ]] ||
		fail "flow.$f $(hist_counter "flow.$f"), the closed records' sum $want"
done
echo "agent: conn.closed, flow_duration and flow.bytes_* match the records"

# ---- lossy: retransmits per connection by the same causes ----
# Every 20th packet (never the first SYN), not 5 % at random: GRO hands
# the hook aggregates of up to 64 KiB, so the 4 MB is about a hundred
# packets, and a random 5 % of them was at times none (no retransmit to
# compare).
ip netns exec "$B" nft -f - <<-EOF
table inet flowloss {
	chain input {
		type filter hook input priority 0;
		tcp dport $SINK_PORT numgen inc mod 20 == 19 counter drop
	}
}
EOF
"$RTTQ" flows --closed --json --rport "$SINK_PORT" \
	>"$tmp/lossy.json" 2>"$tmp/lossy.err" &
lossy_pid=$!
track_pid "$lossy_pid"
"$RTTQ" hist --counters --signals retrans --rport "$SINK_PORT" \
	>"$tmp/retrans.out" 2>"$tmp/retrans.err" &
retrans_pid=$!
track_pid "$retrans_pid"
wait_for_match 20 "$tmp/lossy.err" '/attached rttq_flow_state/p' >/dev/null ||
	die "rttq flows --closed did not start: $(cat "$tmp/lossy.err")"
wait_for_match 20 "$tmp/retrans.err" '/attached rttq_retrans /p' >/dev/null ||
	die "rttq hist --signals retrans did not start: $(cat "$tmp/retrans.err")"
ip netns exec "$A" python3 "$FLOWS_LAB" send "$ADDR_B" "$SINK_PORT" 4 1000000
sleep 0.5
kill -INT "$lossy_pid" "$retrans_pid"
wait "$lossy_pid" || fail "rttq flows --closed exited with $?"
wait "$retrans_pid" || fail "rttq hist exited with $?"
conns=$(jq -s length "$tmp/lossy.json")
[[ $conns -eq 4 ]] || fail "$conns closed uploads, not 4"
per_conn=$(jq -s 'map(.fast_retrans + .timeouts) | add // 0' "$tmp/lossy.json")
packets=$(jq -s 'map(.retrans_packets) | add // 0' "$tmp/lossy.json")
group=$(($(hist_counter retrans.fast "$tmp/retrans.out") +
	$(hist_counter retrans.timeout "$tmp/retrans.out")))
[[ $per_conn -eq $group && $group -gt 0 ]] ||
	fail "fast_retrans + timeouts of the connections $per_conn, retrans.fast + retrans.timeout $group"
[[ $packets -ge $per_conn ]] ||
	fail "retrans_packets $packets below fast_retrans + timeouts $per_conn"
dropped=$(ip netns exec "$B" nft list table inet flowloss |
	sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
echo "lossy: fast_retrans + timeouts $per_conn = retrans.fast + retrans.timeout; retrans_packets $packets; $dropped packets dropped"

harness_finish
