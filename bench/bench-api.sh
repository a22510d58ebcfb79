#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# rttq-api latency and throughput on a synthetic fleet: `rttq synth` writes
# HOSTS hosts x DAYS days into a SQLite file (kept in the build directory
# and reused by later runs), then /quantiles is timed for 1 h, 1 d and 30 d
# ranges on one host and on the whole fleet (p50/p99 over REQUESTS requests
# each, curl on one kept-alive connection), and wrk measures requests/s at
# 64 connections on 1-day ranges, and the server's RSS before and after
# TOTAL requests.  Numbers only; nothing is asserted.
#
# Environment: RTTQ, RTTQ_API (programs), BENCH_DIR (where the store is
# cached); optional BENCH_API_HOSTS (100), BENCH_API_DAYS (30),
# BENCH_API_GROUPS (2), BENCH_API_REQUESTS (200), BENCH_API_WRK_S (30),
# BENCH_API_TOTAL (1000000), BENCH_API_MAX_S (900: cap on the RSS run),
# BENCH_API_LATENCY_ONLY (1: stop after the latency figures, no wrk),
# BENCH_API_ROLLUP (1: time the fleet ranges again after `rttq rollup` has
# built the fleet records; the cached store keeps them, so a later run
# measures "before" only on a fresh store).
set -u

rttq=${RTTQ:?RTTQ is the rttq program}
api=${RTTQ_API:?RTTQ_API is the rttq-api program}
dir=${BENCH_DIR:?BENCH_DIR is where the store is kept}
hosts=${BENCH_API_HOSTS:-100}
days=${BENCH_API_DAYS:-30}
groups=${BENCH_API_GROUPS:-2}
requests=${BENCH_API_REQUESTS:-200}
wrk_s=${BENCH_API_WRK_S:-30}
total=${BENCH_API_TOTAL:-1000000}
max_s=${BENCH_API_MAX_S:-900}
latency_only=${BENCH_API_LATENCY_ONLY:-0}
rollup=${BENCH_API_ROLLUP:-0}
seed=1
end=1700179200 # 2023-11-17T00:00:00Z: fixed, so the cache stays valid
# What synth writes: bump when its records change, so an older cached store
# is not measured as if it were current (2: 5-minute rollups added; 3:
# stale marks of fleet spans).
layout=3
start=$((end - days * 86400))
db="$dir/bench-api-h$hosts-d$days-g$groups-s$seed-e$end-l$layout.db"
# shellcheck source=../tests/support/harness.sh
. "$(dirname "$0")/../tests/support/harness.sh"
harness_start bench-api

# --- The store: built once, reused while its ".done" marker exists -------
if [ ! -e "$db.done" ]; then
	rm -f "$db" "$db-wal" "$db-shm"
	echo "building $db:"
	echo "  $rttq synth --store sqlite:$db --hosts $hosts --days $days" \
		"--groups $groups --seed $seed --end $end"
	/usr/bin/time -f "  %e s elapsed, %U s user, %S s system, %M KiB max RSS" \
		"$rttq" synth --store "sqlite:$db" --hosts "$hosts" \
		--days "$days" --groups "$groups" --seed "$seed" --end "$end" ||
		die "rttq synth failed"
	touch "$db.done"
fi
echo "store: $db ($(du -m "$db" | cut -f1) MiB)"

# --- The server ------------------------------------------------------------
start_api "$tmp/api" "$api" --store "sqlite:$db" --max-connections 1024
host1=$(printf "host-%0${#hosts}d" 1)

rss_kib() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$server_pid/status"
}

# --- Latency ---------------------------------------------------------------
# Each request moves the range by one more minute, as a dashboard's "last
# N" does, so no two requests ask the same question.
latency() { # label length_s first_offset_s [host]
	label=$1
	len=$2
	off=$3
	host=${4:-}
	: >"$tmp/urls"
	for i in $(seq 0 $((requests - 1))); do
		from=$((start + off + i * 60))
		q="from=$from&to=$((from + len - 60))"
		[ -n "$host" ] && q="$q&host=$host"
		echo "url = \"$base/quantiles?$q\"" >>"$tmp/urls"
		echo "output = /dev/null" >>"$tmp/urls"
	done
	curl -s -K "$tmp/urls" -w '%{http_code} %{time_total}\n' \
		>"$tmp/times" || { echo "$label: curl failed"; return; }
	bad=$(grep -vc '^200 ' "$tmp/times")
	sort -n -k2 "$tmp/times" | awk -v label="$label" -v bad="$bad" '
		{ t[NR] = $2 * 1000 }
		END {
			p50 = t[int((NR + 1) * 0.5)]
			i99 = int(NR * 0.99 + 0.999)
			printf "  %-22s p50 %8.2f ms  p99 %8.2f ms  max %8.2f ms  (%d requests, %d not 200)\n",
			       label, p50, t[i99], t[NR], NR, bad
		}'
}

