#!/usr/bin/python3
"""lanetcp against Linux under packet loss, as issue 11's table: a Linux
client (`nc -N`) in a network namespace echoes N bytes

  lanetcp: through lanetcp-echo on net_af_packet, over a veth pair whose other
           end stays in the root namespace;
  Linux:   through a Linux echo server (a small Python one) in a second
           namespace, over a second veth pair;

both veth pairs with checksum offloads, TSO, GSO and GRO off, so that both
servers see MTU-sized segments. nftables in the client's namespace drops X%
of TCP packets on its input hook and X% on its output hook (the same client,
the same rules for both servers). Prints

  loss | bytes | lanetcp | Linux | ratio

Every echo must come back byte-exact (SHA-256); the exit code is 1 if one
did not, or did not finish within --timeout.

  sudo bench/loss_vs_linux.py                       # 1% 20M, 5% 20M, 20% 5M
  sudo bench/loss_vs_linux.py --cases 5:2M --trace-dir /tmp/t
  sudo bench/loss_vs_linux.py --smoke               # 5% of 1 MB, lanetcp only
  sudo bench/loss_vs_linux.py --linux-cc bbr        # Linux with BBR (default cubic, as lanetcp)
  sudo bench/loss_vs_linux.py --buffer 0            # lanetcp with its own 256 KB buffers

Linux autotunes each socket's buffers up to tcp_wmem's and tcp_rmem's maxima
(4 MB and 6 MB or more); lanetcp's are fixed. As lanetcp-bench, this gives
lanetcp-echo a 4 MB send and receive buffer (--buffer) unless told otherwise.

--trace-dir keeps lanetcp-echo's congestion trace (doc/trace.md), its output
and both servers' counters for each case. Needs root, nft, nc (netcat-openbsd),
ethtool; lanetcp-echo from build/ (or $LANETCP_ECHO).
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "test", "integration"))
import harness  # noqa: E402
from harness import file_size, kill_group, random_file, sha256_file  # noqa: E402

CLIENT_ADDR = "10.97.0.1/24"      # the client namespace, towards lanetcp (root side: af_packet)
APP_IP, APP_PREFIX = "10.97.0.2", "10.97.0.2/24"
CLIENT2_ADDR = "10.98.0.1/24"     # the client namespace, towards the Linux server
LINUX_IP, LINUX_ADDR = "10.98.0.2", "10.98.0.2/24"
PORT = 7
MB = 1 << 20

# A Linux echo server: every byte back, then FIN after the client's FIN.
ECHO_SERVER = r"""
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, sys.argv[2].encode())  # accepted sockets inherit it
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(16)
print("listening", flush=True)
while True:
    c, _ = s.accept()
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        c.sendall(b)
    c.shutdown(socket.SHUT_WR)
    c.close()
