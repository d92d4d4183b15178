"""A hostile TCP/ARP peer for test_hostile.py: hand-made frames sent and
received on a veth end inside a network namespace, fast enough for floods
of tens of thousands of frames from Python.

- in_netns(ns, fn): runs fn with the calling thread inside the namespace
  (setns through libc; Debian's Python 3.11 has no os.setns). Sockets made
  there stay in the namespace: that is how the raw socket and the
  legitimate clients' TCP sockets are made.
- RawPort: an AF_PACKET socket on the namespace's veth end, a reader thread
  that parses the stack's TCP segments into per-flow state (Flow), and that
  answers any segment of a flow in zero-window mode with a zero-window ACK.
- Frame builders (Ethernet/IPv4/TCP/ICMP/ARP) with struct, not scapy:
  dissecting or building with scapy costs ~1 ms a frame, floods need 10 us.

Crafted flows use source ports FLOOD_PORTS; the test's nftables rule drops
the stack's answers to those ports on the namespace's input hook, so that
Linux does not reset connections it never made (AF_PACKET sockets see
frames before netfilter, so the reader still gets them).
"""

import ctypes
import errno
import os
import random
import socket
import struct
import threading
import time

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
SOL_PACKET, PACKET_IGNORE_OUTGOING = 263, 23

FLOOD_PORTS = (1024, 39999)   # crafted flows; Linux's own clients use 40000-60999

TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 0x01, 0x02, 0x04, 0x08, 0x10

_libc = ctypes.CDLL(None, use_errno=True)


