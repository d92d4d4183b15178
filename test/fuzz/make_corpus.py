#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, from the segment scripts and the pcaps.

    make_corpus.py OUT_DIR

writes OUT_DIR/fuzz_stack/* (inputs in fuzz_stack.cpp's layout: one per
test/scripts/*.pkt, its inbound segments, clock steps and application calls
translated; one per pcap under test/fixtures, every frame patched onto the
live connection) and OUT_DIR/fuzz_wire/* (every frame of the pcaps as it
is). Standard library only; deterministic, so the corpus can be
regenerated at any time.
"""
import os
import re
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

OP_FRAME, OP_SEGMENT, OP_TIME, OP_APP, OP_SYN, OP_ACK, OP_ARP, OP_PING = range(8)
UNITS = [1e-3, 1e-2, 1e-1, 1, 10, 60, 600, 3600]  # seconds, as fuzz_stack.cpp
FLAG_BITS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, ".": 0x10, "U": 0x20, "E": 0x40, "W": 0x80}


def read_pcap(path):
    """Frames of a classic pcap file (either byte order)."""
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    off = 24
    frames = []
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        frames.append(data[off:off + incl])
        off += incl
    return frames


def time_ops(seconds):
    """Clock steps adding up to about `seconds`."""
    out = b""
    while seconds > 1e-4:
        for unit in reversed(range(8)):
            if UNITS[unit] <= seconds + 1e-9:
                mult = min(32, int(seconds / UNITS[unit] + 1e-9))
                out += bytes([OP_TIME, unit * 32 + mult - 1])
                seconds -= mult * UNITS[unit]
                break
        else:
            out += bytes([OP_TIME, 0])
            break
    return out


def encode_options(text):
    out = b""
    for opt in [o.strip() for o in text.split(",") if o.strip()]:
        words = opt.split()
        name = words[0]
        if name == "mss":
            out += struct.pack(">BBH", 2, 4, int(words[1]))
        elif name == "sackOK":
            out += bytes([4, 2])
        elif name == "wscale":
            out += bytes([3, 3, int(words[1])])
        elif name == "TS":
            out += struct.pack(">BBII", 8, 10, int(words[2]) & 0xFFFFFFFF, int(words[4]) & 0xFFFFFFFF)
        elif name == "sack":
            blocks = [b.split(":") for b in words[1:]]
            out += bytes([5, 2 + 8 * len(blocks)])
            for left, right in blocks:
                out += struct.pack(">II", int(left) & 0xFFFFFFFF, int(right) & 0xFFFFFFFF)
        elif name == "nop":
            out += b"\x01"
        elif name == "eol":
            out += b"\x00"
    return out[:40]


SEGMENT = re.compile(r"^([A-Z.\-]+)\s+(\d+):(\d+)\((\d+)\)(?:\s+ack\s+(\d+))?\s+win\s+(\d+)(?:\s+<(.*)>)?")


def script_input(path):
    """One fuzz_stack input from a segment script."""
    config = {}
    active = False
    hold = False
    ops = b""
    handshake_seen = False
    clock = 0.0
    for raw in open(path):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("config"):
            for kv in line.split()[1:]:
                k, _, v = kv.partition("=")
                config[k] = v
            continue
        when, _, rest = line.partition(" ")
        rest = rest.strip()
        t = clock + float(when[1:]) if when.startswith("+") else float(when)
        if t > clock:
            ops += time_ops(t - clock)
            clock = t
        words = rest.split()
        if not words:
            continue
        if words[0] == "connect":
            active = True
        elif words[0] == "send":
            n = max(1, int(words[1]))
            ops += bytes([OP_APP, 0, min(17, n.bit_length() - 1)])
        elif words[0] in ("shutdown", "close", "abort"):
            ops += bytes([OP_APP, {"shutdown": 2, "close": 3, "abort": 4}[words[0]], 0])
        elif words[0] == "read_stop":
            hold = True
        elif words[0] in ("read", "read_resume"):
            ops += bytes([OP_APP, 1, 0])
        elif words[0] == "<":
            m = SEGMENT.match(" ".join(words[1:]))
            if not m:
                continue
            flags_text, seq, _, length, ack, win, opts = m.groups()
            flags = 0
            for ch in flags_text:
                flags |= FLAG_BITS.get(ch, 0)
            if not handshake_seen and flags & 0x02:
                handshake_seen = True  # the harness does its own handshake
                continue
            options = encode_options(opts or "")
            length = min(int(length), 1460)
            ctrl = 0x0C | (0x30 if ack is not None else 0)  # seq and ack relative to the ISNs
            ops += bytes([OP_SEGMENT, ctrl, flags]) + struct.pack(">HHH", int(win) & 0xFFFF, int(seq) & 0xFFFF,
                                                                   int(ack or 0) & 0xFFFF)
            ops += bytes([len(options)]) + options + struct.pack(">H", length) + bytes((i * 7) & 0xFF for i in range(length))
    scenario = (1 if active else 0)
    scenario |= 2 if config.get("timestamps") == "on" else 0
    scenario |= 4 if config.get("sack") == "on" else 0
    scenario |= 8 if config.get("window_scale") == "on" else 0
    scenario |= (1 << 4) if hold else 0
    return bytes([scenario]) + ops


def pcap_input(frames, scenario):
    """Every frame of a capture onto the live connection."""
    ops = b""
    for f in frames[:200]:
        f = f[:1514]
        ethertype = struct.unpack(">H", f[12:14])[0] if len(f) >= 14 else 0
        ctrl = 0x01
        if ethertype == 0x0800:
            ctrl |= 0x02
            if len(f) >= 34 and f[23] == 6:
                ctrl |= 0x04 | 0x08 | 0x10 | 0x20 | 0x40 | 0x80
        ops += bytes([OP_FRAME, ctrl]) + struct.pack(">H", len(f)) + f
        ops += bytes([OP_TIME, 1])
    return bytes([scenario]) + ops


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "corpus"
    stack_dir = os.path.join(out, "fuzz_stack")
    wire_dir = os.path.join(out, "fuzz_wire")
    os.makedirs(stack_dir, exist_ok=True)
    os.makedirs(wire_dir, exist_ok=True)
    scripts_dir = os.path.join(ROOT, "test", "scripts")
    n_stack = n_wire = 0
    for name in sorted(os.listdir(scripts_dir)):
        if name.endswith(".pkt"):
            with open(os.path.join(stack_dir, "script-" + name[:-4]), "wb") as f:
                f.write(script_input(os.path.join(scripts_dir, name)))
            n_stack += 1
    # Inputs that once crashed a target, kept once fixed: replayed first.
    regressions = os.path.join(ROOT, "test", "fuzz", "regressions")
    if os.path.isdir(regressions):
        for name in sorted(os.listdir(regressions)):
            target = name.split("-", 1)[0]
            if target in ("fuzz_stack", "fuzz_wire"):
                data = open(os.path.join(regressions, name), "rb").read()
                with open(os.path.join(out, target, "regression-" + name), "wb") as f:
                    f.write(data)
    pcaps = []
    for dirpath, _, files in os.walk(os.path.join(ROOT, "test", "fixtures")):
        pcaps += [os.path.join(dirpath, f) for f in files if f.endswith(".pcap")]
    for path in sorted(pcaps):
        frames = read_pcap(path)
        base = os.path.splitext(os.path.basename(path))[0]
        for scenario in (0x0E, 0x00):  # every option offered; none
            with open(os.path.join(stack_dir, f"pcap-{base}-{scenario:02x}"), "wb") as f:
                f.write(pcap_input(frames, scenario))
            n_stack += 1
        for i, frame in enumerate(frames):
            with open(os.path.join(wire_dir, f"pcap-{base}-{i:03d}"), "wb") as f:
                f.write(frame)
            n_wire += 1
    print(f"make_corpus: {n_stack} fuzz_stack seeds, {n_wire} fuzz_wire seeds in {out}")


if __name__ == "__main__":
    main()
