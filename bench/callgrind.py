#!/usr/bin/env python3
"""Instruction counts of lib/tcp under callgrind (doc/performance.md).

Runs bench's lanetcp-insncount (two lib/tcp layers back to back in one
process, no-copy fake platform, manual clock) under
`valgrind --tool=callgrind`, each workload at two sizes, N and 2N, and
divides the difference in instructions by the difference in work, so that
start-up, connection set-up and tear-down cancel out:

  bulk  N MiB one way: instructions per received data segment, including
        the ACK it causes (the receiver ACKs every second segment, the
        sender processes that ACK and sends the next segments), also per
        TCP segment received by either layer, and per KiB;
  rr    N request/response transactions of 64-byte messages: instructions
        per transaction (request in, response out, both layers).

Without DPDK this counts lib/tcp (and the thin driver and fake platform)
only: no NIC driver, no mbufs, no Ethernet/IPv4, no checksums. With --stack
the same workloads also run through the whole stack (lanetcp-insncount-stack:
two Lcores with DPDK mbufs over the in-memory wire), counted the same way.

    bench/callgrind.py [--build DIR] [--bulk-mib N] [--rr N] [--stack] [--top K] [--json FILE]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = 0  # --top: functions to list per workload
NOTE = ("lib/tcp only: two TcpLayers back to back over an in-memory wire with a no-copy fake platform "
        "(no DPDK, no NIC driver, no Ethernet/IPv4, no checksums)")
STACK_NOTE = ("whole stack: two Lcores (DPDK mbufs, Ethernet, ARP, IPv4, lib/tcp, tcp_api copying the "
              "application's bytes into mbufs, the poll loop) over the in-memory ring wire, one thread, manual "
              "clocks; no TCP checksums on this in-process wire, as on veth (LANETCP_CHECKSUMS=1 counts them)")


def functions(out_file: str) -> dict:
    """Self instructions per function, from callgrind_annotate."""
    proc = subprocess.run(["callgrind_annotate", "--threshold=100", "--inclusive=no", out_file],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=False)
    result = {}
    for line in proc.stdout.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*?)(?:\s+\[[^\]]*\])?$", line)
        if m and "PROGRAM TOTALS" not in line:
            name = m.group(2)
            name = name.split(":", 1)[1] if ":" in name and not name.startswith("???:") else name[4:] if name.startswith("???:") else name
            result[name] = result.get(name, 0) + int(m.group(1).replace(",", ""))
    return result


def callgrind(valgrind: str, exe: str, mode: str, n: int, tmp: str) -> tuple[int, dict]:
    """Runs `exe mode n` under callgrind: total instructions and the program's JSON
    (with the per-function counts under "_functions" when --top asks for them)."""
    out_file = os.path.join(tmp, f"callgrind.{mode}.{n}.out")
    cmd = [valgrind, "--tool=callgrind", f"--callgrind-out-file={out_file}", exe, mode, str(n)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"callgrind.py: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr}")
    work = json.loads(proc.stdout)
    total = None
    with open(out_file, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"(?:totals|summary):\s+(\d+)", line)
            if m:
                total = int(m.group(1))
    if total is None:
        sys.exit(f"callgrind.py: no instruction total in {out_file}")
    if TOP > 0:
        work["_functions"] = functions(out_file)
    return total, work


def measure(args, exe: str, tmp: str) -> dict:
    """Both workloads at N and 2N; the figures from the differences."""
    runs = {}
    for mode, n in (("bulk", args.bulk_mib), ("rr", args.rr)):
        runs[mode] = (n, callgrind(args.valgrind, exe, mode, n, tmp), callgrind(args.valgrind, exe, mode, 2 * n, tmp))

    def rx(w: dict) -> int:
        return w["a_tcp_rx_segments"] + w["b_tcp_rx_segments"]

    n, (ir1, w1), (ir2, w2) = runs["bulk"]
    d_ir = ir2 - ir1
    d_data = w2["data_segments"] - w1["data_segments"]
    d_rx = rx(w2) - rx(w1)
    bulk = {
        "mib": [n, 2 * n],
        "instructions": [ir1, ir2],
        "data_segments": [w1["data_segments"], w2["data_segments"]],
        "tcp_rx_segments": [rx(w1), rx(w2)],
        "payload_copies": [w1["payload_copies"], w2["payload_copies"]],
        "instructions_per_data_segment": d_ir / d_data,
        "instructions_per_rx_segment": d_ir / d_rx,
        "acks_per_data_segment": (d_rx - d_data) / d_data,
        "instructions_per_kib": d_ir / ((w2["bytes"] - w1["bytes"]) / 1024),
        "setup_instructions": ir1 - d_ir,
    }
    if TOP > 0:
        bulk["top_functions_per_data_segment"] = top_functions(w1, w2, d_data)
    n, (ir1, w1), (ir2, w2) = runs["rr"]
    d_ir = ir2 - ir1
    d_tx = w2["transactions"] - w1["transactions"]
    d_rx = rx(w2) - rx(w1)
    rr = {
        "transactions": [w1["transactions"], w2["transactions"]],
        "message_bytes": 64,
        "instructions": [ir1, ir2],
        "tcp_rx_segments": [rx(w1), rx(w2)],
        "instructions_per_transaction": d_ir / d_tx,
        "segments_per_transaction": d_rx / d_tx,
        "instructions_per_rx_segment": d_ir / d_rx,
        "setup_instructions": ir1 - d_ir,
    }
    if TOP > 0:
        rr["top_functions_per_transaction"] = top_functions(w1, w2, d_tx)
    return {"bulk": bulk, "request_response": rr}


def top_functions(w1: dict, w2: dict, units: int) -> list:
    """The TOP functions by self instructions per unit of work (N to 2N difference)."""
    f1, f2 = w1.pop("_functions"), w2.pop("_functions")
    per = {name: (f2.get(name, 0) - f1.get(name, 0)) / units for name in set(f1) | set(f2)}
    best = sorted(per.items(), key=lambda kv: kv[1], reverse=True)[:TOP]
    return [{"function": name, "instructions": round(v, 1)} for name, v in best]


def report(r: dict) -> None:
    bulk, rr = r["bulk"], r["request_response"]
    print()
    print(f"{r['what']}:")
    print(f"  bulk, {bulk['mib'][0]} and {bulk['mib'][1]} MiB one way "
          f"({bulk['data_segments'][1] - bulk['data_segments'][0]} more data segments, "
          f"{bulk['acks_per_data_segment']:.2f} ACKs per data segment):")
    print(f"    instructions per received data segment (with its ACK): {bulk['instructions_per_data_segment']:9.0f}")
    print(f"    instructions per TCP segment received (data or ACK):    {bulk['instructions_per_rx_segment']:9.0f}")
    print(f"    instructions per KiB transferred:                       {bulk['instructions_per_kib']:9.0f}")
    print(f"    set-up and tear-down:                                   {bulk['setup_instructions']:9.0f}")
    for f in bulk.get("top_functions_per_data_segment", []):
        print(f"      {f['instructions']:8.0f}  {f['function'][:100]}")
    print(f"  request/response, {rr['transactions'][0]} and {rr['transactions'][1]} transactions of 64 bytes "
          f"({rr['segments_per_transaction']:.2f} segments per transaction):")
    print(f"    instructions per transaction:                           {rr['instructions_per_transaction']:9.0f}")
    print(f"    instructions per TCP segment received:                  {rr['instructions_per_rx_segment']:9.0f}")
    print(f"    set-up and tear-down:                                   {rr['setup_instructions']:9.0f}")
    for f in rr.get("top_functions_per_transaction", []):
        print(f"      {f['instructions']:8.0f}  {f['function'][:100]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(os.path.dirname(HERE), "build"),
                    help="meson build directory (default: build/ next to bench/)")
    ap.add_argument("--bulk-mib", type=int, default=16, help="bulk transfer size N in MiB (runs N and 2N)")
    ap.add_argument("--rr", type=int, default=20000, help="request/response transactions N (runs N and 2N)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    ap.add_argument("--stack", action="store_true",
                    help="also measure the whole stack (lanetcp-insncount-stack: DPDK EAL, no hugepages)")
    ap.add_argument("--top", type=int, default=0, metavar="K",
                    help="also list the K functions with the most (self) instructions per unit of work")
    ap.add_argument("--valgrind", default="valgrind")
    args = ap.parse_args()
    global TOP
    TOP = max(args.top, 0)

    exe = os.path.join(args.build, "bench", "lanetcp-insncount")
    if not os.access(exe, os.X_OK):
        sys.exit(f"callgrind.py: {exe} not found: build it with `ninja -C {args.build}`")
    stack_exe = os.path.join(args.build, "bench", "lanetcp-insncount-stack")
    if args.stack and not os.access(stack_exe, os.X_OK):
        sys.exit(f"callgrind.py: {stack_exe} not found: build it with `ninja -C {args.build}`")
    if shutil.which(args.valgrind) is None:
        sys.exit("callgrind.py: valgrind not found (Debian: apt-get install valgrind)")
    if args.bulk_mib < 1 or args.rr < 1:
        sys.exit("callgrind.py: sizes must be positive")

    results = {"tool": "valgrind --tool=callgrind (Ir: instructions executed)",
               "method": "difference of runs at N and 2N, divided by the difference in work",
               "build": os.path.abspath(args.build)}
    with tempfile.TemporaryDirectory(prefix="lanetcp-callgrind.") as tmp:
        results["lib_tcp"] = measure(args, exe, tmp)
        results["lib_tcp"]["what"] = NOTE
        if args.stack:
            results["stack"] = measure(args, stack_exe, tmp)
            results["stack"]["what"] = STACK_NOTE

    print(f"lanetcp instruction counts, build {args.build}: difference of runs at N and 2N")
    print("(set-up and tear-down cancel out), valgrind --tool=callgrind.")
    report(results["lib_tcp"])
    if args.stack:
        report(results["stack"])
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
            f.write("\n")
        print(f"\nwritten to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
