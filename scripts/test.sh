#!/usr/bin/env bash
# The whole test suite: installs dependencies, builds, runs unit tests (wire,
# core, two stacks over the in-memory wire) and integration tests (net_pcap
# replay, Linux peer in a network namespace, command-line errors); then the
# unit tests and scripts again built with ASan and UBSan (build-asan, clang),
# and each libFuzzer target for FUZZ_SECONDS (default 60) seconds.
# Ends with "N passed, N failed". SKIP_SANITIZERS=1 / SKIP_FUZZ=1 leave those out.
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

# Sanitizers: every unit test and every script, built by clang with ASan and
# UBSan (-fno-sanitize-recover: any report fails the test). Only the test
# executables are built: no apps, no benchmarks.
logs=(build/meson-logs/testlog.json)
fuzz_results=build-asan/fuzz-results.txt
rm -f "$fuzz_results"
if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
  if [ ! -f build-asan/build.ninja ]; then
    CXX=clang++ meson setup build-asan --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
      -Dbenchmarks=false >/dev/null
  fi
  mapfile -t asan_targets < <(/usr/bin/python3 scripts/sanitized_tests.py build-asan)
  if ! asan_log=$(ninja -C build-asan "${asan_targets[@]}" 2>&1); then
    echo "$asan_log" | grep -E "error|FAILED" | head -40
    echo "ASan/UBSan build: FAILED"
    exit 1
  fi
  echo "ASan/UBSan build: ok"
  # EAL (test_stack) allocates at start-up what it frees only in part at
  # exit; leaks are checked by the tests themselves (every mbuf back in its
  # pool), LeakSanitizer stays on for everything else.
  ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    meson test -C build-asan --no-rebuild --print-errorlogs --num-processes 2 --timeout-multiplier 4 \
      --suite unit --suite scripts || status=$?
  logs+=(build-asan/meson-logs/testlog.json)
  if [ "${SKIP_FUZZ:-0}" != 1 ]; then
    FUZZ_RESULTS=$fuzz_results ./scripts/fuzz.sh build-asan || status=$?
  fi
fi

# One closing line for humans and CI, counted from meson's own logs and the
# fuzz targets' results.
/usr/bin/python3 - "$fuzz_results" "${logs[@]}" <<'PY'
import json, os, sys
passed = failed = skipped = 0
for log in sys.argv[2:]:
    for line in open(log):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"): passed += 1
        elif r == "SKIP": skipped += 1
        else: failed += 1
if os.path.exists(sys.argv[1]):
    for line in open(sys.argv[1]):
        if line.split()[1] == "ok": passed += 1
        else: failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
PY
exit $status
