#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test-node.sh: bytes and softirq time against what the traffic was.  Two
# network namespaces on a veth pair carry an iperf3 run (4 TCP streams at
# full speed), then 200 datagrams of 1,000 bytes from one connected UDP
# socket, while `rttq hist --counters --group-by raddr` watches:
#   bytes.sent.tcp of the client's group == iperf3's bytes sent, within 1 %
#     (the group also has iperf3's control connection, a few KB), and
#     bytes.received.tcp of the server's group == iperf3's bytes received
#   bytes.sent.udp of the sender's group == 200,000 exactly
#   softirq.net_rx_ns > 0 and below the run's wall time x CPUs
# The receiver drops the datagrams with an nftables rule (no socket needed,
# no ICMP back) whose counter says all 200 arrived.
# BPF_STATS=1 (the benchmark): each program's runs per second and ns per
# run under this traffic (kernel.bpf_stats_enabled), the iperf3 run only.
set -euo pipefail

: "${RTTQ:?set by meson}"

PORT=5201
UDP_PORT=7777
DURATION_S=${DURATION_S:-4}
DATAGRAMS=200
DATAGRAM_BYTES=1000

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
# shellcheck source=veth-lab.sh
. "$(dirname "$0")/veth-lab.sh"
require_root "network namespaces, nftables and BPF"
require_kernel bpf
require_command nft "tools/bootstrap.sh (Debian package nftables)"
require_command iperf3 "tools/bootstrap.sh (Debian package iperf3)"
harness_start node
A=rttq-nodea-$$
B=rttq-nodeb-$$
ADDR_A=10.78.0.1
ADDR_B=10.78.0.2

stats_was=
# shellcheck disable=SC2317  # run by the harness at exit
on_cleanup() {
	veth_lab_cleanup
}

veth_pair "$A" "$B" "$ADDR_A" "$ADDR_B"
ip netns exec "$B" nft -f - <<EOF
table inet node {
	chain input {
		type filter hook input priority 0;
		udp dport $UDP_PORT counter drop
	}
}
EOF

# counter GROUP NAME: NAME in GROUP's "counters:" block of rttq hist.
counter() {
	hist_counter "$tmp/hist.out" "$@"
}

