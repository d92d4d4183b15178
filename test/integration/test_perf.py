#!/usr/bin/env python3
"""lanetcp-perf, lanetcp-perf-linux and lanetcp-bench end to end.

1. lanetcp-perf --loopback: two lanetcp stacks over the in-memory wire in
   one process. bulk --bytes N must deliver exactly N bytes (confirmed by the
   server's count), rr --transactions K and crr --transactions K must
   complete exactly K, and the server's own counts must agree.
2. lanetcp-perf against lanetcp-perf-linux over net_af_packet into a network
   namespace: lanetcp client -> Linux server (bulk and rr, exact counts) and
   Linux client -> lanetcp server (crr, exact count).
3. lanetcp-bench --seconds 1: the JSON has every case, every figure positive.

Needs root. Binaries: $LANETCP_PERF, $LANETCP_PERF_LINUX, $LANETCP_BENCH
(set by meson), else build/apps/.
"""

import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PEER_ADDR = "10.9.71.1/24"
PEER_IP = "10.9.71.1"
APP_ADDR = "10.9.71.2/24"
APP_IP = "10.9.71.2"
CASES = ["bulk", "rr", "rr64", "crr", "crr64"]
# bulk with 1% / 5% loss each way (doc/impairment.md). Off while lanetcp's loss
# recovery is being rewritten (on rack-wip a lossy bulk run stalls); switch on
# with the recovery fix.
LOSS_CASES = ["bulk_loss1", "bulk_loss5"]
BENCH_LOSS_CASES = False
HEADER = 24  # bytes of protocol header per connection (apps/perf/README.md)


def binary(name, var):
    return harness.app_binary(name, var)


def lcores():
    return "0,1" if (os.cpu_count() or 1) >= 2 else "0"


def load(path):
    with open(path) as f:
        return json.load(f)


def run_loopback(checks, tmp, tag, args, timeout=120):
    """lanetcp-perf --loopback to completion; returns (rc, json or None, app)."""
    out = os.path.join(tmp, f"{tag}.json")
    prefix = harness.unique(f"ltperf{tag}")
    eal = ["--no-huge", "-m", "1024", "--no-pci", "--file-prefix", prefix, "-l", lcores(),
           "--log-level", "lib.eal:notice"]
    app = harness.EchoApp(tmp, eal, ["--loopback", "--quiet", "--json", out] + args, name=tag,
                          binary=binary("lanetcp-perf", "LANETCP_PERF"))
    try:
        app.start()
        rc = app.wait(timeout)
        doc = load(out) if os.path.exists(out) and os.path.getsize(out) else None
        print(app.stdout.rstrip(), flush=True)
        if rc != 0:
            app.print_output()
        return rc, doc
    finally:
        app.cleanup()


def loopback_doc(checks, tmp, mode, args):
    """One --loopback run of `mode`: its JSON summary, the exit code checked."""
    rc, doc = run_loopback(checks, tmp, mode, ["--mode", mode] + args)
    checks.eq(rc, 0, f"loopback {mode}: exit code")
    if doc is None:
        checks.fatal(f"loopback {mode}: JSON written")
    return doc


def check_clean(checks, doc, mode):
    checks.eq(doc["errors"], 0, f"loopback {mode}: no errors")
    checks.eq(doc["mbufs_leaked"], 0, f"loopback {mode}: no mbuf leaked")


