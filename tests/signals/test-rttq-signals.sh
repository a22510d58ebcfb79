#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test-rttq-signals.sh: `rttq signals` as documented in rttq(1): one line
# per interval in the issue's format while loopback traffic runs; bad
# filters are usage errors naming the field; --validate prints a baseline
# and the overhead, exits 0 within --target and 3 above it, and leaves
# kernel.bpf_stats_enabled as it found it.
set -euo pipefail

: "${RTTQ:?set by meson}" "${TCP_PINGPONG:?set by meson}"

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
require_root "BPF"
require_kernel bpf
harness_start rttq-signals

LINE='^\[ *[0-9.]+s\] events [0-9]+ \| send [0-9]+\.[0-9] MB \| recv [0-9]+\.[0-9] MB \| drops [0-9]+ \| sndbuf [0-9]+\.[0-9] % \| softirq [0-9]+ µs \| rtt p50 [0-9]+\.[0-9]{3} ms$'

rc=0
"$RTTQ" signals --raddr 10.0.0.0/99 > "$tmp/bad.out" 2> "$tmp/bad.err" || rc=$?
[[ $rc == 2 ]] || fail "--raddr 10.0.0.0/99: exit $rc, not 2"
grep -q 'raddr.*10.0.0.0/99' "$tmp/bad.err" || fail "--raddr error names neither field nor value: $(cat "$tmp/bad.err")"
rc=0
"$RTTQ" signals --interval 0 > /dev/null 2> "$tmp/bad.err" || rc=$?
if [[ $rc != 2 ]] || ! grep -q -- '--interval' "$tmp/bad.err"; then
	fail "--interval 0: exit $rc, $(cat "$tmp/bad.err")"
fi

# Loopback traffic while it runs: 200 echoes a second.
port=$(free_port)
"$TCP_PINGPONG" server -a 127.0.0.1 -p "$port" > "$tmp/server.out" 2>&1 &
track_pid $!
wait_until 5 "the tcp-pingpong server listening" grep -qx listening "$tmp/server.out" ||
	die "tcp-pingpong server: $(cat "$tmp/server.out")"
"$RTTQ" signals --interval 0.5 --duration 2 --include-loopback > "$tmp/lines.out" 2> "$tmp/lines.err" &
pid=$!
"$TCP_PINGPONG" client -a 127.0.0.1 -p "$port" -d 3 -r 200 > "$tmp/client.out" 2>&1 ||
	fail "tcp-pingpong client: $(cat "$tmp/client.out")"
wait "$pid" || fail "rttq signals exited $?: $(cat "$tmp/lines.err")"
n=$(grep -cE "$LINE" "$tmp/lines.out" || true)
[[ $n == 4 ]] || fail "expected 4 lines in the documented format, got $n: $(cat "$tmp/lines.out")"
grep -qE '\] events [1-9]' "$tmp/lines.out" || fail "no line counted an RTT event: $(cat "$tmp/lines.out")"

stats_before=$(cat /proc/sys/kernel/bpf_stats_enabled)
rc=0
"$RTTQ" signals --validate --duration 1 --target 100 > "$tmp/ok.out" 2>&1 || rc=$?
[[ $rc == 0 ]] || fail "--validate --target 100: exit $rc: $(cat "$tmp/ok.out")"
grep -q '^baseline: machine CPU [0-9.]* % of [0-9]* CPUs' "$tmp/ok.out" || fail "no baseline line: $(cat "$tmp/ok.out")"
grep -qE '^overhead: bpf [0-9.]+ % \+ process [0-9.]+ % = [0-9.]+ % of one core, [0-9.]+ % of the machine .*: ok$' "$tmp/ok.out" ||
	fail "no overhead line ending in ok: $(cat "$tmp/ok.out")"
rc=0
"$RTTQ" signals --validate --duration 1 --target 0.0001 > "$tmp/over.out" 2>&1 || rc=$?
[[ $rc == 3 ]] || fail "--validate --target 0.0001: exit $rc, not 3: $(cat "$tmp/over.out")"
grep -q 'ABOVE$' "$tmp/over.out" || fail "no ABOVE verdict: $(cat "$tmp/over.out")"
[[ $(cat /proc/sys/kernel/bpf_stats_enabled) == "$stats_before" ]] ||
	fail "kernel.bpf_stats_enabled was $stats_before, is $(cat /proc/sys/kernel/bpf_stats_enabled) after --validate"
harness_finish
