"""Shared helpers for lanetcp's integration tests (run by /usr/bin/python3).

- Checks: collects PASS/FAIL lines, prints them, turns them into an exit code
- EchoApp / run_app: start build/apps/lanetcp-echo with a unique --file-prefix,
  wait for it to come up, stop it, always kill it and remove its DPDK runtime
  directory
- VethNamespace: a network namespace + veth pair with unique names, removed
  on exit whatever happens
- load_stats / check_app_exit: the --stats-json document, mbuf leak checks
- read_pcap: frames of a pcap file (micro- or nanosecond format)

The binary is $LANETCP_ECHO (set by meson), else $LANETCP_BUILD/apps/lanetcp-echo,
else build/apps/lanetcp-echo next to this checkout; likewise $LANETCP_CLIENT for
lanetcp-client (EchoApp(..., binary=client_binary()) runs it).
"""

import hashlib
import json
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(REPO, "test", "fixtures")

EXIT_SKIP = 77  # meson's "skipped"
EXIT_LEAK = 3

# DPDK's own log lines on stderr; everything else there is ours.
DPDK_LOG_RE = re.compile(r"^(EAL|TELEMETRY|PMD|ETHDEV|MBUF|MEMPOOL|USER1):")
READY_RE = re.compile(
    r"^lanetcp: (?P<ip>\S+) on port (?P<port>\d+) mac (?P<mac>[0-9a-f]{2}(?::[0-9a-f]{2}){5}) mtu (?P<mtu>\d+)",
    re.M)

# Drop reasons the JSON must contain (lib/netif/counters.hpp kDropNames).
KNOWN_DROPS = [
    "eth.truncated", "eth.not_for_us", "eth.vlan", "eth.unsupported_ethertype", "eth.nonlinear",
    "arp.truncated", "arp.bad_format", "arp.bad_sender", "arp.not_for_us", "arp.unresolved",
    "arp.queue_overflow", "arp.pending_full", "arp.table_full", "ipv4.truncated", "ipv4.bad_version", "ipv4.bad_header_length",
    "ipv4.bad_total_length", "ipv4.bad_checksum", "ipv4.fragment", "ipv4.not_for_us", "ipv4.bad_source",
    "ipv4.unsupported_protocol", "ipv4.no_route", "ipv4.exceeds_mtu", "icmp.truncated", "icmp.bad_checksum", "icmp.broadcast_echo",
    "icmp.unhandled_type", "tcp.no_listener", "tx.queue_full", "tx.no_mbuf",
]
KNOWN_COUNTERS = [
    "port_rx_packets", "port_rx_bytes", "port_tx_packets", "port_tx_bytes", "arp_rx_requests", "arp_rx_replies",
    "arp_tx_requests", "arp_tx_replies", "ipv4_rx_packets", "ipv4_tx_packets",
    "icmp_rx_echo_requests", "icmp_tx_echo_replies", "icmp_tx_echo_requests", "icmp_rx_echo_replies",
    "tcp_rx_segments", "tcp_tx_segments", "tcp_resets_sent",
]


# ---------------------------------------------------------------- results ---

class Checks:
    """Every check prints one line; finish() returns the exit code."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.count = 0

    def check(self, ok, what, detail=""):
        self.count += 1
        line = f"{'PASS' if ok else 'FAIL'}: {what}" + (f" ({detail})" if detail else "")
        print(line, flush=True)
        if not ok:
            self.failures.append(line)
        return bool(ok)

    def eq(self, actual, expected, what):
        return self.check(actual == expected, what,
                          f"got {actual!r}" if actual == expected else f"got {actual!r}, expected {expected!r}")

    def ge(self, actual, minimum, what):
        return self.check(actual >= minimum, what, f"got {actual!r}, expected >= {minimum!r}")

    def fatal(self, what):
        """A failure after which the rest of the test makes no sense."""
        self.check(False, what)
        raise TestAborted(what)

    def finish(self):
        if self.failures:
            print(f"\n{self.name}: {len(self.failures)} of {self.count} checks FAILED:", flush=True)
            for f in self.failures:
                print("  " + f)
            return 1
        print(f"\n{self.name}: all {self.count} checks passed", flush=True)
        return 0


class TestAborted(Exception):
    pass


def main(name, body):
    """Runs body(checks) with SIGTERM/SIGHUP turned into exceptions, so that the
    callers' finally blocks (teardown) run when meson times the test out."""

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    checks = Checks(name)
    try:
        rc = body(checks)
        if rc is not None and rc != 0:
            return rc
    except TestAborted:
        pass
    except KeyboardInterrupt as e:
        checks.check(False, f"interrupted: {e}")
    except Exception as e:  # noqa: BLE001 - report, do not hide, unexpected errors
        import traceback
        traceback.print_exc()
        checks.check(False, f"unexpected {type(e).__name__}: {e}")
    return checks.finish()


