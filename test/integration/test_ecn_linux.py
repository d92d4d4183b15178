#!/usr/bin/python3
"""ECN (RFC 3168) against Linux's TCP, checked on the wire: lanetcp-echo and
lanetcp-client on net_af_packet over a veth whose other end is in a network
namespace with net.ipv4.tcp_ecn = 1, tcpdump capturing in the namespace.

  1. passive open, lanetcp's default tcp.ecn = 2: `nc -N` in the namespace
     echoes 1 MB through lanetcp-echo, byte-exact. In the capture: Linux's
     SYN carries ECE and CWR, lanetcp's SYN-ACK ECE and not CWR, neither is
     ECT; lanetcp's new data segments are all ECT(0), its retransmissions
     and pure ACKs never; Linux's data is ECT(0) (so Linux agreed too);
     lanetcp counted one ECN connection (tcp_ecn_negotiated).
  2. active open, tcp.ecn = 1 in lanetcp-client's configuration: echo of
     1 MB through a socat echo server. lanetcp's SYN carries ECE and CWR,
     Linux's SYN-ACK ECE alone, data both ways ECT(0).
  3. passive open with tcp.ecn = 0: Linux still asks, lanetcp's SYN-ACK
     says no (no ECE), and no data either way is ECT.
  4. CE both ways, as 1 but nftables in the namespace marks 5% of the ECT(0)
     TCP packets CE (ip ecn set ce) on its output hook (Linux's data, before
     the capture sees it) and on its input hook (lanetcp's data, after):
     byte-exact; lanetcp counted CEs received, ECEs sent and Linux's CWRs,
     and ECEs received, its reductions and its CWRs; in the capture Linux's
     segments carry CWR and ECE, lanetcp's ECE and CWR. lanetcp's
     retransmissions are printed (a marked packet is not a lost one).

Every lanetcp run exits 0 with no mbuf leak. Figures (segments by ECN
codepoint each way, lanetcp's ECN counters) are printed under "measured
figures" at the end.

Knobs (environment): LANETCP_ECN_CASES (default "1,2,3,4"), LANETCP_ECN_KB
(default 1024) bytes echoed per case, LANETCP_KEEP_TMP=1 keeps the captures.
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

APP_IP, APP_PREFIX = "10.94.0.2", "10.94.0.2/24"
PEER_IP, PEER_ADDR = "10.94.0.1", "10.94.0.1/24"
ECHO_PORT = 7
CASES = set(os.environ.get("LANETCP_ECN_CASES", "1,2,3,4").replace(" ", "").split(","))
SIZE = int(os.environ.get("LANETCP_ECN_KB", "1024")) * 1024
KEEP_TMP = bool(os.environ.get("LANETCP_KEEP_TMP"))
TIMEOUT_S = 60
SNAPLEN = 1600
NFT_TABLE = "ltecn"
MARK_ONE_IN = 20  # case 4: CE on one ECT(0) packet in 20, each way  # whole frames: read_pcap refuses truncated ones

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = (1 << i for i in range(8))
NOT_ECT, ECT1, ECT0, CE = range(4)
ECN_NAMES = {NOT_ECT: "not-ECT", ECT1: "ECT(1)", ECT0: "ECT(0)", CE: "CE"}

FIGURES = []


def figure(text):
    FIGURES.append(text)
    print(f"FIGURE: {text}", flush=True)


def seq_after(a, b):
    """a > b in sequence space (RFC 9293 3.4)."""
    return 0 < ((a - b) & 0xFFFFFFFF) < 0x80000000


def analyse(path):
    """Per direction ('lanetcp', 'linux'): the SYN (or SYN-ACK) as (flags, ecn),
    and data segments, pure ACKs and retransmissions by ECN codepoint. A data
    segment is a retransmission when it starts below the highest sequence
    number its sender had sent (what tcp_ecn_send calls "before snd_nxt")."""
    app = bytes(int(x) for x in APP_IP.split("."))
    res = {}
    for who in ("lanetcp", "linux"):
        res[who] = {"syn": None, "new": {}, "retrans": {}, "pure": {}, "cwr": 0, "ece": 0}
    snd_max = {}
    for f in harness.read_pcap(path):
        if len(f) < 34 or f[12:14] != b"\x08\x00" or f[23] != 6:
            continue
        ecn = f[15] & 3
        ihl = (f[14] & 0x0F) * 4
        total = int.from_bytes(f[16:18], "big")
        t = 14 + ihl
        who = "lanetcp" if f[26:30] == app else "linux"
        doff = (f[t + 12] >> 4) * 4
        flags = f[t + 13]
        seq = int.from_bytes(f[t + 4:t + 8], "big")
        payload = total - ihl - doff
        r = res[who]
        if flags & SYN:
            r["syn"] = (flags, ecn)
            snd_max[who] = (seq + 1) & 0xFFFFFFFF
            continue
        if flags & CWR:
            r["cwr"] += 1
        if flags & ECE:
            r["ece"] += 1
        if payload == 0:
            kind = "pure"
        else:
            end = (seq + payload) & 0xFFFFFFFF
            kind = "retrans" if who in snd_max and seq_after(snd_max[who], seq) else "new"
            if who not in snd_max or seq_after(end, snd_max[who]):
                snd_max[who] = end
        r[kind][ECN_NAMES[ecn]] = r[kind].get(ECN_NAMES[ecn], 0) + 1
    return res


def flags_text(flags):
    return "|".join(n for n, b in (("SYN", SYN), ("ACK", ACK), ("ECE", ECE), ("CWR", CWR)) if flags & b)


class Run(harness.NamespaceRun):
    def __init__(self, checks, ns, tmp):
        super().__init__(checks, ns, tmp)
        self.captures = []

    def config(self, name, ecn):
        path = os.path.join(self.tmp, f"{name}.toml")
        with open(path, "w") as f:
            f.write(f"[tcp]\necn = {ecn}\n")
        return path

    def app(self, name, binary, args):
        self.serial += 1
        prefix = harness.unique(f"ltecn{self.serial}x")
        eal = harness.eal_args(prefix, f"net_af_packet0,iface={self.ns.host_if}") + ["--log-level", "lib.eal:notice"]
        stats = os.path.join(self.tmp, f"{name}.json")
        a = harness.EchoApp(self.tmp, eal, ["--ip", APP_PREFIX, "--stats-json", stats] + list(args),
                            name=name, binary=binary)
        a.stats_path = stats
        self.apps.append(a)
        return a

    def capture(self, name):
        cap = harness.Tcpdump(self.ns, os.path.join(self.tmp, f"{name}.pcap"), snaplen=SNAPLEN,
                              expression=["tcp", "port", str(ECHO_PORT)])
        self.captures.append(cap)
        return cap.start()

    def finish_app(self, a, label):
        rc = a.returncode if a.returncode is not None else a.wait(timeout=TIMEOUT_S)
        stats = harness.load_stats(a.stats_path) if harness.file_size(a.stats_path) else None
        harness.check_app_exit(self.checks, rc, stats, a, label=label)
        if rc != 0 or stats is None:
            a.print_output()
        return stats

    def marking_on(self):
        """nftables marks CE on one ECT(0) TCP packet in MARK_ONE_IN on each
        hook: output (Linux's packets) and input (lanetcp's)."""
        rule = f"ip protocol tcp ip ecn ect0 numgen random mod {MARK_ONE_IN} 0 counter ip ecn set ce"
        script = (f"table ip {NFT_TABLE} {{\n"
                  f"  chain out {{ type filter hook output priority 0; {rule}; }}\n"
                  f"  chain in {{ type filter hook input priority 0; {rule}; }}\n}}\n")
        harness.run(self.ns.exec(["nft", "-f", "-"]), input=script)
        self.marking = True

    def marked(self):
        """Packets marked CE so far: (Linux's, lanetcp's)."""
        p = harness.run(self.ns.exec(["nft", "list", "table", "ip", NFT_TABLE]))
        counts = [int(n) for n in re.findall(r"counter packets (\d+)", p.stdout)]
        return tuple(counts) if len(counts) == 2 else (0, 0)

    def marking_off(self):
        if getattr(self, "marking", False):
            harness.run(self.ns.exec(["nft", "delete", "table", "ip", NFT_TABLE]), check=False)
            self.marking = False

    def cleanup(self):
        self.marking_off()
        for cap in self.captures:
            cap.stop()
        self.end_helpers()
        for a in self.apps:
            a.cleanup()
        self.captures, self.apps = [], []


def ecn_counters(stats):
    c = stats["counters"] if stats else {}
    return {k: v for k, v in c.items() if k.startswith("tcp_ecn_")}


def check_wire(checks, c, a, ecn_on, active):
    """The handshake and the data codepoints, as RFC 3168 and Linux's tcp_ecn say."""
    syn_from, synack_from = ("lanetcp", "linux") if active else ("linux", "lanetcp")
    syn, synack = a[syn_from]["syn"], a[synack_from]["syn"]
    checks.check(syn is not None and synack is not None, f"{c} SYN and SYN-ACK captured", f"{syn} {synack}")
    if syn is None or synack is None:
        return
    checks.eq(flags_text(syn[0]), "SYN|ECE|CWR", f"{c} {syn_from}'s SYN is an ECN-setup SYN")
    checks.eq(flags_text(synack[0]), "SYN|ACK|ECE" if ecn_on else "SYN|ACK",
              f"{c} {synack_from}'s SYN-ACK" + (" agrees (ECE, not CWR)" if ecn_on else " declines (no ECE)"))
    checks.eq((syn[1], synack[1]), (NOT_ECT, NOT_ECT), f"{c} SYN and SYN-ACK are not ECT")
    ours = a["lanetcp"]
    want = "ECT(0)" if ecn_on else "not-ECT"
    checks.check(ours["new"].get(want, 0) > 0 and set(ours["new"]) == {want},
                 f"{c} every new data segment from lanetcp is {want}", str(ours["new"]))
    checks.check(set(ours["retrans"]) <= {"not-ECT"}, f"{c} lanetcp's retransmissions are not ECT",
                 str(ours["retrans"]))
    checks.check(set(ours["pure"]) <= {"not-ECT"}, f"{c} lanetcp's pure ACKs are not ECT", str(ours["pure"]))
    theirs = a["linux"]["new"]
    checks.check(theirs.get(want, 0) > 0 and theirs.get("not-ECT" if ecn_on else "ECT(0)", 0) == 0,
                 f"{c} Linux's new data segments are {want}", str(theirs))


