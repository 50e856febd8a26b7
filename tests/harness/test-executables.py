#!/usr/bin/env python3
"""Read `cargo test --no-run --message-format=json` on stdin; print each test executable once.

A test executable is a compiler-artifact whose profile has `test: true` and which has an
`executable` (lib/bin unit tests, integration tests under tests/, example/bench test targets).
"""
import json
import sys

seen = set()
for line in sys.stdin:
    line = line.strip()
    if not line.startswith("{"):
        continue
    msg = json.loads(line)
    if msg.get("reason") != "compiler-artifact":
        continue
    exe = msg.get("executable")
    if exe and msg.get("profile", {}).get("test") and exe not in seen:
        seen.add(exe)
        print(exe)
