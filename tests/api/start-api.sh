# SPDX-License-Identifier: BSD-2-Clause
#
# start-api.sh (POSIX sh): sourced by the API tests, the dashboard test and the API
# benchmark.  start_api OUT API_BINARY [ARGS...] runs rttq-api on a free
# loopback port (stdout to OUT.out, stderr to OUT.err) and sets server_pid,
# port and base; if it has not said where it listens within 10 s, prints its
# stderr and exits 1.

# shellcheck disable=SC2034 # server_pid, port and base are for the caller
start_api() {
	api_out=$1
	api_bin=$2
	shift 2
	"$api_bin" --listen 127.0.0.1:0 "$@" >"$api_out.out" 2>"$api_out.err" &
	server_pid=$!
	port=
	for _ in $(seq 100); do
		port=$(sed -n 's/^rttq-api: listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' \
			"$api_out.out" 2>/dev/null)
		if [ -n "$port" ]; then
			base="http://127.0.0.1:$port"
			return 0
		fi
		sleep 0.1
	done
	echo "rttq-api did not start:"
	cat "$api_out.err"
	exit 1
}
