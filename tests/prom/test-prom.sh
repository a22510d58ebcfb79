#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# The agent's /metrics as Prometheus sees it: run the real agent (BPF,
# root) with loopback traffic, check the exposition with `promtool check
# metrics` and for histogram sanity (cumulative buckets, +Inf == _count),
# then let a real Prometheus scrape the agent and rttq-api every second and
# ask its HTTP API whether up == 1 and the RTT histogram arrived.
#
# Environment: RTTQ_AGENT, RTTQ_API, PROM_TRAFFIC (paths, set by meson).
set -u

agent=${RTTQ_AGENT:?}
api=${RTTQ_API:?}
traffic=${PROM_TRAFFIC:?}
MAX_GROUPS=3
CONNECTIONS=8
EXCHANGES=200

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
harness_start prom-test
agent_pid=
api_pid=
prom_pid=
bpf_stats_was=

# shellcheck disable=SC2317  # run by the harness at exit
on_cleanup() {
	stop_pid "$prom_pid"
	stop_pid "$api_pid"
	stop_pid "$agent_pid"
	if [ -n "$bpf_stats_was" ]; then
		echo "$bpf_stats_was" >/proc/sys/kernel/bpf_stats_enabled
	fi
}

require_command promtool "the Debian package prometheus"
require_command prometheus "the Debian package prometheus"
require_command curl "the Debian package curl"
require_command ss "the Debian package iproute2"
require_root "the agent (loads BPF)"
require_kernel bpf

# BPF run time is only counted with kernel.bpf_stats_enabled = 1: switch it
# on for the test (restored on exit) so those counters are checked too.
bpf_stats_was=$(cat /proc/sys/kernel/bpf_stats_enabled 2>/dev/null)
if [ -n "$bpf_stats_was" ]; then
	echo 1 >/proc/sys/kernel/bpf_stats_enabled ||
		die "cannot set kernel.bpf_stats_enabled"
fi

# ---------------------------------------------------------------------------
# The agent and its traffic
# ---------------------------------------------------------------------------

"$agent" --store "sqlite:$tmp/rttq.db" --metrics 127.0.0.1:0 --period 5 \
	--interval 1 --include-loopback --group-by rport \
	--max-groups $MAX_GROUPS --duration 90 \
	>"$tmp/agent.out" 2>"$tmp/agent.err" &
agent_pid=$!
port=$(wait_for_match 10 "$tmp/agent.err" \
	's|.*metrics at http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p') || {
	cat "$tmp/agent.err"
	die "the agent did not start its metrics endpoint"
}
metrics_url="http://127.0.0.1:$port/metrics"
echo "agent metrics at $metrics_url"

"$traffic" $CONNECTIONS $EXCHANGES || die "loopback traffic failed"

# A base period (5 s) must close for the last-period summary, and its
# records reach the store just after, from the agent's writer thread: wait
# for both.
period_written() {
	curl -s --max-time 5 -o "$tmp/metrics.txt" "$metrics_url" &&
		grep -q '^rttq_rtt_last_period_seconds{group="all",quantile="0.99"}' \
			"$tmp/metrics.txt" &&
		grep -q '^rttq_store_writes_total [1-9]' "$tmp/metrics.txt"
}
wait_until 30 "a closed period in /metrics and written to the store" \
	period_written

# ---------------------------------------------------------------------------
# The exposition itself
# ---------------------------------------------------------------------------

if promtool check metrics <"$tmp/metrics.txt" >"$tmp/promtool.txt" 2>&1; then
	echo "promtool check metrics: agent output OK"
else
	fail "promtool check metrics on the agent: $(cat "$tmp/promtool.txt")"
fi

ctype=$(curl -s --max-time 5 -o /dev/null -w '%{content_type}' "$metrics_url")
[ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ] ||
	fail "Content-Type is '$ctype'"
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST "$metrics_url")
[ "$code" = 405 ] || fail "POST /metrics -> $code, expected 405"
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
	"http://127.0.0.1:$port/nothing")
[ "$code" = 404 ] || fail "GET /nothing -> $code, expected 404"

