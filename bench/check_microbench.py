#!/usr/bin/env python3
"""Smoke test for lanetcp-microbench (meson test --suite bench).

Runs the microbenchmarks with the extra arguments given (a tiny
--benchmark_min_time) and JSON output, and checks that the program exits 0,
that no benchmark reported an error and that each reports a positive time.
The numbers themselves are not judged: a smoke test is no measurement.

    check_microbench.py PATH/lanetcp-microbench [benchmark args...]
"""
import json
import subprocess
import sys


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd = [sys.argv[1], "--benchmark_format=json", *sys.argv[2:]]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        print(f"FAIL: {' '.join(cmd)} exited {proc.returncode}\n{proc.stderr}", file=sys.stderr)
        return 1
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError as e:
        print(f"FAIL: output is not JSON: {e}\n{proc.stdout[:2000]}", file=sys.stderr)
        return 1
    benchmarks = report.get("benchmarks", [])
    if not benchmarks:
        print("FAIL: no benchmarks reported", file=sys.stderr)
        return 1
    bad = []
    for b in benchmarks:
        name = b.get("name", "?")
        if b.get("error_occurred"):
            bad.append(f"{name}: error: {b.get('error_message', '')}")
        elif not (b.get("real_time", 0) > 0 and b.get("cpu_time", 0) > 0):
            bad.append(f"{name}: time not positive (real {b.get('real_time')}, cpu {b.get('cpu_time')})")
        elif b.get("iterations", 0) <= 0:
            bad.append(f"{name}: no iterations")
    for line in bad:
        print(f"FAIL: {line}", file=sys.stderr)
    print(f"{len(benchmarks)} benchmarks ran, {len(bad)} bad")
    for b in benchmarks:
        print(f"  {b['name']}: {b.get('real_time', 0):.1f} {b.get('time_unit', '')}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
