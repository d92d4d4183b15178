#!/usr/bin/env python3
"""Prints the ninja targets of every test in the 'unit' and 'scripts' suites
of a configured build directory: what scripts/test.sh builds with sanitizers."""
import json
import os
import subprocess
import sys

build = sys.argv[1]
tests = json.loads(subprocess.run(["meson", "introspect", "--tests", build], check=True,
                                  capture_output=True, text=True).stdout)
targets = set()
root = os.path.abspath(build)
for t in tests:
    if not set(t["suite"]) & {"lanetcp:unit", "lanetcp:scripts", "unit", "scripts"}:
        continue
    exe = os.path.abspath(t["cmd"][0])
    if exe.startswith(root + os.sep):
        targets.add(os.path.relpath(exe, root))
for t in sorted(targets):
    print(t)
