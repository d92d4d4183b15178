#!/usr/bin/env bash
# Builds the libFuzzer targets of test/fuzz (clang, ASan + UBSan) and runs
# each for a bounded time from a seed corpus made from the segment scripts and
# the pcaps (test/fuzz/make_corpus.py). Prints one line per target:
#   fuzz fuzz_stack: 123456 executions in 60 s, 0 crashes (corpus 321 inputs, 2345 edges)
# and exits non-zero if any target crashed, leaked, timed out or ran out of
# memory; the input that did it is kept (its path and the command that
# replays it are printed).
#
#   scripts/fuzz.sh [BUILD_DIR]        (default build-asan, set up if missing)
#   FUZZ_SECONDS=600 scripts/fuzz.sh   per target (default 60)
#   FUZZ_TARGETS=fuzz_stack scripts/fuzz.sh
#   FUZZ_RESULTS=FILE                  also append "target ok|FAILED executions" lines there
#
# The corpus each target grows is kept in BUILD_DIR/fuzz/<target>/corpus, so
# later runs start where earlier ones stopped; crash artefacts go to
# BUILD_DIR/fuzz/<target>/. See doc/testing.md.
set -euo pipefail
cd "$(dirname "$0")/.."

build=${1:-build-asan}
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-fuzz_wire fuzz_stack}

if [ ! -f "$build/build.ninja" ]; then
  CXX=clang++ meson setup "$build" --buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbenchmarks=false >/dev/null
fi
ninja_targets=()
for t in $targets; do ninja_targets+=("test/fuzz/$t"); done
if ! log=$(ninja -C "$build" "${ninja_targets[@]}" 2>&1); then
  echo "$log" | grep -E "error|FAILED" | head -40
  echo "fuzz: build FAILED"
  exit 1
fi

seeds="$build/fuzz/seeds"
rm -rf "$seeds"
/usr/bin/python3 test/fuzz/make_corpus.py "$seeds" >/dev/null

# EAL's own allocations at start-up stay until exit: leak checks are per
# input (libFuzzer's -detect_leaks), not at exit.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
for t in $targets; do
  dir="$build/fuzz/$t"
  mkdir -p "$dir/corpus"
  case $t in
    fuzz_wire) max_len=1600 ;;
    *) max_len=16384 ;;
  esac
  log_file="$dir/last-run.log"
  rc=0
  "$build/test/fuzz/$t" -max_total_time="$seconds" -max_len="$max_len" -timeout=20 -rss_limit_mb=2560 \
    -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" "$seeds/$t" >"$log_file" 2>&1 || rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log_file" | grep -o '[0-9]*$' | tail -1 || true)
  if [ -z "$execs" ]; then
    execs=$(grep -oE '^#[0-9]+' "$log_file" | tail -1 | tr -d '#' || true)
  fi
  corpus=$(find "$dir/corpus" -type f | wc -l)
  edges=$(grep -oE 'cov: [0-9]+' "$log_file" | tail -1 | grep -o '[0-9]*' || true)
  if [ "$rc" -ne 0 ]; then
    status=1
    echo "fuzz $t: FAILED after ${execs:-?} executions (exit $rc)"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|fuzz_stack:)' "$log_file" | head -10 || true
    grep -E 'Test unit written to' "$log_file" | sed 's/^/  /' || true
    art=$(grep -oE 'Test unit written to \S+' "$log_file" | awk '{print $5}' | tail -1 || true)
    if [ -n "$art" ]; then echo "  replay: $build/test/fuzz/$t $art"; fi
    echo "  full log: $log_file"
    [ -n "${FUZZ_RESULTS:-}" ] && echo "$t FAILED ${execs:-0}" >>"$FUZZ_RESULTS"
  else
    echo "fuzz $t: ${execs:-?} executions in $seconds s, 0 crashes (corpus $corpus inputs, ${edges:-?} edges)"
    [ -n "${FUZZ_RESULTS:-}" ] && echo "$t ok ${execs:-0}" >>"$FUZZ_RESULTS"
  fi
done
exit $status