def require_root(checks):
    if os.geteuid() != 0:
        print(f"SKIP: {checks.name} needs root (network namespaces, raw sockets, DPDK runtime dir)")
        sys.exit(EXIT_SKIP)


# -------------------------------------------------------------- processes ---

def app_binary(name, env_var):
    """build/apps/<name>, or $<env_var>, or $LANETCP_BUILD/apps/<name>."""
    path = os.environ.get(env_var)
    if not path:
        build = os.environ.get("LANETCP_BUILD", os.path.join(REPO, "build"))
        path = os.path.join(build, "apps", name)
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{name} not found or not executable: {path} (build it, or set {env_var})")
    return path


def echo_binary():
    return app_binary("lanetcp-echo", "LANETCP_ECHO")


def client_binary():
    return app_binary("lanetcp-client", "LANETCP_CLIENT")


def unique(tag):
    """A name unique to this test process (and short: veth names are <= 15 chars)."""
    return f"{tag}{os.getpid()}"


def eal_args(prefix, vdev=None):
    args = ["--no-huge", "-m", "512", "--no-pci", "--file-prefix", prefix, "-l", "0"]
    if vdev:
        args.append(f"--vdev={vdev}")
    return args


def remove_runtime_dir(prefix):
    """DPDK leaves /var/run/dpdk/<prefix> (or $XDG_RUNTIME_DIR/dpdk/<prefix>) behind."""
    bases = ["/var/run/dpdk"]
    if os.environ.get("XDG_RUNTIME_DIR"):
        bases.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "dpdk"))
    for base in bases:
        d = os.path.join(base, prefix)
        if prefix and os.path.isdir(d):
            shutil.rmtree(d, ignore_errors=True)


def ours_only(stderr_text):
    """stderr without DPDK's own log lines."""
    return [l for l in stderr_text.splitlines() if l.strip() and not DPDK_LOG_RE.match(l)]


class EchoApp:
    """lanetcp-echo (or another lanetcp app: binary=client_binary()) as a child
    process; use as a context manager."""

    def __init__(self, workdir, eal, app_args, name="app", binary=None):
        self.workdir = workdir
        self.prefix = eal[eal.index("--file-prefix") + 1] if "--file-prefix" in eal else None
        self.argv = [binary or echo_binary()] + list(eal) + ["--"] + list(app_args)
        self.label = os.path.basename(self.argv[0])
        self.stdout_path = os.path.join(workdir, f"{name}.stdout")
        self.stderr_path = os.path.join(workdir, f"{name}.stderr")
        self.proc = None
        self.returncode = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def start(self):
        print("running: " + " ".join(self.argv), flush=True)
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(self.argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                         cwd=self.workdir)
        return self

    @property
    def stdout(self):
        with open(self.stdout_path, errors="replace") as f:
            return f.read()

    @property
    def stderr(self):
        with open(self.stderr_path, errors="replace") as f:
            return f.read()

    def wait_ready(self, timeout=30):
        """Waits for the 'lanetcp: ... on port N mac M' line; returns its match."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = READY_RE.search(self.stdout)
            if m:
                return m
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited with {self.proc.returncode} before coming up:\n"
                                   f"{self.stderr}{self.stdout}")
            time.sleep(0.05)
        raise RuntimeError(f"{self.label} did not come up within {timeout}s:\n{self.stderr}{self.stdout}")

    def stop(self, sig=signal.SIGINT):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def wait(self, timeout=30):
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(f"{self.label} did not exit within {timeout}s; killed")
        return self.returncode

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # our own child, by pid
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass

    def cleanup(self):
        self.kill()
        if self.prefix:
            remove_runtime_dir(self.prefix)

    def print_output(self):
        print(f"---- {self.label} stdout ----\n" + self.stdout.rstrip())
        print(f"---- {self.label} stderr (DPDK log lines omitted) ----\n" + "\n".join(ours_only(self.stderr)))
        print("----", flush=True)


def run_app(workdir, eal, app_args, timeout=60):
    """Runs lanetcp-echo to completion; returns (returncode, stdout, stderr)."""
    app = EchoApp(workdir, eal, app_args)
    try:
        app.start()
        rc = app.wait(timeout)
        return rc, app.stdout, app.stderr
    finally:
        app.cleanup()


def run(cmd, check=True, timeout=60, **kw):
    """Runs a helper command (ip, ethtool, ping...), returns CompletedProcess."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip() or p.stdout.strip()}")
    return p


