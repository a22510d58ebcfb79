#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test-lossy.sh: retransmits by cause and drops by reason against the
# kernel's own counts.  Two network namespaces on a veth pair without
# segmentation offload (gso_max_segs 1, so a drop is one segment), each
# dropping 4 % of the TCP packets it receives with an nftables rule
# (numgen random mod 100 < 4, with a counter), carry a bulk flow and two
# request/response flows (tcp-pingpong) while `rttq hist --counters
# --group-by raddr` watches; then datagrams go to a closed UDP port.
# Each namespace has its own SNMP counters, so per side:
#   sum of retrans.* of the group of its peer == its TcpRetransSegs delta
#   retrans.fast, retrans.tlp within 5 % of TCPFastRetrans, TCPLossProbes
# and node-wide: drops.tcp.netfilter_drop == the two rules' counters,
# drops.udp.no_socket == the receiver's UdpNoPorts.
# BPF_STATS=1 (the benchmark) also prints each program's ns/event under
# this traffic (kernel.bpf_stats_enabled: run_time_ns / run_cnt).
set -euo pipefail

: "${RTTQ:?set by meson}" "${TCP_PINGPONG:?set by meson}"

PORT=5201
DURATION_S=${DURATION_S:-8}
DATAGRAMS=50
TOLERANCE=0.05

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
# shellcheck source=veth-lab.sh
. "$(dirname "$0")/veth-lab.sh"
require_root "network namespaces, nftables and BPF"
require_kernel bpf
require_command nft "tools/bootstrap.sh (Debian package nftables)"
require_command nstat "tools/bootstrap.sh (Debian package iproute2)"
require_command jq "tools/bootstrap.sh (Debian package jq)"
harness_start lossy
A=rttq-lossa-$$
B=rttq-lossb-$$
ADDR_A=10.77.0.1
ADDR_B=10.77.0.2

stats_was=
# shellcheck disable=SC2317  # run by the harness at exit
on_cleanup() {
	veth_lab_cleanup
}

lossy_lab_up "$A" "$B" "$ADDR_A" "$ADDR_B"

# snmp NAME...: the namespace's absolute counters, "NAME VALUE" lines.
snmp() {
	local ns=$1
	shift
	ip netns exec "$ns" nstat -a -s -z "$@" | awk 'NR > 1 { print $1, $2 }'
}

# value FILE NAME: NAME's value in a "NAME VALUE" file (0 when absent).
value() {
	awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$1"
}

# counter GROUP NAME: NAME in GROUP's "counters:" block of rttq hist.
counter() {
	hist_counter "$tmp/hist.out" "$@"
}

# prog_stats: "NAME RUN_TIME_NS RUN_CNT RECURSION_MISSES" of every rttq
# program loaded (the last two fields 0 when the kernel shows none).
prog_stats() {
	bpftool prog show | awk '
		/ name rttq_/ {
			t = n = m = 0
			for (i = 1; i < NF; i++) {
				if ($i == "name") name = $(i + 1)
				if ($i == "run_time_ns") t = $(i + 1)
				if ($i == "run_cnt") n = $(i + 1)
				if ($i == "recursion_misses") m = $(i + 1)
			}
			print name, t, n, m
		}'
}

# snapshot WHEN: both namespaces' retransmit counters, the receiver's
# UdpNoPorts, into $tmp/NS.WHEN and $tmp/udp.WHEN.
snapshot() {
	local ns
	for ns in "$A" "$B"; do
		snmp "$ns" TcpRetransSegs TcpExtTCPFastRetrans TcpExtTCPLossProbes \
			TcpExtTCPSlowStartRetrans TcpExtTCPSynRetrans \
			TcpExtTCPTimeouts TcpExtTCPRetransFail >"$tmp/$ns.$1"
	done
	snmp "$B" UdpNoPorts >"$tmp/udp.$1"
}

within() {
	awk -v got="$1" -v want="$2" -v tol="$TOLERANCE" \
		'BEGIN { d = got - want; if (d < 0) d = -d; exit !(d <= tol * want + 1e-9) }'
}

snapshot before

if [[ ${BPF_STATS:-0} == 1 ]]; then
	stats_was=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
fi
"$RTTQ" hist --counters --group-by raddr --raddr 10.77.0.0/24 \
	--signals retrans,conn,drops >"$tmp/hist.out" 2>"$tmp/hist.err" &
hist_pid=$!
track_pid "$hist_pid"
wait_for_match 20 "$tmp/hist.out" '/^Tracing/p' >/dev/null ||
	die "rttq hist did not start: $(cat "$tmp/hist.err")"

ip netns exec "$B" "$TCP_PINGPONG" server -a "$ADDR_B" -p "$PORT" \
	>"$tmp/server.out" 2>&1 &
track_pid $!
wait_for_match 10 "$tmp/server.out" '/listening/p' >/dev/null ||
	die "tcp-pingpong server did not start"
# One bulk flow (64 KiB echoed 200 times a second each way) and two
# request/response flows.
ip netns exec "$A" "$TCP_PINGPONG" client -a "$ADDR_B" -p "$PORT" \
	-d "$DURATION_S" -r 200 -s 65536 >"$tmp/bulk.out" 2>&1 &
bulk=$!
for i in 1 2; do
	ip netns exec "$A" "$TCP_PINGPONG" client -a "$ADDR_B" -p "$PORT" \
		-d "$DURATION_S" -r 100 >"$tmp/rr$i.out" 2>&1 &
	eval "rr$i=\$!"
