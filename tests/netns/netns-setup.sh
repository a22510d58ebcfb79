#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# netns-setup.sh: two network namespaces ("client" and "server") joined by
# TUN devices and tun-relay, which holds each packet for half the RTT set for
# its server address, so tests get real TCP connections with known RTTs.
#
#   netns-setup.sh up DIR [ADDR=RTT_MS]...   create; write DIR/env (sourceable)
#   netns-setup.sh down DIR                  remove all that 'up DIR' created
#   netns-setup.sh gc                        remove namespaces left by dead runs
#
# Server addresses must lie in 10.9.0.0/16 or fd00:9::/64; the client has
# 10.9.0.1 and fd00:9::1.  Without ADDR=RTT_MS arguments the server gets
# 10.9.0.2=2 10.9.1.2=20 10.9.2.2=80 fd00:9::2=2 fd00:9::3=20 fd00:9::4=80.
# Other addresses in those prefixes get DEFAULT_RTT_MS (env, default 0).
# TUN_RELAY names the relay binary (default: tun-relay beside this script).
# NETNS_CALIBRATE=0 skips measuring and trimming the relay's own overhead
# (TCP_PINGPONG names that tool; default: beside TUN_RELAY).
# NETNS_LOW_LATENCY=0 stops the relay from keeping idle CPUs out of halt
# (on by default: VM wakeup latency otherwise adds ~0.1 ms to short RTTs).
set -euo pipefail

PREFIX=rttq
TUN_DEV=rttq0
CLIENT_ADDR4=10.9.0.1
CLIENT_ADDR6=fd00:9::1
CALIBRATION_PORT=5999
DEFAULT_SERVERS=(10.9.0.2=2 10.9.1.2=20 10.9.2.2=80 fd00:9::2=2 fd00:9::3=20 fd00:9::4=80)

die() {
	echo "netns-setup: $*" >&2
	exit 1
}