curl -s "$base/quantiles?from=$start&to=$((end - 60))&host=$host1" \
	>"$tmp/one.json"
echo "sample answer, 30 days of $host1:"
echo "  $(cat "$tmp/one.json")"
echo "/quantiles latency ($requests requests each, one connection):"
latency "1 h, one host" 3600 $((10 * 86400 + 13 * 3600)) "$host1"
latency "1 d, one host" 86400 $((10 * 86400 + 7 * 3600)) "$host1"
latency "30 d, one host" $((days * 86400)) 0 "$host1"
latency "1 h, fleet ($hosts)" 3600 $((10 * 86400 + 13 * 3600))
latency "1 d, fleet ($hosts)" 86400 $((10 * 86400 + 7 * 3600))
latency "30 d, fleet ($hosts)" $((days * 86400)) 0
echo "  goals: 30 d one host p99 <= 20 ms; 30 d fleet of 100 p99 <= 250 ms"
[ -e "$db.rolled" ] &&
	echo "  (fleet records built by an earlier run: the fleet lines above are after rttq rollup)"

if [ "$rollup" = 1 ] && [ ! -e "$db.rolled" ]; then
	echo "rttq rollup --from $start --to $end (fleet records of 30 days):"
	/usr/bin/time -f "  %e s elapsed, %U s user, %S s system, %M KiB max RSS" \
		"$rttq" rollup --store "sqlite:$db" --from "$start" --to "$end" |
		sed 's/^/  /' || die "rttq rollup failed"
	touch "$db.rolled"
	echo "/quantiles latency after rttq rollup:"
	latency "1 h, fleet ($hosts)" 3600 $((10 * 86400 + 13 * 3600))
	latency "1 d, fleet ($hosts)" 86400 $((10 * 86400 + 7 * 3600))
	latency "30 d, fleet ($hosts)" $((days * 86400)) 0
fi

[ "$latency_only" = 1 ] && exit 0

# --- Throughput --------------------------------------------------------------
# 1-day ranges on one host each, hosts in turn, days moving by a minute.
cat >"$tmp/day.lua" <<EOF
local n = 0
request = function()
	n = n + 1
	local from = $start + 86400 + (n % 1440) * 60
	local host = string.format("host-%0${#hosts}d", n % $hosts + 1)
	return wrk.format("GET", "/quantiles?from=" .. from .. "&to=" ..
			  (from + 86340) .. "&host=" .. host)
end
EOF

run_wrk() { # seconds -> requests done (and the report in $tmp/wrk.out)
	wrk -t 2 -c 64 -d "${1}s" --latency -s "$tmp/day.lua" "$base" \
		>"$tmp/wrk.out" 2>&1
	# wrk prints these lines only when there were errors.
	grep -qE 'Non-2xx|Socket errors' "$tmp/wrk.out" ||
		echo "errors: none (no non-2xx answers, no socket errors)" \
			>>"$tmp/wrk.out"
	sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$tmp/wrk.out"
}

if ! command -v wrk >/dev/null; then
	echo "wrk not installed (Debian package wrk): no throughput figures"
	exit 0
fi
rss0=$(rss_kib)
echo "throughput: wrk -t 2 -c 64 -d ${wrk_s}s, 1-day ranges, one host each:"
done_n=$(run_wrk "$wrk_s")
sed 's/^/  /' "$tmp/wrk.out"
rate=$((done_n / wrk_s))
left=$((total - done_n))
if [ "$left" -gt 0 ] && [ "$rate" -gt 0 ]; then
	secs=$(((left + rate - 1) / rate + 2))
	[ "$secs" -gt "$max_s" ] && secs=$max_s
	echo "RSS run: $left more requests (about ${secs}s of wrk)"
	more=$(run_wrk "$secs")
	grep -E 'requests in|Requests/sec|Non-2xx|Socket errors|errors:' \
		"$tmp/wrk.out" |
		sed 's/^/  /'
	done_n=$((done_n + more))
fi
rss1=$(rss_kib)
echo "rttq-api RSS: $rss0 KiB before, $rss1 KiB after $done_n requests"
kill -0 "$server_pid" 2>/dev/null || echo "rttq-api is no longer running!"
