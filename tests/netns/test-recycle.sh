#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test-recycle.sh: idle groups give their kernel id back, and no sample ever
# lands in another key's group.  A client namespace with a routed local
# range (ip route add local 10.8.0.0/16 dev lo) opens PEERS connections to a
# server namespace across a veth pair, each from its own source address;
# rttq-agent (--group-by raddr --max-groups 64, short --group-idle and
# --interval) watches the server's sockets.  A peer starts once the agent
# logged the recycle of the group of the peer AT_ONCE before it, so at most
# AT_ONCE peers hold an id at once, however slowly the agent runs.  One more connection talks, stays quiet
# past --group-idle (its id goes to another peer), then talks again.  The
# store must then hold, for every peer, exactly the samples its server
# socket saw (tests/netns/peer-churn.c says how many), no other group, and
# "all" their sum; the agent must report no overflow and have recycled
# ids.  PEERS (default 20000) can be lowered for a quick run.
set -euo pipefail

: "${RTTQ_AGENT:?set by meson}" "${PEER_CHURN:?set by meson}"

PEERS=${PEERS:-20000}
AT_ONCE=50
MAX_GROUPS=64
# An id is free again interval + idle + interval (+ the RCU wait) after
# its peer's last segment at most: ~200 peers/s through 50 ids.
INTERVAL=50ms
GROUP_IDLE=100ms
QUIET_MS=1000
PERIOD_S=5
PORT=7931
HOST=recycle
SERVER=10.7.0.2
FIRST_PEER=10.8.0.1
RETURNING=10.8.255.254

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
require_root "BPF and network namespaces"
require_kernel bpf
harness_start recycle
ns_client=rttq-rc-cli-$$
ns_server=rttq-rc-srv-$$

# shellcheck disable=SC2317  # run by the harness at exit
on_cleanup() {
	ip netns del "$ns_client" 2>/dev/null || true
	ip netns del "$ns_server" 2>/dev/null || true
	if [[ $harness_status -ne 0 || $failures -ne 0 ]]; then
		echo "--- agent log (last 20 lines)"
		tail -n 20 "$tmp/agent.err" 2>/dev/null || true
	fi
}

ip netns add "$ns_client"
ip netns add "$ns_server"
ip link add rttq-rc0 netns "$ns_client" type veth peer name rttq-rc1 netns "$ns_server"
ip -n "$ns_client" link set lo up
ip -n "$ns_server" link set lo up
ip -n "$ns_client" addr add 10.7.0.1/24 dev rttq-rc0
ip -n "$ns_server" addr add "$SERVER/24" dev rttq-rc1
ip -n "$ns_client" link set rttq-rc0 up
ip -n "$ns_server" link set rttq-rc1 up
# Any 10.8.x.y is the client's own: bind() takes it without 20,000 addresses.
ip -n "$ns_client" route add local 10.8.0.0/16 dev lo
ip -n "$ns_server" route add 10.8.0.0/16 via 10.7.0.1

# --sub-bits 3 and 5 s periods: the series table holds every peer's group
# until its day rollup (~8 KiB each at g = 3).
"$RTTQ_AGENT" --store "sqlite:$tmp/recycle.db" --host "$HOST" \
	--period "$PERIOD_S" --interval "$INTERVAL" --group-by raddr \
	--lport "$PORT" --max-groups "$MAX_GROUPS" --group-idle "$GROUP_IDLE" \
	--max-day-groups $((PEERS + 1000)) --sub-bits 3 \
	--metrics 127.0.0.1:0 -v > "$tmp/agent.out" 2> "$tmp/agent.err" < /dev/null &
agent_pid=$!
track_pid "$agent_pid"
metrics_port=
agent_ready() {
	kill -0 "$agent_pid" 2>/dev/null || die "rttq-agent exited: $(tail -n 5 "$tmp/agent.err")"
	metrics_port=$(sed -n 's|.*metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$tmp/agent.err")
	[[ -n $metrics_port ]] && grep -q 'attached via' "$tmp/agent.err"
}
wait_until 20 "rttq-agent attaching" agent_ready || exit 1

ip netns exec "$ns_server" "$PEER_CHURN" serve "$SERVER" "$PORT" > "$tmp/server.out" 2>&1 &
track_pid $!
wait_until 5 "the server listening" grep -qx listening "$tmp/server.out" || exit 1

started=$(date +%s)
ip netns exec "$ns_client" "$PEER_CHURN" churn "$SERVER" "$PORT" "$FIRST_PEER" \
	"$PEERS" "$AT_ONCE" "$RETURNING" "$QUIET_MS" "$tmp/agent.err" "$tmp/expected" ||
	die "peer-churn churn failed"
echo "churn of $PEERS peers took $(($(date +%s) - started)) s"

metric() {
	sed -n "s/^$1 \([0-9]*\)\$/\1/p" "$tmp/metrics"
}
curl -sf "http://127.0.0.1:$metrics_port/metrics" > "$tmp/metrics" ||
	fail "no answer from /metrics"
recycled=$(metric rttq_agent_groups_recycled_total)
overflow=$(metric rttq_agent_overflow_samples_total)
dropped=$(metric rttq_agent_series_dropped_samples_total)
echo "agent: ${recycled:-?} ids recycled, ${overflow:-?} overflow samples, ${dropped:-?} dropped samples"
[[ ${overflow:-x} == 0 ]] || fail "overflow: ${overflow:-none} samples found no group id (expected 0)"
[[ ${dropped:-x} == 0 ]] || fail "${dropped:-none} samples refused by the series table (expected 0)"
# Every peer but the last MAX_GROUPS must have given its id back.
[[ ${recycled:-0} -ge $((PEERS - MAX_GROUPS)) ]] ||
	fail "${recycled:-0} ids recycled, expected at least $((PEERS - MAX_GROUPS))"
grep -q "group raddr:$RETURNING: no events" "$tmp/agent.err" ||
	fail "the returning connection's group raddr:$RETURNING was never recycled"
# /metrics keeps only groups holding an id (and all).
groups_exported=$(grep -c '^rttq_rtt_seconds_count{' "$tmp/metrics" || true)
[[ $groups_exported -le $((MAX_GROUPS + 1)) ]] ||
	fail "/metrics exports $groups_exported groups, more than --max-groups $MAX_GROUPS + all"

kill -TERM "$agent_pid"
status=0
wait "$agent_pid" || status=$?
[[ $status -eq 0 ]] || fail "rttq-agent exited $status after SIGTERM"
grep -q 'found no room' "$tmp/agent.err" && fail "the agent logged overflow"
"$PEER_CHURN" check "sqlite:$tmp/recycle.db" "$HOST" "$PERIOD_S" "$tmp/expected" ||
	fail "the store does not hold every peer's samples in its own group"
harness_finish
