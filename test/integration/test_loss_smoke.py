#!/usr/bin/python3
"""The smoke version of bench/loss_vs_linux.py (issue 11's table): a Linux
client in a namespace echoes 2 MB through lanetcp-echo on net_af_packet while
nftables in its namespace drops 5% of TCP packets each way. The echo must
finish and come back byte-exact (the script checks SHA-256 and exits 1
otherwise); no timing is asserted. The congestion trace is kept and must
have rows.
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SCRIPT = os.path.join(harness.REPO, "bench", "loss_vs_linux.py")


def body(checks):
    harness.require_root(checks)
    tmp = harness.tempdir("losssmoke")
    p = subprocess.run(["/usr/bin/python3", SCRIPT, "--smoke", "--cases", "5:2M", "--no-linux", "--stall", "30",
                        "--timeout", "240", "--trace-dir", tmp], capture_output=True, text=True, timeout=400)
    # lanetcp-echo's stderr can be long; what matters is the script's own report.
    lines = [l for l in (p.stdout + p.stderr).splitlines() if not l.startswith("detect ")]
    print("\n".join(lines[-60:]), flush=True)
    if p.returncode == harness.EXIT_SKIP:
        print("SKIP: loss_vs_linux.py skipped (tools missing)")
        sys.exit(harness.EXIT_SKIP)
    checks.eq(p.returncode, 0, "loss_vs_linux.py --smoke: the echo under 5% loss finished byte-exact")
    checks.check(any(l.startswith("[5% 2 MB] lanetcp:") and "FAILED" not in l for l in lines),
                 "the lanetcp line reports no failure")
    trace = os.path.join(tmp, "loss5-0.lanetcp.csv")
    rows = 0
    if os.path.exists(trace):
        with open(trace) as f:
            rows = sum(1 for _ in f) - 1
    checks.check(rows > 10, "lanetcp-echo's congestion trace has rows", f"{rows} rows in {trace}")
    if not checks.failures:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(harness.main("loss_smoke", body))