# ------------------------------------------------------------ namespaces ---

class VethNamespace:
    """A namespace NS holding ns_if (with `ns_addr`), whose veth peer host_if
    stays in the root namespace for DPDK's net_af_packet. IPv6 is disabled on
    both ends and checksum offloads are off (af_packet sees real checksums).
    Everything is removed on exit, even after a failure."""

    def __init__(self, tag, ns_addr):
        pid = os.getpid()
        self.ns = f"lanetcp-{tag}-{pid}"
        self.host_if = f"lt{tag[:2]}h{pid}"[:15]
        self.ns_if = f"lt{tag[:2]}n{pid}"[:15]
        self.ns_addr = ns_addr
        self.mac = None

    def __enter__(self):
        try:
            self._setup()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc):
        self.teardown()
        return False

    def _setup(self):
        # Leftovers of an earlier run that had our pid (it cannot be running).
        self.teardown(quiet=True)
        run(["ip", "netns", "add", self.ns])
        run(["ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if, "netns", self.ns])
        # No IPv6 chatter (router solicitations, MLD) from either end.
        self._sysctl(None, f"net.ipv6.conf.{self.host_if}.disable_ipv6", "1")
        self._sysctl(self.ns, "net.ipv6.conf.all.disable_ipv6", "1")
        self._sysctl(self.ns, "net.ipv6.conf.default.disable_ipv6", "1")
        self._sysctl(self.ns, f"net.ipv6.conf.{self.ns_if}.disable_ipv6", "1")
        run(["ethtool", "-K", self.host_if, "tx", "off", "rx", "off"])
        run(["ip", "link", "set", self.host_if, "up"])
        run(self.exec(["ip", "link", "set", "lo", "up"]))
        run(self.exec(["ethtool", "-K", self.ns_if, "tx", "off", "rx", "off"]))
        run(self.exec(["ip", "addr", "add", self.ns_addr, "dev", self.ns_if]))
        run(self.exec(["ip", "link", "set", self.ns_if, "up"]))
        info = json.loads(run(["ip", "-n", self.ns, "-j", "link", "show", self.ns_if]).stdout)
        self.mac = info[0]["address"]
        print(f"namespace {self.ns}: {self.ns_if} {self.ns_addr} mac {self.mac}; host side {self.host_if}",
              flush=True)

    @staticmethod
    def _sysctl(ns, key, value):
        path = "/proc/sys/" + key.replace(".", "/")
        cmd = ["sh", "-c", f"[ ! -e {path} ] || echo {value} > {path}"]
        run((["ip", "netns", "exec", ns] if ns else []) + cmd)

    def exec(self, cmd):
        return ["ip", "netns", "exec", self.ns] + list(cmd)

    def teardown(self, quiet=False):
        problems = []
        if os.path.exists(f"/sys/class/net/{self.host_if}"):
            p = run(["ip", "link", "del", self.host_if], check=False)
            if p.returncode != 0:
                problems.append(p.stderr.strip())
        if os.path.exists(f"/run/netns/{self.ns}") or os.path.exists(f"/var/run/netns/{self.ns}"):
            p = run(["ip", "netns", "del", self.ns], check=False)
            if p.returncode != 0:
                problems.append(p.stderr.strip())
        if problems and not quiet:
            print("WARNING: teardown: " + "; ".join(problems), flush=True)


# ------------------------------------------------------------------ stats ---

def load_stats(path):
    with open(path) as f:
        doc = json.load(f)
    for key in ("counters", "drops", "drops_total", "mbufs_leaked"):
        if key not in doc:
            raise RuntimeError(f"{path}: no '{key}' in the stats JSON")
    return doc


def check_app_exit(checks, rc, stats, app=None, label="lanetcp-echo"):
    """Exit code 0, no mbuf leak, a consistent stats document."""
    checks.check(rc != EXIT_LEAK, f"{label} exit code is not 3 (mbufs leaked)", f"exit code {rc}")
    checks.eq(rc, 0, f"{label} exit code")
    if stats is None:
        checks.check(False, "stats JSON written")
        return
    checks.eq(stats["mbufs_leaked"], 0, "mbufs_leaked")
    checks.eq(stats["drops_total"], sum(stats["drops"].values()), "drops_total == sum of drops")
    checks.eq(sorted(set(KNOWN_DROPS) - set(stats["drops"])), [], "every drop reason present in the JSON")
    checks.eq(sorted(set(KNOWN_COUNTERS) - set(stats["counters"])), [], "every counter present in the JSON")
    if app is not None and stats["mbufs_leaked"] == 0:
        checks.check("all mbufs returned to their pools" in app.stdout, "app reports all mbufs returned")


FINAL_COUNTERS_LINE_RE = re.compile(r"^  (?P<group>[a-z0-9]+) +(?P<pairs>(?:[a-z0-9_.]+=\d+ ?)+)$")


def parse_final_counters(stdout):
    """The 'lanetcp: stopped; final counters' block an app prints, as a dict
    'group_name' -> value ('tcp_retransmitted', 'drops_tcp.out_of_order', ...);
    {} when the block is missing. For figures only: the JSON is authoritative."""
    at = stdout.rfind("final counters")
    if at < 0:
        return {}
    values = {}
    for line in stdout[at:].splitlines()[1:]:
        m = FINAL_COUNTERS_LINE_RE.match(line)
        if not m:
            if values:
                break
            continue
        for pair in m.group("pairs").split():
            key, value = pair.split("=")
            values[f"{m.group('group')}_{key}"] = int(value)
    return values


def nonzero_drops(stats):
    return {k: v for k, v in stats["drops"].items() if v}


# ------------------------------------------------------------------- pcap ---

def read_pcap(path):
    """Frames (bytes) of a classic pcap file, any byte order, us or ns stamps."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise RuntimeError(f"{path}: not a pcap file ({len(data)} bytes)")
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        endian = ">"
    else:
        raise RuntimeError(f"{path}: bad pcap magic {magic:#x}")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise RuntimeError(f"{path}: link type {linktype}, expected Ethernet (1)")
    frames, off = [], 24
    while off + 16 <= len(data):
        _, _, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
        off += 16
        if incl != orig:
            raise RuntimeError(f"{path}: frame truncated by snaplen ({incl} of {orig} bytes)")
        frames.append(data[off:off + incl])
        off += incl
    if off != len(data):
        raise RuntimeError(f"{path}: {len(data) - off} trailing bytes")
    return frames


def internet_checksum(b):
    if len(b) % 2:
        b += b"\x00"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tempdir(tag):
    return tempfile.mkdtemp(prefix=f"lanetcp-{tag}-")


# ----------------------------------------------- files, helpers, capture ---

class NamespaceRun:
    """What a test against Linux keeps while it runs: the namespace, the
    temporary directory, and the helper processes it started there (each in
    its own session, so that ending one ends its children)."""

    def __init__(self, checks, ns, tmp):
        self.checks, self.ns, self.tmp = checks, ns, tmp
        self.helpers, self.apps = [], []
        self.serial = 0

    def spawn(self, cmd, stdin=None, stdout=None, stderr=None):
        p = subprocess.Popen(self.ns.exec(cmd), stdin=stdin or subprocess.DEVNULL,
                             stdout=stdout or subprocess.DEVNULL, stderr=stderr or subprocess.PIPE,
                             start_new_session=True)
        self.helpers.append(p)
        return p

    def end_helpers(self):
        for p in self.helpers:
            kill_group(p)
        self.helpers = []

    # nftables in the namespace dropping a share of TCP packets on its input
    # hook (the stack's segments: real loss) and output hook (Linux's own:
    # its TCP sees the failed send and retries, so no hole reaches the stack).
    nft_table = "ltloss"
    nft_on = False

    def loss_on(self, percent):
        t = self.nft_table
        rules = (f"add table inet {t}\n"
                 f"add chain inet {t} in {{ type filter hook input priority 0; }}\n"
                 f"add chain inet {t} out {{ type filter hook output priority 0; }}\n")
        for chain in ("in", "out"):
            rules += (f"add rule inet {t} {chain} meta l4proto tcp counter\n"
                      f"add rule inet {t} {chain} meta l4proto tcp numgen random mod 100 < {percent} counter drop\n")
        self.nft_on = True
        p = subprocess.run(self.ns.exec(["nft", "-f", "-"]), input=rules, text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        if p.returncode != 0:
            self.checks.fatal(f"nft rules for {percent}% loss: {p.stderr.strip()}")
        print(f"nftables in {self.ns.ns}: dropping {percent}% of TCP packets on input and output", flush=True)

    def loss_counters(self):
        """{'in': [seen, dropped], 'out': [seen, dropped]} from the rules' counters."""
        p = run(self.ns.exec(["nft", "-j", "list", "table", "inet", self.nft_table]), check=False)
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
            run(self.ns.exec(["nft", "delete", "table", "inet", self.nft_table]), check=False)
            self.nft_on = False

    def wait_listening(self, port, timeout=10):
        """True once something in the namespace listens on TCP `port`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if run(self.ns.exec(["ss", "-Hltn", f"sport = :{port}"]), check=False).stdout.strip():
                return True
            time.sleep(0.05)
        return False

# (shared by the TCP tests against Linux)

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def random_file(path, size):
    """size random bytes in path (written 4 MB at a time); returns path."""
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 4 << 20)
            f.write(os.urandom(n))
            left -= n
    return path


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def kill_group(proc):
    """Ends a helper started with start_new_session=True: its own process
    group only (by its pid), then reaps it."""
    if proc is not None and proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


TCPDUMP_COUNT_RE = re.compile(r"^(\d+) packets? (captured|received by filter|dropped by kernel)", re.M)


class Tcpdump:
    """tcpdump -w in a namespace (ns: a VethNamespace) on its veth end;
    stop() ends it with SIGINT (so it flushes the file) and returns its own
    counts {'captured', 'received by filter', 'dropped by kernel'}."""

    def __init__(self, ns, path, snaplen=128, expression=("tcp",), buffer_kib=65536):
        self.ns = ns
        self.path = path
        self.argv = ns.exec(["tcpdump", "-i", ns.ns_if, "-n", "-s", str(snaplen), "-B", str(buffer_kib),
                             "-w", path] + list(expression))
        self.proc = None
        self.counts = {}

    def start(self, timeout=10):
        print("running: " + " ".join(self.argv), flush=True)
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)
        # It says "listening on ..." on stderr once the capture runs.
        deadline = time.monotonic() + timeout
        seen = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.1)
            if ready:
                line = self.proc.stderr.readline()
                seen += line
                if b"listening on" in line:
                    return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"tcpdump exited with {self.proc.returncode}: "
                                   f"{(seen + self.proc.stderr.read()).decode(errors='replace').strip()}")
        kill_group(self.proc)
        raise RuntimeError(f"tcpdump did not start capturing within {timeout}s: {seen.decode(errors='replace')}")

    def stop(self, settle=1.5):
        """settle: seconds to wait first. The kernel hands tcpdump its packets
        in blocks, a partly filled one only after a timeout (1 s); stopped
        at once, tcpdump would leave the last packets out of the file."""
        if self.proc is None:
            return self.counts
        if self.proc.poll() is None:
            time.sleep(settle)
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill_group(self.proc)
        err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
        self.proc = None
        self.counts = {what: int(n) for n, what in TCPDUMP_COUNT_RE.findall(err)}
        return self.counts
