#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# The dashboard page (GET /) in headless Chromium against rttq-api over a
# SQLite store filled with known data: the chart has one point per step
# that holds samples, the headline numbers are /quantiles', an empty range
# says so, an API error is shown, a group name of every kind (IPv6 prefix,
# peer label, service port, cgroup path) round-trips through /groups and
# the page's own requests, and the page loads nothing from elsewhere.
# Beside RTT: the jitter chart has /series?metric=jitter's points, the
# retransmit-rate chart one point per step with segments, and the drops
# table the drop counters of group all with their totals.  Leaves a
# screenshot, dashboard.png, in ARTIFACT_DIR.
#
# Usage: test-dash.sh RTTQ_API FILL_STORE ARTIFACT_DIR FILL_METRICS
set -u

api=$1
fill=$2
artifacts=$3
fill_metrics=$4
# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
harness_start dash-test
store="sqlite:$tmp/dash.db"

chromium=$(command -v chromium || command -v chromium-browser) ||
	die "chromium not found: install the Debian packages chromium and" \
	    "chromium-driver (tools/bootstrap.sh)"

# 2023-11-15T00:00:00Z, 60 s periods, 20 samples a period in "all" (a
# third of them also in raddr:10.0.0.2): web1 and web2 from 01:00 the day
# before... to 01:00 the day after, so every step of the day has samples.
d1=1700006400
"$fill" "$store" web1 60 $((d1 - 3600)) $((d1 + 86400 + 3600)) 20 7 \
	raddr:10.0.0.2 >/dev/null || die "fill web1 failed"
"$fill" "$store" web2 60 $((d1 - 3600)) $((d1 + 86400 + 3600)) 20 8 \
	>/dev/null || die "fill web2 failed"
# web3: two hours, with a group of every kind --group-by makes.
kinds="raddr:2001:db8::/64,peer:db-primary,port:443,cgroup:/system.slice/nginx.service"
"$fill" "$store" web3 60 "$d1" $((d1 + 7200)) 20 9 "$kinds" >/dev/null ||
	die "fill web3 failed"

# web1's day also has jitter and counters (fill-metrics.c): period k has
# k + 1 jitter samples of 300 us, retrans.fast k % 5, retrans.timeout 1
# when k % 7 is 0, segs.out 100 and drops.tcp.netfilter_drop 2.
"$fill_metrics" "$store" web1 "$d1" 1440 || die "fill-metrics web1 failed"

# start_dash_api NAME [ARGS...]: rttq-api on a free port; sets $port.
start_dash_api() {
	name=$1
	shift
	start_api "$tmp/$name" "$api" --store "$store" --max-range 30d "$@"
}

start_dash_api api
base="http://127.0.0.1:$port"
echo "rttq-api on port $port"

# --- the page itself: HTML, a CSP, nothing fetched from elsewhere --------
code=$(curl -s -D "$tmp/headers" -o "$tmp/page.html" -w '%{http_code}' \
	--max-time 10 "$base/")
[ "$code" = 200 ] || fail "GET / -> $code"
grep -qi '^content-type: text/html; charset=utf-8' "$tmp/headers" ||
	fail "GET / is not text/html: $(cat "$tmp/headers")"
grep -qi "^content-security-policy: default-src 'none'" "$tmp/headers" ||
	fail "GET / has no restrictive Content-Security-Policy"
size=$(wc -c <"$tmp/page.html")
[ "$size" -lt 32768 ] || fail "the page is $size bytes, over 32 KiB"
# The SVG namespace is a name, not a fetch; any other URL would be one.
if grep -Eio 'https?://[^"]*|src=|href=|@import|url\(' "$tmp/page.html" |
	grep -v '^http://www.w3.org/2000/svg$'; then
	fail "the page refers to something outside itself (above)"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST "$base/")
[ "$code" = 405 ] || fail "POST / -> $code, expected 405"
# HEAD: the length, no body, so the next request on the connection works.
code=$(curl -s -o /dev/null -D "$tmp/head" -w '%{http_code} ' --max-time 10 \
	-I "$base/" --next -s -o /dev/null -w '%{http_code}' --max-time 10 \
	"$base/healthz")
[ "$code" = "200 200" ] || fail "HEAD / then GET /healthz -> $code," \
	"expected 200 200 (a HEAD reply with a body?)"
grep -qi "^content-length: $size" "$tmp/head" ||
	fail "HEAD / does not give the page's length $size"

