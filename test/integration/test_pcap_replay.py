#!/usr/bin/python3
"""net_pcap replay: feeds test/fixtures/pcap/replay.pcap (ARP, pings, and one
frame per malformation) to lanetcp-echo and checks

  - the tx pcap holds exactly the expected frames, in order: the gratuitous
    ARP, one ARP reply per ARP request for us, one echo reply per valid echo
    request (payload byte-identical, id/seq, checksums, addresses, no IP
    options, Ethernet padding not echoed), one ARP request for the requester
    that never ARPed and for those known only by an unsolicited reply or a
    gratuitous ARP (no entry, as Linux with arp_accept=0); nothing else
  - every drop reason in the stats JSON equals what the pcap injects
  - traffic counters, mbufs_leaked == 0, exit code 0
"""

import collections
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

sys.path.insert(0, os.path.join(harness.FIXTURES, "pcap"))
import make_replay_pcap as fx  # noqa: E402

from scapy.layers.inet import ICMP, IP, TCP  # noqa: E402
from scapy.layers.l2 import ARP, Ether  # noqa: E402

CONFIG = os.path.join(harness.FIXTURES, "pcap", "replay.toml")
ZERO_MAC = "00:00:00:00:00:00"


def check_arp(checks, what, frame, op, dst_mac, target_mac, target_ip, sender_ip=fx.US_IP):
    e = Ether(frame)
    ok = checks.check(e.type == 0x0806 and ARP in e, f"{what}: is ARP", e.summary())
    if not ok:
        return
    a = e[ARP]
    checks.eq((e.dst, e.src), (dst_mac, fx.US_MAC), f"{what}: ethernet dst/src")
    checks.eq((a.hwtype, a.ptype, a.hwlen, a.plen, a.op), (1, 0x0800, 6, 4, op), f"{what}: htype/ptype/hlen/plen/op")
    checks.eq((a.hwsrc, a.psrc), (fx.US_MAC, sender_ip), f"{what}: sender MAC/IP")
    checks.eq((a.hwdst, a.pdst), (target_mac, target_ip), f"{what}: target MAC/IP")
    checks.check(len(frame) >= 42, f"{what}: frame length", f"{len(frame)} bytes")


def check_echo_reply(checks, what, frame, request):
    req = Ether(request)
    rip, ricmp = req[IP], req[ICMP]
    req_ihl = rip.ihl * 4
    req_icmp_bytes = bytes(req[IP])[req_ihl:rip.len]

    e = Ether(frame)
    if not checks.check(e.type == 0x0800 and IP in e, f"{what}: is IPv4", e.summary()):
        return
    checks.eq((e.dst, e.src), (req.src, fx.US_MAC), f"{what}: ethernet dst/src")
    raw_ip = frame[14:]
    ihl = (raw_ip[0] & 0x0F) * 4
    total = int.from_bytes(raw_ip[2:4], "big")
    checks.eq(raw_ip[0], 0x45, f"{what}: version 4, IHL 5 (request options not echoed)")
    checks.eq(harness.internet_checksum(raw_ip[:ihl]), 0, f"{what}: IPv4 header checksum valid")
    ip = e[IP]
    checks.eq((ip.src, ip.dst, ip.proto), (fx.US_IP, rip.src, 1), f"{what}: IPv4 src/dst/protocol")
    checks.eq((ip.flags.MF, ip.frag), (0, 0), f"{what}: not a fragment")
    checks.eq(ip.ttl, 64, f"{what}: ttl")
    checks.eq(ip.tos, rip.tos, f"{what}: tos copied from the request")
    checks.eq(total, 20 + len(req_icmp_bytes), f"{what}: IPv4 total length")
    # Either exactly the datagram, or padded (with zeros) to the 60-byte minimum.
    exact = 14 + total
    padded_ok = exact < 60 and len(frame) == 60 and frame[exact:] == bytes(60 - exact)
    checks.check(len(frame) == exact or padded_ok, f"{what}: frame length, no trailing bytes",
                 f"{len(frame)} bytes for a {total}-byte datagram")
    icmp_bytes = raw_ip[ihl:total]
    checks.eq(harness.internet_checksum(icmp_bytes), 0, f"{what}: ICMP checksum valid")
    checks.eq((icmp_bytes[0], icmp_bytes[1]), (0, 0), f"{what}: ICMP type/code echo reply")
    checks.eq((int.from_bytes(icmp_bytes[4:6], "big"), int.from_bytes(icmp_bytes[6:8], "big")),
              (ricmp.id, ricmp.seq), f"{what}: ICMP id/seq")
    same = icmp_bytes[8:] == req_icmp_bytes[8:]
    checks.check(same, f"{what}: payload byte-identical",
                 f"{len(icmp_bytes) - 8} bytes" if same else
                 f"got {len(icmp_bytes) - 8} bytes {icmp_bytes[8:24].hex()}.., sent {len(req_icmp_bytes) - 8} "
                 f"bytes {req_icmp_bytes[8:24].hex()}..")