def case_passive(run, c, ecn, mark=False):
    checks, tmp = run.checks, run.tmp
    args = ["--port", str(ECHO_PORT), "--duration", "600"]
    if ecn is not None:
        args += ["--config", run.config(f"echo{ecn}", ecn)]
    echo = run.app(f"echo.{c.strip('[]')}", harness.echo_binary(), args)
    echo.start()
    print(f"{c} lanetcp-echo is up: {echo.wait_ready(timeout=30).group(0)}", flush=True)
    cap = run.capture(c.strip("[]"))
    if mark:
        run.marking_on()
    src = harness.random_file(os.path.join(tmp, "in"), SIZE)
    dst = os.path.join(tmp, "out")
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        nc = run.spawn(["nc", "-N", APP_IP, str(ECHO_PORT)], stdin=fin, stdout=fout)
    try:
        nc.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        harness.kill_group(nc)
        checks.check(False, f"{c} nc finished within {TIMEOUT_S} s")
    cap.stop()
    marked = run.marked() if mark else (0, 0)
    run.marking_off()
    checks.eq(nc.returncode, 0, f"{c} nc exit code")
    checks.eq(harness.sha256_file(dst), harness.sha256_file(src), f"{c} the echo is byte-exact")
    echo.stop(signal.SIGINT)
    stats = run.finish_app(echo, f"{c} lanetcp-echo")
    a = analyse(cap.path)
    ecn_on = ecn != 0
    check_wire(checks, c, a, ecn_on, active=False)
    counters = ecn_counters(stats)
    checks.eq(counters.get("tcp_ecn_negotiated"), 1 if ecn_on else 0, f"{c} lanetcp's tcp_ecn_negotiated")
    if mark:
        check_marks(checks, c, a, counters, marked, stats)
    figure(f"{c} lanetcp tcp.ecn={2 if ecn is None else ecn}, Linux tcp_ecn=1: from lanetcp new data "
           f"{a['lanetcp']['new']}, retransmissions {a['lanetcp']['retrans']}, pure ACKs {a['lanetcp']['pure']}; "
           f"from Linux new data {a['linux']['new']}; counters {counters}")
    if not KEEP_TMP and not checks.failures:
        os.unlink(cap.path)


