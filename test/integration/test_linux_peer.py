#!/usr/bin/python3
"""Linux peer: lanetcp-echo on net_af_packet over a veth whose other end is
in a network namespace, and the Linux stack there as the peer.

  1. ping -c 100 -i 0.01            -> 100/100 (rtt min/avg/max printed)
     ping -c 5 -s 1472 -M do        -> 5/5 (1500-byte datagrams)
  2. arping -c 3                    -> 3 replies
  3. scapy sendp from the namespace: every malformed frame below, COPIES times
  4. ping -c 20 -i 0.01             -> 20/20 (the stack still answers)
  5. SIGINT; exit code 0, mbufs_leaked == 0, each drop reason == injected
     (>= for eth.not_for_us / eth.unsupported_ethertype, which the Linux peer
     may also produce), echo requests/replies == the pings sent.

Two malformations cannot reach the stack this way and are covered by
test_pcap_replay.py only:
  - eth.truncated: a packet socket refuses to send a frame shorter than 14 bytes;
  - ipv4.fragment: DPDK's net_af_packet joins its socket to a PACKET_FANOUT
    group with PACKET_FANOUT_FLAG_DEFRAG, so the kernel reassembles fragments
    before the PMD sees them (a lone fragment is never delivered; a complete
    set arrives as one unfragmented datagram).
"""

import collections
import os
import re
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from scapy.layers.inet import ICMP, IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6  # noqa: E402
from scapy.layers.l2 import ARP, Dot1Q, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402
from scapy.utils import wrpcap  # noqa: E402

APP_IP, APP_PREFIX = "10.98.0.2", "10.98.0.2/24"
PEER_IP, PEER_ADDR = "10.98.0.1", "10.98.0.1/24"
SUBNET_BROADCAST = "10.98.0.255"
BCAST = "ff:ff:ff:ff:ff:ff"
COPIES = 3
# Linux itself may send frames counted under these (IPv6, multicast).
AT_LEAST = {"eth.not_for_us", "eth.unsupported_ethertype"}

RTT_RE = re.compile(r"rtt min/avg/max/mdev = ([\d.]+)/([\d.]+)/([\d.]+)/([\d.]+) ms")
PING_RE = re.compile(r"(\d+) packets transmitted, (\d+) received")


def patch(frame, first_byte=None, total_length=None, fix_checksum=True):
    b = bytearray(frame)
    if first_byte is not None:
        b[14] = first_byte
    if total_length is not None:
        b[16:18] = total_length.to_bytes(2, "big")
    if fix_checksum:
        ihl = min(max((b[14] & 0x0F) * 4, 20), len(b) - 14)
        b[24:26] = b"\x00\x00"
        b[24:26] = harness.internet_checksum(bytes(b[14:14 + ihl])).to_bytes(2, "big")
    return bytes(b)