def loopback_checks(checks, tmp):
    # bulk: an odd size over three streams, so the split has remainders.
    n = 12_345_679
    doc = loopback_doc(checks, tmp, "bulk", ["--streams", "3", "--bytes", str(n)])
    checks.eq(doc["bytes"], n, "loopback bulk: bytes the server confirmed == --bytes")
    checks.eq(doc["bytes_sent"], n, "loopback bulk: bytes sent == --bytes")
    checks.eq(doc["server"]["bytes"], n + 3 * HEADER, "loopback bulk: server received payload + 3 headers")
    checks.eq(doc["connections_opened"], 3, "loopback bulk: three streams")
    check_clean(checks, doc, "bulk")
    checks.check(doc["gbits_per_second"] > 0, "loopback bulk: throughput positive", f"{doc['gbits_per_second']:.3f}")

    k = 5000
    doc = loopback_doc(checks, tmp, "rr", ["--connections", "4", "--transactions", str(k),
                                           "--request-size", "100", "--response-size", "3000"])
    checks.eq(doc["transactions"], k, "loopback rr: transactions == --transactions")
    checks.eq(doc["latency_ns"]["count"], k, "loopback rr: one latency sample per transaction")
    checks.eq(doc["server"]["requests"], k, "loopback rr: server answered exactly K requests")
    checks.eq(doc["server"]["bytes"], k * 100 + 4 * HEADER, "loopback rr: server received K requests + 4 headers")
    check_clean(checks, doc, "rr")
    lat = doc["latency_ns"]
    checks.check(0 < lat["p50"] <= lat["p99"] <= lat["p999"] <= lat["max"],
                 "loopback rr: 0 < p50 <= p99 <= p999 <= max", str(lat))

    k = 600
    doc = loopback_doc(checks, tmp, "crr", ["--connections", "8", "--transactions", str(k)])
    checks.eq(doc["transactions"], k, "loopback crr: transactions == --transactions")
    checks.eq(doc["connections_opened"], k, "loopback crr: one connection per transaction")
    checks.eq(doc["server"]["connections"], k, "loopback crr: server accepted K connections")
    checks.eq(doc["server"]["requests"], k, "loopback crr: server answered K requests")
    check_clean(checks, doc, "crr")

    # The impaired wire (doc/impairment.md) on real time: delay, jitter and
    # duplicates both ways; every byte still confirmed, every mbuf home.
    n = 20_000_000
    spec = "delay=200us,jitter=50us,dup=1%,seed=3"  # canonical order (impair::to_string)
    doc = loopback_doc(checks, tmp, "bulk", ["--bytes", str(n), "--impair", spec])
    checks.eq(doc["bytes"], n, "impaired loopback bulk: bytes the server confirmed == --bytes")
    checks.eq(doc.get("impair"), spec, "impaired loopback bulk: JSON names the impairment")
    check_clean(checks, doc, "impaired bulk")
    p = harness.run([binary("lanetcp-perf", "LANETCP_PERF"), "--no-huge", "--", "--loopback", "--impair", "loss=1"],
                    check=False, timeout=30)
    checks.eq(p.returncode, 2, "--impair loss=1: exit code 2")
    checks.check("expected a percentage" in p.stderr, "--impair loss=1: the reason on stderr", p.stderr.strip())
    # A congestion control the kernel does not have fails at start-up, with the reason.
    p = harness.run([binary("lanetcp-perf-linux", "LANETCP_PERF_LINUX"), "--client", "127.0.0.1", "--seconds", "1",
                     "--congestion-control", "no_such_cc"], check=False, timeout=30)
    checks.eq(p.returncode, 1, "lanetcp-perf-linux --congestion-control no_such_cc: exit code 1")
    checks.check("TCP_CONGESTION no_such_cc" in p.stderr, "--congestion-control no_such_cc: the reason on stderr",
                 p.stderr.strip())


class LinuxServer:
    """lanetcp-perf-linux --server inside the namespace."""

    def __init__(self, tmp, ns, tag):
        self.json = os.path.join(tmp, f"{tag}.linux-server.json")
        self.app = harness.EchoApp(tmp, [], [], name=f"{tag}.linux-server")
        self.app.argv = ns.exec([binary("lanetcp-perf-linux", "LANETCP_PERF_LINUX"), "--server", "--quiet",
                                 "--json", self.json])
        self.app.label = "lanetcp-perf-linux"

    def __enter__(self):
        self.app.start()
        for _ in range(100):
            if "serving" in self.app.stdout:
                return self
            time.sleep(0.05)
        raise RuntimeError("lanetcp-perf-linux --server did not come up:\n" + self.app.stderr)

    def stop(self):
        self.app.stop(signal.SIGTERM)
        rc = self.app.wait(30)
        return rc, (load(self.json) if os.path.exists(self.json) and os.path.getsize(self.json) else None)

    def __exit__(self, *exc):
        self.app.cleanup()
        return False


def lanetcp_eal(ns, tag):
    prefix = harness.unique(f"ltperf{tag}")
    return harness.eal_args(prefix, f"net_af_packet0,iface={ns.host_if}") + ["--log-level", "lib.eal:notice"]


