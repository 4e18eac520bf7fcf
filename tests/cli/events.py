#!/usr/bin/env python3
"""tests/cli/events.py — a consumer of `sandrun run --json`'s events, as a
pipeline would write one: it checks every line against the schema that
docs/runner.md documents (version 1) and the ids against the store.

    events.py EVENTS.jsonl DB.sqlite   -> prints "ok N events (by type)" or
                                          the first violation, exit 1

Checked: each line is one JSON object; the envelope (v == 1, event, ts as
RFC 3339 UTC with milliseconds, ts_ms, run) and the same instant in ts and
ts_ms; the required keys and their types per event type; timestamps never
go back; one run id per stream, the one the store has in runs; each item id
is the store's id of that path; begin first, summary last.
"""
import datetime
import json
import re
import sqlite3
import sys

INT, STR, BOOL, NUM, OBJ = int, str, bool, (int, float), dict
NULL = type(None)

ENVELOPE = {"v": INT, "event": STR, "ts": STR, "ts_ms": INT, "run": (INT, NULL)}
EVENTS = {
    "begin": {"version": STR, "spec_key": STR, "jobs": INT},
    "started": {"item": INT, "path": STR, "attempt": INT},
    "finished": {"item": (INT, NULL), "path": STR, "attempt": INT, "outcome": STR, "status": STR,
                 "exit_code": (INT, NULL), "signal": (INT, NULL), "syscall": (STR, NULL),
                 "wall_ms": (INT, NULL), "cpu_ms": (INT, NULL), "peak_memory_bytes": (INT, NULL),
                 "oom_kills": (INT, NULL), "error": (STR, NULL)},
    "skipped": {"path": STR, "reason": STR, "detail": (STR, NULL)},
    "progress": {"done": INT, "total": INT, "queueing": BOOL, "ok": INT, "damaged": INT, "failed": INT,
                 "running": INT, "finished": INT, "retried": INT, "released": INT, "rate": NUM,
                 "eta_s": (INT, NULL), "elapsed_ms": INT, "paused": BOOL, "stopping": BOOL},
    "summary": {"total": INT, "ok": INT, "damaged": INT, "failed": INT, "pending": INT, "running": INT,
                "failed_by_outcome": OBJ, "finished": INT, "retried": INT, "released": INT,
                "skipped_entries": INT, "skipped_by": OBJ, "elapsed_ms": INT,
                "interrupted_by": (STR, NULL), "exit_status": INT},
}
STATUSES = {"done", "failed", "pending", "unrecorded"}
TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def typed(value, want):
    kinds = want if isinstance(want, tuple) else (want,)
    # JSON true/false are bool, which Python also counts as int: keep apart.
    if isinstance(value, bool):
        return BOOL in kinds
    return isinstance(value, kinds)


def check(lines, db):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    runs = {r[0] for r in con.execute("SELECT id FROM runs")}
    items = dict(con.execute("SELECT path, id FROM items"))
    seen, last_ms, run, by_type = [], None, None, {}
    for n, line in enumerate(lines, 1):
        where = f"line {n}"
        e = json.loads(line)
        if not isinstance(e, dict):
            return f"{where}: not an object"
        for key, want in {**ENVELOPE, **EVENTS.get(e.get("event"), {})}.items():
            if key not in e:
                return f"{where}: {e.get('event')} without {key!r}"
            if not typed(e[key], want):
                return f"{where}: {key!r} is {e[key]!r}"
        if e["event"] not in EVENTS:
            return f"{where}: unknown event {e['event']!r}"
        if e["v"] != 1:
            return f"{where}: schema version {e['v']}"
        if not TS.match(e["ts"]):
            return f"{where}: ts {e['ts']!r} is not RFC 3339 UTC with ms"
        ts = datetime.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%f%z")
        if round(ts.timestamp() * 1000) != e["ts_ms"]:
            return f"{where}: ts {e['ts']} and ts_ms {e['ts_ms']} disagree"
        if last_ms is not None and e["ts_ms"] < last_ms:
            return f"{where}: time went back ({e['ts_ms']} after {last_ms})"
        last_ms = e["ts_ms"]
        if run is None:
            run = e["run"]
        if e["run"] != run or run not in runs:
            return f"{where}: run {e['run']} (stream's {run}; store has {sorted(runs)})"
        if e["event"] in ("started", "finished") and e["item"] is not None:
            if items.get(e["path"]) != e["item"]:
                return f"{where}: item {e['item']} is not the store's id of {e['path']!r} ({items.get(e['path'])})"
        if e["event"] == "finished" and e["status"] not in STATUSES:
            return f"{where}: status {e['status']!r}"
        seen.append(e["event"])
        by_type[e["event"]] = by_type.get(e["event"], 0) + 1
    if not seen or seen[0] != "begin" or seen[-1] != "summary":
        return f"begin first and summary last: got {seen[:1]} ... {seen[-1:]}"
    return "ok %d events (%s)" % (len(seen), ", ".join(f"{k} {v}" for k, v in sorted(by_type.items())))


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        lines = [l for l in f.read().split("\n") if l]
    try:
        verdict = check(lines, sys.argv[2])
    except (ValueError, sqlite3.Error) as err:
        verdict = f"unreadable: {err}"
    print(verdict)
    return 0 if verdict.startswith("ok ") else 1


if __name__ == "__main__":
    sys.exit(main())
