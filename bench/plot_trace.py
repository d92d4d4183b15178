#!/usr/bin/python3
"""Draws a lanetcp congestion trace (doc/trace.md) as a PNG: cwnd, ssthresh
and bytes in the network against time, one panel per connection, with loss
(recovery entered), RTO, recovery exit, undo, tail loss probe, RACK timer, ECE
and zero-window probe events marked, and the times our window or the peer's
was shut shaded.

  bench/plot_trace.py trace.csv -o trace.png
  bench/plot_trace.py trace.csv -o trace.png --conn 10.97.0.2:7 --max-panels 4 --from 0.5 --to 2.5

Needs matplotlib (Debian's python3-matplotlib; scripts/install-deps.sh).
"""

import argparse
import csv
import sys
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REQUIRED = ["time_ns", "conn", "event", "cwnd", "ssthresh", "in_flight"]
# event -> (marker, colour, label)
MARKS = {
    "loss": ("v", "tab:red", "loss (recovery)"),
    "rto": ("X", "black", "RTO"),
    "recovery_exit": ("^", "tab:green", "recovery exit"),
    "undo": ("*", "tab:purple", "undo"),
    "tlp": ("d", "tab:orange", "tail loss probe"),
    "rack_timer": ("o", "tab:olive", "RACK reordering timer"),
    "ece": ("s", "tab:brown", "ECE"),
    "persist": ("|", "tab:gray", "zero-window probe"),
}
NO_SSTHRESH = 0xFFFFFFFF


def read(path):
    """{conn: [row dict, ...]} in file order; raises ValueError on a bad file."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: not a lanetcp trace (no column {', '.join(missing)})")
        conns = OrderedDict()
        for row in reader:
            conns.setdefault(row["conn"], []).append(row)
    return conns


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", help="trace written by --trace FILE.csv")
    ap.add_argument("-o", "--output", help="PNG to write (default: the CSV's name with .png)")
    ap.add_argument("--conn", action="append", default=[],
                    help="only connections whose id contains this text (repeatable)")
    ap.add_argument("--max-panels", type=int, default=6,
                    help="at most this many connections, the busiest first (default 6)")
    ap.add_argument("--from", dest="t_from", type=float, help="seconds after the first row")
    ap.add_argument("--to", dest="t_to", type=float, help="seconds after the first row")
    ap.add_argument("--title", help="figure title")
    args = ap.parse_args(argv)
    out = args.output or (args.csv[:-4] if args.csv.endswith(".csv") else args.csv) + ".png"

    try:
        conns = read(args.csv)
    except (OSError, ValueError) as e:
        print(f"plot_trace: {e}", file=sys.stderr)
        return 2
    if args.conn:
        conns = OrderedDict((k, v) for k, v in conns.items() if any(c in k for c in args.conn))
    if not conns:
        print(f"plot_trace: {args.csv}: no rows" + (" for --conn" if args.conn else ""), file=sys.stderr)
        return 1
    chosen = sorted(conns.items(), key=lambda kv: -len(kv[1]))[: args.max_panels]
    t0 = min(int(r["time_ns"]) for _, rows in chosen for r in rows[:1])

    fig, axes = plt.subplots(len(chosen), 1, figsize=(13, 3.4 * len(chosen) + 0.6), sharex=True, squeeze=False)
    for ax, (conn, rows) in zip(axes[:, 0], chosen):
        t = [(int(r["time_ns"]) - t0) / 1e9 for r in rows]
        keep = [i for i, x in enumerate(t) if (args.t_from is None or x >= args.t_from) and
                (args.t_to is None or x <= args.t_to)]
        t = [t[i] for i in keep]
        rows = [rows[i] for i in keep]
        kb = lambda key: [int(r[key]) / 1024 for r in rows]  # noqa: E731
        ax.step(t, kb("cwnd"), where="post", label="cwnd", color="tab:blue", linewidth=1.2)
        ss = [int(r["ssthresh"]) for r in rows]
        ax.step(t, [s / 1024 if s != NO_SSTHRESH else float("nan") for s in ss], where="post", label="ssthresh",
                color="tab:red", linestyle="--", linewidth=1)
        ax.step(t, kb("in_flight"), where="post", label="in flight", color="tab:cyan", linewidth=0.8, alpha=0.8)
        # Where a window was shut: ours (the application stopped reading) or the peer's.
        for key, colour, label in (("rcv_wnd", "tab:red", "our window 0"), ("snd_wnd", "tab:gray", "peer's window 0")):
            if not rows or key not in rows[0]:
                continue
            spans, start = [], None
            for x, r in zip(t, rows):
                if int(r[key]) == 0 and start is None:
                    start = x
                elif int(r[key]) != 0 and start is not None:
                    spans.append((start, x))
                    start = None
            if start is not None:
                spans.append((start, t[-1]))
            for i, (a, b) in enumerate(spans):
                ax.axvspan(a, b, color=colour, alpha=0.12, linewidth=0, label=label if i == 0 else None)
        top = max([int(r["cwnd"]) / 1024 for r in rows] + [1])
        # Each kind of event in its own lane above the curves, so they do not hide each other.
        lane = 0
        for event, (marker, colour, label) in MARKS.items():
            xs = [x for x, r in zip(t, rows) if r["event"] == event]
            if xs:
                lane += 1
                ax.scatter(xs, [top * (1.0 + 0.06 * lane)] * len(xs), marker=marker, color=colour, s=30,
                           label=f"{label} ({len(xs)})", zorder=3)
        ax.set_ylabel("KiB")
        ax.set_ylim(0, top * (1.06 + 0.06 * lane))
        ax.set_title(conn, fontsize=9, loc="left")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.005, 1.0), borderaxespad=0)
    axes[-1, 0].set_xlabel("seconds")
    if args.title:
        fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"plot_trace: {sum(len(r) for _, r in chosen)} rows of {len(chosen)} connection(s) -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
