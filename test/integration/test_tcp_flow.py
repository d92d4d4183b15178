#!/usr/bin/python3
"""Flow control and loss recovery against Linux's TCP, checked on the wire:
lanetcp-echo / lanetcp-client on net_af_packet over a veth whose other end
is in a network namespace, tcpdump capturing in the namespace, scapy reading
the capture.

  1. zero window: lanetcp-client --mode send --file (20 MB of random bytes)
     to slow_receiver.py in the namespace (SO_RCVBUF 64 KB before listen),
     which reads the first 1 MB, stops reading for 5 s, then reads to the
     end. Checks: the transfer completes, the received file's SHA-256 is the
     source's, lanetcp-client exits 0 with no mbuf leak; in the capture
     Linux advertised window 0, the zero window lasted through the reader's
     pause, and lanetcp sent zero-window probes while it was 0 (counted);
     the client's transfer time is >= 5 s and < 5 s + 60 s.
  2. loss and SACK: nftables in the namespace drops 5% of TCP packets on its
     input and output hooks; `nc -N` echoes a 100 MB random file through
     lanetcp-echo, byte-exact (SHA-256); lanetcp-echo exits 0, no leak.
     In the capture (headers only): the SYN and the SYN-ACK both carry
     SACK-permitted, and Linux's ACKs carry SACK blocks (counted). How many
     of lanetcp's segments carry SACK blocks, lanetcp's retransmission
     counters and tcpdump's own counts are printed as figures, not checked.

About the loss: a packet Linux sends and nftables drops on the *output* hook
never reaches the wire (the transmit fails and Linux sends it again later),
so the only real loss on the wire is of lanetcp's segments (input hook).
Linux, receiving lanetcp's echoed data with holes, SACKs; lanetcp only sees
holes (and so only sends SACK blocks) when Linux's segments arrive out of
order, which is why that count is a figure.

Every measured figure is printed on a line starting with "FIGURE:" and again
at the end. If a transfer stalls, lanetcp's connections (SIGUSR1) and Linux's
(ss -tin) are printed.

Knobs (environment): LANETCP_FLOW_CASES (default "1,2"), LANETCP_FLOW_ZW_MB
(default 20) size sent in case 1, LANETCP_FLOW_PAUSE_S (default 5) the
reader's pause, LANETCP_FLOW_LOSS_MB (default 100) size echoed in case 2,
LANETCP_FLOW_LOSS_TIMEOUT_S (default 300), LANETCP_KEEP_TMP=1 keeps the
temporary directory (captures, files) even when every check passed.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
APP_IP, APP_PREFIX = "10.97.0.2", "10.97.0.2/24"
PEER_IP, PEER_ADDR = "10.97.0.1", "10.97.0.1/24"
MB = 1 << 20
CASES = set(os.environ.get("LANETCP_FLOW_CASES", "1,2").replace(" ", "").split(","))

# Case 1
ZW_MB = int(os.environ.get("LANETCP_FLOW_ZW_MB", "20"))
ZW_FIRST = 1 * MB
ZW_PAUSE_S = float(os.environ.get("LANETCP_FLOW_PAUSE_S", "5"))
ZW_RCVBUF = 64 * 1024
ZW_MARGIN_S = 60.0
ZW_PORT = 9100
# The zero window is expected to start within this long after the reader
# stops reading (at several hundred MB/s the buffer fills in milliseconds).
ZW_CLOSE_WITHIN_S = 1.0

# Case 2
LOSS_MB = int(os.environ.get("LANETCP_FLOW_LOSS_MB", "100"))
LOSS_PERCENT = 5
LOSS_TIMEOUT_S = float(os.environ.get("LANETCP_FLOW_LOSS_TIMEOUT_S", "300"))
ECHO_PORT = 7
NFT_TABLE = "ltflow"

KEEP_TMP = bool(os.environ.get("LANETCP_KEEP_TMP"))

# A transfer making no progress for this long is declared stalled.
STALL_S = 45

FIGURES = []


def figure(text):
    FIGURES.append(text)
    print(f"FIGURE: {text}", flush=True)


SUMMARY_RE = re.compile(
    r"^lanetcp-client: (?P<outcome>.*?): sent (?P<sent>\d+) bytes \(sha256 (?P<sent_sha>[-0-9a-f]+)\), "
    r"received (?P<received>\d+) bytes \(sha256 (?P<received_sha>[-0-9a-f]+)\), "
    r"(?P<secs>[\d.]+) s, (?P<mbits>[\d.]+) Mbit/s$", re.M)


def counters_text(stats):
    c = stats["counters"]
    keys = ("tcp_fast_retransmits", "tcp_timeouts", "tcp_retransmitted_segments", "tcp_loss_probes",
            "tcp_dsacks_sent", "tcp_out_of_order_held", "tcp_rx_segments", "tcp_tx_segments")
    tcp_drops = {k: v for k, v in stats["drops"].items() if k.startswith("tcp.") and v}
    return " ".join(f"{k[4:]}={c.get(k)}" for k in keys) + f" tcp drops={tcp_drops or 0}"


class Run(harness.NamespaceRun):
    """The namespace, the temporary directory, and everything to end
    whatever happens (helpers, apps, tcpdump, the nft table)."""

    def __init__(self, checks, ns, tmp):
        super().__init__(checks, ns, tmp)
        self.captures = []
        self.nft_table = NFT_TABLE

    def capture(self, name, snaplen, port):
        cap = harness.Tcpdump(self.ns, os.path.join(self.tmp, f"{name}.pcap"), snaplen=snaplen,
                              expression=["tcp", "port", str(port)])
        self.captures.append(cap)
        return cap.start()

    def app(self, name, binary, args):
        self.serial += 1
        prefix = harness.unique(f"ltflow{self.serial}x")
        eal = harness.eal_args(prefix, f"net_af_packet0,iface={self.ns.host_if}") + ["--log-level", "lib.eal:notice"]
        stats = os.path.join(self.tmp, f"{name}.json")
        app = harness.EchoApp(self.tmp, eal, ["--ip", APP_PREFIX, "--stats-json", stats] + list(args),
                              name=name, binary=binary)
        app.stats_path = stats
        self.apps.append(app)
        return app

    def describe_stall(self, what, app):
        """lanetcp's view (SIGUSR1: every lcore prints its connections) and Linux's (ss -tin)."""
        if app.proc is not None and app.proc.poll() is None:
            app.stop(signal.SIGUSR1)
            time.sleep(1)
            ours = [line for line in app.stderr.splitlines() if line.startswith(("lcore ", "  "))]
            print(f"{what}; lanetcp's connections (SIGUSR1):\n" + "\n".join(ours), flush=True)
        p = harness.run(self.ns.exec(["ss", "-tin", "state", "all"]), check=False)
        print(f"{what}; Linux's connections (ss -tin):\n{p.stdout}", flush=True)

    def finish_app(self, app, label, timeout=60):
        """Exit code 0, no mbuf leak, stats JSON; returns the stats (or None)."""
        rc = app.returncode if app.returncode is not None else app.wait(timeout=timeout)
        stats = harness.load_stats(app.stats_path) if harness.file_size(app.stats_path) else None
        harness.check_app_exit(self.checks, rc, stats, app, label=label)
        if rc != 0 or stats is None:
            app.print_output()
        return stats


    def cleanup(self):
        for cap in self.captures:
            cap.stop()
        self.end_helpers()
        for app in self.apps:
            app.cleanup()
        self.loss_off()
        self.captures, self.apps = [], []


def wait_transfer(run, what, procs, watch_path, timeout, app=None):
    """Waits for every process in procs to end. watch_path is the file the
    transfer writes: when it stops growing for STALL_S, or after `timeout`,
    the wait ends early, and app (if given) prints its connections.
    Returns why it ended early, or None."""
    t0 = time.monotonic()
    last_size, last_change = -1, t0
    while any(p.poll() is None for p in procs):
        now = time.monotonic()
        size = harness.file_size(watch_path)
        if size != last_size:
            last_size, last_change = size, now
        why = None
        if now - last_change > STALL_S:
            why = f"{what}: no progress for {STALL_S} s at {size} bytes"
        elif now - t0 > timeout:
            why = f"{what}: not done after {timeout:.0f} s ({size} bytes)"
        if why:
            print(f"STALL: {why}", flush=True)
            if app is not None:
                run.describe_stall(why, app)
            return why
        time.sleep(0.05)
    return None


# ------------------------------------------------------- capture analysis ---

def zero_window_analysis(pcap, port):
    """Walks the case-1 capture with scapy's PcapReader. Linux's segments
    (from PEER_IP) with window 0 open a zero-window period, its next segment
    with a window closes it; lanetcp's segments inside a period (but RSTs)
    are probes: it sends nothing else then, having no data to acknowledge.
    Returns a dict of what was seen."""
    from scapy.all import IP, TCP, PcapReader  # here: importing scapy takes a while
    res = {"frames": 0, "linux_zero": 0, "periods": [], "probes": [], "probe_answers": 0,
           "probe_keepalive_style": 0, "probe_with_data": 0, "linux_window_max": 0, "fins": []}
    zero_since, last_linux, last_ack, pending = None, None, None, False
    with PcapReader(pcap) as reader:
        for pkt in reader:
            if IP not in pkt or TCP not in pkt:
                continue
            ip, tcp = pkt[IP], pkt[TCP]
            if port not in (tcp.sport, tcp.dport):
                continue
            res["frames"] += 1
            t = float(pkt.time)
            flags = int(tcp.flags)
            if flags & 0x01:
                res["fins"].append(ip.src)
            if ip.src == PEER_IP:
                if flags & 0x04 or flags & 0x02:  # RST, SYN
                    continue
                last_linux, last_ack = t, tcp.ack
                res["linux_window_max"] = max(res["linux_window_max"], tcp.window)
                if tcp.window == 0:
                    res["linux_zero"] += 1
                    if zero_since is None:
                        zero_since = t
                    if pending:
                        res["probe_answers"] += 1
                        pending = False
                elif zero_since is not None:
                    res["periods"].append((zero_since, t))
                    zero_since, pending = None, False
            elif ip.src == APP_IP and zero_since is not None and not flags & 0x04:
                plen = ip.len - 4 * ip.ihl - 4 * tcp.dataofs
                res["probes"].append(t)
                if plen == 0 and last_ack is not None and tcp.seq == (last_ack - 1) % (1 << 32):
                    res["probe_keepalive_style"] += 1
                elif plen > 0:
                    res["probe_with_data"] += 1
                pending = True
    if zero_since is not None:  # still closed when the capture ended
        res["periods"].append((zero_since, last_linux))
    return res


def seq_le(a, b):
    """a <= b in sequence space (mod 2^32)."""
    return ((b - a) & 0xFFFFFFFF) < (1 << 31)


def tcp_option_kinds(opts):
    """Option kinds in raw TCP option bytes (stops at EOL or a bad length)."""
    kinds, i = [], 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        kinds.append(kind)
        i += opts[i + 1]
    return kinds


def sack_analysis(pcap, port):
    """Walks the (big, headers-only) case-2 capture with scapy's
    RawPcapReader, a streaming reader, picks out SYNs and segments whose
    options hold kind 5 (SACK) by their raw bytes, and dissects just those
    with scapy (dissecting each of ~300k frames would take minutes here)."""
    from scapy.all import IP, TCP, Ether, RawPcapReader
    res = {"frames": 0, "from_linux": 0, "from_lanetcp": 0, "syn_sackok": None, "synack_sackok": None,
           "linux_sack": 0, "lanetcp_sack": 0, "linux_dsack": 0, "lanetcp_dsack": 0,
           "linux_sack_blocks_max": 0, "lanetcp_sack_blocks_max": 0, "unparsed": 0}
    peer = bytes(int(x) for x in PEER_IP.split("."))
    app = bytes(int(x) for x in APP_IP.split("."))
    reader = RawPcapReader(pcap)
    try:
        for data, _meta in reader:
            if len(data) < 34 or data[12:14] != b"\x08\x00" or data[23] != 6:
                continue
            ihl = (data[14] & 0x0F) * 4
            t = 14 + ihl
            if len(data) < t + 20:
                res["unparsed"] += 1
                continue
            src = data[26:30]
            sport, dport = int.from_bytes(data[t:t + 2], "big"), int.from_bytes(data[t + 2:t + 4], "big")
            if port not in (sport, dport):
                continue
            res["frames"] += 1
            from_linux = src == peer
            if not from_linux and src != app:
                continue
            res["from_linux" if from_linux else "from_lanetcp"] += 1
            doff = (data[t + 12] >> 4) * 4
            flags = data[t + 13]
            syn = bool(flags & 0x02)
            kinds = tcp_option_kinds(data[t + 20:t + doff])
            if not syn and 5 not in kinds:
                continue
            pkt = Ether(data)
            if TCP not in pkt:
                res["unparsed"] += 1
                continue
            opts = dict((o[0], o[1]) for o in pkt[TCP].options if isinstance(o, tuple))
            if syn:
                key = "synack_sackok" if flags & 0x10 else "syn_sackok"
                if res[key] is None:  # the first one (not a retransmitted SYN)
                    res[key] = "SAckOK" in opts
                    res[key + "_from"] = pkt[IP].src
                    res[key + "_options"] = [o[0] for o in pkt[TCP].options]
            if "SAck" in opts:
                edges = opts["SAck"]
                who = "linux" if from_linux else "lanetcp"
                res[f"{who}_sack"] += 1
                res[f"{who}_sack_blocks_max"] = max(res[f"{who}_sack_blocks_max"], len(edges) // 2)
                # D-SACK (RFC 2883): the first block reports a duplicate, below
                # the cumulative ACK or inside the second block.
                ack = pkt[TCP].ack
                below = seq_le(edges[1], ack)
                inside = len(edges) >= 4 and seq_le(edges[2], edges[0]) and seq_le(edges[1], edges[3])
                if below or inside:
                    res[f"{who}_dsack"] += 1
    finally:
        reader.close()
    return res


# ------------------------------------------------------------------ cases ---

def case_zero_window(run):
    checks, tmp = run.checks, run.tmp
    c = "[1-zero-window]"
    size = ZW_MB * MB
    src = harness.random_file(os.path.join(tmp, "zw.in"), size)
    dst = os.path.join(tmp, "zw.out")
    cap = run.capture("zw", 128, ZW_PORT)
    receiver = run.spawn(["/usr/bin/python3", os.path.join(HERE, "slow_receiver.py"), "--port", str(ZW_PORT),
                          "--rcvbuf", str(ZW_RCVBUF), "--first", str(ZW_FIRST), "--pause", str(ZW_PAUSE_S),
                          "--out", dst], stdout=subprocess.PIPE)
    if not run.wait_listening(ZW_PORT):
        checks.fatal(f"{c} slow_receiver.py not listening on {ZW_PORT}: "
                     f"{receiver.stderr.read().decode(errors='replace') if receiver.poll() is not None else ''}")
    client = run.app("zw.client", harness.client_binary(),
                     ["--connect", PEER_IP, "--port", str(ZW_PORT), "--mode", "send", "--file", src])
    t0 = time.monotonic()
    client.start()
    why = wait_transfer(run, f"{c} lanetcp-client --mode send", [client.proc, receiver], dst,
                        ZW_PAUSE_S + ZW_MARGIN_S + 30, app=client)
    if why:
        client.stop(signal.SIGINT)
        harness.kill_group(receiver)
    wall = time.monotonic() - t0
    try:
        client.wait(timeout=60)
    except RuntimeError as e:
        print(f"{c} {e}", flush=True)
    cap.stop()
    checks.check(why is None, f"{c} transfer finished", why or f"{wall:.2f} s wall")

    # The receiver's own account.
    out = receiver.stdout.read().decode(errors="replace") if receiver.stdout else ""
    err = receiver.stderr.read().decode(errors="replace").strip() if receiver.stderr else ""
    result = next((json.loads(line[7:]) for line in out.splitlines() if line.startswith("result ")), None)
    checks.check(receiver.returncode == 0 and result is not None, f"{c} slow_receiver.py finished",
                 f"exit {receiver.returncode}" + (f", stderr: {err[-300:]}" if err else ""))
    if result:
        print(f"{c} receiver: {json.dumps(result)}", flush=True)
        checks.ge(result["before_pause"], ZW_FIRST, f"{c} receiver read the first {ZW_FIRST} bytes before pausing")
        checks.eq(result["total"], size, f"{c} bytes received by Linux")
    checks.eq(harness.file_size(dst), size, f"{c} bytes in the received file")
    exact = checks.eq(harness.sha256_file(dst), harness.sha256_file(src),
                      f"{c} SHA-256 of the received file == the source's")

    # lanetcp-client's account: exit 0, no leak, its summary, its timing.
    stats = run.finish_app(client, f"{c} lanetcp-client")
    m = SUMMARY_RE.search(client.stdout)
    checks.check(m is not None, f"{c} lanetcp-client printed its summary line")
    secs = None
    if m:
        checks.eq(m.group("outcome"), "done", f"{c} lanetcp-client outcome")
        checks.eq(int(m.group("sent")), size, f"{c} lanetcp-client bytes sent")
        secs = float(m.group("secs"))
        checks.check(ZW_PAUSE_S <= secs < ZW_PAUSE_S + ZW_MARGIN_S,
                     f"{c} transfer time >= {ZW_PAUSE_S:g} s and < {ZW_PAUSE_S + ZW_MARGIN_S:g} s", f"{secs:.3f} s")
    if stats is not None:
        figure(f"{c} lanetcp-client counters: " + counters_text(stats))

    # The wire: a zero window during the pause, and lanetcp probing it.
    a = zero_window_analysis(cap.path, ZW_PORT)
    probes = len(a["probes"])
    longest = max(a["periods"], key=lambda p: p[1] - p[0]) if a["periods"] else None
    print(f"{c} capture: {a['frames']} frames, FINs from {a['fins']}; tcpdump: {cap.counts}; zero-window periods "
          f"{[(round(s, 3), round(e - s, 3)) for s, e in a['periods']]}", flush=True)
    checks.ge(a["linux_zero"], 1, f"{c} Linux advertised a zero window (segments with window 0)")
    checks.ge(probes, 1, f"{c} lanetcp sent segments while the window was 0 (zero-window probes)")
    if result and longest:
        ps, pe = result["t_pause_start"], result["t_pause_end"]
        checks.check(ps - 0.5 <= longest[0] <= ps + ZW_CLOSE_WITHIN_S,
                     f"{c} the zero window began when the reader stopped reading (within {ZW_CLOSE_WITHIN_S:g} s)",
                     f"{longest[0] - ps:+.3f} s after the pause began")
        checks.check(longest[1] >= pe, f"{c} the zero window lasted until the reader read again",
                     f"reopened {longest[1] - pe:+.3f} s after the pause ended")
    elif result:
        checks.check(False, f"{c} a zero-window period in the capture")
    gaps = [b - a_ for a_, b in zip(a["probes"], a["probes"][1:])]
    figure(f"{c} {ZW_MB} MB to a Linux reader pausing {ZW_PAUSE_S:g} s (SO_RCVBUF {ZW_RCVBUF // 1024} KB, "
           f"max window field {a['linux_window_max']}): "
           + (f"{secs:.3f} s by lanetcp-client, " if secs is not None else "")
           + f"{wall:.2f} s wall; Linux sent {a['linux_zero']} segments with window 0"
           + (f", zero window for {longest[1] - longest[0]:.3f} s" if longest else ""))
    figure(f"{c} zero-window probes seen: {probes} ({a['probe_keepalive_style']} with SEQ = SND.UNA-1 and no data, "
           f"{a['probe_with_data']} with data), {a['probe_answers']} answered by Linux; intervals "
           f"{', '.join(f'{g:.3f}' for g in gaps) or '-'} s")
    if exact and not KEEP_TMP:
        for f in (dst, src):
            os.unlink(f)


def case_loss_sack(run):
    checks, tmp = run.checks, run.tmp
    c = "[2-loss-sack]"
    size = LOSS_MB * MB
    src = harness.random_file(os.path.join(tmp, "loss.in"), size)
    dst = os.path.join(tmp, "loss.out")
    echo = run.app("loss.echo", harness.echo_binary(), ["--port", str(ECHO_PORT), "--duration", "1800"])
    echo.start()
    print(f"{c} lanetcp-echo is up: {echo.wait_ready(timeout=30).group(0)}", flush=True)
    run.loss_on(LOSS_PERCENT)
    cap = run.capture("loss", 96, ECHO_PORT)
    t0 = time.monotonic()
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        nc = run.spawn(["nc", "-N", APP_IP, str(ECHO_PORT)], stdin=fin, stdout=fout)
    why = wait_transfer(run, f"{c} nc -N echo", [nc], dst, LOSS_TIMEOUT_S, app=echo)
    secs = time.monotonic() - t0
    if why:
        harness.kill_group(nc)
    counts = cap.stop()
    lc = run.loss_counters()
    run.loss_off()
    nc_err = nc.stderr.read().decode(errors="replace").strip() if nc.stderr else ""
    checks.check(why is None, f"{c} nc finished", why or f"{secs:.2f} s")
    checks.eq(nc.returncode, 0, f"{c} nc exit code" + (f" (stderr: {nc_err})" if nc_err else ""))
    checks.eq(harness.file_size(dst), size, f"{c} bytes echoed back")
    exact = checks.eq(harness.sha256_file(dst), harness.sha256_file(src),
                      f"{c} SHA-256 of the echoed bytes == the file's")
    checks.ge(lc["in"][1], 1, f"{c} nftables dropped lanetcp's segments (input hook)")
    echo.stop(signal.SIGINT)
    stats = run.finish_app(echo, f"{c} lanetcp-echo")
    if stats is not None:
        checks.eq(stats["counters"]["tcp_passive_opens"], 1, f"{c} lanetcp-echo tcp_passive_opens")
        checks.eq(stats["counters"]["tcp_rx_bytes"], size, f"{c} lanetcp-echo tcp_rx_bytes")

    a = sack_analysis(cap.path, ECHO_PORT)
    print(f"{c} capture analysis: {json.dumps(a)}", flush=True)
    checks.eq(a["syn_sackok"], True, f"{c} Linux's SYN carries SACK-permitted")
    checks.eq(a["synack_sackok"], True, f"{c} lanetcp's SYN-ACK carries SACK-permitted")
    checks.eq((a.get("syn_sackok_from"), a.get("synack_sackok_from")), (PEER_IP, APP_IP),
              f"{c} the SYN is Linux's, the SYN-ACK lanetcp's")
    checks.ge(a["linux_sack"], 1, f"{c} Linux's ACKs carry SACK blocks")

    pct = lambda seen_dropped: 100.0 * seen_dropped[1] / seen_dropped[0] if seen_dropped[0] else 0.0  # noqa: E731
    figure(f"{c} nc -N echo of {LOSS_MB} MB under {LOSS_PERCENT}% loss: {secs:.2f} s, "
           f"{LOSS_MB / secs if secs > 0 else 0:.1f} MB/s each way; nftables dropped {lc['in'][1]} of {lc['in'][0]} "
           f"({pct(lc['in']):.1f}%) to Linux, {lc['out'][1]} of {lc['out'][0]} ({pct(lc['out']):.1f}%) from Linux")
    figure(f"{c} SACK: SYN {a.get('syn_sackok_options', '-')}, SYN-ACK {a.get('synack_sackok_options', '-')}; "
           f"Linux's segments with SACK blocks: {a['linux_sack']} of {a['from_linux']} "
           f"(D-SACK {a['linux_dsack']}, up to {a['linux_sack_blocks_max']} blocks); "
           f"lanetcp's: {a['lanetcp_sack']} of {a['from_lanetcp']} "
           f"(D-SACK {a['lanetcp_dsack']}, up to {a['lanetcp_sack_blocks_max']} blocks)")
    sc = stats["counters"] if stats is not None else {}
    figure(f"{c} tcpdump: {counts.get('captured', '?')} captured, {counts.get('received by filter', '?')} received "
           f"by filter, {counts.get('dropped by kernel', '?')} dropped by kernel; in the pcap "
           f"{a['from_lanetcp']} frames from lanetcp (it sent {sc.get('tcp_tx_segments', '?')}), "
           f"{a['from_linux']} from Linux (lanetcp received {sc.get('tcp_rx_segments', '?')})")
    if stats is not None:
        figure(f"{c} lanetcp-echo counters: " + counters_text(stats))
    if exact and not KEEP_TMP:
        for f in (dst, src, cap.path):
            os.unlink(f)


def body(checks):
    harness.require_root(checks)
    for tool in ("nc", "nft", "ss", "tcpdump", "ip", "ethtool"):
        if shutil.which(tool) is None:
            print(f"SKIP: {tool} not installed (apt-get install netcat-openbsd nftables iproute2 tcpdump ethtool)")
            sys.exit(harness.EXIT_SKIP)
    import importlib.util
    if importlib.util.find_spec("scapy") is None:
        print("SKIP: scapy missing (run with /usr/bin/python3, apt-get install python3-scapy)")
        sys.exit(harness.EXIT_SKIP)
    harness.echo_binary()
    harness.client_binary()
    tmp = harness.tempdir("flow")
    run = None
    try:
        with harness.VethNamespace("tf", PEER_ADDR) as ns:
            run = Run(checks, ns, tmp)
            try:
                if "1" in CASES:
                    print(f"\n== 1. zero window: {ZW_MB} MB to a Linux reader that pauses {ZW_PAUSE_S:g} s ==",
                          flush=True)
                    case_zero_window(run)
                    run.cleanup()
                if "2" in CASES:
                    print(f"\n== 2. {LOSS_PERCENT}% loss, {LOSS_MB} MB each way, SACK ==", flush=True)
                    case_loss_sack(run)
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
    sys.exit(harness.main("tcp_flow", body))
