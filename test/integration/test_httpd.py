#!/usr/bin/python3
"""lanetcp-httpd against Linux clients (curl, wrk, raw sockets) over a veth
whose other end is in a network namespace, lanetcp on net_af_packet.

  1. fixed body (default port 80): GET / gives 200 with the exact 128-byte
     body and Content-Length; HEAD gives the head only; curl fetching the URL
     3 times in one invocation uses one connection (curl's num_connects and
     lanetcp's tcp_passive_opens == connections the test made); a request
     split over 5 segments; HTTP/1.0 closes; a pipelined HEAD+GET
  2. --root: files byte-exact (a 1 MB random file by SHA-256), index.html
     for "/", Content-Type, 404 for a missing file, 403 for "..", 405 for
     POST; 3 pipelined requests in one write answered in order
  3. errors: garbage gives 400 and a close; a 10 KB header gives 431 and a
     close; HTTP/2.0 in a request line gives 505; a request that never ends
     is closed after --idle-timeout
  3b. slowloris: a client that sends a partial head and keeps trickling a
     byte every 300 ms gets 408 and a close within --header-timeout (2 s
     here), while a curl during it is served; a keep-alive connection left
     idle is closed after --idle-timeout with no other traffic at all (the
     session's timer on the lcore's wheel)
  4. wrk -t1 -c64 -d5s against the fixed body: no non-2xx, no socket errors;
     requests/s and latency as FIGURE lines (and in 2, wrk -c64 -d3s on the
     1 MB file: 64 x 256 KB of send buffer is more than the mbuf pool)
  5. every run: exit 0 on SIGINT, mbufs_leaked == 0, and lanetcp-httpd's
     own counters agree with what was sent

Skipped (exit 77) when not root or curl/wrk/ip/ethtool are missing.
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

APP_IP, APP_PREFIX = "10.98.0.2", "10.98.0.2/24"
PEER_ADDR = "10.98.0.1/24"
WRK_PORT, ROOT_PORT = 8080, 8081
FIXED_SIZE = 128
IDLE_S = 3
FIXED_BODY = bytes(ord("a") + i % 26 for i in range(FIXED_SIZE))
MB = 1 << 20
FIGURES = []

# A client run inside the namespace: connects, sends the parts (hex) with
# `delay` seconds between them, reads until EOF, timeout or reset, and prints
# JSON {"data": hex, "end": "eof" | "timeout" | "reset"}.
RAW_CLIENT = r"""
import json, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
plan = json.loads(sys.stdin.read())
s = socket.create_connection((host, port), timeout=plan["timeout"])
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for i, part in enumerate(plan["parts"]):
    if i:
        time.sleep(plan["delay"])
    s.sendall(bytes.fromhex(part))
data, end = b"", "eof"
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except socket.timeout:
    end = "timeout"
except ConnectionResetError:
    end = "reset"
