#!/usr/bin/env python3
"""leak.py — leaks memory without bound: 16 MiB a step, every page touched
so it is really resident. Expected under sandrun: oom at --mem. Never run
it outside a sandbox without a bound (ulimit -v, a cgroup)."""
import sys

hoard = []
step = 16 << 20
while True:
    hoard.append(bytearray(b"\x5a") * step)
    if len(hoard) % 16 == 0:
        print(f"leak: {len(hoard) * 16} MiB", file=sys.stderr, flush=True)
