# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
#
# harness.sh (POSIX sh): the one harness of the shell tests and the shell
# benchmarks, sourced as . "$(dirname "$0")/../support/harness.sh".  It
# gives them the same scratch directory, failure count, clean-up at exit,
# waits with a deadline, free port, skips and rttq-api start-up, instead of
# a copy of each in every script.
#
#   harness_start NAME     $tmp = a fresh /tmp/rttq-NAME.XXXXXX; failures=0;
#                          at exit: the script's on_cleanup (if it defines
#                          one; $harness_status holds the exit status),
#                          tracked processes stopped, $tmp removed (kept,
#                          and said so, when the test failed)
#   fail MESSAGE           a failed check: printed and counted, the test
#                          goes on
#   die MESSAGE            a failed step the rest needs: printed, exit 1
#   skip MESSAGE           exit 77 (meson's "skipped"), saying why
#   require_root WHAT      not root is the tester's mistake: exit 1
#   require_kernel FEATURE...  skip when the kernel lacks bpf or tun
#                          (checked by $KERNEL_FEATURES, tests/support)
#   require_command TOOL WHERE  a tool tools/bootstrap.sh installs: its
#                          absence fails the test, naming WHERE it comes from
#   track_pid PID          stopped and reaped at exit
#   stop_pid PID           SIGTERM and reap now (no-op for "")
#   wait_until SECONDS WHAT COMMAND...  run COMMAND every 0.1 s until it
#                          succeeds; after SECONDS, fail "WHAT did not
#                          happen within SECONDS s" and return 1
#   wait_for_match SECONDS FILE SED-EXPR  print the first line SED-EXPR
#                          (sed -n) prints from FILE, waiting for it; on
#                          timeout return 1 (no message)
#   free_port              a TCP port on 127.0.0.1 that no socket uses,
#                          below the ephemeral range
#   start_api OUT API [ARGS...]  rttq-api on a free loopback port (stdout
#                          to OUT.out, stderr to OUT.err), tracked; sets
#                          server_pid, port and base, or dies with its stderr
#   http_status PATH [CURL ARGS...]  the HTTP status of $base$PATH (000
#                          when there was no answer); the body in
#                          $tmp/body, the headers in $tmp/headers
#   http_expect CODE PATH [CURL ARGS...]  that status and, for an error,
#                          a JSON error body {"error":"..."}: a failed
#                          check otherwise
#   veth_pair A B ADDR_A ADDR_B [LINK ARGS...]  network namespaces A and
#                          B (removed at exit, after the tracked
#                          processes) joined by a veth pair whose ends are
#                          up with ADDR_A/24 and ADDR_B/24, LINK ARGS
#                          (e.g. gso_max_segs 1) set on both ends first;
#                          the ends' names in $veth_a, $veth_b
#   harness_finish         print the count of failures; exit 0 or 1

failures=0
tmp=
harness_pids=
harness_netns=
harness_veths=0

harness_start() {
	tmp=$(mktemp -d "/tmp/rttq-$1.XXXXXX") || {
		echo "FAIL: cannot make a scratch directory"
		exit 1
	}
	trap harness_exit EXIT
	trap 'exit 1' INT TERM
}

# The EXIT trap: keeps the script's exit status, whatever fails here
# (set -e is off for it).
harness_exit() {
	harness_status=$?
	set +e
	if command -v on_cleanup >/dev/null 2>&1; then
		on_cleanup
	fi
	for harness_pid in $harness_pids; do
		stop_pid "$harness_pid"
	done
	for harness_ns in $harness_netns; do
		ip netns del "$harness_ns" 2>/dev/null
	done
	if [ -n "$tmp" ]; then
		if [ "$harness_status" -eq 0 ] && [ "$failures" -eq 0 ]; then
			rm -rf "$tmp"
		else
			echo "kept $tmp for inspection"
		fi
	fi
	exit "$harness_status"
}