def malformed_frames(app_mac, peer_mac):
    """(drop reason, frame) for every malformation a veth can carry."""
    eth = Ether(dst=app_mac, src=peer_mac)

    def echo(data=b"x" * 16, dst=APP_IP, src=PEER_IP, **kw):
        return eth / IP(src=src, dst=dst, **kw) / ICMP(id=0x4242, seq=1) / Raw(data)

    good = bytes(echo(bytes(range(40))))
    arp = dict(hwsrc=peer_mac, psrc=PEER_IP, pdst=APP_IP)
    return [
        ("eth.not_for_us", bytes(Ether(dst="02:00:00:00:00:99", src=peer_mac) / IP(src=PEER_IP, dst=APP_IP) /
                                 ICMP())),
        ("eth.vlan", bytes(Ether(dst=app_mac, src=peer_mac) / Dot1Q(vlan=7) / IP(src=PEER_IP, dst=APP_IP) /
                           ICMP())),
        ("eth.unsupported_ethertype", bytes(eth / IPv6(src="fd00::1", dst="fd00::2") / ICMPv6EchoRequest())),
        ("arp.truncated", bytes(Ether(dst=BCAST, src=peer_mac) / ARP(op=1, **arp))[:34]),
        ("arp.bad_format", bytes(Ether(dst=BCAST, src=peer_mac) / ARP(op=1, hwtype=6, **arp))),
        ("arp.not_for_us", bytes(Ether(dst=BCAST, src=peer_mac) / ARP(op=1, hwsrc=peer_mac, psrc=PEER_IP,
                                                                      pdst="10.98.0.77"))),
        ("arp.bad_sender", bytes(Ether(dst=BCAST, src=peer_mac) / ARP(op=1, hwsrc=peer_mac, psrc=APP_IP,
                                                                      pdst=PEER_IP))),
        ("ipv4.truncated", good[:24]),
        ("ipv4.truncated", patch(bytes(echo(b"")), first_byte=0x4F, fix_checksum=False)),  # IHL 15, 28 bytes
        ("ipv4.bad_version", patch(good, first_byte=0x65)),
        ("ipv4.bad_header_length", patch(good, first_byte=0x44, fix_checksum=False)),
        ("ipv4.bad_total_length", patch(good, total_length=1000)),
        ("ipv4.bad_checksum", bytes(eth / IP(src=PEER_IP, dst=APP_IP, chksum=0xBEEF) / ICMP() / Raw(b"c" * 8))),
        ("ipv4.not_for_us", bytes(echo(dst="10.98.0.3"))),
        ("ipv4.bad_source", bytes(echo(src="127.0.0.1"))),
        ("ipv4.unsupported_protocol", bytes(eth / IP(src=PEER_IP, dst=APP_IP) / UDP(sport=5000, dport=7) /
                                            Raw(b"udp"))),
        ("tcp.no_listener", bytes(eth / IP(src=PEER_IP, dst=APP_IP) / TCP(sport=5000, dport=9, flags="S"))),
        ("icmp.truncated", bytes(eth / IP(src=PEER_IP, dst=APP_IP, proto=1) / Raw(b"\x08\x00\xf7\xff"))),
        ("icmp.bad_checksum", bytes(eth / IP(src=PEER_IP, dst=APP_IP) / ICMP(chksum=0x1234) / Raw(b"z" * 8))),
        ("icmp.broadcast_echo", bytes(Ether(dst=BCAST, src=peer_mac) / IP(src=PEER_IP, dst=SUBNET_BROADCAST) /
                                      ICMP(id=7, seq=7))),
        ("icmp.unhandled_type", bytes(eth / IP(src=PEER_IP, dst=APP_IP) / ICMP(type=13, ts_ori=0, ts_rx=0,
                                                                                ts_tx=0))),
    ]


def ping(checks, ns, what, count, extra=()):
    cmd = ns.exec(["ping", "-n", "-c", str(count), "-i", "0.01", "-W", "2", *extra, APP_IP])
    p = harness.run(cmd, check=False, timeout=120)
    print(f"$ {' '.join(cmd)}\n{p.stdout.strip()}\n{p.stderr.strip()}".rstrip(), flush=True)
    m = PING_RE.search(p.stdout)
    received = int(m.group(2)) if m else 0
    checks.eq((int(m.group(1)) if m else 0, received), (count, count), f"{what}: transmitted/received")
    rtt = RTT_RE.search(p.stdout)
    if rtt:
        print(f"{what}: rtt min/avg/max = {rtt.group(1)}/{rtt.group(2)}/{rtt.group(3)} ms", flush=True)
    checks.eq(p.returncode, 0, f"{what}: ping exit code")
    return received