s.close()
sys.stdout.write(json.dumps({"data": data.hex(), "end": end}))
"""

# A slowloris client: sends `head` then one byte of `trickle` every `every`
# seconds, never finishing the head, while reading what comes back; stops at
# EOF, reset or `timeout`. Prints JSON {"data": hex, "end": ..., "first": s,
# "closed": s, "sent": n}: seconds from connect to the first response byte
# and to the end of the connection.
SLOWLORIS_CLIENT = r"""
import json, select, socket, sys, time
host, port = sys.argv[1], int(sys.argv[2])
plan = json.loads(sys.stdin.read())
s = socket.create_connection((host, port), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
t0 = time.monotonic()
s.sendall(plan["head"].encode())
sent, data, end, first, closed = len(plan["head"]), b"", "timeout", None, None
trickle, next_send = plan["trickle"], t0 + plan["every"]
while time.monotonic() - t0 < plan["timeout"]:
    r, _, _ = select.select([s], [], [], 0.05)
    if r:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            end, closed = "reset", time.monotonic() - t0
            break
        if not b:
            end, closed = "eof", time.monotonic() - t0
            break
        if first is None:
            first = time.monotonic() - t0
        data += b
    if time.monotonic() >= next_send and first is None:
        try:
            s.sendall(trickle[sent % len(trickle)].encode())
            sent += 1
        except OSError:
            pass
        next_send += plan["every"]
s.close()
sys.stdout.write(json.dumps({"data": data.hex(), "end": end, "first": first, "closed": closed, "sent": sent}))
"""
SLOW_PORT = 8082
HEADER_S = 2

HTTPD_COUNTER_RE = re.compile(r"^  httpd (.*)$", re.M)


def figure(text):
    FIGURES.append(text)
    print(f"FIGURE: {text}", flush=True)


def httpd_binary():
    return harness.app_binary("lanetcp-httpd", "LANETCP_HTTPD")


def httpd_counters(stdout):
    """The 'httpd name=value ...' lines lanetcp-httpd prints at exit."""
    values = {}
    at = stdout.rfind("final HTTP counters")
    for line in HTTPD_COUNTER_RE.findall(stdout[at:] if at >= 0 else ""):
        for pair in line.split():
            k, _, v = pair.partition("=")
            values[k] = int(v)
    return values


def parse_responses(data, methods):
    """Splits `data` into one (status, headers, body) per method in
    `methods` (HEAD responses have no body); returns them and what is left."""
    out = []
    for method in methods:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            break
        lines = data[:end].decode("latin-1").split("\r\n")
        data = data[end + 4:]
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            break
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0"))
        body = b""
        if method != "HEAD":
            body, data = data[:length], data[length:]
        out.append((int(parts[1]), headers, body))
    return out, data


class Run:
    def __init__(self, checks, ns, tmp):
        self.checks = checks
        self.ns = ns
        self.tmp = tmp
        self.serial = 0
        self.connections = 0  # made to the running app
        self.apps = []        # to kill and clean up whatever happens

    def start(self, name, args):
        self.serial += 1
        prefix = harness.unique(f"lthttp{self.serial}x")
        eal = harness.eal_args(prefix, f"net_af_packet0,iface={self.ns.host_if}") + ["--log-level", "lib.eal:notice"]
        stats = os.path.join(self.tmp, f"{name}.json")
        app = harness.EchoApp(self.tmp, eal, ["--ip", APP_PREFIX, "--stats-json", stats] + list(args), name=name,
                              binary=httpd_binary())
        app.stats_path = stats
        self.apps.append(app)
        app.start()
        ready = app.wait_ready(timeout=30)
        print(f"[{name}] lanetcp-httpd is up: {ready.group(0)}", flush=True)
        self.connections = 0
        return app

    def stop(self, name, app):
        """SIGINT; exit 0, no leak, passive opens == connections made."""
        app.stop(signal.SIGINT)
        try:
            rc = app.wait(timeout=60)
        finally:
            app.cleanup()  # its DPDK runtime directory
        stats = harness.load_stats(app.stats_path) if harness.file_size(app.stats_path) else None
        harness.check_app_exit(self.checks, rc, stats, app, label=f"[{name}] lanetcp-httpd")
        counters = httpd_counters(app.stdout)
        self.checks.check(bool(counters), f"[{name}] lanetcp-httpd printed its HTTP counters",
                          " ".join(f"{k}={v}" for k, v in counters.items()))
        if rc != 0 or stats is None:
            app.print_output()
        if stats is not None and self.connections is not None:
            self.checks.eq(stats["counters"]["tcp_passive_opens"], self.connections,
                           f"[{name}] tcp_passive_opens == connections the test made")
        return stats, counters

    def raw(self, port, parts, delay=0.0, timeout=5.0):
        """Sends `parts` (bytes) on one connection; returns (data, end)."""
        return self.raw_finish(self.raw_start(port, parts, delay, timeout))[:2]

    def raw_start(self, port, parts, delay=0.0, timeout=5.0):
        """The same in the background: raw_finish() collects it."""
        self.connections += 1
        plan = json.dumps({"parts": [p.hex() for p in parts], "delay": delay, "timeout": timeout})
        plan_path = os.path.join(self.tmp, f"raw{self.connections}.json")
        with open(plan_path, "w") as f:
            f.write(plan)
        with open(plan_path) as f:
            p = subprocess.Popen(self.ns.exec(["/usr/bin/python3", "-c", RAW_CLIENT, APP_IP, str(port)]), stdin=f,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        return p, time.monotonic(), port, timeout

    def raw_finish(self, started):
        """(data, end, seconds from start to the end of the connection)."""
        p, t0, port, timeout = started
        try:
            out, err = p.communicate(timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            harness.kill_group(p)
            out, err = "", "raw client hung"
        secs = time.monotonic() - t0
        if p.returncode != 0 or not out:
            self.checks.check(False, f"raw client to port {port} ran", err.strip().splitlines()[-1:])
            return b"", "error", secs
        doc = json.loads(out)
        return bytes.fromhex(doc["data"]), doc["end"], secs

    def curl(self, args, connections=1, timeout=45):
        self.connections += connections
        return harness.run(self.ns.exec(["curl", "-sS", "--max-time", "10"] + list(args)), check=False,
                           timeout=timeout)


def case_fixed(run):
    """1 and 3: the fixed body on the default port (80)."""
    checks = run.checks
    app = run.start("fixed", ["--idle-timeout", str(IDLE_S)])
    url = f"http://{APP_IP}/"
    try:
        # A request that never ends: closed after --idle-timeout (3 s, before
        # the default --header-timeout of 20 s), by the session's timer.
        stuck = run.raw_start(80, [b"GET / HTTP/1.1\r\nHost: t\r\n"], timeout=IDLE_S + 8)
        time.sleep(0.5)
        body_path = os.path.join(run.tmp, "fixed.body")
        head_path = os.path.join(run.tmp, "fixed.head")
        p = run.curl(["-D", head_path, "-o", body_path, "-w", "%{http_code}", url])
        checks.eq(p.stdout.strip(), "200", "[1] GET / status (curl)")
        with open(body_path, "rb") as f:
            checks.check(f.read() == FIXED_BODY, f"[1] GET / body is the {FIXED_SIZE} expected bytes")
        with open(head_path, "rb") as f:
            head = f.read().decode("latin-1")
        checks.check(re.search(rf"^Content-Length: {FIXED_SIZE}\r$", head, re.M | re.I) is not None,
                     "[1] GET / Content-Length", head.splitlines()[1:4])
        checks.check(re.search(r"^Server: lanetcp\r$", head, re.M) is not None, "[1] Server: lanetcp")

        p = run.curl(["-I", url])
        checks.check(p.stdout.startswith("HTTP/1.1 200 OK") and f"Content-Length: {FIXED_SIZE}" in p.stdout,
                     "[1] HEAD / (curl -I): 200 with Content-Length", p.stdout.splitlines()[:1])

        # Keep-alive: one curl, three transfers, one connection.
        p = run.curl(["-w", "%{http_code} %{num_connects}\n", "-o", "/dev/null", "-o", "/dev/null",
                      "-o", "/dev/null", url, url, url])
        checks.eq(p.stdout.split("\n")[:3], ["200 1", "200 0", "200 0"],
                  "[1] keep-alive: curl's 3 transfers (status, new connections)")

        # A request split over 5 segments, 100 ms apart.
        req = b"GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
        data, end = run.raw(80, [req[:2], req[2:9], req[9:20], req[20:-1], req[-1:]], delay=0.1)
        resp, rest = parse_responses(data, ["GET"])
        checks.check(len(resp) == 1 and resp[0][0] == 200 and resp[0][2] == FIXED_BODY and rest == b"",
                     "[1] request split over 5 segments: one 200 with the body", f"{len(data)} bytes")
        checks.eq(end, "eof", "[1] Connection: close honoured (EOF)")

        # HTTP/1.0 without keep-alive: the server closes after the response.
        data, end = run.raw(80, [b"GET / HTTP/1.0\r\n\r\n"])
        resp, _ = parse_responses(data, ["GET"])
        checks.check(len(resp) == 1 and resp[0][0] == 200 and resp[0][1].get("connection") == "close",
                     "[1] HTTP/1.0: 200 with Connection: close")
        checks.eq(end, "eof", "[1] HTTP/1.0: closed by the server")

        # HEAD then GET pipelined: the HEAD response has no body.
        data, end = run.raw(80, [b"HEAD / HTTP/1.1\r\nHost: t\r\n\r\n"
                                 b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"])
        resp, rest = parse_responses(data, ["HEAD", "GET"])
        checks.check(len(resp) == 2 and resp[0][0] == 200 and resp[0][1].get("content-length") == str(FIXED_SIZE)
                     and resp[1][2] == FIXED_BODY and rest == b"",
                     "[1] HEAD + GET pipelined: HEAD without a body, GET with it", f"{len(data)} bytes")

        # 3: errors.
        data, end = run.raw(80, [b"GARBAGE\r\n\r\n"])
        checks.check(data.startswith(b"HTTP/1.1 400 Bad Request\r\n"), "[3] garbage: 400", data[:40])
        checks.eq(end, "eof", "[3] garbage: connection closed after the 400")
        long_req = b"GET / HTTP/1.1\r\nHost: t\r\nX-Long: " + b"a" * 10000 + b"\r\n\r\n"
        data, end = run.raw(80, [long_req])
        checks.check(data.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"), "[3] 10 KB header: 431",
                     data[:60])
        checks.eq(end, "eof", "[3] 10 KB header: connection closed after the 431")
        data, end = run.raw(80, [b"GET / HTTP/2.0\r\nHost: t\r\n\r\n"])
        checks.check(data.startswith(b"HTTP/1.1 505 "), "[3] HTTP/2.0 request line: 505", data[:40])

        time.sleep(max(0.0, IDLE_S + 0.5 - (time.monotonic() - stuck[1])))
        run.curl(["-o", "/dev/null", url])  # something for lanetcp-httpd to notice the time by
        data, end, secs = run.raw_finish(stuck)
        checks.check(data == b"" and end == "eof" and secs < IDLE_S + 6,
                     f"[3] unfinished request: closed, without an answer, after --idle-timeout {IDLE_S}",
                     f"{len(data)} bytes, {end} after {secs:.1f} s")
    finally:
        _, counters = run.stop("fixed", app)
    checks.eq(counters.get("status_400"), 1, "[1] lanetcp-httpd counted one 400")
    checks.eq(counters.get("status_431"), 1, "[1] lanetcp-httpd counted one 431")
    checks.eq(counters.get("status_505"), 1, "[1] lanetcp-httpd counted one 505")
    # GET, HEAD, 3 keep-alive, split, 1.0, HEAD+GET, 3 errors, one more GET.
    checks.eq(counters.get("requests"), 13, "[1] lanetcp-httpd counted 13 requests")
    checks.eq(counters.get("idle_timeouts"), 1, "[3] lanetcp-httpd counted one idle timeout")
    checks.eq(counters.get("keepalive_reuses"), 3, "[1] lanetcp-httpd counted 3 requests on reused connections")


def case_slowloris(run):
    """3b: the request-head deadline against a slowloris client, and the
    idle timeout with no traffic at all."""
    checks = run.checks
    app = run.start("slowloris", ["--port", str(SLOW_PORT), "--header-timeout", str(HEADER_S),
                                  "--idle-timeout", str(IDLE_S)])
    url = f"http://{APP_IP}:{SLOW_PORT}/"
    try:
        run.connections += 1
        plan = json.dumps({"head": "GET / HTTP/1.1\r\nHost: t\r\n", "trickle": "X-a: b\r\n",
                           "every": 0.3, "timeout": HEADER_S + 10})
        slow = subprocess.Popen(run.ns.exec(["/usr/bin/python3", "-c", SLOWLORIS_CLIENT, APP_IP, str(SLOW_PORT)]),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)
        slow.stdin.write(plan)
        slow.stdin.close()
        time.sleep(0.8)
        p = run.curl(["-o", "/dev/null", "-w", "%{http_code}", url])
        checks.eq(p.stdout.strip(), "200", "[3b] curl while a slowloris client trickles its head: 200")
        try:
            out = slow.stdout.read()
            slow.wait(timeout=HEADER_S + 30)
        except subprocess.TimeoutExpired:
            harness.kill_group(slow)
            out = ""
        doc = json.loads(out) if out else {}
        data = bytes.fromhex(doc.get("data", ""))
        first, closed = doc.get("first"), doc.get("closed")
        checks.check(data.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), "[3b] slowloris: 408", data[:40])
        checks.check(first is not None and HEADER_S - 0.2 <= first < HEADER_S + 1.5,
                     f"[3b] slowloris: the 408 came at the {HEADER_S} s header deadline, though bytes kept coming",
                     f"after {first} s, {doc.get('sent')} bytes sent")
        checks.check(doc.get("end") in ("eof", "reset") and closed is not None and closed < HEADER_S + 4,
                     "[3b] slowloris: connection closed by the server", f"{doc.get('end')} after {closed} s")

        # Keep-alive left idle, and nothing else happening: closed by the timer.
        idle = run.raw_start(SLOW_PORT, [b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"], timeout=IDLE_S + 8)
        data, end, secs = run.raw_finish(idle)
        resp, rest = parse_responses(data, ["GET"])
        checks.check(len(resp) == 1 and resp[0][0] == 200 and rest == b"", "[3b] idle keep-alive: the 200 first")
        checks.check(end == "eof" and IDLE_S - 0.2 <= secs < IDLE_S + 2,
                     f"[3b] idle keep-alive closed after --idle-timeout {IDLE_S} with no other traffic",
                     f"{end} after {secs:.1f} s")
    finally:
        _, counters = run.stop("slowloris", app)
    checks.eq(counters.get("header_timeouts"), 1, "[3b] lanetcp-httpd counted one header timeout")
    checks.eq(counters.get("status_408"), 1, "[3b] lanetcp-httpd counted one 408")
    checks.eq(counters.get("idle_timeouts"), 1, "[3b] lanetcp-httpd counted one idle timeout")


def case_root(run):
    """2: --root, with the pipelining check (distinct bodies show the order)."""
    checks = run.checks
    root = os.path.join(run.tmp, "root")
    os.makedirs(os.path.join(root, "sub"))
    files = {"index.html": b"<html>lanetcp</html>\n", "a.txt": b"first\n", "b.txt": b"second!\n",
             "sub/c.txt": b"third, in a sub-directory\n"}
    files["k64.bin"] = os.urandom(64 << 10)
    for name, content in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(content)
    big = harness.random_file(os.path.join(root, "big.bin"), MB)
    app = run.start("root", ["--root", root, "--port", str(ROOT_PORT)])
    base = f"http://{APP_IP}:{ROOT_PORT}"
    try:
        out = os.path.join(run.tmp, "big.download")
        t0 = time.monotonic()
        p = run.curl(["-o", out, "-w", "%{http_code} %{content_type}", f"{base}/big.bin"])
        secs = time.monotonic() - t0
        checks.eq(p.stdout.strip(), "200 application/octet-stream", "[2] GET /big.bin status and type")
        checks.eq(harness.sha256_file(out) if os.path.exists(out) else None, harness.sha256_file(big),
                  "[2] 1 MB random file: SHA-256 of the download")
        figure(f"[2] 1 MB file with curl: {secs:.2f} s")
        for path, want, ctype in (("/", files["index.html"], "text/html; charset=utf-8"),
                                  ("/sub/c.txt", files["sub/c.txt"], "text/plain; charset=utf-8")):
            body = os.path.join(run.tmp, "small.download")
            p = run.curl(["-o", body, "-w", "%{http_code} %{content_type}", base + path])
            with open(body, "rb") as f:
                got = f.read()
            checks.check(p.stdout.strip() == f"200 {ctype}" and got == want, f"[2] GET {path}: 200, type, body",
                         p.stdout.strip())
        p = run.curl(["-o", "/dev/null", "-w", "%{http_code}", f"{base}/missing.txt"])
        checks.eq(p.stdout.strip(), "404", "[2] missing file: 404")
        p = run.curl(["--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", f"{base}/../../etc/passwd"])
        checks.eq(p.stdout.strip(), "403", "[2] /../../etc/passwd: 403")
        p = run.curl(["--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", f"{base}/sub/%2e%2e/a.txt"])
        checks.eq(p.stdout.strip(), "403", "[2] /sub/%2e%2e/a.txt: 403")
        p = run.curl(["-o", "/dev/null", "-w", "%{http_code}", "-d", "x=1", f"{base}/a.txt"])
        checks.eq(p.stdout.strip(), "405", "[2] POST: 405")

        # Pipelining: 3 requests in one write, answered in order.
        reqs = b"".join(f"GET /{n} HTTP/1.1\r\nHost: t\r\n{extra}\r\n".encode()
                        for n, extra in (("a.txt", ""), ("b.txt", ""), ("sub/c.txt", "Connection: close\r\n")))
        data, end = run.raw(ROOT_PORT, [reqs])
        resp, rest = parse_responses(data, ["GET"] * 3)
        checks.eq([(r[0], r[2]) for r in resp], [(200, files["a.txt"]), (200, files["b.txt"]),
                                                 (200, files["sub/c.txt"])],
                  "[2] 3 pipelined requests in one write: 3 responses in order")
        checks.check(rest == b"" and end == "eof", "[2] pipelined: nothing after the third, then EOF",
                     f"{len(rest)} bytes left, {end}")

        # More pipelined requests (10 KB) than the request buffer holds
        # (8 KB), for a mix of small files and a 64 KB one, all sent before
        # reading anything: the server's send buffer fills, the requests
        # wait, and every one is answered in order.
        names = ["a.txt", "b.txt", "sub/c.txt", "k64.bin"]
        names = [names[i % 4] for i in range(300)]
        reqs = b"".join(f"GET /{n} HTTP/1.1\r\nHost: t\r\n\r\n".encode() for n in names[:-1])
        reqs += f"GET /{names[-1]} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".encode()
        t0 = time.monotonic()
        data, end = run.raw(ROOT_PORT, [reqs], timeout=20)
        secs = time.monotonic() - t0
        resp, rest = parse_responses(data, ["GET"] * len(names))
        bad = [i for i, (r, n) in enumerate(zip(resp, names)) if r[0] != 200 or r[2] != files[n]]
        checks.check(len(resp) == len(names) and not bad and rest == b"" and end == "eof",
                     f"[2] {len(names)} pipelined requests ({len(reqs)} bytes) before reading: all answered in order",
                     f"{len(resp)} responses, {len(bad)} wrong, {len(data)} bytes, {end}, {secs:.2f} s")

        # 64 connections each wanting the 1 MB file: 64 x 256 KB of send
        # buffer is more than the mbuf pool. Responses must leave TCP enough
        # mbufs to send with (before they did, nothing completed at all).
        res = run_wrk(run, f"{base}/big.bin", "3", "--timeout", "10s")
        run.connections = None  # wrk's own business from here
        checks.ge(res["requests"], 32, "[2] wrk -c64 on the 1 MB file: requests completed in 3 s")
        checks.eq(res["non2xx"], 0, "[2] wrk on the 1 MB file: non-2xx responses")
        checks.eq(res["errors"], (0, 0, 0, 0), "[2] wrk on the 1 MB file: socket errors (connect, read, write, timeout)")
        figure(f"[2] wrk -t1 -c64 -d3s, 1 MB file: {res['rps']:.0f} requests/s, {res['rps']:.0f} MB/s, "
               f"latency avg {res['lat_avg']} p99 {res['p99']}")
    finally:
        _, counters = run.stop("root", app)
    checks.eq(counters.get("status_404"), 1, "[2] lanetcp-httpd counted one 404")
    checks.eq(counters.get("status_403"), 2, "[2] lanetcp-httpd counted two 403")


WRK_RPS_RE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
WRK_LAT_RE = re.compile(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", re.M)
WRK_P99_RE = re.compile(r"^\s+99%\s+(\S+)", re.M)
WRK_NON2XX_RE = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
WRK_SOCKERR_RE = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
WRK_TOTAL_RE = re.compile(r"^\s+(\d+) requests in ([\d.]+)s", re.M)


def run_wrk(run, url, secs, *extra):
    """wrk -t1 -c64 in the namespace; its figures as a dict."""
    p = harness.run(run.ns.exec(["wrk", "-t1", "-c64", f"-d{secs}s", "--latency"] + list(extra) + [url]),
                    check=False, timeout=int(secs) + 60)
    out = p.stdout
    print(out + p.stderr, flush=True)
    run.checks.eq(p.returncode, 0, f"wrk {url} exit code")
    rps, total = WRK_RPS_RE.search(out), WRK_TOTAL_RE.search(out)
    non2xx, errors = WRK_NON2XX_RE.search(out), WRK_SOCKERR_RE.search(out)
    lat, p99 = WRK_LAT_RE.search(out), WRK_P99_RE.search(out)
    return {
        "summary": total is not None and rps is not None,
        "requests": int(total.group(1)) if total else 0,
        "rps": float(rps.group(1)) if rps else 0.0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": tuple(int(x) for x in errors.groups()) if errors else (0, 0, 0, 0),
        "lat_avg": lat.group(1) if lat else "?", "lat_stdev": lat.group(2) if lat else "?",
        "lat_max": lat.group(3) if lat else "?", "p99": p99.group(1) if p99 else "?",
    }


def case_wrk(run):
    """4: wrk against the fixed body."""
    checks = run.checks
    app = run.start("wrk", ["--port", str(WRK_PORT)])
    run.connections = None  # wrk's connection count is its own business
    res = None
    try:
        res = run_wrk(run, f"http://{APP_IP}:{WRK_PORT}/", "5")
        checks.check(res["summary"] and res["requests"] > 0, "[4] wrk made requests", f"{res['requests']} requests")
        checks.eq(res["non2xx"], 0, "[4] wrk: non-2xx responses")
        checks.eq(res["errors"], (0, 0, 0, 0), "[4] wrk: socket errors (connect, read, write, timeout)")
        figure(f"[4] wrk -t1 -c64 -d5s, {FIXED_SIZE}-byte body: {res['rps']:.0f} requests/s, "
               f"latency avg {res['lat_avg']} stdev {res['lat_stdev']} max {res['lat_max']}, p99 {res['p99']}")
    finally:
        stats, counters = run.stop("wrk", app)
    if stats is not None:
        checks.ge(stats["counters"]["tcp_passive_opens"], 64, "[4] tcp_passive_opens >= wrk's 64 connections")
    if res is not None:
        # wrk counts the responses it completed; some more may be in flight when it stops.
        checks.ge(counters.get("status_200", 0), res["requests"], "[4] lanetcp-httpd's 200s >= wrk's requests")
    checks.eq(sum(v for k, v in counters.items() if k.startswith("status_") and k != "status_200"), 0,
              "[4] lanetcp-httpd answered nothing but 200")


def body(checks):
    harness.require_root(checks)
    for tool in ("curl", "wrk", "ip", "ethtool"):
        if shutil.which(tool) is None:
            print(f"SKIP: {tool} not installed (scripts/install-deps.sh installs it)")
            sys.exit(harness.EXIT_SKIP)
    httpd_binary()
    tmp = harness.tempdir("httpd")
    try:
        with harness.VethNamespace("th", PEER_ADDR) as ns:
            run = Run(checks, ns, tmp)
            try:
                case_fixed(run)
                case_slowloris(run)
                case_root(run)
                case_wrk(run)
            finally:
                for app in run.apps:
                    app.cleanup()
    finally:
        if checks.failures:
            print(f"(files kept in {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        if FIGURES:
            print("\nmeasured figures:\n" + "\n".join("  " + f for f in FIGURES), flush=True)


if __name__ == "__main__":
    sys.exit(harness.main("httpd", body))
