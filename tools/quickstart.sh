#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# quickstart.sh: the README's two commands on a fresh Debian 12 machine.
#   tools/quickstart.sh run   install, build, run rttq-agent + rttq-api on
#                             the embedded SQLite store until Ctrl-C
#   tools/quickstart.sh test  install, build, run the whole test suite in a
#                             plain and an ASan/UBSan build
# Both need root: BPF, network namespaces and apt-get.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
store_path=/var/lib/rttq/rttq.db
listen=127.0.0.1:8080

die() {
	echo "quickstart: $*" >&2
	exit 1
}

setup_build() { # DIR [meson options]
	local dir=$1
	shift
	if [ ! -f "$top/$dir/build.ninja" ]; then
		meson setup "$top/$dir" "$top" "$@"
	fi
	meson compile -C "$top/$dir"
}

install_test_deps() {
	# dynalite, pinned by tests/dynamo/package-lock.json.
	if [ ! -d "$top/tests/dynamo/node_modules/dynalite" ]; then
		(cd "$top/tests/dynamo" && npm ci --no-audit --no-fund)
	fi
}

# Sums meson's "Ok/Fail/Skipped" lines of every run into one plain line.
suite_total() {
	awk '/^Ok:/ { ok += $2 } /^Expected Fail:/ { ok += $3 }
	     /^Fail:/ { fail += $2 } /^Unexpected Pass:/ { fail += $3 }
	     /^Timeout:/ { fail += $2 } /^Skipped:/ { skip += $2 }
	     END { printf "%d passed, %d failed, %d skipped\n", ok, fail, skip }' "$@"
}

# The tests that did not pass in build DIR, each with its FAIL lines and
# the end of its output: printed last, so whoever reads only the tail of a
# run sees why.
failure_recap() { # DIR
	local log="$top/$1/meson-logs/testlog.json"
	[ -f "$log" ] || return 0
	python3 - "$1" "$log" <<'PY'
import json, sys
build, path = sys.argv[1], sys.argv[2]
for line in open(path):
    t = json.loads(line)
    if t.get("result") in ("OK", "SKIP", "EXPECTEDFAIL"):
        continue
    print(f"--- {build}: {t.get('name')}: {t.get('result')}")
    lines = ((t.get("stdout") or "") + (t.get("stderr") or "")).splitlines()
    # The harness's verdicts, wherever they are, then the output's end.
    said = [l for l in lines if l.startswith(("FAIL", "ERROR"))][:10]
    print("\n".join(said + ["..."] + lines[-15:]))
PY
}

run_tests() {
	local rc=0 log_plain log_asan
	log_plain=$(mktemp)
	log_asan=$(mktemp)
	install_test_deps
	setup_build build
	meson test -C "$top/build" --print-errorlogs | tee "$log_plain" || rc=1
	setup_build build-asan -Db_sanitize=address,undefined -Db_lundef=false
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C "$top/build-asan" --print-errorlogs |
		tee "$log_asan" || rc=1
	echo
	echo "plain build and ASan/UBSan build together:"
	suite_total "$log_plain" "$log_asan"
	if [ $rc -ne 0 ]; then
		echo "what failed:"
		failure_recap build
		failure_recap build-asan
	fi
	rm -f "$log_plain" "$log_asan"
	return $rc
}

run_service() {
	local agent_pid="" api_pid=""
	setup_build build
	mkdir -p "$(dirname "$store_path")"
	# The API only reads: the store must exist before it starts, not
	# whenever the agent gets to it.
	"$top/build/tools/rttq" store init "sqlite:$store_path"
	trap 'kill $agent_pid $api_pid 2>/dev/null; wait 2>/dev/null; exit 0' INT TERM
	"$top/build/agent/rttq-agent" --store "sqlite:$store_path" &
	agent_pid=$!
	if [ -x "$top/build/api/rttq-api" ]; then
		"$top/build/api/rttq-api" --store "sqlite:$store_path" \
			--listen "$listen" &
		api_pid=$!
	fi
	sleep 1
	cat <<MSG

rttq is running: rttq-agent measures every TCP connection's RTT and writes
one digest per minute to sqlite:$store_path; rttq-api answers on
http://$listen.  After the first full minute, ask for the last hour:

  curl "http://$listen/quantiles?from=\$(date -u -d '-1 hour' +%FT%TZ)&to=\$(date -u +%FT%TZ)"

or read the store directly:

  $top/build/tools/rttq query --store sqlite:$store_path --from \$(date -u -d '-1 hour' +%s) --to \$(date -u +%s)

Ctrl-C stops both (the agent writes its partial minute first).
MSG
	wait
}

case "${1:-}" in
run | test) ;;
*) die "usage: tools/quickstart.sh run|test" ;;
esac
[ "$(id -u)" -eq 0 ] || die "needs root (BPF, network namespaces, apt-get): run it as root"
"$top/tools/bootstrap.sh"
if [ "$1" = test ]; then
	run_tests
else
	run_service
fi
