#!/usr/bin/env bash
# The main job on a built-in default, no NIC and no hugepages needed:
# installs dependencies, builds, then runs lanetcp-echo on one end of a veth
# pair (DPDK net_af_packet) while Linux, in a network namespace on the other
# end, pings and arpings it and sends 10 MB through its TCP echo.
# Prints what Linux saw and lanetcp's counters,
# then removes everything it made.
#
#   sudo ./scripts/demo.sh            # full: install, build, run
#   SKIP_INSTALL=1 ./scripts/demo.sh  # already installed
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${SKIP_INSTALL:-0}" != 1 ]; then ./scripts/install-deps.sh; fi
./scripts/build.sh

ns="lt-demo-$$"
host_if="ltd$$a"
peer_if="ltd$$b"
host_if=${host_if:0:15}
peer_if=${peer_if:0:15}
stack_ip=10.210.0.2
peer_ip=10.210.0.1
out=$(mktemp -d)
app_pid=""

cleanup() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then kill -INT "$app_pid"; wait "$app_pid" || true; fi
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$host_if" 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT

echo "== network: namespace $ns ($peer_ip, Linux) <-veth-> $host_if (lanetcp $stack_ip)"
ip netns add "$ns"
ip link add "$host_if" type veth peer name "$peer_if"
ip link set "$peer_if" netns "$ns"
ip link set "$host_if" up
# Linux would otherwise hand the stack partial checksums over veth.
ethtool -K "$host_if" tx off rx off >/dev/null
ip netns exec "$ns" ethtool -K "$peer_if" tx off rx off >/dev/null
ip netns exec "$ns" ip addr add "$peer_ip/24" dev "$peer_if"
ip netns exec "$ns" ip link set "$peer_if" up
ip netns exec "$ns" ip link set lo up

echo "== lanetcp-echo on net_af_packet (iface=$host_if), config/echo.toml"
./build/apps/lanetcp-echo --no-huge -m 512 --no-pci -l 0 --file-prefix "lt-demo-$$" \
  --log-level lib.eal:notice --vdev="net_af_packet0,iface=$host_if" \
  -- --config config/echo.toml --ip "$stack_ip/24" --stats-json "$out/stats.json" >"$out/app.log" 2>&1 &
app_pid=$!
for _ in $(seq 50); do grep -q "^lanetcp: $stack_ip" "$out/app.log" 2>/dev/null && break; sleep 0.1; done
if ! kill -0 "$app_pid" 2>/dev/null; then cat "$out/app.log"; echo "demo: lanetcp-echo failed to start" >&2; exit 1; fi

echo "== Linux: ping -c 100 -i 0.01 $stack_ip"
ip netns exec "$ns" ping -c 100 -i 0.01 -W 1 "$stack_ip" | tail -2
echo "== Linux: arping -c 3 $stack_ip"
ip netns exec "$ns" arping -c 3 -I "$peer_if" "$stack_ip" | tail -2
echo "== Linux's neighbour entry for the stack"
ip netns exec "$ns" ip neigh show "$stack_ip"
echo "== Linux: 10 MB through lanetcp's TCP echo (nc -N $stack_ip 7), compared byte for byte"
head -c 10000000 /dev/urandom > "$out/tcp.in"
start=$(date +%s%N)
ip netns exec "$ns" timeout 60 nc -N "$stack_ip" 7 < "$out/tcp.in" > "$out/tcp.out"
end=$(date +%s%N)
if cmp -s "$out/tcp.in" "$out/tcp.out"; then
  echo "10000000 bytes echoed intact in $(( (end - start) / 1000000 )) ms"
else
  echo "demo: the echoed bytes differ" >&2
  exit 1
fi

kill -INT "$app_pid"
wait "$app_pid"
app_pid=""
echo "== lanetcp-echo output"
grep -vE "^(EAL|TELEMETRY):" "$out/app.log"
