#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds, runs unit tests (wire,
# core, two stacks over the in-memory wire) and integration tests (net_pcap
# replay, Linux peer in a network namespace, command-line errors).
# Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${SKIP_INSTALL:-0}" != 1 ]; then ./scripts/install-deps.sh; fi
./scripts/build.sh

# The tree must also build warning-free with clang.
if [ ! -f build-clang/build.ninja ]; then CXX=clang++ meson setup build-clang --buildtype=debugoptimized >/dev/null; fi
if ! clang_log=$(ninja -C build-clang 2>&1); then
  echo "$clang_log" | grep -E "error|FAILED" | head -40
  echo "clang++ build: FAILED"
  exit 1
fi
echo "clang++ build: ok"

status=0
meson test -C build --print-errorlogs --num-processes 1 "$@" || status=$?

# One closing line for humans and CI, counted from meson's own log.
/usr/bin/python3 - build/meson-logs/testlog.json <<'PY'
import json, sys
passed = failed = skipped = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    if r in ("OK", "EXPECTEDFAIL"): passed += 1
    elif r == "SKIP": skipped += 1
    else: failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