def check_rst(checks, what, frame, syn_frame):
    # RFC 9293 3.10.7.1: the SYN had no ACK, so <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    syn = Ether(syn_frame)
    e = Ether(frame)
    checks.check(IP in e and TCP in e, f"{what}: an IPv4/TCP frame", e.summary())
    if not (IP in e and TCP in e):
        return
    checks.eq((e.dst, e.src), (syn.src, syn.dst), f"{what}: ethernet dst/src")
    checks.eq((e[IP].src, e[IP].dst), (syn[IP].dst, syn[IP].src), f"{what}: IPv4 src/dst")
    t = e[TCP]
    checks.eq((t.sport, t.dport), (syn[TCP].dport, syn[TCP].sport), f"{what}: ports swapped")
    checks.eq(str(t.flags), "RA", f"{what}: flags RST+ACK")
    checks.eq((t.seq, t.ack), (0, syn[TCP].seq + 1), f"{what}: seq 0, ack SEG.SEQ+1")
    checks.eq(t.window, 0, f"{what}: window 0")
    raw = bytes(e[IP])
    ihl = (raw[0] & 0x0F) * 4
    seg = raw[ihl:e[IP].len]
    pseudo = raw[12:20] + bytes([0, 6]) + len(seg).to_bytes(2, "big")
    checks.eq(inet_sum(pseudo + seg), 0xFFFF, f"{what}: TCP checksum valid")


def inet_sum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def body(checks):
    harness.require_root(checks)
    frames = fx.build_frames()

    committed = harness.read_pcap(fx.PCAP)
    in_sync = committed == [f.data for f in frames]
    checks.check(in_sync, f"{os.path.relpath(fx.PCAP, harness.REPO)} matches make_replay_pcap.py",
                 f"{len(committed)} frames" if in_sync else
                 "regenerate it: /usr/bin/python3 test/fixtures/pcap/make_replay_pcap.py")
    if not in_sync:
        return

    tmp = harness.tempdir("pcap")
    out_pcap = os.path.join(tmp, "out.pcap")
    stats_json = os.path.join(tmp, "stats.json")
    prefix = harness.unique("ltpcap")
    eal = harness.eal_args(prefix, f"net_pcap0,rx_pcap={fx.PCAP},tx_pcap={out_pcap}")
    # replay.toml: ARP retry 60 s, so the request for C is sent exactly once.
    app_args = ["--ip", fx.US_PREFIX, "--mac", fx.US_MAC, "--config", CONFIG, "--duration", "2",
                "--stats-json", stats_json]
    app = harness.EchoApp(tmp, eal, app_args)
    try:
        app.start()
        rc = app.wait(timeout=60)
        app.print_output()
        ready = harness.READY_RE.search(app.stdout)
        checks.check(ready is not None and ready.group("mac") == fx.US_MAC,
                     "--mac is honoured with net_pcap", ready.group(0) if ready else "no start line")
        stats = harness.load_stats(stats_json) if os.path.exists(stats_json) else None
        harness.check_app_exit(checks, rc, stats, app)
        if stats is None:
            return

        # ---- the transmitted frames ----
        out = harness.read_pcap(out_pcap)
        expected = [("gratuitous ARP", None)] + [(f.reply, f) for f in frames if f.reply]
        print(f"\ntx pcap: {len(out)} frames; expected {len(expected)}:")
        for i, fr in enumerate(out):
            print(f"  {i:2}: {len(fr):4} bytes  {Ether(fr).summary()}")
        checks.eq(len(out), len(expected), "number of transmitted frames")
        for i, ((kind, f), fr) in enumerate(zip(expected, out)):
            what = f"tx[{i}] {kind}" + (f" for '{f.name}'" if f else "")
            if kind == "gratuitous ARP":
                check_arp(checks, what, fr, 1, fx.BCAST, ZERO_MAC, fx.US_IP)
                checks.eq(len(fr), 60, f"{what}: padded to 60 bytes")
            elif kind == "arp_reply":
                req = Ether(f.data)[ARP]
                check_arp(checks, what, fr, 2, req.hwsrc, req.hwsrc, req.psrc)
            elif kind == "echo_reply":
                check_echo_reply(checks, what, fr, f.data)
            elif kind == "tcp_rst":
                check_rst(checks, what, fr, f.data)
            elif kind == "arp_request":
                req = Ether(f.data)
                check_arp(checks, what, fr, 1, fx.BCAST, ZERO_MAC, req[IP].src)
            else:
                checks.fatal(f"unknown expectation {kind}")

        # ---- drops, one reason at a time ----
        want_drops = collections.Counter(f.drop for f in frames if f.drop)
        print("\ndrop counters (measured / injected):")
        for reason in harness.KNOWN_DROPS:
            got = stats["drops"].get(reason)
            if got or want_drops.get(reason):
                print(f"  {reason:28} {got} / {want_drops.get(reason, 0)}")
        for reason in sorted(set(harness.KNOWN_DROPS) | set(stats["drops"])):
            checks.eq(stats["drops"].get(reason), want_drops.get(reason, 0), f"drop {reason}")
        checks.eq(stats["drops_total"], sum(want_drops.values()), "drops_total")

        # ---- traffic counters ----
        want = collections.Counter()
        for f in frames:
            want.update(f.counters)
        want["arp_tx_requests"] += 1  # the gratuitous ARP
        want["port_rx_packets"] = len(frames)
        want["port_rx_bytes"] = sum(len(f.data) for f in frames)
        want["port_tx_packets"] = len(out)
        want["port_tx_bytes"] = sum(len(fr) for fr in out)
        for name in harness.KNOWN_COUNTERS:
            checks.eq(stats["counters"].get(name), want.get(name, 0), f"counter {name}")
    finally:
        app.cleanup()
        if not checks.failures and not os.environ.get("LANETCP_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"files kept in {tmp}")


if __name__ == "__main__":
    sys.exit(harness.main("pcap_replay", body))