def in_netns(ns_name, fn):
    """fn() run with this thread in /run/netns/<ns_name>, then back."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{ns_name}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            e = ctypes.get_errno()
            raise OSError(e, f"setns({ns_name}): {os.strerror(e)}")
        try:
            return fn()
        finally:
            if _libc.setns(own, CLONE_NEWNET) != 0:
                e = ctypes.get_errno()
                raise OSError(e, f"setns back: {os.strerror(e)}")
    finally:
        os.close(target)
        os.close(own)


# ------------------------------------------------------------- frames ---

def checksum(b):
    if len(b) % 2:
        b += b"\x00"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def mac_bytes(mac):
    return bytes.fromhex(mac.replace(":", ""))


def ip_bytes(ip):
    return socket.inet_aton(ip)


def ethernet(dst_mac, src_mac, ethertype, payload):
    return dst_mac + src_mac + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, ident=0):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0, src, dst)
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:] + payload


def tcp(src, dst, sport, dport, seq, ack, flags, window, options=b"", payload=b""):
    """A TCP header + payload with its checksum (src, dst: 4-byte addresses)."""
    options += b"\x00" * (-len(options) % 4)
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (20 + len(options)) // 4 << 4, flags, window, 0, 0) + options
    pseudo = struct.pack("!4s4sBBH", src, dst, 0, 6, len(hdr) + len(payload))
    c = checksum(pseudo + hdr + payload)
    return hdr[:16] + struct.pack("!H", c) + hdr[18:] + payload


# SYN options: MSS 1460, SACK permitted, window scale 7 (no timestamps: no PAWS to keep up with).
SYN_OPTIONS = b"\x02\x04\x05\xb4" + b"\x04\x02" + b"\x01\x03\x03\x07"
OUR_WSCALE = 7


def icmp_echo(ident, seq, payload=b"hostile"):
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + payload
    return hdr[:2] + struct.pack("!H", checksum(hdr)) + hdr[4:]


def arp(op, sender_mac, sender_ip, target_mac, target_ip):
    return struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, op, sender_mac, sender_ip, target_mac, target_ip)


# --------------------------------------------------------------- flows ---

class Flow:
    """One crafted connection: our side's sequence state and what the
    stack sent on it (filled in by RawPort's reader thread)."""

    def __init__(self, src_ip, sport, iss=None):
        self.src_ip = src_ip
        self.src = ip_bytes(src_ip)
        self.sport = sport
        self.iss = random.getrandbits(32) if iss is None else iss
        self.snd_nxt = (self.iss + 1) & 0xFFFFFFFF
        self.irs = None        # the stack's ISN, from its SYN-ACK
        self.rcv_nxt = None    # what we acknowledge (we never accept its data)
        self.peer_wscale = 0
        self.rx = 0            # segments from the stack
        self.peer_ack = None   # the highest acknowledgment number it sent
        self.last_rx = 0.0     # monotonic time of the last one
        self.rst = False
        self.fin = False
        self.zero_window = False  # answer probes, data and FINs with a zero-window ACK
        self.probes_answered = 0


class RawPort:
    """AF_PACKET socket on `ifname` in namespace `ns_name`, sending frames
    from `our_mac` to the stack at `app_mac`/`app_ip`."""

    def __init__(self, ns_name, ifname, our_mac, app_mac, app_ip, app_port):
        self.our_mac = mac_bytes(our_mac)
        self.app_mac = mac_bytes(app_mac)
        self.app_ip = ip_bytes(app_ip)
        self.app_port = app_port

        def make():
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
            s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE
            s.setsockopt(socket.SOL_SOCKET, 32, 16 << 20)  # SO_SNDBUFFORCE
            try:  # our own frames are not copied back to us (Linux 4.20)
                s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
            except OSError:
                pass
            s.bind((ifname, 0))
            return s

        self.sock = in_netns(ns_name, make)
        self.flows = {}          # (our ip bytes, our port) -> Flow
        self.lock = threading.Lock()
        self.stop_flag = False
        self.rx_frames = 0
        self.rx_tcp = 0
        self.sent = 0
        self.send_errors = 0
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()

    def close(self):
        self.stop_flag = True
        self.reader.join(timeout=5)
        self.sock.close()

    # --------------------------------------------------------- sending ---

    def send(self, frame):
        for _ in range(1000):
            try:
                self.sock.send(frame)
                self.sent += 1
                return
            except OSError as e:
                if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                    raise
                self.send_errors += 1
                time.sleep(0.0005)
        raise RuntimeError("AF_PACKET send: ENOBUFS for 0.5 s")

    def send_all(self, frames, rate=None):
        """Sends frames; rate (frames/s) paces them in 1 ms batches, None
        sends as fast as Python can. Returns the achieved rate."""
        t0 = time.perf_counter()
        if not rate:
            for f in frames:
                self.send(f)
        else:
            batch = max(1, int(rate / 1000))
            for i in range(0, len(frames), batch):
                for f in frames[i:i + batch]:
                    self.send(f)
                due = t0 + (i + batch) / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
        took = time.perf_counter() - t0
        return len(frames) / took if took > 0 else float("inf")

    def flood_in_child(self, frames, rate, seconds):
        """Sends frames from a child process (no GIL shared with the reader
        thread: a SYN flood runs about twice as fast), paced at `rate`
        frames/s or as fast as it can (rate None), for at most `seconds`.
        Returns a function that waits for the child: (frames sent, seconds)."""
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: only sends, then leaves at once
            code = 1
            try:
                os.close(r)
                sock = self.sock
                t0 = time.perf_counter()
                batch = max(1, int((rate or 1000000) / 1000))
                n = 0
                while n < len(frames):
                    for f in frames[n:n + batch]:
                        while True:
                            try:
                                sock.send(f)
                                break
                            except OSError as e:
                                if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                                    raise
                                time.sleep(0.0005)
                    n = min(n + batch, len(frames))
                    elapsed = time.perf_counter() - t0
                    if elapsed >= seconds:
                        break
                    if rate:
                        delay = n / rate - elapsed
                        if delay > 0:
                            time.sleep(delay)
                os.write(w, f"{n} {time.perf_counter() - t0}".encode())
                code = 0
            finally:
                os._exit(code)
        os.close(w)

        def wait():
            os.waitpid(pid, 0)
            with os.fdopen(r, "rb") as f:
                text = f.read().decode()
            if not text:
                raise RuntimeError("the flooding child process failed")
            n, took = text.split()
            self.sent += int(n)
            return int(n), float(took)

        return wait

    def tcp_frame(self, flow, flags, window, payload=b"", seq=None, ack=None, options=b""):
        if ack is None:
            ack = flow.rcv_nxt if flow.rcv_nxt is not None else 0
        seg = tcp(flow.src, self.app_ip, flow.sport, self.app_port, flow.snd_nxt if seq is None else seq, ack,
                  flags, window, options, payload)
        return ethernet(self.app_mac, self.our_mac, 0x0800, ipv4(flow.src, self.app_ip, 6, seg))

    def syn_frame(self, flow):
        return self.tcp_frame(flow, TCP_SYN, 65535, seq=flow.iss, ack=0, options=SYN_OPTIONS)

    def arp_frame(self, op, sender_mac, sender_ip, target_ip, target_mac=b"\x00" * 6, dst_mac=None):
        """An ARP request (op 1, broadcast by default) or reply (op 2, to the
        stack by default) sent from `sender_mac` (bytes)."""
        dst = dst_mac or (b"\xff" * 6 if op == 1 else self.app_mac)
        body = arp(op, sender_mac, ip_bytes(sender_ip), target_mac, ip_bytes(target_ip))
        return ethernet(dst, sender_mac, 0x0806, body)

    def icmp_frame(self, src_ip, ident, seq):
        src = ip_bytes(src_ip)
        return ethernet(self.app_mac, self.our_mac, 0x0800, ipv4(src, self.app_ip, 1, icmp_echo(ident, seq)))

    # ------------------------------------------------------ connections ---

    def open_flows(self, flows, window=65535, timeout=5.0):
        """Three-way handshakes for every flow (SYNs sent again once for
        the ones not answered); the final ACK carries `window` (unscaled
        field value). Returns the flows that got a SYN-ACK."""
        with self.lock:
            for f in flows:
                self.flows[(f.src, f.sport)] = f
        for attempt in range(2):
            waiting = [f for f in flows if f.irs is None]
            self.send_all([self.syn_frame(f) for f in waiting], rate=20000)
            deadline = time.monotonic() + timeout / 2
            while time.monotonic() < deadline and any(f.irs is None for f in flows):
                time.sleep(0.01)
        opened = [f for f in flows if f.irs is not None]
        self.send_all([self.tcp_frame(f, TCP_ACK, window) for f in opened], rate=20000)
        return opened

    def reset_flows(self, flows):
        self.send_all([self.tcp_frame(f, TCP_RST | TCP_ACK, 0) for f in flows], rate=20000)

    def forget(self, flows):
        with self.lock:
            for f in flows:
                self.flows.pop((f.src, f.sport), None)

    # -------------------------------------------------------- receiving ---

    def _read_loop(self):
        self.sock.settimeout(0.2)
        buf = bytearray(65536)
        view = memoryview(buf)
        while not self.stop_flag:
            try:
                n, addr = self.sock.recvfrom_into(buf)
            except socket.timeout:
                continue
            except OSError:
                if self.stop_flag:
                    return
                raise
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            self.rx_frames += 1
            if n < 54 or buf[12:14] != b"\x08\x00" or buf[23] != 6 or bytes(view[26:30]) != self.app_ip:
                continue
            ihl = (buf[14] & 0x0F) * 4
            t = 14 + ihl
            sport, dport, seq, ack, off, flags, window = struct.unpack_from("!HHIIBBH", buf, t)
            if sport != self.app_port:
                continue
            self.rx_tcp += 1
            key = (bytes(view[30:34]), dport)
            flow = self.flows.get(key)
            if flow is None:
                continue
            payload_len = struct.unpack_from("!H", buf, 16)[0] - ihl - (off >> 4) * 4
            flow.rx += 1
            flow.last_rx = time.monotonic()
            if flags & TCP_ACK and (flow.peer_ack is None or (ack - flow.peer_ack) & 0xFFFFFFFF < 1 << 31):
                flow.peer_ack = ack
            if flags & TCP_RST:
                flow.rst = True
                continue
            if flags & TCP_SYN and flags & TCP_ACK and flow.irs is None:
                flow.irs = seq
                flow.rcv_nxt = (seq + 1) & 0xFFFFFFFF
                flow.peer_wscale = _wscale(bytes(view[t + 20:t + (off >> 4) * 4]))
                continue
            if flags & TCP_FIN:
                flow.fin = True
            if flow.zero_window and flow.irs is not None and (
                    payload_len > 0 or flags & TCP_FIN or seq != flow.rcv_nxt):
                # A probe (an old sequence number), data or a FIN: answered
                # with a zero-window ACK, accepting nothing (rcv_nxt stays).
                # Its plain ACKs of our data need no answer.
                flow.probes_answered += 1
                try:
                    self.sock.send(self.tcp_frame(flow, TCP_ACK, 0))
                except OSError:
                    pass


def _wscale(opts):
    i = 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= len(opts) or opts[i + 1] < 2:
            break
        if kind == 3 and opts[i + 1] == 3:
            return opts[i + 2]
        i += opts[i + 1]
    return 0
