#!/usr/bin/python3
"""A TCP receiver that stops reading for a while, so that Linux's receive
window closes (run by test_tcp_flow.py inside a network namespace).

Listens on --port with SO_RCVBUF set to --rcvbuf *before* listen (the
accepted socket inherits it, and Linux then also picks a small window
scale), accepts one connection, reads the first --first bytes, sleeps
--pause seconds without reading, then reads to the end of the stream,
writing every byte to --out, and closes. Prints "listening" once it
listens, and at the end one line "result {json}" with the byte counts and
wall-clock (time.time(), comparable with pcap timestamps) instants.
"""

import argparse
import json
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rcvbuf", type=int, default=64 * 1024)
    ap.add_argument("--first", type=int, default=1 << 20, help="bytes to read before the pause")
    ap.add_argument("--pause", type=float, default=5.0, help="seconds without reading")
    ap.add_argument("--out", required=True)
    ap.add_argument("--accept-timeout", type=float, default=60.0)
    args = ap.parse_args()

    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    ls.bind(("0.0.0.0", args.port))
    ls.listen(1)
    ls.settimeout(args.accept_timeout)
    print("listening", flush=True)
    conn, peer = ls.accept()
    ls.close()
    conn.settimeout(None)
    res = {"peer": f"{peer[0]}:{peer[1]}", "t_accept": time.time(),
           "rcvbuf": conn.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)}
    total = 0
    with open(args.out, "wb") as out:
        while total < args.first:
            data = conn.recv(min(65536, args.first - total))
            if not data:
                break
            out.write(data)
            total += len(data)
        res["before_pause"] = total
        res["t_pause_start"] = time.time()
        time.sleep(args.pause)
        res["t_pause_end"] = time.time()
        while True:
            data = conn.recv(1 << 20)
            if not data:
                break
            out.write(data)
            total += len(data)
    res["t_eof"] = time.time()
    res["total"] = total
    conn.close()
    print("result " + json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