"""

# Linux's counters worth a look (nstat names).
LINUX_KEYS = ["TcpRetransSegs", "TcpExtTCPTimeouts", "TcpExtTCPLossProbes", "TcpExtTCPLossProbeRecovery",
              "TcpExtTCPSackRecovery", "TcpExtTCPFastRetrans", "TcpExtTCPLostRetransmit", "TcpExtTCPDSACKUndo",
              "TcpExtTCPSpuriousRTOs", "TcpExtTCPZeroWindowDrop", "TcpExtTCPToZeroWindowAdv",
              "TcpExtTCPFromZeroWindowAdv", "TcpExtTCPWantZeroWindowAdv", "TcpExtDelayedACKs",
              "TcpExtTCPSACKReorder", "TcpExtTCPRcvQDrop", "TcpExtTCPOFOQueue"]
# lanetcp-echo's counters worth a look.
LANETCP_KEYS = ["tcp_retransmitted_segments", "tcp_fast_retransmits", "tcp_lost_retransmits", "tcp_timeouts",
                "tcp_recoveries", "tcp_loss_probes", "tcp_rack_reorder_timeouts", "tcp_undo_dsack",
                "tcp_undo_eifel", "tcp_dsacks_received", "tcp_dsacks_sent", "tcp_rx_segments",
                "tcp_tx_segments", "tcp_out_of_order_held"]


def parse_size(text):
    t = text.strip().upper()
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(t[-1:], 1)
    return int(float(t[:-1] if t[-1:] in "KMG" else t) * mult)


def parse_cases(text):
    """'1:20M,5:20M,20:5M' -> [(1.0, 20971520), ...]"""
    out = []
    for part in text.split(","):
        loss, _, size = part.partition(":")
        out.append((float(loss), parse_size(size or "20M")))
    return out


def with_buffers(config_text, size):
    """A lanetcp TOML configuration: config_text with tcp.send_buffer and
    tcp.receive_buffer set to size (added to its [tcp] table, or in one of
    their own). Refuses a configuration that sets either already."""
    lines = config_text.splitlines()
    for line in lines:
        key = line.split("=", 1)[0].strip()
        if key in ("send_buffer", "receive_buffer"):
            raise ValueError(f"the configuration sets {key}; give --buffer 0 to keep it")
    keys = [f"send_buffer = {size}", f"receive_buffer = {size}"]
    for i, line in enumerate(lines):
        if line.strip() == "[tcp]":
            return "\n".join(lines[:i + 1] + keys + lines[i + 1:]) + "\n"
    return "\n".join(lines + ["[tcp]"] + keys) + "\n"


def seconds(s):
    """Milliseconds show below a second (a 20 MB echo takes 60-90 ms)."""
    return f"{s:.3f} s" if s < 1 else f"{s:.2f} s"


def human(n):
    return f"{n / MB:g} MB" if n % (MB // 4) == 0 else f"{n} B"


class Setup:
    """The client namespace, its veth to the root namespace (lanetcp-echo on
    af_packet) and a second namespace with a veth to it (the Linux server)."""

    def __init__(self, tmp):
        self.tmp = tmp
        pid = os.getpid()
        self.ns = harness.VethNamespace("lv", CLIENT_ADDR)  # lanetcp-lv-<pid>, host side lt lv h<pid>
        self.server_ns = f"lanetcp-lvs-{pid}"
        self.cli_if = f"ltlvc{pid}"[:15]
        self.srv_if = f"ltlvs{pid}"[:15]
        self.helpers = []
        self.nft_on = False

    def __enter__(self):
        self.ns.__enter__()
        try:
            self._linux_side()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc):
        self.teardown()
        return False

    def _linux_side(self):
        r = harness.run
        if os.path.exists(f"/run/netns/{self.server_ns}"):
            r(["ip", "netns", "del", self.server_ns], check=False)
        r(["ip", "netns", "add", self.server_ns])
        r(["ip", "link", "add", self.cli_if, "netns", self.ns.ns, "type", "veth", "peer", "name", self.srv_if,
           "netns", self.server_ns])
        for ns, dev, addr in ((self.ns.ns, self.cli_if, CLIENT2_ADDR), (self.server_ns, self.srv_if, LINUX_ADDR)):
            ex = ["ip", "netns", "exec", ns]
            r(ex + ["sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6"], check=False)
            r(ex + ["ip", "link", "set", "lo", "up"])
            r(ex + ["ethtool", "-K", dev, "tx", "off", "rx", "off", "tso", "off", "gso", "off", "gro", "off"])
            r(ex + ["ip", "addr", "add", addr, "dev", dev])
            r(ex + ["ip", "link", "set", dev, "up"])
        # The af_packet side: no segmentation offloads either (tx off already implies no TSO).
        r(["ethtool", "-K", self.ns.host_if, "tso", "off", "gso", "off", "gro", "off"], check=False)
        r(self.ns.exec(["ethtool", "-K", self.ns.ns_if, "tso", "off", "gso", "off", "gro", "off"]), check=False)

    def spawn(self, ns, cmd, **kw):
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.PIPE)
        p = subprocess.Popen(["ip", "netns", "exec", ns] + list(cmd), start_new_session=True, **kw)
        self.helpers.append(p)
        return p

    def loss_on(self, percent):
        rules = ("add table inet ltloss\n"
                 "add chain inet ltloss in { type filter hook input priority 0; }\n"
                 "add chain inet ltloss out { type filter hook output priority 0; }\n")
        # numgen counts 0..9999: 0.01% steps.
        threshold = int(round(percent * 100))
        for chain in ("in", "out"):
            rules += (f"add rule inet ltloss {chain} meta l4proto tcp counter\n"
                      f"add rule inet ltloss {chain} meta l4proto tcp numgen random mod 10000 < {threshold} "
                      f"counter drop\n")
        p = subprocess.run(self.ns.exec(["nft", "-f", "-"]), input=rules, text=True, capture_output=True)
        if p.returncode != 0:
            raise RuntimeError(f"nft: {p.stderr.strip()}")
        self.nft_on = True

    def loss_counters(self):
        p = harness.run(self.ns.exec(["nft", "-j", "list", "table", "inet", "ltloss"]), check=False)
        out = {"in": [0, 0], "out": [0, 0]}
        try:
            for item in json.loads(p.stdout)["nftables"]:
                rule = item.get("rule")
                if rule and rule["chain"] in out:
                    n = next((e["counter"]["packets"] for e in rule["expr"] if "counter" in e), 0)
                    out[rule["chain"]][1 if any("drop" in e for e in rule["expr"]) else 0] = n
        except (ValueError, KeyError):
            pass
        return out

    def loss_off(self):
        if self.nft_on:
            harness.run(self.ns.exec(["nft", "delete", "table", "inet", "ltloss"]), check=False)
            self.nft_on = False

    def nstat(self, ns):
        p = harness.run(["ip", "netns", "exec", ns, "nstat", "-asz", "--json"], check=False)
        try:
            doc = json.loads(p.stdout)
            return next(iter(doc.values())) if doc else {}
        except (ValueError, StopIteration):
            return {}

    def teardown(self):
        self.loss_off()
        for p in self.helpers:
            kill_group(p)
        self.helpers = []
        if os.path.exists(f"/run/netns/{self.server_ns}"):
            harness.run(["ip", "netns", "del", self.server_ns], check=False)
        self.ns.teardown()


def echo_through(setup, ip, src, dst, timeout, stall):
    """`nc -N ip 7 < src > dst` in the client namespace; (seconds, why it failed or None)."""
    t0 = time.monotonic()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        p = setup.spawn(setup.ns.ns, ["nc", "-N", ip, str(PORT)], stdin=fin, stdout=fout)
    last, changed, why = -1, t0, None
    while p.poll() is None:
        now = time.monotonic()
        size = file_size(dst)
        if size != last:
            last, changed = size, now
        if now - changed > stall:
            why = f"no progress for {stall} s at {size} bytes"
        elif now - t0 > timeout:
            why = f"not done after {timeout} s ({size} bytes)"
        if why:
            kill_group(p)
            break
        try:
            # Wakes as nc exits: the figure is not rounded up to a 10 ms sleep.
            p.wait(timeout=0.01)
        except subprocess.TimeoutExpired:
            pass
    secs = time.monotonic() - t0
    if why is None and p.returncode != 0:
        why = f"nc exit code {p.returncode}: {p.stderr.read().decode(errors='replace').strip()}"
    if why is None and file_size(dst) != file_size(src):
        why = f"{file_size(dst)} of {file_size(src)} bytes came back"
    if why is None and sha256_file(dst) != sha256_file(src):
        why = "the echoed bytes differ from the sent ones (SHA-256)"
    return secs, why


def run_lanetcp(setup, args, loss, size, src, tag):
    tmp = setup.tmp
    stats = os.path.join(tmp, f"{tag}.echo.json")
    prefix = harness.unique(f"ltlv{tag.replace('.', '')}x")
    eal = harness.eal_args(prefix, f"net_af_packet0,iface={setup.ns.host_if}") + ["--log-level", "lib.eal:notice"]
    eal[eal.index("-m") + 1] = "1024"
    app_args = ["--ip", APP_PREFIX, "--port", str(PORT), "--duration", "3600", "--stats-json", stats]
    if args.config:
        app_args += ["--config", args.config]
    trace = None
    if args.trace_dir:
        trace = os.path.join(args.trace_dir, f"{tag}.lanetcp.csv")
        app_args += ["--trace", trace]
    app = harness.EchoApp(tmp, eal, app_args, name=f"{tag}.echo")
    try:
        app.start()
        app.wait_ready(timeout=30)
        time.sleep(0.2)
        pcap = None
        if args.pcap and args.trace_dir:
            # In the client's namespace: what reaches the client and what it sends, before nftables.
            pcap = setup.spawn(setup.ns.ns, ["tcpdump", "-i", setup.ns.ns_if, "-s", "96", "-B", "65536", "-w",
                                             os.path.join(args.trace_dir, f"{tag}.lanetcp.pcap"), "tcp"])
            time.sleep(1)
        setup.loss_on(loss)
        before = setup.nstat(setup.ns.ns)
        secs, why = echo_through(setup, APP_IP, src, os.path.join(tmp, f"{tag}.lanetcp.out"), args.timeout,
                                 args.stall)
        client = diff(before, setup.nstat(setup.ns.ns))
        nft = setup.loss_counters()
        setup.loss_off()
        if pcap is not None:
            time.sleep(0.5)
            os.killpg(pcap.pid, signal.SIGINT)
            pcap.wait(timeout=10)
        if why is not None:
            # What the stack thought at the stall: SIGUSR1 prints every connection.
            app.stop(signal.SIGUSR1)
            time.sleep(1)
            print("\n".join(l for l in app.stderr.splitlines() if l.startswith(("lcore ", "  "))), file=sys.stderr)
        app.stop(signal.SIGINT)
        rc = app.wait(timeout=60)
        counters = {}
        if file_size(stats):
            counters = harness.load_stats(stats)["counters"]
        if rc != 0 and why is None:
            why = f"lanetcp-echo exit code {rc}"
        if why is not None:
            app.print_output()
        if args.trace_dir:
            for path in (app.stdout_path, app.stderr_path):
                keep_tail(path, os.path.join(args.trace_dir, os.path.basename(path)))
        return {"secs": secs, "why": why, "counters": counters, "client": client, "nft": nft, "trace": trace}
    finally:
        setup.loss_off()
        app.cleanup()


def run_linux(setup, args, loss, size, src, tag):
    server = setup.spawn(setup.server_ns, ["/usr/bin/python3", "-c", ECHO_SERVER, str(PORT), args.linux_cc],
                         stdout=subprocess.PIPE)
    try:
        if server.stdout.readline().strip() != b"listening":
            raise RuntimeError("the Linux echo server did not start")
        setup.loss_on(loss)
        before_c, before_s = setup.nstat(setup.ns.ns), setup.nstat(setup.server_ns)
        secs, why = echo_through(setup, LINUX_IP, src, os.path.join(setup.tmp, f"{tag}.linux.out"), args.timeout,
                                 args.stall)
        client = diff(before_c, setup.nstat(setup.ns.ns))
        srv = diff(before_s, setup.nstat(setup.server_ns))
        nft = setup.loss_counters()
        return {"secs": secs, "why": why, "server": srv, "client": client, "nft": nft}
    finally:
        setup.loss_off()
        kill_group(server)
        setup.helpers.remove(server)


def keep_tail(src, dst, limit=4 << 20):
    """Copies src, or only its last `limit` bytes when it is longer (a debug
    log can grow by hundreds of MB a minute when the stack spins)."""
    with open(src, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - limit))
        data = f.read()
    with open(dst, "wb") as f:
        if size > limit:
            f.write(f"[... first {size - limit} bytes left out ...]\n".encode())
        f.write(data)


def diff(before, after):
    return {k: after.get(k, 0) - before.get(k, 0) for k in after}


def nft_text(nft):
    parts = []
    for chain, label in (("in", "to the client"), ("out", "from the client")):
        seen, gone = nft.get(chain, (0, 0))
        parts.append(f"{label} {gone}/{seen} ({100.0 * gone / seen if seen else 0:.1f}%)")
    return "dropped " + ", ".join(parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", help="LOSS%%:BYTES,... (default 1:20M,5:20M,20:5M)")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each case; the table shows the median")
    ap.add_argument("--no-linux", action="store_true", help="lanetcp only")
    ap.add_argument("--linux-cc", default="cubic",
                    help="the Linux echo server's congestion control (TCP_CONGESTION; default cubic, as lanetcp's "
                         "default: a namespace otherwise inherits the host's, which may be bbr)")
    ap.add_argument("--smoke", action="store_true", help="5%% loss, 1 MB (or --cases), lanetcp only: a quick byte-exact check")
    ap.add_argument("--timeout", type=float, default=600, help="give up on one echo after this many seconds")
    ap.add_argument("--stall", type=float, default=120, help="... or after this long without progress")
    ap.add_argument("--trace-dir", help="keep lanetcp-echo's congestion trace (CSV) and counters (JSON) here")
    ap.add_argument("--pcap", action="store_true", help="with --trace-dir: tcpdump in the client's namespace too")
    ap.add_argument("--json", help="write every run's figures and counters to FILE")
    ap.add_argument("--config", help="lanetcp-echo's TOML configuration")
    ap.add_argument("--buffer", default="4M",
                    help="lanetcp-echo's tcp.send_buffer and tcp.receive_buffer (K/M suffixes; default 4M, the "
                         "ceiling Linux's autotuning gives the sender, tcp_wmem's maximum, as lanetcp-bench's "
                         "--buffer; 0: the configuration's or the stack's own, 256 KB)")
    args = ap.parse_args()
    if args.smoke:
        args.cases, args.no_linux = args.cases or "5:1M", True
    args.cases = args.cases or "1:20M,5:20M,20:5M"
    if os.geteuid() != 0:
        print("loss_vs_linux: needs root (network namespaces, nftables, DPDK)", file=sys.stderr)
        return harness.EXIT_SKIP
    for tool in ("nc", "nft", "ethtool", "nstat"):
        if shutil.which(tool) is None:
            print(f"loss_vs_linux: {tool} not installed (scripts/install-deps.sh)", file=sys.stderr)
            return harness.EXIT_SKIP
    harness.echo_binary()
    if args.trace_dir:
        os.makedirs(args.trace_dir, exist_ok=True)
    cases = parse_cases(args.cases)
    tmp = harness.tempdir("lossvl")
    args.buffer_bytes = parse_size(args.buffer)
    if args.buffer_bytes:
        text = open(args.config).read() if args.config else ""
        try:
            text = with_buffers(text, args.buffer_bytes)
        except ValueError as e:
            print(f"loss_vs_linux: {args.config}: {e}", file=sys.stderr)
            return 2
        args.config = os.path.join(tmp, "buffers.toml")
        with open(args.config, "w") as f:
            f.write(text)
    rows, runs, failed = [], [], False
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt("SIGTERM")))
    try:
        with Setup(tmp) as setup:
            for loss, size in cases:
                src = random_file(os.path.join(tmp, "src.in"), size)
                ours, theirs = [], []
                for r in range(args.repeat):
                    tag = f"loss{loss:g}-{r}"
                    res = run_lanetcp(setup, args, loss, size, src, tag)
                    res.update(case="lanetcp", loss=loss, bytes=size, run=r, lanetcp_buffer=args.buffer_bytes or None)
                    runs.append(res)
                    print(f"[{loss:g}% {human(size)}] lanetcp: {seconds(res['secs'])}"
                          + (f" FAILED: {res['why']}" if res["why"] else "") + f"; {nft_text(res['nft'])}; "
                          + " ".join(f"{k}={res['counters'].get(k)}" for k in LANETCP_KEYS
                                     if k in res["counters"]), flush=True)
                    failed |= res["why"] is not None
                    ours.append(res["secs"] if res["why"] is None else float("inf"))
                    if args.no_linux:
                        continue
                    res = run_linux(setup, args, loss, size, src, tag)
                    res.update(case="linux", loss=loss, bytes=size, run=r, linux_cc=args.linux_cc)
                    runs.append(res)
                    print(f"[{loss:g}% {human(size)}] Linux ({args.linux_cc}): {seconds(res['secs'])}"
                          + (f" FAILED: {res['why']}" if res["why"] else "") + f"; {nft_text(res['nft'])}; server "
                          + " ".join(f"{k}={res['server'].get(k, 0)}" for k in LINUX_KEYS), flush=True)
                    failed |= res["why"] is not None
                    theirs.append(res["secs"] if res["why"] is None else float("inf"))
                os.unlink(src)
                med = lambda xs: sorted(xs)[len(xs) // 2] if xs else None  # noqa: E731
                rows.append((loss, size, med(ours), med(theirs)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def secs(s):
        return "-" if s is None else ("failed" if s == float("inf") else seconds(s))
    ours_label = f"lanetcp-echo ({human(args.buffer_bytes)} buffers)" if args.buffer_bytes else "lanetcp-echo"
    print(f"\n| loss each way | bytes | {ours_label} | Linux echo server ({args.linux_cc}) | lanetcp / Linux |")
    print("|---|---|---|---|---|")
    for loss, size, ours, theirs in rows:
        ratio = "-"
        if ours is not None and theirs not in (None, 0, float("inf")) and ours != float("inf"):
            ratio = f"{ours / theirs:.1f}×"
        print(f"| {loss:g}% | {human(size)} | {secs(ours)} | {secs(theirs)} | {ratio} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": [{"loss": l, "bytes": b, "lanetcp_s": o, "linux_s": t,
                                 "lanetcp_buffer": args.buffer_bytes or None, "linux_cc": args.linux_cc}
                                for l, b, o, t in rows],
                       "runs": runs}, f, indent=1, default=str)
    if args.trace_dir:
        with open(os.path.join(args.trace_dir, "runs.json"), "w") as f:
            json.dump(runs, f, indent=1, default=str)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
