#!/usr/bin/env python3
"""tests/serve/mix.py — the analyzer of tests/suites/serve.sh: the input's
first line says how this job behaves, so one server (one job spec) gets a
mix of good, malformed, hanging, leaking and nested-pool files:
  good      one JSON object (ok)
  malformed a line that is not JSON (bad_output)
  hang      sleeps in C forever (timeout)
  leak      examples/leak.py (oom)
  nested    examples/nested_pool.py (timeout, its processes held at --pids)
  sleep N   sleeps N seconds, then good
Run only inside a sandbox: leak and nested are hostile."""
import json
import os
import sys
import time

data = sys.stdin.buffer.read()
kind = data.split(b"\n", 1)[0].decode("ascii", "replace").strip()
examples = os.environ.get("MIX_EXAMPLES", "/examples")
if kind == "good":
    print(json.dumps({"kind": kind, "bytes": len(data)}))
elif kind == "malformed":
    print("this is not JSON {")
elif kind == "hang":
    import ctypes
    while True:
        ctypes.CDLL(None).pause()
elif kind in ("leak", "nested"):
    script = os.path.join(examples, "leak.py" if kind == "leak" else "nested_pool.py")
    os.execv(sys.executable, [sys.executable, script])
elif kind.startswith("sleep "):
    time.sleep(float(kind.split()[1]))
    print(json.dumps({"kind": "sleep", "bytes": len(data)}))
else:
    print(f"mix.py: unknown kind {kind!r}", file=sys.stderr)
    sys.exit(3)