# browse URL OUT [SCREENSHOT]: the DOM after the page's scripts settled.
browse() {
	profile=$(mktemp -d "$tmp/profile.XXXXXX")
	set -- "$1" "$2" "${3:-}"
	timeout 15 "$chromium" --headless --no-sandbox --disable-gpu \
		--no-first-run --disable-background-networking \
		--disable-component-update --disable-sync --hide-scrollbars \
		--user-data-dir="$profile" --virtual-time-budget=5000 \
		--window-size=1200,800 --dump-dom "$1" >"$2" \
		2>"$tmp/chromium.err" ||
		fail "chromium --dump-dom $1 failed: $(tail -3 "$tmp/chromium.err")"
	# An empty DOM most likely means the server hangs: say so and stop
	# rather than wait out every remaining timeout.
	if [ ! -s "$2" ] && ! curl -s -o /dev/null --max-time 3 \
		"${1%%/\?*}/healthz"; then
		die "rttq-api stopped answering (GET /healthz)"
	fi
	if [ -n "$3" ]; then
		timeout 15 "$chromium" --headless --no-sandbox --disable-gpu \
			--no-first-run --disable-background-networking \
			--disable-component-update --disable-sync \
			--hide-scrollbars --user-data-dir="$profile" \
			--virtual-time-budget=5000 --window-size=1200,800 \
			--screenshot="$3" "$1" 2>"$tmp/chromium.err" ||
			fail "chromium --screenshot failed: $(tail -3 \
				"$tmp/chromium.err")"
	fi
}

# attr FILE NAME: the first NAME="..." value in FILE.
attr() {
	grep -o "$2=\"[^\"]*\"" "$1" | head -n 1 | sed 's/^[^"]*"\(.*\)"$/\1/'
}

# text FILE ID: the text of the element with that id (no nested tags).
text() {
	grep -o "id=\"$2\"[^>]*>[^<]*" "$1" | head -n 1 | sed 's/^[^>]*>//'
}

# json_q FILE KEY: "KEY":"value" or "KEY":number from an API answer.
json_q() {
	grep -o "\"$2\":\"\{0,1\}[0-9.]*" "$1" | head -n 1 |
		sed 's/^.*:"\{0,1\}//'
}

# check_view NAME QUERY STEP POINTS: the page at /?QUERY against the API.
check_view() {
	name=$1
	query=$2
	step=$3
	points=$4
	dom="$tmp/$name.html"
	browse "$base/?$query" "$dom" "${5:-}"
	state=$(attr "$dom" data-state)
	[ "$state" = ok ] || fail "$name: page state '$state', expected ok:" \
		"$(text "$dom" status) $(text "$dom" error)"
	got=$(attr "$dom" data-points)
	[ "$got" = "$points" ] || fail "$name: chart has '$got' points," \
		"expected $points"
	got=$(attr "$dom" data-step)
	[ "$got" = "$step" ] || fail "$name: step '$got', expected $step"
	# The same request the page made: points that have samples.
	curl -s -o "$tmp/series.json" --max-time 10 \
		"$base/series?$query&step=$step&q=50,90,99"
	want=$(grep -o '"count":[1-9][0-9]*' "$tmp/series.json" | wc -l)
	[ "$want" -eq "$points" ] || fail "$name: /series has $want points" \
		"with samples, expected $points"
	curl -s -o "$tmp/q.json" --max-time 10 \
		"$base/quantiles?$query&q=50,90,99"
	for k in p50 p90 p99; do
		want=$(json_q "$tmp/q.json" "$k")
		got=$(text "$dom" "h-$k")
		[ -n "$want" ] && [ "$got" = "$want" ] ||
			fail "$name: headline $k '$got', /quantiles says '$want'"
	done
	want=$(json_q "$tmp/q.json" sample_count)
	got=$(text "$dom" h-count | tr -d ,)
	[ -n "$want" ] && [ "$got" = "$want" ] ||
		fail "$name: headline samples '$got', /quantiles says '$want'"
	echo "$name: $points points at $step, headline" \
		"$(text "$dom" h-p50)/$(text "$dom" h-p90)/$(text "$dom" h-p99)" \
		"ms over $(text "$dom" h-count) samples"
}

# A day of web1 at 5 min steps: 288 points, 3 lines without markers.
check_view day "host=web1&group=all&from=$d1&to=$((d1 + 86399))" 5m 288 \
	"$artifacts/dashboard.png"
# The panels beside RTT on that day: jitter and the retransmit rate at
# every 5-minute step, and one drop reason: 2 x 1440 packets.
dom="$tmp/day.html"
got=$(grep -o '<svg id="jitter"[^>]*' "$dom" | grep -o 'data-points="[0-9]*"')
[ "$got" = 'data-points="288"' ] || fail "day: jitter chart $got, expected 288"
curl -s -o "$tmp/jitter.json" --max-time 10 \
	"$base/series?host=web1&group=all&from=$d1&to=$((d1 + 86399))&step=5m&metric=jitter&q=50"
[ "$(grep -o '"count":[1-9][0-9]*' "$tmp/jitter.json" | wc -l)" -eq 288 ] ||
	fail "day: /series?metric=jitter has not 288 points"
