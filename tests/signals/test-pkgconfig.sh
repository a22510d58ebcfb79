#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test-pkgconfig.sh: librttq-signals as a user gets it.  Installs the build
# into a scratch tree (meson install --destdir), compiles tools/signals-loop.c
# with nothing but `pkg-config --cflags --libs rttq-signals`, and runs it
# (200 ms samples) beside rttq-agent on a scratch SQLite store while iperf3
# streams between two namespaces: the sum of its send_bytes must match the
# store's bytes.sent.tcp + bytes.sent.udp within 1 %.  Both count the whole
# host from before iperf3 starts to after it ends, so their spans differ
# only by background traffic.
set -euo pipefail

: "${RTTQ_AGENT:?set by meson}" "${RTTQ:?set by meson}" "${NETNS_SETUP:?set by meson}"
: "${MESON_BUILD_ROOT:?set by meson}" "${SIGNALS_LOOP_C:?set by meson}"

SERVER=10.9.0.2
PORT=5201
IPERF_S=5
PERIOD_S=5
TOLERANCE=0.01

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
require_root "BPF, network namespaces and TUN devices"
require_kernel bpf tun
require_command iperf3 "the Debian package iperf3"
require_command pkg-config "the Debian package pkg-config"
require_command cc "the Debian package gcc"
harness_start signals-pkgconfig
dir=$tmp

# shellcheck disable=SC2317  # run by the harness at exit
on_cleanup() {
	bash "$NETNS_SETUP" down "$dir/ns" >/dev/null 2>&1 || true
}

# The installed tree: headers, library and .pc under $dest/usr/local.
dest=$dir/dest
meson install -C "$MESON_BUILD_ROOT" --destdir "$dest" --no-rebuild \
	--quiet --tags runtime,devel > "$dir/install.out" 2>&1 ||
	{ cat "$dir/install.out"; die "meson install failed"; }
pc=$(find "$dest" -name rttq-signals.pc | head -n 1)
[[ -n $pc ]] || die "no rttq-signals.pc installed"
export PKG_CONFIG_PATH=${pc%/*}
export PKG_CONFIG_SYSROOT_DIR=$dest
[[ -f $dest$(PKG_CONFIG_SYSROOT_DIR='' pkg-config --variable=includedir rttq-signals)/rttq/signals.h ]] ||
	fail "the .pc's includedir holds no rttq/signals.h"
libdir=$dest$(PKG_CONFIG_SYSROOT_DIR='' pkg-config --variable=libdir rttq-signals)
# A sanitizer build's library needs its runtime first in the program.
sanitize=()
if readelf -d "$libdir/librttq-signals.so" | grep -q 'NEEDED.*libasan'; then
	sanitize=('-fsanitize=address,undefined')
fi
# shellcheck disable=SC2046  # pkg-config's words are separate arguments
cc -std=c11 -Wall -Wextra -Werror "${sanitize[@]}" -o "$dir/signals-loop" \
	"$SIGNALS_LOOP_C" $(pkg-config --cflags --libs rttq-signals) ||
	die "signals-loop.c does not build against the installed tree"
exports=$(nm -D --defined-only "$libdir/librttq-signals.so" | awk '$2 == "T" { print $3 }' |
	sed 's/@.*//' | grep -v '^rttq_signals_' || true)
[[ -z $exports ]] || fail "librttq-signals exports more than rttq_signals_*: $exports"

bash "$NETNS_SETUP" up "$dir/ns" "$SERVER=1" > "$dir/netns.out" 2>&1 ||
	{ cat "$dir/netns.out"; die "netns-setup failed"; }
# shellcheck disable=SC1091
. "$dir/ns/env"

start=$(date +%s)
"$RTTQ_AGENT" --store "sqlite:$dir/agent.db" --host pc --period "$PERIOD_S" \
	--interval 250ms --metrics off --duration $((IPERF_S + 8)) \
	> "$dir/agent.out" 2> "$dir/agent.err" < /dev/null &
agent_pid=$!
track_pid "$agent_pid"
wait_until 15 "rttq-agent attaching" grep -q 'attached via' "$dir/agent.err" ||
	{ cat "$dir/agent.err"; exit 1; }

LD_LIBRARY_PATH=$libdir "$dir/signals-loop" > "$dir/loop.out" 2> "$dir/loop.err" &
loop_pid=$!
track_pid "$loop_pid"
# Its first sample ends once the programs are attached.
wait_until 15 "signals-loop's first sample" grep -q ' s: ' "$dir/loop.out" ||
	{ cat "$dir/loop.err"; exit 1; }

ip netns exec "$NS_SERVER" iperf3 -s -1 -p "$PORT" > "$dir/iperf-server.out" 2>&1 &
track_pid $!
# shellcheck disable=SC2317  # called by wait_until
iperf_listening() {
	ip netns exec "$NS_SERVER" ss -Htln "sport = :$PORT" | grep -q LISTEN
}
wait_until 5 "iperf3 listening" iperf_listening || exit 1
ip netns exec "$NS_CLIENT" iperf3 -c "$SERVER" -p "$PORT" -t "$IPERF_S" -J \
	> "$dir/iperf.json" || die "iperf3 failed: $(cat "$dir/iperf.json")"
sleep 1
stop_pid "$loop_pid"
wait "$agent_pid" || die "rttq-agent failed: $(cat "$dir/agent.err")"

loop_sent=$(awk '{ for (i = 1; i < NF; i++) if ($i == "sent") s += $(i + 1) } END { printf "%.0f", s }' "$dir/loop.out")
samples=$(grep -c ' s: ' "$dir/loop.out")
"$RTTQ" counters --store "sqlite:$dir/agent.db" --from $((start - PERIOD_S)) \
	--to "$(date +%s)" --names 'bytes.sent.*' > "$dir/counters.json" ||
	die "rttq counters failed"
# "counters":{"bytes.sent.tcp":N,...} comes before "per_second":{...}.
counter() {
	grep -o "\"$1\":[0-9]*" "$dir/counters.json" | head -n 1 | cut -d: -f2 || true
}
tcp_sent=$(counter bytes.sent.tcp)
udp_sent=$(counter bytes.sent.udp)
store_sent=$((${tcp_sent:-0} + ${udp_sent:-0}))
# iperf3 -J: the first "bytes" after "sum_sent" (in "end") is the total.
iperf_sent=$(awk '/"sum_sent"/ { f = 1 } f && /"bytes"/ { gsub(/[^0-9]/, ""); print; exit }' \
	"$dir/iperf.json")
echo "iperf3 sent $iperf_sent B; signals-loop: $samples samples, send_bytes $loop_sent; store bytes.sent $store_sent"

[[ $samples -ge $((IPERF_S * 5)) ]] || fail "only $samples samples of 200 ms in $((IPERF_S + 1)) s"
if [[ -z $tcp_sent ]]; then
	# The collector of this build counts no bytes (the family is not
	# there yet, or the kernel lacks sock_send_length).
	[[ $loop_sent == 0 ]] || fail "signals-loop counted $loop_sent bytes, the agent none"
	skip "this collector counts no bytes.sent: nothing to compare"
fi
awk -v a="$loop_sent" -v b="$store_sent" -v tol="$TOLERANCE" \
	'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= tol * b) }' ||
	fail "send_bytes summed $loop_sent, the store's bytes.sent $store_sent: more than 1 % apart"
awk -v a="$store_sent" -v b="$iperf_sent" 'BEGIN { exit !(a >= b) }' ||
	fail "the store's bytes.sent $store_sent is less than iperf3's $iperf_sent"
harness_finish