def check_marks(checks, c, a, counters, marked, stats):
    """CE -> ECE -> CWR both ways (RFC 3168 6.1.2, 6.1.3)."""
    checks.ge(marked[0], 1, f"{c} nftables marked CE on Linux's packets")
    checks.ge(marked[1], 1, f"{c} nftables marked CE on lanetcp's packets")
    # lanetcp as receiver: CE arrived, ECE went back, Linux answered with CWR.
    checks.ge(counters.get("tcp_ecn_ce_received", 0), 1, f"{c} lanetcp counted CE-marked segments")
    checks.ge(counters.get("tcp_ecn_ece_sent", 0), 1, f"{c} lanetcp sent ECE")
    checks.ge(a["lanetcp"]["ece"], 1, f"{c} the capture shows lanetcp's ECE")
    checks.ge(a["linux"]["cwr"], 1, f"{c} the capture shows Linux's CWR")
    checks.ge(counters.get("tcp_ecn_cwr_received", 0), 1, f"{c} lanetcp counted Linux's CWRs")
    # lanetcp as sender: Linux echoed, lanetcp reduced and said so.
    checks.ge(a["linux"]["ece"], 1, f"{c} the capture shows Linux's ECE")
    checks.ge(counters.get("tcp_ecn_ece_received", 0), 1, f"{c} lanetcp counted ECEs")
    checks.ge(counters.get("tcp_ecn_reductions", 0), 1, f"{c} lanetcp reduced its window for ECE")
    checks.ge(a["lanetcp"]["cwr"], 1, f"{c} the capture shows lanetcp's CWR")
    checks.ge(counters.get("tcp_ecn_cwr_sent", 0), 1, f"{c} lanetcp counted its CWRs")
    sc = stats["counters"] if stats else {}
    figure(f"{c} CE marks by nftables: {marked[0]} on Linux's packets, {marked[1]} on lanetcp's; in the capture "
           f"ECE/CWR from lanetcp {a['lanetcp']['ece']}/{a['lanetcp']['cwr']}, from Linux "
           f"{a['linux']['ece']}/{a['linux']['cwr']}; lanetcp retransmitted {sc.get('tcp_retransmitted_segments')} "
           f"segments (timeouts {sc.get('tcp_timeouts')}, loss probes {sc.get('tcp_loss_probes')})")