# sndbuf (fill-metrics.c: 2 samples of 32.1 % a period), in per cent.
got=$(grep -o '<svg id="sndbuf"[^>]*' "$dom" | grep -o 'data-points="[0-9]*"')
[ "$got" = 'data-points="288"' ] || fail "day: sndbuf chart $got, expected 288"
grep -q 'highest p99 32.1 at' "$dom" || fail "day: the sndbuf chart does not read 32.1 (per cent)"
got=$(grep -o '<svg id="retrans"[^>]*' "$dom" | grep -o 'data-points="[0-9]*"')
[ "$got" = 'data-points="288"' ] || fail "day: retransmit chart $got, expected 288"
# The first step: periods 0-4, retransmits 0+1+2+3+4 and one timeout
# (period 0), per 500 segments: 2.2 per 100.
grep -q 'highest retransmits %' "$dom" || fail "day: the rate chart has no summary"
curl -s -o "$tmp/rate.json" --max-time 10 \
	"$base/counters?host=web1&group=all&from=$d1&to=$((d1 + 299))&names=retrans.*,segs.out"
grep -q '"counters":{"retrans.fast":10,"retrans.timeout":1,"segs.out":500}' \
	"$tmp/rate.json" || fail "day: /counters of the first step: $(cat "$tmp/rate.json")"
got=$(attr "$dom" data-rows)
[ "$got" = 1 ] || fail "day: drops table has '$got' rows, expected 1"
grep -q '<th class="n" scope="row">tcp</th><td class="n">netfilter_drop</td><td>2,880</td><td>0.0333333333</td>' \
	"$dom" || fail "day: the drops table does not show tcp netfilter_drop 2,880:" \
	"$(grep -o "<tbody id=\"drop-rows\">.\{0,300\}" "$dom")"

# One hour of one group at 1 min steps: 60 points, markers on 3 lines.
check_view hour "host=web1&group=raddr:10.0.0.2&from=$((d1 + 3600))&to=$((d1 + 7199))" \
	1m 60
got=$(grep -o '<circle' "$tmp/hour.html" | wc -l)
[ "$got" -eq 180 ] || fail "hour: $got point markers, expected 3 x 60"
# The group of every kind: listed by /groups as it is, and the page asks
# for it (URL-encoded by the page) and draws it.
curl -s -o "$tmp/groups.json" --max-time 10 \
	"$base/groups?host=web3&from=$d1&to=$((d1 + 7199))"
grep -qF "\"$kinds\"" "$tmp/groups.json" ||
	fail "/groups does not list $kinds: $(cat "$tmp/groups.json")"
check_view kinds "host=web3&group=$kinds&from=$((d1 + 3600))&to=$((d1 + 7199))" \
	1m 60
# A week of the fleet (both hosts) at 1 h: the filled day touches 26 hours.
check_view week "group=all&from=$((d1 - 3 * 86400))&to=$((d1 + 4 * 86400 - 1))" \
	1h 26

# Nothing recorded a week earlier: the empty state, no lines.
dom="$tmp/empty.html"
browse "$base/?host=web1&group=all&from=$((d1 - 7 * 86400))&to=$((d1 - 6 * 86400 - 1))" \
	"$dom"
[ "$(attr "$dom" data-state)" = empty ] ||
	fail "empty: page state '$(attr "$dom" data-state)', expected empty"
[ "$(attr "$dom" data-points)" = 0 ] ||
	fail "empty: chart has $(attr "$dom" data-points) points"
grep -q '>no data in this range<' "$dom" ||
	fail "empty: the chart does not say 'no data in this range'"

# An API error reaches the user: 'from' after 'to' is a 400 from rttq-api.
dom="$tmp/error.html"
browse "$base/?host=web1&group=all&from=$((d1 + 3600))&to=$d1" "$dom"
[ "$(attr "$dom" data-state)" = error ] ||
	fail "error: page state '$(attr "$dom" data-state)', expected error"
grep -q "role=\"alert\">[^<]*parameter 'from' is after 'to'" "$dom" ||
	fail "error: the API's message is not shown: $(text "$dom" error)"

# With --auth-token-file the page itself loads, the API's 401 is shown and
# the page asks for the token instead of failing silently.
if "$api" --help | grep -q -- --auth-token-file; then
	printf 'dash-test-token\n' >"$tmp/token"
	start_dash_api auth --auth-token-file "$tmp/token"
	dom="$tmp/auth.html"
	browse "http://127.0.0.1:$port/?host=web1&group=all" "$dom"
	[ "$(attr "$dom" data-state)" = error ] ||
		fail "auth: page state '$(attr "$dom" data-state)', expected error"
	grep -q 'role="alert">[^<]*authentication required' "$dom" ||
		fail "auth: the 401 is not shown: $(text "$dom" error)"
	grep -q '<form id="auth" aria-label' "$dom" ||
		fail "auth: the token form is still hidden"
else
	echo "rttq-api has no --auth-token-file: token prompt not checked"
fi

if [ -s "$artifacts/dashboard.png" ] &&
	[ "$(head -c 8 "$artifacts/dashboard.png" | od -An -tx1 | tr -d ' ')" = \
	  89504e470d0a1a0a ]; then
	echo "screenshot: $artifacts/dashboard.png"
else
	fail "no PNG screenshot at $artifacts/dashboard.png"
fi

harness_finish