done
# shellcheck disable=SC2154  # rr1, rr2: set by the eval above
wait "$bulk" "$rr1" "$rr2" || die "a tcp-pingpong client failed"
# Datagrams to a closed port, counted by the receiver as UdpNoPorts.
ip netns exec "$A" bash -c "for i in \$(seq $DATAGRAMS); do echo x >/dev/udp/$ADDR_B/9; done"
# Let the last FINs and their retransmits settle before the counts.
sleep 3

snapshot after
if [[ ${BPF_STATS:-0} == 1 ]]; then
	echo "BPF ns per event under this traffic (run_time_ns / run_cnt):"
	prog_stats | awk '$3 > 0 { printf "  %-22s %8.1f ns  (%d runs)\n", $1, $2 / $3, $3 }'
fi
missed_drops=$(prog_misses rttq_drop "$hist_pid")
missed_retrans=$(prog_misses rttq_retrans "$hist_pid")
nft_a=$(nft_dropped "$A")
nft_b=$(nft_dropped "$B")
kill -INT "$hist_pid"
wait "$hist_pid" || die "rttq hist failed: $(cat "$tmp/hist.err")"

# A's connections are in group raddr:ADDR_B, B's in raddr:ADDR_A.
for side in "$A:$ADDR_B" "$B:$ADDR_A"; do
	IFS=: read -r ns peer <<<"$side"
	group="raddr:$peer"
	delta() {
		echo $(($(value "$tmp/$ns.after" "$1") - $(value "$tmp/$ns.before" "$1")))
	}
	segs=$(delta TcpRetransSegs)
	fast=$(delta TcpExtTCPFastRetrans)
	tlp=$(delta TcpExtTCPLossProbes)
	r_fast=$(counter "$group" retrans.fast)
	r_timeout=$(counter "$group" retrans.timeout)
	r_tlp=$(counter "$group" retrans.tlp)
	r_syn=$(counter "$group" retrans.syn)
	sum=$((r_fast + r_timeout + r_tlp + r_syn))
	echo "$group: retrans fast $r_fast timeout $r_timeout tlp $r_tlp syn $r_syn (sum $sum);" \
		"nstat TcpRetransSegs $segs TCPFastRetrans $fast TCPLossProbes $tlp" \
		"TCPSlowStartRetrans $(delta TcpExtTCPSlowStartRetrans)" \
		"TCPSynRetrans $(delta TcpExtTCPSynRetrans) TCPTimeouts $(delta TcpExtTCPTimeouts)" \
		"TCPRetransFail $(delta TcpExtTCPRetransFail);" \
		"segs.out $(counter "$group" segs.out), loss.recovery $(counter "$group" loss.recovery)," \
		"loss.timeout $(counter "$group" loss.timeout)"
	[[ $segs -gt 0 ]] || fail "$group: no retransmits at all: the lab lost nothing"
	# Exact: counted from each socket's total_retrans, which calls the
	# program missed (skipped runs too) do not change.
	[[ $sum -eq $segs ]] ||
		fail "$group: retrans.* sum $sum, the namespace's TcpRetransSegs delta $segs ($missed_retrans runs skipped)"
	within "$r_fast" "$fast" ||
		fail "$group: retrans.fast $r_fast not within 5 % of TCPFastRetrans $fast"
	within "$r_tlp" "$tlp" ||
		fail "$group: retrans.tlp $r_tlp not within 5 % of TCPLossProbes $tlp"
	[[ $(counter "$group" segs.out) -gt $segs ]] ||
		fail "$group: segs.out $(counter "$group" segs.out) not above its retransmits"
done

opened=$(counter "raddr:$ADDR_B" conn.opened)
accepted=$(counter "raddr:$ADDR_A" conn.accepted)
echo "conn.opened $opened (raddr:$ADDR_B), conn.accepted $accepted (raddr:$ADDR_A)"
[[ $opened -eq 3 ]] || fail "conn.opened $opened, 3 clients connected"
[[ $accepted -eq 3 ]] || fail "conn.accepted $accepted, the server accepted 3"

nf=$(counter all drops.tcp.netfilter_drop)
echo "drops.tcp.netfilter_drop $nf; nftables counters $nft_a + $nft_b;" \
	"drop runs the kernel skipped (nested): $missed_drops, retransmit runs: $missed_retrans"
[[ $nf -le $((nft_a + nft_b)) && $((nf + missed_drops + $(short_max $((nft_a + nft_b))))) -ge $((nft_a + nft_b)) ]] ||
	fail "drops.tcp.netfilter_drop $nf, the nftables rules dropped $((nft_a + nft_b)) ($missed_drops runs skipped)"
noports=$(($(value "$tmp/udp.after" UdpNoPorts) - $(value "$tmp/udp.before" UdpNoPorts)))
nosock=$(counter all drops.udp.no_socket)
echo "drops.udp.no_socket $nosock; UdpNoPorts $noports (sent $DATAGRAMS)"
[[ $noports -eq $DATAGRAMS ]] || fail "UdpNoPorts $noports, $DATAGRAMS datagrams sent"
[[ $nosock -eq $noports ]] ||
	fail "drops.udp.no_socket $nosock, the receiver's UdpNoPorts $noports"

harness_finish
