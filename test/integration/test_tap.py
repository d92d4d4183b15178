#!/usr/bin/env python3
"""net_tap: lanetcp-echo on a tap device that the PMD creates, moved into a
network namespace of its own. The tap's kernel side has the port's MAC, so
the stack runs with its own (--mac): ping must work, and TCP must move bytes
intact, which on this device also checks the software TCP checksum that
replaces net_tap's (wrong, for chained mbufs) offload. Linux's TcpInCsumErrors
must stay 0.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

APP_IP, PEER_IP = "10.91.0.2", "10.91.0.1"
APP_MAC = "02:4c:54:00:00:99"


def body(checks):
    harness.require_root(checks)
    tmp = harness.tempdir("tap")
    ns = harness.unique("lt-tap")
    tap = f"lttap{os.getpid()}"[:15]
    stats_json = os.path.join(tmp, "stats.json")
    app = None
    try:
        harness.run(["ip", "netns", "add", ns])
        prefix = harness.unique("lttap")
        app = harness.EchoApp(tmp, harness.eal_args(prefix, f"net_tap0,iface={tap}"),
                              ["--ip", f"{APP_IP}/24", "--mac", APP_MAC, "--duration", "60",
                               "--stats-json", stats_json])
        app.start()
        app.wait_ready(timeout=30)
        harness.run(["ip", "link", "set", tap, "netns", ns])
        nsx = ["ip", "netns", "exec", ns]
        harness.run(nsx + ["ip", "link", "set", tap, "up"])
        harness.run(nsx + ["ip", "addr", "add", f"{PEER_IP}/24", "dev", tap])

        p = harness.run(nsx + ["ping", "-n", "-c", "5", "-i", "0.1", "-W", "2", APP_IP], check=False)
        m = re.search(r"(\d+) packets transmitted, (\d+) received", p.stdout)
        checks.eq(int(m.group(2)) if m else 0, 5, "ping over net_tap: replies")

        data = os.urandom(5_000_000)
        src, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        with open(src, "wb") as f:
            f.write(data)
        start = time.monotonic()
        with open(src, "rb") as fin, open(out, "wb") as fout:
            rc = subprocess.run(nsx + ["timeout", "30", "nc", "-N", APP_IP, "7"], stdin=fin, stdout=fout).returncode
        secs = time.monotonic() - start
        with open(out, "rb") as f:
            echoed = f.read()
        checks.eq(rc, 0, "nc exit code")
        checks.check(echoed == data, f"5 MB echoed intact over net_tap ({len(echoed)} bytes in {secs:.2f} s)")
        p = harness.run(nsx + ["nstat", "-az", "TcpInCsumErrors"], check=False)
        m = re.search(r"TcpInCsumErrors\s+(\d+)", p.stdout)
        checks.eq(int(m.group(1)) if m else None, 0, "Linux saw no bad TCP checksum from the stack")

        app.stop(signal.SIGINT)
        rc = app.wait(timeout=30)
        stats = harness.load_stats(stats_json) if os.path.exists(stats_json) else None
        harness.check_app_exit(checks, rc, stats, app)
    finally:
        if app is not None:
            app.cleanup()
        subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL)
        if not checks.failures:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(harness.main("tap", body))