def body(checks):
    harness.require_root(checks)
    tmp = harness.tempdir("peer")
    stats_json = os.path.join(tmp, "stats.json")
    app = None
    oversize_requests = 0
    try:
        with harness.VethNamespace("pe", PEER_ADDR) as ns:
            prefix = harness.unique("ltpeer")
            eal = harness.eal_args(prefix, f"net_af_packet0,iface={ns.host_if}")
            # --duration is only a safety net: the test stops it with SIGINT.
            app = harness.EchoApp(tmp, eal, ["--ip", APP_PREFIX, "--duration", "90", "--stats-json", stats_json])
            app.start()
            ready = app.wait_ready(timeout=30)
            app_mac = ready.group("mac")
            print(f"lanetcp-echo is up: {ready.group(0)}", flush=True)

            pings = 0
            pings += ping(checks, ns, "ping x100", 100)
            pings += ping(checks, ns, "ping x5, 1472-byte payload, DF", 5, ["-s", "1472", "-M", "do"])

            cmd = ns.exec(["arping", "-c", "3", "-w", "10", "-I", ns.ns_if, APP_IP])
            p = harness.run(cmd, check=False, timeout=30)
            print(f"$ {' '.join(cmd)}\n{p.stdout.strip()}".rstrip(), flush=True)
            m = re.search(r"Received (\d+) response", p.stdout)
            checks.eq(int(m.group(1)) if m else None, 3, "arping: replies received")
            checks.check(f"[{app_mac}]" in p.stdout.lower(), "arping: replies carry the app's MAC", app_mac)
            checks.eq(p.returncode, 0, "arping exit code")

            # Malformed frames, sent from inside the namespace.
            frames = malformed_frames(app_mac, ns.mac)
            inject_pcap = os.path.join(tmp, "inject.pcap")
            wrpcap(inject_pcap, [Ether(f) if len(f) >= 14 else Raw(f) for _, f in frames] * COPIES)
            injected = collections.Counter()
            for reason, _ in frames:
                injected[reason] += COPIES
            cmd = ns.exec([sys.executable, "-c",
                           "import sys\n"
                           "from scapy.all import rdpcap, sendp\n"
                           "sendp(rdpcap(sys.argv[1]), iface=sys.argv[2], verbose=0)\n",
                           inject_pcap, ns.ns_if])
            p = harness.run(cmd, check=False, timeout=60)
            checks.check(p.returncode == 0, f"injected {len(frames) * COPIES} malformed frames from {ns.ns_if}",
                         p.stderr.strip()[-300:])
            time.sleep(0.5)

            pings += ping(checks, ns, "ping x20 after the malformed frames", 20)

            # Bigger than the MTU: Linux fragments, the packet socket hands the
            # stack the reassembled datagram, and a reply could not fit the
            # link: dropped and counted, never sent oversize.
            cmd = ns.exec(["ping", "-n", "-c", "3", "-i", "0.05", "-W", "1", "-s", "1600", APP_IP])
            p = harness.run(cmd, check=False, timeout=60)
            m = PING_RE.search(p.stdout)
            checks.eq(int(m.group(2)) if m else None, 0, "ping -s 1600: no reply larger than the MTU")
            injected["ipv4.exceeds_mtu"] += 3
            oversize_requests = 3

            app.stop(signal.SIGINT)
            rc = app.wait(timeout=30)
            app.print_output()

        stats = harness.load_stats(stats_json) if os.path.exists(stats_json) else None
        harness.check_app_exit(checks, rc, stats, app)
        if stats is None:
            return

        drops = stats["drops"]
        print("\ndrop counters (measured / injected):")
        for reason in harness.KNOWN_DROPS:
            if drops.get(reason) or injected.get(reason):
                print(f"  {reason:28} {drops.get(reason)} / {injected.get(reason, 0)}")
        for reason in sorted(set(harness.KNOWN_DROPS) | set(drops)):
            want = injected.get(reason, 0)
            if reason in AT_LEAST:
                checks.ge(drops.get(reason, 0), want, f"drop {reason} (Linux may add to it)")
            else:
                checks.eq(drops.get(reason), want, f"drop {reason}")

        c = stats["counters"]
        broadcast_echoes = injected["icmp.broadcast_echo"]
        checks.eq(c["icmp_rx_echo_requests"], pings + broadcast_echoes + oversize_requests,
                  "icmp_rx_echo_requests == pings answered + broadcast echoes injected + oversize requests")
        checks.eq(c["icmp_tx_echo_replies"], pings, "icmp_tx_echo_replies == pings answered")
        checks.ge(c["arp_tx_replies"], 3, "arp_tx_replies (arping + the kernel's own requests)")
    finally:
        if app is not None:
            app.cleanup()
        if not checks.failures and not os.environ.get("LANETCP_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"files kept in {tmp}")


if __name__ == "__main__":
    sys.exit(harness.main("linux_peer", body))