# Histogram sanity, per group: bounds increasing and ending in +Inf, counts
# cumulative, +Inf == _count; _sum present; "all" counted our traffic.
awk -v min_all=$((CONNECTIONS * EXCHANGES)) -v max_groups=$MAX_GROUPS '
function group_of(s) { sub(/.*group="/, "", s); sub(/".*/, "", s); return s }
function le_of(s) { sub(/.*le="/, "", s); sub(/".*/, "", s); return s }
/^rttq_rtt_seconds_bucket\{/ {
	g = group_of($1); le = le_of($1); v = $2 + 0
	if (!(g in last_le)) { groups++; last_le[g] = -1; last_v[g] = 0 }
	if (g in inf) { print "bucket after +Inf in " g; bad++ }
	if (le == "+Inf") inf[g] = v
	else if (le + 0 <= last_le[g]) { print "le not increasing in " g; bad++ }
	else last_le[g] = le + 0
	if (v < last_v[g]) { print "buckets decrease in " g " at le=" le; bad++ }
	last_v[g] = v
	nb[g]++
}
/^rttq_rtt_seconds_count\{/ { count[group_of($1)] = $2 + 0 }
/^rttq_rtt_seconds_sum\{/ { sum[group_of($1)] = $2 + 0 }
END {
	for (g in last_le) {
		if (nb[g] != 20) { print g ": " nb[g] " buckets, expected 20"; bad++ }
		if (!(g in inf)) { print g ": no +Inf bucket"; bad++ }
		if (inf[g] != count[g]) { print g ": +Inf " inf[g] " != _count " count[g]; bad++ }
		if (count[g] <= 0) { print g ": _count is 0"; bad++ }
		if (!(g in sum) || sum[g] <= 0) { print g ": _sum missing or 0"; bad++ }
	}
	if (count["all"] < min_all) { print "all: _count " count["all"] " < " min_all; bad++ }
	if (groups > max_groups + 1) { print groups " groups exported, --max-groups " max_groups; bad++ }
	printf "histogram: %d groups, all: _count %d, _sum %.6f s\n", groups, count["all"], sum["all"]
	exit bad > 0
}' "$tmp/metrics.txt" || fail "histogram sanity (above)"

# The last closed period: p50 <= p90 <= p99, all positive.
q=$(sed -n 's/^rttq_rtt_last_period_seconds{group="all",quantile="[0-9.]*"} //p' \
	"$tmp/metrics.txt" | tr '\n' ' ')
echo "last period p50 p90 p99 (s): $q"
echo "$q" | awk 'NF != 3 || !($1 > 0 && $1 <= $2 && $2 <= $3) { exit 1 }' ||
	fail "last-period quantiles of all: '$q'"

grep -q '^rttq_agent_info{version="[^"]*",attach="[a-z_]*"} 1$' \
	"$tmp/metrics.txt" || fail "rttq_agent_info missing"
for name in rttq_agent_events_total rttq_agent_drains_total \
	rttq_agent_groups rttq_agent_overflow_samples_total \
	rttq_store_writes_total rttq_store_write_errors_total \
	rttq_store_retries_total rttq_agent_pending_records \
	rttq_bpf_stats_enabled; do
	grep -q "^$name [0-9]" "$tmp/metrics.txt" || fail "$name missing"
done
drains=$(sed -n 's/^rttq_agent_drains_total //p' "$tmp/metrics.txt")
writes=$(sed -n 's/^rttq_store_writes_total //p' "$tmp/metrics.txt")
[ "${drains:-0}" -ge 1 ] && [ "${writes:-0}" -ge 1 ] ||
	fail "drains $drains, store writes $writes: expected at least 1 each"
# More rport groups than --max-groups: the excess is counted somewhere.
lost=$(awk '/^rttq_agent_(overflow|series_dropped|metrics_dropped)_samples_total / { s += $2 } END { print s + 0 }' \
	"$tmp/metrics.txt")
[ "$lost" -gt 0 ] ||
	fail "$((2 * CONNECTIONS)) rport groups, --max-groups $MAX_GROUPS, yet no sample counted as dropped"
if [ -n "$bpf_stats_was" ]; then
	grep -q '^rttq_bpf_stats_enabled 1$' "$tmp/metrics.txt" ||
		fail "rttq_bpf_stats_enabled is not 1"
	# One line per program, labelled by attach point; RTT's is tcp_probe.
	runs=$(sed -n 's/^rttq_bpf_run_count_total{program="[a-z_]*\/tcp_probe"} //p' "$tmp/metrics.txt")
	run_s=$(sed -n 's/^rttq_bpf_run_time_seconds_total{program="[a-z_]*\/tcp_probe"} //p' "$tmp/metrics.txt")
	if [ "${runs:-0}" -gt 0 ] &&
		awk -v t="${run_s:-0}" 'BEGIN { exit !(t > 0) }'; then
		echo "BPF: $runs runs, $run_s s ($(awk -v t="$run_s" -v n="$runs" \
			'BEGIN { printf "%.0f", t * 1e9 / n }') ns per event)"
	else
		fail "bpf_stats on, yet rttq_bpf_run_count_total '$runs', rttq_bpf_run_time_seconds_total '$run_s'"
	fi
fi

# ---------------------------------------------------------------------------
# rttq-api, when it serves /metrics too
# ---------------------------------------------------------------------------

targets_api=
"$api" --store "sqlite:$tmp/rttq.db" --listen 127.0.0.1:0 --period 5s \
	>"$tmp/api.out" 2>"$tmp/api.err" &
api_pid=$!
api_port=$(wait_for_match 10 "$tmp/api.out" \
	's/^rttq-api: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p')
api_code=
[ -n "$api_port" ] &&
	api_code=$(curl -s --max-time 10 -o "$tmp/api-metrics.txt" \
		-w '%{http_code}' "http://127.0.0.1:$api_port/metrics")
if [ "$api_code" = 200 ]; then
	targets_api="127.0.0.1:$api_port"
	if promtool check metrics <"$tmp/api-metrics.txt" \
		>"$tmp/promtool-api.txt" 2>&1; then
		echo "promtool check metrics: rttq-api output OK"
	else
		fail "promtool check metrics on rttq-api: $(cat "$tmp/promtool-api.txt")"
	fi
else
	echo "note: rttq-api did not serve /metrics (port '$api_port', HTTP '$api_code'); Prometheus scrapes only the agent"
	sed 's/^/  rttq-api: /' "$tmp/api.err" | head -n 5
	stop_pid "$api_pid"
	api_pid=
fi

# ---------------------------------------------------------------------------
# A real Prometheus
# ---------------------------------------------------------------------------

{
	echo "global:"
	echo "  scrape_interval: 1s"
	echo "  scrape_timeout: 1s"
	echo "scrape_configs:"
	echo "  - job_name: rttq-agent"
	echo "    static_configs:"
	echo "      - targets: ['127.0.0.1:$port']"
	if [ -n "$targets_api" ]; then
		echo "  - job_name: rttq-api"
		echo "    static_configs:"
		echo "      - targets: ['$targets_api']"
	fi
} >"$tmp/prometheus.yml"
promtool check config "$tmp/prometheus.yml" >"$tmp/check-config.txt" 2>&1 ||
	die "promtool check config: $(cat "$tmp/check-config.txt")"

# Start Prometheus; a port taken between the check and the bind costs a
# retry on another one.
for _ in 1 2 3; do
	prom_port=$(free_port) || die "no free loopback port for Prometheus"
	prometheus --config.file="$tmp/prometheus.yml" \
		--storage.tsdb.path="$tmp/tsdb" \
		--web.listen-address="127.0.0.1:$prom_port" \
		--log.level=warn >"$tmp/prometheus.log" 2>&1 &
	prom_pid=$!
	prom="http://127.0.0.1:$prom_port"
	# Ready, or gone (a port taken meanwhile): either ends the wait.
	wait_for_prometheus() {
		[ "$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' \
			"$prom/-/ready")" = 200 ] ||
			! kill -0 "$prom_pid" 2>/dev/null
	}
	wait_until 10 "Prometheus ready or exited" wait_for_prometheus ||
		exit 1
	kill -0 "$prom_pid" 2>/dev/null && break
	wait "$prom_pid" 2>/dev/null
	prom_pid=
	grep -q 'address already in use' "$tmp/prometheus.log" ||
		die "Prometheus did not start: $(tail -n 5 "$tmp/prometheus.log")"
done
[ -n "$prom_pid" ] || die "Prometheus found no free port in 3 tries"
echo "Prometheus on port $prom_port"

# query EXPR: Prometheus's JSON answer for an instant query.
query() {
	curl -s --max-time 5 -G "$prom/api/v1/query" --data-urlencode "query=$1"
}

# Each target up == 1 (within 20 s: start-up plus a few 1 s scrapes).
job_up() {
	kill -0 "$prom_pid" 2>/dev/null || die "Prometheus exited"
	query "up{job=\"$1\"}" >"$tmp/up.json" 2>/dev/null &&
		grep -q '"value":\[[0-9.]*,"1"\]' "$tmp/up.json"
}
want_jobs="rttq-agent${targets_api:+ rttq-api}"
for job in $want_jobs; do
	if wait_until 20 "Prometheus: up{job=\"$job\"} == 1" job_up "$job"; then
		echo "Prometheus: up{job=\"$job\"} == 1"
	else
		echo "last answer: $(cat "$tmp/up.json" 2>/dev/null)"
		tail -n 20 "$tmp/prometheus.log"
	fi
done

query 'rttq_rtt_seconds_count{group="all"}' >"$tmp/count.json"
count=$(sed -n 's/.*"value":\[[0-9.]*,"\([0-9.e+]*\)"\].*/\1/p' "$tmp/count.json")
if [ -n "$count" ] && awk -v c="$count" -v m=$((CONNECTIONS * EXCHANGES)) \
	'BEGIN { exit !(c >= m) }'; then
	echo "Prometheus: rttq_rtt_seconds_count{group=\"all\"} = $count"
else
	fail "Prometheus has no rttq_rtt_seconds_count{group=\"all\"} >= $((CONNECTIONS * EXCHANGES)): $(cat "$tmp/count.json")"
fi

query 'count(rttq_rtt_seconds_bucket{group="all"})' >"$tmp/buckets.json"
grep -q '"value":\[[0-9.]*,"20"\]' "$tmp/buckets.json" ||
	fail "Prometheus does not hold 20 buckets of group all: $(cat "$tmp/buckets.json")"

query 'histogram_quantile(0.5, rttq_rtt_seconds_bucket{group="all"})' \
	>"$tmp/median.json"
median=$(sed -n 's/.*"value":\[[0-9.]*,"\([0-9.e+-]*\)"\].*/\1/p' \
	"$tmp/median.json")
if [ -n "$median" ] && awk -v m="$median" 'BEGIN { exit !(m > 0 && m <= 4.194304) }'; then
	echo "Prometheus: histogram_quantile(0.5) of all = $median s"
else
	fail "histogram_quantile(0.5) of all: $(cat "$tmp/median.json")"
fi

harness_finish