usage() {
	sed -n '3,19s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# One-way hold for the relay: half of (RTT - trim), in microseconds, >= 0.
one_way_us() {
	awk -v rtt="$1" -v trim_us="${2:-0}" \
		'BEGIN { h = rtt * 500 - trim_us / 2; if (h < 0) h = 0; printf "%.0fus", h }'
}

valid_rtt_ms() {
	[[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && awk -v v="$1" 'BEGIN { exit !(v <= 60000) }'
}

is_ipv6() {
	[[ $1 == *:* ]]
}

in_test_prefix() {
	[[ $1 =~ ^10\.9\.[0-9]{1,3}\.[0-9]{1,3}$ || $1 =~ ^fd00:9::[0-9a-fA-F:]+$ ]]
}

relay_alive() {
	local pid=$1
	[[ -n $pid && -r /proc/$pid/cmdline ]] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q tun-relay
}

# TERM, then KILL after ~3 s, for pids we started (or that run in our netns).
stop_pids() {
	local pid i
	[[ $# -gt 0 ]] || return 0
	kill -TERM "$@" 2>/dev/null || true
	for i in $(seq 30); do
		for pid in "$@"; do
			kill -0 "$pid" 2>/dev/null && break
			pid=
		done
		[[ -z $pid ]] && return 0
		sleep 0.1
	done
	kill -KILL "$@" 2>/dev/null || true
}

ns_exists() {
	ip netns list | awk '{ print $1 }' | grep -qx -- "$1"
}

remove_netns() {
	local ns=$1
	ns_exists "$ns" || return 0
	# shellcheck disable=SC2046
	stop_pids $(ip netns pids "$ns")
	ip netns del "$ns"
}

cmd_down() {
	local dir=$1 left=0
	[[ -f $dir/env ]] || return 0
	# shellcheck disable=SC1091
	. "$dir/env"
	remove_netns "${NS_CLIENT:-}"
	remove_netns "${NS_SERVER:-}"
	if relay_alive "${RELAY_PID:-}"; then
		stop_pids "$RELAY_PID"
	fi
	for ns in ${NS_CLIENT:-} ${NS_SERVER:-}; do
		if ns_exists "$ns"; then
			echo "netns-setup: namespace $ns is still there" >&2
			left=1
		fi
	done
	if relay_alive "${RELAY_PID:-}"; then
		echo "netns-setup: tun-relay (pid $RELAY_PID) is still running" >&2
		left=1
	fi
	[[ $left -eq 0 ]] || return 1
	mv "$dir/env" "$dir/env.down"
}

# Namespaces rttq-PID-{client,server} whose relay has gone (no TUN device).
cmd_gc() {
	local ns
	for ns in $(ip netns list | awk '{ print $1 }' | grep -E "^$PREFIX-[0-9]+-(client|server)$" || true); do
		if ! ip -n "$ns" link show "$TUN_DEV" >/dev/null 2>&1; then
			echo "netns-setup: removing stale namespace $ns"
			remove_netns "$ns"
		fi
	done
}

# Starts (or restarts) the relay with holds trimmed by TRIM_US of round trip,
# then gives the fresh TUN devices their addresses: the devices, and so the
# addresses, go away with the previous relay.
launch_relay() {
	local dir=$1 trim_us=$2 delays=() i pid

	if relay_alive "${relay_pid:-}"; then
		stop_pids "$relay_pid"
	fi
	for i in "${!addrs[@]}"; do
		delays+=(--delay "${addrs[$i]}=$(one_way_us "${rtts[$i]}" "$trim_us")")
	done
	# Gone before the start, so that wait_ready cannot see the last relay's.
	rm -f "$dir/relay.out"
	"$relay" --netns-a "$ns_client" --netns-b "$ns_server" \
		--name-a "$TUN_DEV" --name-b "$TUN_DEV" \
		--delay "default=$(one_way_us "$default_rtt" "$trim_us")" "${delays[@]}" \
		$low_latency > "$dir/relay.out" 2> "$dir/relay.err" < /dev/null &
	relay_pid=$!
	echo "RELAY_PID='$relay_pid'" >> "$dir/env"
	wait_ready "$dir" "$relay_pid"

	ip -n "$ns_client" link set "$TUN_DEV" up
	ip -n "$ns_client" addr add "$CLIENT_ADDR4/16" dev "$TUN_DEV"
	ip -n "$ns_client" addr add "$CLIENT_ADDR6/64" dev "$TUN_DEV" nodad
	ip -n "$ns_server" link set "$TUN_DEV" up
	for addr in "${addrs[@]}"; do
		if is_ipv6 "$addr"; then
			ip -n "$ns_server" addr add "$addr/64" dev "$TUN_DEV" nodad
		else
			ip -n "$ns_server" addr add "$addr/16" dev "$TUN_DEV"
		fi
	done
}

# Every round trip also pays for waking the relay (twice), the server and
# the client: ~0.1 ms in a VM, 5 % of a 2 ms RTT.  Runs one short flow per
# server address, all at once as tests do, and prints the median excess over
# the set RTTs in microseconds, which the relay then trims from its holds.
# Excess is taken midway between the application's p50 and the kernel's srtt
# p50 (which lacks the client's wakeup), so that both land near the set RTT.
calibrate() {
	local dir=$1 server_pid i pids=() excess=()

	ip netns exec "$ns_server" "$pingpong" server -p "$CALIBRATION_PORT" --realtime \
		> "$dir/calibration-server.out" 2>&1 &
	server_pid=$!
	for i in $(seq 50); do
		grep -qx listening "$dir/calibration-server.out" && break
		sleep 0.1
	done
	for i in "${!addrs[@]}"; do
		ip netns exec "$ns_client" "$pingpong" client -a "${addrs[$i]}" \
			-p "$CALIBRATION_PORT" -d 3 -r 50 --realtime > "$dir/calibration-$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || die "calibration flow to ${addrs[$i]} failed: $(cat "$dir/calibration-$i.out")"
		excess+=("$(awk -v rtt="${rtts[$i]}" '{
			for (f = 1; f <= NF; f++) {
				split($f, kv, "=")
				v[kv[1]] = kv[2]
			}
			print (v["rtt_p50_ms"] + v["srtt_p50_ms"]) / 2 - rtt
		}' "$dir/calibration-$i.out")")
	done
	stop_pids "$server_pid"
	printf '%s\n' "${excess[@]}" | sort -g | awk '
		{ v[NR] = $1 }
		END {
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			us = m * 1000
			if (us < 0)
				us = 0
			if (us > 1000)
				us = 1000
			printf "%.0f\n", us
		}'
}

wait_ready() {
	local dir=$1 pid=$2 i
	for i in $(seq 100); do
		grep -qx ready "$dir/relay.out" 2>/dev/null && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			cat "$dir/relay.err" >&2
			die "tun-relay exited before it was ready"
		fi
		sleep 0.05
	done
	die "tun-relay not ready after 5 s"
}

# shellcheck disable=SC2317  # runs as the EXIT trap of a failing 'up'
undo_failed_up() {
	local status=$?
	if [[ $status -ne 0 ]]; then
		cmd_down "$UP_DIR" || true
	fi
	exit "$status"
}

cmd_up() {
	local dir=$1
	shift
	local relay=${TUN_RELAY:-$(dirname "$0")/tun-relay}
	local default_rtt=${DEFAULT_RTT_MS:-0}
	local pingpong=${TCP_PINGPONG:-$(dirname "$relay")/tcp-pingpong}
	local servers=("$@") spec addr rtt trim_us=0
	addrs=()
	rtts=()

	[[ ${#servers[@]} -gt 0 ]] || servers=("${DEFAULT_SERVERS[@]}")
	[[ $EUID -eq 0 ]] || die "needs root (network namespaces, TUN devices)"
	[[ -x $relay ]] || die "tun-relay not found at '$relay' (set TUN_RELAY)"
	if [[ ${NETNS_CALIBRATE:-1} != 0 && ! -x $pingpong ]]; then
		die "tcp-pingpong not found at '$pingpong' (set TCP_PINGPONG, or NETNS_CALIBRATE=0)"
	fi
	[[ -c /dev/net/tun ]] || die "/dev/net/tun missing (kernel without CONFIG_TUN?)"
	valid_rtt_ms "$default_rtt" || die "DEFAULT_RTT_MS '$default_rtt': expected milliseconds"
	for spec in "${servers[@]}"; do
		[[ $spec == *=* ]] || die "'$spec': expected ADDR=RTT_MS"
		addr=${spec%%=*}
		rtt=${spec#*=}
		in_test_prefix "$addr" || die "'$addr': server addresses must be in 10.9.0.0/16 or fd00:9::/64"
		[[ $addr != "$CLIENT_ADDR4" && $addr != "$CLIENT_ADDR6" ]] || die "'$addr' is the client's address"
		valid_rtt_ms "$rtt" || die "'$spec': RTT must be milliseconds, e.g. 20 or 2.5"
		addrs+=("$addr")
		rtts+=("$rtt")
	done

	mkdir -p "$dir"
	if [[ -f $dir/env ]]; then
		die "$dir/env exists: run 'netns-setup.sh down $dir' first"
	fi
	local ns_prefix=$PREFIX-$$
	# Written first so that 'down' can undo a half-finished 'up'.
	{
		echo "NS_PREFIX='$ns_prefix'"
		echo "NS_CLIENT='$ns_prefix-client'"
		echo "NS_SERVER='$ns_prefix-server'"
	} > "$dir/env"
	UP_DIR=$dir
	trap undo_failed_up EXIT
	ns_client=$ns_prefix-client
	ns_server=$ns_prefix-server

	ip netns add "$ns_client"
	ip netns add "$ns_server"
	ip -n "$ns_client" link set lo up
	ip -n "$ns_server" link set lo up

	local low_latency=--low-latency
	[[ ${NETNS_LOW_LATENCY:-1} != 0 ]] || low_latency=
	launch_relay "$dir" 0
	if [[ ${NETNS_CALIBRATE:-1} != 0 ]]; then
		trim_us=$(calibrate "$dir")
		launch_relay "$dir" "$trim_us"
	fi
	{
		echo "TUN_DEV='$TUN_DEV'"
		echo "CLIENT_ADDR4='$CLIENT_ADDR4'"
		echo "CLIENT_ADDR6='$CLIENT_ADDR6'"
		echo "SERVER_ADDRS='${addrs[*]}'"
		echo "SERVER_RTTS_MS='${rtts[*]}'"
		echo "DEFAULT_RTT_MS='$default_rtt'"
		echo "TRIM_US='$trim_us'"
	} >> "$dir/env"
	for i in "${!addrs[@]}"; do
		echo "${addrs[$i]} ${rtts[$i]}"
	done > "$dir/rtts"
	trap - EXIT
}

[[ $# -ge 1 ]] || usage
case $1 in
up)
	[[ $# -ge 2 ]] || usage
	cmd_up "${@:2}"
	;;
down)
	[[ $# -eq 2 ]] || usage
	cmd_down "$2"
	;;
gc)
	cmd_gc
	;;
*)
	usage
	;;
esac
