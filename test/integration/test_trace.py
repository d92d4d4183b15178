#!/usr/bin/python3
"""The congestion trace end to end (doc/trace.md):

  1. lanetcp-perf --loopback --mode bulk --bytes 20M --trace FILE.csv: exit 0,
     the app says how many rows it wrote, the CSV has the documented header,
     that many rows, every row the header's column count, known events,
     phases and states, rows of both connections (client and server), the
     client's `delivered` reaching the bytes sent
  2. bench/plot_trace.py turns it into a PNG (the PNG signature, a sane size)
  3. plot_trace.py on a file that is not a trace fails with exit code 2
  4. --trace to a path that cannot be written: exit code 2 before the run

Needs root (DPDK runtime dir) and python3-matplotlib (scripts/install-deps.sh
installs it: a missing matplotlib is a failure, not a skip).
"""

import csv
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HEADER = ("time_ns,lcore,conn,event,state,phase,cwnd,ssthresh,in_flight,srtt_us,rttvar_us,delivered,lost,retrans,"
          "snd_wnd,rcv_wnd,timeouts")
EVENTS = {"ack", "loss", "rto", "recovery_exit", "ece", "undo", "tlp", "rack_timer", "persist"}
PHASES = {"open", "recovery", "loss"}
STATES = {"CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT",
          "CLOSING", "LAST_ACK", "TIME_WAIT"}
BYTES = 20 * (1 << 20)
PLOT = os.path.join(harness.REPO, "bench", "plot_trace.py")
PYTHON = "/usr/bin/python3"


def perf(tmp, tag, args, timeout=120):
    prefix = harness.unique(f"lttrace{tag}")
    eal = ["--no-huge", "-m", "1024", "--no-pci", "--file-prefix", prefix, "-l", "0",
           "--log-level", "lib.eal:notice"]
    app = harness.EchoApp(tmp, eal, args, name=tag, binary=harness.app_binary("lanetcp-perf", "LANETCP_PERF"))
    try:
        app.start()
        rc = app.wait(timeout)
        return rc, app.stdout, app.stderr
    finally:
        app.cleanup()


def body(checks):
    harness.require_root(checks)
    tmp = harness.tempdir("trace")
    path = os.path.join(tmp, "bulk.csv")

    print("\n== 1. lanetcp-perf --loopback --trace ==", flush=True)
    rc, out, err = perf(tmp, "bulk", ["--loopback", "--quiet", "--mode", "bulk", "--bytes", str(BYTES),
                                      "--trace", path])
    checks.eq(rc, 0, "lanetcp-perf --loopback --trace exit code")
    m = re.search(r"^lanetcp: trace: (\d+) row\(s\) to (\S+)", out, re.M)
    checks.check(m is not None, "lanetcp-perf says how many trace rows it wrote", m.group(0) if m else out[-500:])
    if not os.path.exists(path):
        checks.fatal(f"{path} written")
    with open(path, newline="") as f:
        lines = f.read().splitlines()
    checks.eq(lines[0] if lines else None, HEADER, "CSV header")
    rows = list(csv.reader(lines[1:]))
    if m:
        checks.eq(len(rows), int(m.group(1)), "CSV rows == the count the app printed")
    checks.check(len(rows) > 100, "a 20 MB transfer gives more than 100 rows", f"{len(rows)} rows")
    width = len(HEADER.split(","))
    bad = [r for r in rows if len(r) != width]
    checks.eq(len(bad), 0, f"every row has {width} columns", )
    col = {name: i for i, name in enumerate(HEADER.split(","))}
    checks.eq(sorted({r[col["event"]] for r in rows} - EVENTS), [], "every event is a documented one")
    checks.eq(sorted({r[col["phase"]] for r in rows} - PHASES), [], "every phase is a documented one")
    checks.eq(sorted({r[col["state"]] for r in rows} - STATES), [], "every state is a TCP state")
    numeric = ["time_ns", "cwnd", "ssthresh", "in_flight", "srtt_us", "rttvar_us", "delivered", "lost", "retrans",
               "snd_wnd", "rcv_wnd", "timeouts"]
    checks.check(all(r[col[c]].isdigit() for r in rows for c in numeric), "numeric columns are numbers")
    conns = {r[col["conn"]] for r in rows}
    client = [c for c in conns if c.endswith("-10.77.0.1:5201")]
    server = [c for c in conns if c.startswith("10.77.0.1:5201-")]
    checks.check(client and server, "rows of both the client's and the server's connection", str(sorted(conns)))
    if client:
        delivered = max(int(r[col["delivered"]]) for r in rows if r[col["conn"]] == client[0])
        # The SYN, a 24-byte protocol header and the payload (apps/perf/README.md), the FIN maybe.
        checks.check(delivered >= BYTES, "the client's delivered column reaches the bytes sent",
                     f"{delivered} >= {BYTES}")
        cwnd = [int(r[col["cwnd"]]) for r in rows if r[col["conn"]] == client[0]]
        checks.check(max(cwnd) > cwnd[0], "the client's cwnd grew", f"{cwnd[0]} -> {max(cwnd)}")

    print("\n== 2. plot_trace.py ==", flush=True)
    png = os.path.join(tmp, "bulk.png")
    p = subprocess.run([PYTHON, PLOT, path, "-o", png], capture_output=True, text=True, timeout=120)
    print(p.stdout + p.stderr, flush=True)
    checks.eq(p.returncode, 0, "plot_trace.py exit code (python3-matplotlib missing? scripts/install-deps.sh)")
    ok = os.path.exists(png)
    checks.check(ok, "plot_trace.py wrote the PNG")
    if ok:
        with open(png, "rb") as f:
            head = f.read(8)
        checks.eq(head, b"\x89PNG\r\n\x1a\n", "the file is a PNG")
        checks.check(os.path.getsize(png) > 10000, "the PNG is not empty", f"{os.path.getsize(png)} bytes")

    print("\n== 3. plot_trace.py on something else ==", flush=True)
    other = os.path.join(tmp, "other.csv")
    with open(other, "w") as f:
        f.write("a,b,c\n1,2,3\n")
    p = subprocess.run([PYTHON, PLOT, other, "-o", os.path.join(tmp, "other.png")], capture_output=True, text=True,
                       timeout=120)
    checks.eq(p.returncode, 2, "plot_trace.py on a CSV that is not a trace: exit code")
    checks.check("not a lanetcp trace" in p.stderr, "... and says why", p.stderr.strip())

    print("\n== 4. --trace to an unwritable path ==", flush=True)
    rc, out, err = perf(tmp, "bad", ["--loopback", "--quiet", "--mode", "bulk", "--bytes", "1M",
                                     "--trace", os.path.join(tmp, "no", "such", "dir.csv")])
    checks.eq(rc, 2, "--trace into a missing directory: exit code")
    checks.check("--trace" in err, "... and the error names --trace", harness.ours_only(err)[-1:] or err[-300:])
    if not checks.failures:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(harness.main("trace", body))
