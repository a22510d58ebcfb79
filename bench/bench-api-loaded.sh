#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
#
# rttq-api under heavy queries: with HEAVY clients each asking a fleet
# /series (the last 6 days at 5-minute steps, 1,729 points) back to back,
# /healthz and /metrics are timed REQUESTS times each (a fresh connection
# per request, as a load balancer's probe and a scraper make them), and
# the /series answers' own latency and throughput (answers a second,
# from the first query sent to the last answer) are printed.  The store
# is `rttq synth
# --hosts HOSTS --days 7` (kept in BENCH_DIR).  Numbers only; nothing is
# asserted.
#
# Environment: RTTQ, RTTQ_API, BENCH_DIR; optional BENCH_LOADED_HOSTS (50),
# BENCH_LOADED_HEAVY (8), BENCH_LOADED_REQUESTS (500).
set -u

rttq=${RTTQ:?RTTQ is the rttq program}
api=${RTTQ_API:?RTTQ_API is the rttq-api program}
dir=${BENCH_DIR:?BENCH_DIR is where the store is kept}
hosts=${BENCH_LOADED_HOSTS:-50}
heavy=${BENCH_LOADED_HEAVY:-8}
requests=${BENCH_LOADED_REQUESTS:-500}
end=1700179200 # 2023-11-17T00:00:00Z: fixed, so the cache stays valid
db="$dir/bench-loaded-h$hosts-d7-e$end.db"
# shellcheck source=../tests/support/harness.sh
. "$(dirname "$0")/../tests/support/harness.sh"
harness_start bench-api-loaded

if [ ! -f "$db" ]; then
	"$rttq" synth --store "sqlite:$db.tmp" --hosts "$hosts" --days 7 \
		--groups 2 --seed 1 --end "$end" || die "rttq synth failed"
	mv "$db.tmp" "$db"
fi
start_api "$tmp/api" "$api" --store "sqlite:$db" --max-range 400d
series="/series?from=$((end - 6 * 86400))&to=$end&step=5m"

# p50, p99 and max of the seconds in FILE (one per line), in ms.
summary() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		p50 = v[int(NR * 0.50 + 0.5)]; p99 = v[int(NR * 0.99 + 0.5)]
		printf "p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d requests)",
		       p50 * 1000, p99 * 1000, v[NR] * 1000, NR }'
}

probe() { # PATH OUT: REQUESTS timed GETs
	: >"$2"
	for _ in $(seq "$requests"); do
		curl -s -o /dev/null -w '%{time_total}\n' --max-time 30 \
			"$base$1" >>"$2"
	done
}

echo "rttq-api, store of $hosts hosts x 7 days; /series: 1,729 points over the fleet"
probe /healthz "$tmp/idle"
echo "/healthz idle:                $(summary "$tmp/idle")"

rm -f "$tmp/stop"
load_start=$(date +%s.%N)
loads=
for i in $(seq "$heavy"); do
	(while [ ! -e "$tmp/stop" ]; do
		curl -s -o /dev/null -w '%{http_code} %{time_total}\n' \
			--max-time 120 "$base$series"
	done >"$tmp/heavy$i") &
	loads="$loads $!"
done
sleep 2 # let every heavy client have a query in flight
probe /healthz "$tmp/healthz"
probe /metrics "$tmp/metrics"
touch "$tmp/stop"
# shellcheck disable=SC2086 # one pid a word
wait $loads
load_s=$(echo "$(date +%s.%N) - $load_start" | bc)
cat "$tmp"/heavy* >"$tmp/heavy-all"
awk '$1 == 200 { print $2 }' "$tmp/heavy-all" >"$tmp/heavy-ok"
echo "/healthz under $heavy heavy:   $(summary "$tmp/healthz")"
echo "/metrics under $heavy heavy:   $(summary "$tmp/metrics")"
echo "/series (the heavy ones):     $(summary "$tmp/heavy-ok"); statuses: $(cut -d' ' -f1 "$tmp/heavy-all" | sort | uniq -c | tr -s ' ' | tr '\n' ';')"
printf '/series throughput:           %.2f answers/s (%d in %.1f s)\n' \
	"$(echo "$(wc -l <"$tmp/heavy-ok") / $load_s" | bc -l)" \
	"$(wc -l <"$tmp/heavy-ok")" "$load_s"
harness_finish