veth_pair() {
	local a=$1 b=$2 addr_a=$3 addr_b=$4
	shift 4
	harness_veths=$((harness_veths + 1))
	veth_a=hva$$-$harness_veths
	veth_b=hvb$$-$harness_veths
	ip netns add "$a" || die "ip netns add $a failed"
	harness_netns="$harness_netns $a"
	ip netns add "$b" || die "ip netns add $b failed"
	harness_netns="$harness_netns $b"
	ip link add "$veth_a" netns "$a" type veth peer name "$veth_b" \
		netns "$b" || die "no veth pair"
	if ! { ip -n "$a" link set lo up && ip -n "$b" link set lo up &&
		{ [[ $# -eq 0 ]] || { ip -n "$a" link set "$veth_a" "$@" &&
			ip -n "$b" link set "$veth_b" "$@"; }; } &&
		ip -n "$a" addr add "$addr_a/24" dev "$veth_a" &&
		ip -n "$b" addr add "$addr_b/24" dev "$veth_b" &&
		ip -n "$a" link set "$veth_a" up &&
		ip -n "$b" link set "$veth_b" up; }; then
		die "veth pair set-up failed"
	fi
}

fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

die() {
	fail "$@"
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

require_root() {
	[ "$(id -u)" -eq 0 ] || die "$1 needs root: run this suite as root"
}

require_kernel() {
	[ -n "${KERNEL_FEATURES:-}" ] ||
		die "KERNEL_FEATURES is not set (run the test through meson)"
	harness_rc=0
	"$KERNEL_FEATURES" "$@" || harness_rc=$?
	case $harness_rc in
	0) ;;
	77) exit 77 ;;
	*) die "kernel-features $* failed (exit $harness_rc)" ;;
	esac
}

require_command() {
	command -v "$1" >/dev/null 2>&1 ||
		die "$1 not found: it comes from $2 (tools/bootstrap.sh installs it)"
}

track_pid() {
	harness_pids="$harness_pids $1"
}

stop_pid() {
	if [ -n "$1" ]; then
		kill "$1" 2>/dev/null || true
		wait "$1" 2>/dev/null || true
	fi
	return 0
}

wait_until() {
	harness_secs=$1
	harness_end=$(($(date +%s) + $1))
	harness_what=$2
	shift 2
	until "$@"; do
		if [ "$(date +%s)" -ge "$harness_end" ]; then
			fail "$harness_what did not happen within $harness_secs s"
			return 1
		fi
		sleep 0.1 # polling, not a guessed duration
	done
	return 0
}

wait_for_match() {
	harness_end=$(($(date +%s) + $1))
	while :; do
		harness_match=$(sed -n "$3" "$2" 2>/dev/null | head -n 1) ||
			harness_match=
		if [ -n "$harness_match" ]; then
			echo "$harness_match"
			return 0
		fi
		[ "$(date +%s)" -lt "$harness_end" ] || return 1
		sleep 0.1 # polling, not a guessed duration
	done
}

free_port() {
	harness_low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
	[ "${harness_low:-0}" -gt 12000 ] || harness_low=32768
	for _ in $(seq 100); do
		harness_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		harness_p=$((10000 + harness_r % (harness_low - 10000)))
		if [ -z "$(ss -Htan "sport = :$harness_p")" ]; then
			echo "$harness_p"
			return 0
		fi
	done
	return 1
}

# shellcheck disable=SC2034 # server_pid, port and base are for the caller
start_api() {
	harness_out=$1
	harness_bin=$2
	shift 2
	"$harness_bin" --listen 127.0.0.1:0 "$@" \
		>"$harness_out.out" 2>"$harness_out.err" &
	server_pid=$!
	track_pid "$server_pid"
	if port=$(wait_for_match 10 "$harness_out.out" \
		's/^rttq-api: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p'); then
		base="http://127.0.0.1:$port"
		return 0
	fi
	cat "$harness_out.err"
	die "rttq-api did not say where it listens within 10 s"
}

http_status() {
	harness_path=$1
	shift
	curl -s -o "$tmp/body" -D "$tmp/headers" -w '%{http_code}' \
		--max-time 10 "$@" "$base$harness_path"
}

http_expect() {
	harness_code=$1
	shift
	harness_got=$(http_status "$@")
	if [ "$harness_got" != "$harness_code" ]; then
		fail "$* -> $harness_got, expected $harness_code:" \
			"$(head -c 300 "$tmp/body")"
		return 0
	fi
	case $harness_code in
	2*) ;;
	*)
		grep -q '^{"error":".*"}$' "$tmp/body" ||
			fail "$* -> body is not a JSON error:" \
				"$(head -c 300 "$tmp/body")"
		;;
	esac
	return 0
}

harness_finish() {
	echo "$failures failure(s)"
	[ "$failures" -eq 0 ] || exit 1
	exit 0
}
