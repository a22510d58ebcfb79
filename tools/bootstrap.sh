#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# bootstrap.sh: install every Debian 12 package rttq's build, programs and
# tests need.  Idempotent: installs only what is missing and says what.
set -euo pipefail

packages=(
	# build
	meson ninja-build pkg-config gcc clang llvm bpftool
	# arm64 uapi headers: tests/build builds the BPF object for arm64 too
	linux-libc-dev-arm64-cross
	# libraries (headers + pkg-config files)
	libbpf-dev libelf-dev zlib1g-dev libevent-dev libyajl-dev libssl-dev
	libsqlite3-dev
	# tests: network namespaces (nftables: the lossy lab; iperf3: the
	# bytes and softirq lab, the librttq-signals proof; jq, python3: the
	# flows and events labs), the independent
	# SigV4 signer, dynalite,
	# promtool and a real Prometheus, headless Chromium for the dashboard
	iproute2 nftables iperf3 curl ca-certificates nodejs npm procps
	jq python3
	prometheus chromium awscli
	# benchmarks
	wrk
)

if [ "$(id -u)" -ne 0 ]; then
	echo "bootstrap: needs root to install packages (run it as root)" >&2
	exit 1
fi

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

# node may come from elsewhere than Debian (then npm is there too).
if command -v node >/dev/null && command -v npm >/dev/null; then
	kept=()
	for p in "${missing[@]}"; do
		case "$p" in nodejs|npm) ;; *) kept+=("$p") ;; esac
	done
	missing=("${kept[@]+"${kept[@]}"}")
fi

if [ ${#missing[@]} -eq 0 ]; then
	echo "bootstrap: all ${#packages[@]} packages present"
	exit 0
fi
echo "bootstrap: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
fi