# prog_stats PID: "ID NAME RUN_TIME_NS RUN_CNT" of every program process
# PID holds (the prog_id of its fds), so other collectors on the host do
# not count.
prog_stats() {
	local ids
	ids=$(cat /proc/"$1"/fdinfo/* 2>/dev/null |
		awk '$1 == "prog_id:" { printf "%s ", $2 }')
	bpftool prog show | awk -v ids=" $ids" '
		/^[0-9]+: / {
			id = $1; sub(/:$/, "", id)
			if (!index(ids, " " id " ")) next
			t = n = 0
			for (i = 1; i < NF; i++) {
				if ($i == "name") name = $(i + 1)
				if ($i == "run_time_ns") t = $(i + 1)
				if ($i == "run_cnt") n = $(i + 1)
			}
			print id, name, t, n
		}'
}

now_ns() {
	date +%s%N
}

if [[ ${BPF_STATS:-0} == 1 ]]; then
	stats_was=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
fi
start_ns=$(now_ns)
"$RTTQ" hist --counters --group-by raddr --raddr 10.78.0.0/24 \
	>"$tmp/hist.out" 2>"$tmp/hist.err" &
hist_pid=$!
track_pid "$hist_pid"
wait_for_match 20 "$tmp/hist.out" '/^Tracing/p' >/dev/null ||
	die "rttq hist did not start: $(cat "$tmp/hist.err")"

ip netns exec "$B" iperf3 -s -1 -B "$ADDR_B" -p "$PORT" \
	>"$tmp/iperf-server.out" 2>&1 &
track_pid $!
sleep 0.5
prog_stats "$hist_pid" >"$tmp/stats.before"
iperf_start=$(now_ns)
ip netns exec "$A" iperf3 -c "$ADDR_B" -p "$PORT" -P 4 -t "$DURATION_S" \
	--json >"$tmp/iperf.json" 2>"$tmp/iperf.err" ||
	die "iperf3 failed: $(cat "$tmp/iperf.err")"
iperf_ns=$(($(now_ns) - iperf_start))
prog_stats "$hist_pid" >"$tmp/stats.after"
# iperf_bytes KEY: end.KEY.bytes of iperf3's answer (sum_sent: the
# streams' bytes as the client counted its sends; sum_received: as the
# server counted its reads).
iperf_bytes() {
	awk -v k="\"$1\"" '$1 == k":" { on = 1 } on && /"bytes"/ { gsub(/[^0-9]/, "", $2); print $2; exit }' \
		"$tmp/iperf.json"
}
sent=$(iperf_bytes sum_sent)
received=$(iperf_bytes sum_received)
[[ -n $sent && $sent -gt 0 && -n $received ]] ||
	die "no end.sum_sent.bytes in iperf3's answer"

# One connected UDP socket (bash's /dev/udp), one write per datagram.
ip netns exec "$A" bash -c "exec 3>/dev/udp/$ADDR_B/$UDP_PORT
	for i in \$(seq $DATAGRAMS); do printf '%${DATAGRAM_BYTES}s' x >&3; done"
sleep 1
kill -INT "$hist_pid"
wait "$hist_pid" || die "rttq hist failed: $(cat "$tmp/hist.err")"
wall_ns=$(($(now_ns) - start_ns))
arrived=$(ip netns exec "$B" nft list chain inet node input |
	awk '/counter packets/ { for (i = 1; i < NF; i++) if ($i == "packets") print $(i + 1) }')

if [[ ${BPF_STATS:-0} == 1 ]]; then
	echo "BPF programs under iperf3 -P 4 between namespaces ($DURATION_S s;" \
		"runs/s and run_time_ns / run_cnt):"
	awk -v s="$iperf_ns" '
		NR == FNR { t0[$1] = $3; n0[$1] = $4; next }
		{ dt = $3 - t0[$1]; dn = $4 - n0[$1]; tt += dt }
		dn > 0 { printf "  %-20s %10.0f runs/s %8.1f ns/run  %6.3f %% of a CPU\n",
				$2, dn / (s / 1e9), dt / dn, 100 * dt / s }
		END { printf "  all its programs: %.3f %% of one CPU\n", 100 * tt / s }' \
		"$tmp/stats.before" "$tmp/stats.after"
fi

tcp=$(counter "raddr:$ADDR_B" bytes.sent.tcp)
tcp_recv=$(counter "raddr:$ADDR_A" bytes.received.tcp)
udp=$(counter "raddr:$ADDR_B" bytes.sent.udp)
rx=$(counter all softirq.net_rx_ns)
cpus=$(nproc)
echo "iperf3 sent $sent bytes, received $received; bytes.sent.tcp $tcp" \
	"(raddr:$ADDR_B), bytes.received.tcp $tcp_recv (raddr:$ADDR_A)"
echo "bytes.sent.udp $udp (raddr:$ADDR_B), $arrived datagrams arrived"
echo "softirq.net_rx_ns $rx over $wall_ns ns of wall time on $cpus CPUs" \
	"(net_tx $(counter all softirq.net_tx_ns))"
awk -v got="$tcp" -v want="$sent" \
	'BEGIN { d = got - want; if (d < 0) d = -d; exit !(d <= 0.01 * want) }' ||
	fail "bytes.sent.tcp $tcp not within 1 % of iperf3's $sent"
awk -v got="$tcp_recv" -v want="$received" \
	'BEGIN { d = got - want; if (d < 0) d = -d; exit !(d <= 0.01 * want) }' ||
	fail "bytes.received.tcp $tcp_recv not within 1 % of iperf3's $received"
[[ $tcp_recv -le $tcp ]] ||
	fail "bytes.received.tcp $tcp_recv on the server's side, $tcp sent"
[[ $arrived -eq $DATAGRAMS ]] || fail "$arrived datagrams arrived, $DATAGRAMS sent"
[[ $udp -eq $((DATAGRAMS * DATAGRAM_BYTES)) ]] ||
	fail "bytes.sent.udp $udp, $DATAGRAMS datagrams of $DATAGRAM_BYTES bytes sent"
[[ $rx -gt 0 ]] || fail "softirq.net_rx_ns 0 under load"
[[ $rx -lt $((wall_ns * cpus)) ]] ||
	fail "softirq.net_rx_ns $rx above wall time x CPUs ($wall_ns x $cpus)"

harness_finish