def linux_checks(checks, tmp):
    perf = binary("lanetcp-perf", "LANETCP_PERF")
    with harness.VethNamespace("pf", PEER_ADDR) as ns:
        # lanetcp client -> Linux server: bulk and rr with exact counts.
        n = 5_000_003
        k = 2000
        with LinuxServer(tmp, ns, "l") as server:
            for tag, args, key, want in [
                ("af-bulk", ["--mode", "bulk", "--bytes", str(n)], "bytes", n),
                ("af-rr", ["--mode", "rr", "--transactions", str(k), "--request-size", "64",
                           "--response-size", "1500"], "transactions", k),
            ]:
                out = os.path.join(tmp, f"{tag}.json")
                app = harness.EchoApp(tmp, lanetcp_eal(ns, tag),
                                      ["--ip", APP_ADDR, "--client", PEER_IP, "--quiet", "--json", out] + args,
                                      name=tag, binary=perf)
                try:
                    app.start()
                    rc = app.wait(120)
                    print(app.stdout.rstrip(), flush=True)
                    if rc != 0:
                        app.print_output()
                finally:
                    app.cleanup()
                checks.eq(rc, 0, f"{tag}: lanetcp-perf client exit code")
                doc = load(out) if os.path.exists(out) and os.path.getsize(out) else None
                if doc is None:
                    checks.check(False, f"{tag}: JSON written")
                    continue
                checks.eq(doc[key], want, f"{tag}: lanetcp client against Linux server: {key} exact")
                checks.eq(doc["errors"], 0, f"{tag}: no errors")
            rc, sdoc = server.stop()
            checks.eq(rc, 0, "lanetcp-perf-linux server exit code")
            if sdoc is None:
                checks.fatal("lanetcp-perf-linux server JSON written")
            checks.eq(sdoc["bytes"], n + HEADER + k * 64 + HEADER, "Linux server received exactly what was sent")
            checks.eq(sdoc["requests"], k, "Linux server answered exactly K requests")
            checks.eq(sdoc["bad_headers"], 0, "Linux server saw no bad header")

        # Linux client -> lanetcp server: crr with an exact count.
        k = 300
        stats = os.path.join(tmp, "af-server.stats.json")
        sjson = os.path.join(tmp, "af-server.json")
        server = harness.EchoApp(tmp, lanetcp_eal(ns, "srv"),
                                 ["--ip", APP_ADDR, "--server", "--quiet", "--json", sjson, "--stats-json", stats],
                                 name="af-server", binary=perf)
        try:
            server.start()
            server.wait_ready(30)
            cjson = os.path.join(tmp, "af-crr.json")
            p = harness.run(ns.exec([binary("lanetcp-perf-linux", "LANETCP_PERF_LINUX"), "--client", APP_IP,
                                     "--mode", "crr", "--connections", "4", "--transactions", str(k), "--quiet",
                                     "--json", cjson]), check=False, timeout=120)
            print(p.stdout.rstrip(), p.stderr.rstrip(), flush=True)
            checks.eq(p.returncode, 0, "af-crr: lanetcp-perf-linux client exit code")
            doc = load(cjson) if os.path.exists(cjson) and os.path.getsize(cjson) else None
            if doc is not None:
                checks.eq(doc["transactions"], k, "af-crr: Linux client against lanetcp server: transactions exact")
            else:
                checks.check(False, "af-crr: client JSON written")
            server.stop(signal.SIGINT)
            rc = server.wait(60)
            harness.check_app_exit(checks, rc, harness.load_stats(stats) if os.path.exists(stats) else None, server,
                                   label="lanetcp-perf server")
            sdoc = load(sjson) if os.path.exists(sjson) and os.path.getsize(sjson) else None
            if sdoc is None:
                checks.fatal("lanetcp-perf server JSON written")
            checks.eq(sdoc["connections"], k, "lanetcp server accepted exactly K connections")
            checks.eq(sdoc["requests"], k, "lanetcp server answered exactly K requests")
        finally:
            server.cleanup()


def bench_checks(checks, tmp):
    out = os.path.join(tmp, "bench.json")
    cases = CASES + (LOSS_CASES if BENCH_LOSS_CASES else [])
    p = harness.run([binary("lanetcp-bench", "LANETCP_BENCH"), "--seconds", "1", "--json", out,
                     "--cases", ",".join(cases)], check=False, timeout=150 + 70 * (len(cases) - len(CASES)))
    print(p.stdout[p.stdout.find("lanetcp-bench:"):].rstrip(), flush=True)
    if p.returncode != 0:
        print(p.stderr, flush=True)
    checks.eq(p.returncode, 0, "lanetcp-bench exit code")
    if not os.path.exists(out):
        checks.fatal("lanetcp-bench JSON written")
    rows = load(out)
    checks.eq([r.get("case") for r in rows], cases, "lanetcp-bench JSON has every case, in order")
    for r in rows:
        for key in ("lanetcp", "linux", "ratio"):
            v = r.get(key)
            checks.check(isinstance(v, (int, float)) and v > 0, f"bench {r.get('case')}: {key} positive", repr(v))
        checks.check(r.get("unit") in ("Gbit/s", "transactions/s", "connections/s"), f"bench {r.get('case')}: unit",
                     repr(r.get("unit")))
        # Both sides run CUBIC (Linux's set with TCP_CONGESTION, not the
        # host's default), and lanetcp the 4 MB buffers the bench says.
        checks.eq(r.get("lanetcp_congestion_control"), "cubic", f"bench {r.get('case')}: lanetcp's congestion control")
        checks.eq(r.get("linux_congestion_control"), "cubic", f"bench {r.get('case')}: Linux's congestion control")
        checks.eq(r.get("lanetcp_buffer"), 4 << 20, f"bench {r.get('case')}: lanetcp's buffers")
        if isinstance(r.get("lanetcp"), (int, float)) and isinstance(r.get("linux"), (int, float)) and r["linux"]:
            checks.check(abs(r["ratio"] - r["lanetcp"] / r["linux"]) < 1e-6 * max(1, r["ratio"]),
                         f"bench {r.get('case')}: ratio == lanetcp / linux")
    leftovers = [n for n in harness.run(["ip", "netns", "list"]).stdout.split() if n.startswith("ltb")]
    checks.eq(leftovers, [], "lanetcp-bench removed its namespaces")


def body(checks):
    harness.require_root(checks)
    tmp = harness.tempdir("perf")
    loopback_checks(checks, tmp)
    linux_checks(checks, tmp)
    bench_checks(checks, tmp)


if __name__ == "__main__":
    sys.exit(harness.main("test_perf", body))
