#!/usr/bin/python3
"""Error handling of lanetcp-echo's command line and config file: every case
must exit with the documented code (2: bad arguments or config, 1: runtime,
e.g. no DPDK port), print exactly one line on stderr besides DPDK's own log
lines ("EAL:", "TELEMETRY:"...), name the problem in it, and never crash
(no signal, no core file, no uncaught exception). Needs no root for the
exit-2 cases; the DPDK cases use --no-huge and a unique --file-prefix."""

import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

CFG = os.path.join(harness.FIXTURES, "config")
IP = ["--ip", "10.9.0.2/24"]
CRASH_RE = re.compile(r"terminate called|Segmentation fault|Aborted|core dumped|AddressSanitizer|"
                      r"UndefinedBehaviorSanitizer|runtime error:|PANIC", re.I)


def cases(tmp):
    pcap_in = os.path.join(harness.FIXTURES, "pcap", "replay.pcap")
    pcap_vdev = f"net_pcap0,rx_pcap={pcap_in},tx_pcap={os.path.join(tmp, 'unused.pcap')}"
    # (name, argv after the binary (None: EAL args + -- + app args), exit code, stderr regex)
    return [
        ("bad --ip", None, IP[:1] + ["10.9.0.300/24"], 2, r"--ip 10\.9\.0\.300/24: not an address"),
        ("--ip is a network address", None, ["--ip", "10.9.0.0/24"], 2,
         r"address 10\.9\.0\.0/24: not a usable host address"),
        ("--ip prefix /31", None, ["--ip", "10.9.0.2/31"], 2, r"address 10\.9\.0\.2/31: prefix length"),
        ("--gateway outside the subnet", None, IP + ["--gateway", "10.8.0.1"], 2,
         r"gateway 10\.8\.0\.1: not inside 10\.9\.0\.2/24"),
        ("gateway outside the subnet in the config file", None,
         ["--config", os.path.join(CFG, "gateway_outside.toml")], 2, r"10\.8\.0\.1: not inside 10\.9\.0\.2/24"),
        ("missing --ip", None, [], 2, r"no IPv4 address"),
        ("multicast --mac", None, IP + ["--mac", "01:00:5e:00:00:01"], 2,
         r"mac 01:00:5e:00:00:01: must be a unicast address"),
        ("bad --mac", None, IP + ["--mac", "02:00:00:00:00"], 2, r"--mac 02:00:00:00:00: not an address"),
        ("--mtu out of range", None, IP + ["--mtu", "100"], 2, r"--mtu"),
        ("bad --arp-static", None, IP + ["--arp-static", "10.9.0.1"], 2, r"--arp-static 10\.9\.0\.1: expected IP=MAC"),
        ("unknown app flag", None, IP + ["--bogus"], 2, r"--bogus"),
        ("missing config file", None, IP + ["--config", os.path.join(tmp, "nonexistent.toml")], 2,
         r"nonexistent\.toml: cannot open config file"),
        ("config file with an unknown key", None, ["--config", os.path.join(CFG, "unknown_key.toml")], 2,
         r"unknown_key\.toml: unknown key 'interface\.bogus'"),
        ("config file with a wrong type", None, ["--config", os.path.join(CFG, "wrong_type.toml")], 2,
         r"wrong_type\.toml: 'interface\.mtu': expected an integer"),
        ("config file with a bad address", None, ["--config", os.path.join(CFG, "bad_address.toml")], 2,
         r"bad_address\.toml: 'interface\.ip': '10\.9\.0\.999/24' is not an address"),
        ("config file that is not TOML", None, ["--config", os.path.join(CFG, "syntax_error.toml")], 2,
         r"syntax_error\.toml:\d+:\d+: "),
        ("`--` missing before the app flags", "no-dashdash", IP + ["--duration", "1"], 2,
         r"--ip: app flags go after `--`"),
        ("no DPDK port (--no-pci, no --vdev)", "no-vdev", IP + ["--duration", "1"], 1,
         r"DPDK port 0 does not exist \(0 port\(s\) available\)"),
        ("--dpdk-port beyond the ports there are", pcap_vdev, IP + ["--dpdk-port", "3", "--duration", "1"], 1,
         r"DPDK port 3 does not exist \(1 port\(s\) available\)"),
        ("unknown EAL argument", "bad-eal", IP + ["--duration", "1"], 1, r"DPDK EAL initialisation failed"),
    ]


def body(checks):
    tmp = harness.tempdir("cli")
    try:
        for n, (name, mode, app_args, want_rc, want_re) in enumerate(cases(tmp)):
            prefix = harness.unique(f"ltcli{n}x")
            eal = harness.eal_args(prefix)
            if mode == "no-dashdash":
                argv = eal + app_args
            elif mode == "bad-eal":
                argv = eal + ["--bogus-eal-flag", "--"] + app_args
            elif mode not in (None, "no-vdev"):
                argv = harness.eal_args(prefix, mode) + ["--"] + app_args
            else:
                argv = eal + ["--"] + app_args
            workdir = os.path.join(tmp, f"case{n}")
            os.mkdir(workdir)
            app = harness.EchoApp(workdir, [], [], name="cli")
            app.argv = [harness.echo_binary()] + argv
            app.prefix = prefix
            try:
                app.start()
                rc = app.wait(timeout=60)
            finally:
                app.cleanup()
            stderr = app.stderr
            lines = harness.ours_only(stderr)
            if mode == "bad-eal":
                # glibc getopt inside rte_eal_init complains on its own (twice: EAL parses
                # argv in two passes), and EAL prints its usage on stdout: DPDK's, not ours.
                lines = [l for l in lines if "unrecognized option '--bogus-eal-flag'" not in l]
            print(f"\n[{name}] exit {rc}; stderr: {lines}")
            checks.check(rc >= 0, f"{name}: exited, not killed by a signal", f"exit {rc}")
            checks.eq(rc, want_rc, f"{name}: exit code")
            checks.eq(len(lines), 1, f"{name}: exactly one line on stderr (besides DPDK's log)")
            ours = [l for l in lines if l.startswith("lanetcp-echo: error: ")]
            checks.check(len(ours) == 1 and re.search(want_re, ours[0]), f"{name}: the line names the problem",
                         f"want /{want_re}/")
            checks.check(not CRASH_RE.search(stderr + app.stdout), f"{name}: no crash message")
            cores = [f for f in os.listdir(workdir) if f.startswith("core")]
            checks.eq(cores, [], f"{name}: no core file")
            if want_rc == 2:
                checks.eq(app.stdout, "", f"{name}: nothing on stdout")

        # Positive control: --help prints usage and exits 0.
        app = harness.EchoApp(tmp, [], [], name="help")
        app.argv = [harness.echo_binary(), "--", "--help"]
        try:
            app.start()
            rc = app.wait(timeout=30)
        finally:
            app.cleanup()
        checks.eq(rc, 0, "--help: exit code")
        checks.check("--ip" in app.stdout and "--config" in app.stdout, "--help: usage on stdout")
        checks.eq(harness.ours_only(app.stderr), [], "--help: nothing on stderr")
    finally:
        if not checks.failures and not os.environ.get("LANETCP_KEEP_TMP"):
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"files kept in {tmp}")


if __name__ == "__main__":
    sys.exit(harness.main("cli_errors", body))
