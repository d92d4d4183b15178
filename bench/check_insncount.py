#!/usr/bin/env python3
"""Smoke test for lanetcp-insncount and lanetcp-insncount-stack (meson test
--suite bench): a small bulk transfer and a few request/response
transactions complete, about every second data segment is acknowledged and
nothing is copied on the wire.

    check_insncount.py PATH/lanetcp-insncount[-stack]
"""
import json
import subprocess
import sys


def run(exe: str, mode: str, n: int) -> dict:
    out = subprocess.run([exe, mode, str(n)], stdout=subprocess.PIPE, check=True, text=True).stdout
    return json.loads(out)


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = sys.argv[1]
    failures = []
    bulk = run(exe, "bulk", 2)
    if bulk["bytes"] != 2 << 20:
        failures.append(f"bulk: {bulk['bytes']} bytes received")
    if bulk["data_segments"] < (2 << 20) // 1460:
        failures.append(f"bulk: only {bulk['data_segments']} data segments")
    acks = bulk["a_tcp_rx_segments"] + bulk["b_tcp_rx_segments"] - bulk["data_segments"]
    if not 0.3 < acks / bulk["data_segments"] < 1.1:
        failures.append(f"bulk: {acks} ACKs for {bulk['data_segments']} data segments")
    if bulk["payload_copies"] != 0:
        failures.append(f"bulk: {bulk['payload_copies']} payloads copied")
    rr = run(exe, "rr", 100)
    if rr["transactions"] != 100:
        failures.append(f"rr: {rr['transactions']} transactions")
    if rr["data_segments"] < 200:
        failures.append(f"rr: only {rr['data_segments']} data segments")
    print(json.dumps({"bulk": bulk, "rr": rr}, indent=1))
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