def case_active(run, c):
    checks = run.checks
    socat = run.spawn(["socat", f"TCP-LISTEN:{ECHO_PORT},fork,reuseaddr", "EXEC:cat"])
    if not run.wait_listening(ECHO_PORT):
        checks.fatal(f"{c} socat echo server not listening on {ECHO_PORT}")
    cap = run.capture("active")
    client = run.app("client", harness.client_binary(),
                     ["--connect", PEER_IP, "--port", str(ECHO_PORT), "--bytes", f"{SIZE // 1024}K",
                      "--config", run.config("client", 1)])
    t0 = time.monotonic()
    client.start()
    try:
        client.proc.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        client.stop(signal.SIGINT)
    print(f"{c} lanetcp-client ran {time.monotonic() - t0:.2f} s", flush=True)
    cap.stop()
    harness.kill_group(socat)
    stats = run.finish_app(client, f"{c} lanetcp-client")
    checks.check("done" in client.stdout, f"{c} lanetcp-client's echo is done", client.stdout.strip()[-200:])
    a = analyse(cap.path)
    check_wire(checks, c, a, True, active=True)
    counters = ecn_counters(stats)
    checks.eq(counters.get("tcp_ecn_negotiated"), 1, f"{c} lanetcp's tcp_ecn_negotiated")
    figure(f"{c} lanetcp tcp.ecn=1 active open: from lanetcp new data {a['lanetcp']['new']}, retransmissions "
           f"{a['lanetcp']['retrans']}, pure ACKs {a['lanetcp']['pure']}; from Linux new data {a['linux']['new']}; "
           f"counters {counters}")
    if not KEEP_TMP and not checks.failures:
        os.unlink(cap.path)


def body(checks):
    harness.require_root(checks)
    for tool in ("nc", "socat", "tcpdump", "nft", "ip", "ethtool"):
        if shutil.which(tool) is None:
            print(f"SKIP: {tool} not installed (apt-get install netcat-openbsd socat tcpdump nftables iproute2 ethtool)")
            sys.exit(harness.EXIT_SKIP)
    harness.echo_binary()
    harness.client_binary()
    tmp = harness.tempdir("ecn")
    try:
        with harness.VethNamespace("ec", PEER_ADDR) as ns:
            # ECN per namespace, as a host with it switched on: SYNs ask.
            harness.run(ns.exec(["sysctl", "-q", "-w", "net.ipv4.tcp_ecn=1"]))
            run = Run(checks, ns, tmp)
            try:
                if "1" in CASES:
                    print("\n== 1. Linux asks, lanetcp-echo (tcp.ecn = 2) accepts ==", flush=True)
                    case_passive(run, "[1-passive]", None)
                    run.cleanup()
                if "2" in CASES:
                    print("\n== 2. lanetcp-client (tcp.ecn = 1) asks, Linux accepts ==", flush=True)
                    case_active(run, "[2-active]")
                    run.cleanup()
                if "3" in CASES:
                    print("\n== 3. Linux asks, lanetcp-echo with tcp.ecn = 0 declines ==", flush=True)
                    case_passive(run, "[3-off]", 0)
                    run.cleanup()
                if "4" in CASES:
                    print(f"\n== 4. CE on one ECT(0) packet in {MARK_ONE_IN} each way ==", flush=True)
                    case_passive(run, "[4-ce]", None, mark=True)
            finally:
                run.cleanup()
    finally:
        if FIGURES:
            print("\n==== measured figures ====")
            for f in FIGURES:
                print("  " + f)
            print(flush=True)
        if not checks.failures and not KEEP_TMP:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"files kept in {tmp}")


if __name__ == "__main__":
    sys.exit(harness.main("ecn_linux", body))
