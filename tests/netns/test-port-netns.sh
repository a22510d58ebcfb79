#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test-port-netns.sh: --group-by port for a connection older than rttq, in
# network namespaces that are not rttq's (a container's service): two
# namespaces on a veth pair, a server listening on PORT in B and a
# connection from A to it opened before `rttq hist --group-by port`
# starts, which then exchanges EXCHANGES messages.  Both ends name the
# service port, so every event is in port:PORT and none in a group of
# the client's ephemeral port (where the accepting end went when rttq
# read the listening ports of its own namespace only).
set -euo pipefail

: "${RTTQ:?set by meson}"

PORT=8479
EXCHANGES=200

# shellcheck source=../support/harness.sh
. "$(dirname "$0")/../support/harness.sh"
require_root "network namespaces and BPF"
require_kernel bpf
require_command python3 "tools/bootstrap.sh (Debian package python3)"
require_command ss "tools/bootstrap.sh (Debian package iproute2)"
harness_start port-netns
A=rttq-pna-$$
B=rttq-pnb-$$

# shellcheck disable=SC2317  # run by the harness at exit
on_cleanup() {
	if [[ $harness_status -ne 0 || $failures -ne 0 ]]; then
		cat "$tmp/hist.out" "$tmp/hist.err" 2>/dev/null || true
	fi
}

veth_pair "$A" "$B" 10.79.0.1 10.79.0.2

# An echo server, a thread per connection.
ip netns exec "$B" python3 -c '
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", int(sys.argv[1])))
s.listen()
def echo(c):
    while True:
        d = c.recv(4096)
        if not d:
            return
        c.sendall(d)
while True:
    c, _ = s.accept()
    threading.Thread(target=echo, args=(c,), daemon=True).start()
' "$PORT" &
track_pid $!
listening() { ip netns exec "$B" ss -Hltn "sport = :$PORT" | grep -q .; }
wait_until 5 "the echo server listening" listening ||
	die "no echo server on port $PORT in $B"

# The client: connects, prints its port, waits for the go file, then
# EXCHANGES round trips of 64 bytes, 5 ms apart.
ip netns exec "$A" python3 -c '
import os, socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
print(c.getsockname()[1], flush=True)
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
for _ in range(int(sys.argv[4])):
    c.sendall(b"x" * 64)
    n = 0
    while n < 64:
        n += len(c.recv(64 - n))
    time.sleep(0.005)
c.close()
' 10.79.0.2 "$PORT" "$tmp/go" "$EXCHANGES" >"$tmp/client.out" &
client=$!
track_pid "$client"
wait_until 5 "the connection open" grep -q . "$tmp/client.out" ||
	die "the client did not connect"
lport=$(cat "$tmp/client.out")

"$RTTQ" hist --group-by port --raddr 10.79.0.0/24 \
	>"$tmp/hist.out" 2>"$tmp/hist.err" &
hist=$!
track_pid "$hist"
wait_for_match 20 "$tmp/hist.out" '/^Tracing/p' >/dev/null ||
	die "rttq hist did not start: $(cat "$tmp/hist.err")"
touch "$tmp/go"
wait "$client" || die "the client failed"
kill -INT "$hist"
wait "$hist" || die "rttq hist failed: $(cat "$tmp/hist.err")"

# "GROUP: N events, ..." per group in the summary printed at SIGINT.
groups=$(sed -n 's/^\(port:[0-9]*\): \([0-9]*\) events.*/\1=\2/p' \
	"$tmp/hist.out" | sort -u)
echo "groups: $(echo "$groups" | tr '\n' ' ')(client port $lport)"
[[ $(echo "$groups" | grep -c .) -eq 1 ]] ||
	fail "groups other than port:$PORT: $(echo "$groups" | tr '\n' ' ')"
events=$(echo "$groups" | sed -n "s/^port:$PORT=//p")
# Each round trip is a segment received at each end.
[[ -n $events && $events -ge $((2 * EXCHANGES)) ]] ||
	fail "port:$PORT has '${events}' events, not at least $((2 * EXCHANGES))"
harness_finish
