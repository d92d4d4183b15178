#!/usr/bin/env bash
# Installs everything lanetcp needs to build, run its demo and run its tests on
# Debian 12 (as root). Safe to run again.
set -euo pipefail

packages=(
  # build
  g++ clang meson ninja-build pkg-config
  # sanitizers and libFuzzer for clang (scripts/fuzz.sh)
  libclang-rt-14-dev
  libdpdk-dev dpdk libfmt-dev libboost-dev libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libsodium-dev
  googletest libgtest-dev libgmock-dev
  # benchmarks (bench/, doc/performance.md)
  libbenchmark-dev valgrind
  # demo and tests: a Linux peer in a network namespace
  iproute2 ethtool iputils-ping iputils-arping nftables tcpdump python3 python3-scapy libpcap-dev
  netcat-openbsd socat
  # bench/plot_trace.py (doc/trace.md) and its test
  python3-matplotlib
  # lanetcp-httpd's test
  curl wrk
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: error: run as root (apt-get needs it)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
