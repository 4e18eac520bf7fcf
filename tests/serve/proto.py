#!/usr/bin/env python3
"""tests/serve/proto.py — raw protocol checks for tests/suites/serve.sh,
standard library only.

  proto.py paths SOCK WATCHED FIFO OTHER
      requests that name paths (WATCHED, a regular file, and FIFO) are
      refused with path_refused, and a submit whose label is WATCHED's path
      (with OTHER's descriptor) is taken as a label only; inotify on WATCHED
      and FIFO shows that nothing opened either, and the FIFO has no reader.
      Prints one "ok"/"FAIL" line per check; exit 1 on any FAIL.
  proto.py disconnect SOCK FILE
      submit FILE with wait: true, then close the connection at once;
      prints the server's nothing (there is no answer to read).
  proto.py raw SOCK LINE
      send one line without a descriptor, print the answer line.
  proto.py stall SOCK SLOW FUSEPID OTHER TIMEOUT
      open SLOW (a file on an overlay over the FUSE file system served by
      FUSEPID), stop that daemon (SIGSTOP), submit SLOW; meanwhile another
      client's submit of OTHER and a stats must be answered at once, and
      SLOW's 5 submits, after about TIMEOUT seconds (--spool-timeout), with
      spool_timeout; then, with 10 processes stuck on that uid's files, its
      next submit is busy, until the daemon is resumed (SIGCONT) and OTHER.2
      is taken.
      Prints one "ok"/"FAIL" line per check; exit 1 on any FAIL.
"""
import ctypes
import errno
import json
import os
import signal
import socket
import sys
import time

IN_ACCESS, IN_OPEN, IN_CLOSE_WRITE, IN_CLOSE_NOWRITE = 0x1, 0x20, 0x8, 0x10
IN_NONBLOCK = os.O_NONBLOCK


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def read_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return json.loads(buf) if buf else None


def ask(s, req, fd=None):
    line = (json.dumps(req) + "\n").encode()
    if fd is None:
        s.sendall(line)
    else:
        socket.send_fds(s, [line], [fd])
    return read_line(s)


def paths(sock, watched, fifo, other):
    libc = ctypes.CDLL(None, use_errno=True)
    ino = libc.inotify_init1(IN_NONBLOCK)
    mask = IN_ACCESS | IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE
    for p in (watched, fifo):
        if libc.inotify_add_watch(ino, p.encode(), mask) < 0:
            print(f"FAIL inotify_add_watch {p}: {os.strerror(ctypes.get_errno())}")
            return 1
    bad = 0
    s = connect(sock)
    for req in ({"op": "submit", "path": watched}, {"op": "submit", "file": fifo},
                {"op": "submit", "wait": True, "input": watched},
                {"op": "submit", "paths": [watched, fifo]}):
        a = ask(s, req)
        good = a and a.get("ok") is False and a.get("error") == "path_refused"
        print(("ok" if good else "FAIL") + f" refused {sorted(req)}: {a}")
        bad += not good
    with open(other, "rb") as f:
        a = ask(s, {"op": "submit", "name": watched}, f.fileno())
    good = a and a.get("ok") is True and isinstance(a.get("id"), int)
    print(("ok" if good else "FAIL") + f" a path as a name is a label only: {a}")
    bad += not good
    s.close()
    try:
        events = os.read(ino, 65536)
    except BlockingIOError:
        events = b""
    print(("ok" if not events else "FAIL") + f" inotify: {len(events)} bytes of events on the named files")
    bad += bool(events)
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        print("FAIL the FIFO has a reader")
        bad += 1
    except OSError as e:
        print(("ok" if e.errno == errno.ENXIO else "FAIL") + f" the FIFO has no reader ({e.strerror})")
        bad += e.errno != errno.ENXIO
    return 1 if bad else 0


def disconnect(sock, path):
    s = connect(sock)
    with open(path, "rb") as f:
        socket.send_fds(s, [b'{"op":"submit","wait":true}\n'], [f.fileno()])
    s.close()
    return 0


def raw(sock, line):
    s = connect(sock)
    s.sendall(line.encode() + b"\n")
    print(s.makefile("rb").readline().decode().rstrip("\n"))
    return 0


def stall(sock, slow, fusepid, other, timeout):
    fusepid, timeout = int(fusepid), float(timeout)
    results = []

    def check(cond, what):
        results.append(bool(cond))
        print(("ok " if cond else "FAIL ") + what)

    fd = os.open(slow, os.O_RDONLY)  # opened while its daemon still answers
    os.kill(fusepid, signal.SIGSTOP)
    try:
        stalled = [connect(sock) for _ in range(5)]
        t0 = time.monotonic()
        for s1 in stalled:
            socket.send_fds(s1, [b'{"op":"submit","tag":"stalled"}\n'], [fd])
        time.sleep(0.3)
        s2 = connect(sock)
        with open(other, "rb") as f:
            a = ask(s2, {"op": "submit", "tag": "other"}, f.fileno())
        t_other = time.monotonic() - t0
        check(a and a.get("ok") and a.get("id"), f"another client's submit acknowledged: {a}")
        check(t_other < timeout / 2, f"... while the stalled copy runs ({t_other:.2f} s after it)")
        a = ask(s2, {"op": "stats"})
        t_stats = time.monotonic() - t0
        check(a and a.get("ok"), f"stats answered meanwhile ({t_stats:.2f} s): {a}")
        check(t_stats < timeout / 2, "... at once")
        answers = [read_line(s1) for s1 in stalled]
        t_stall = time.monotonic() - t0
        check(all(a and a.get("error") == "spool_timeout" and a.get("tag") == "stalled" for a in answers),
              f"the 5 stalled submits are answered spool_timeout: {answers[0]}")
        check(timeout - 0.5 <= t_stall <= timeout + 5, f"... at their deadline ({t_stall:.2f} s, --spool-timeout {timeout} s)")
        # Their copies (killed) and the closes of the server's references
        # now wait in the kernel for the stopped daemon: 10 processes
        # stuck on this uid's files, past the bound of 8.
        time.sleep(0.5)
        with open(other, "rb") as f:
            a = ask(s2, {"op": "submit", "tag": "more"}, f.fileno())
        check(a and a.get("error") == "busy" and "stuck" in a.get("message", ""),
              f"with 10 processes stuck on this uid's files, its next submit is busy: {a}")
    finally:
        os.kill(fusepid, signal.SIGCONT)
    os.close(fd)
    # The daemon answers again: the stuck processes end and are reaped.
    ok = False
    for _ in range(50):
        time.sleep(0.2)
        with open(other + ".2", "rb") as f:
            a = ask(s2, {"op": "submit", "tag": "again"}, f.fileno())
        if a and a.get("ok"):
            ok = True
            break
    check(ok, f"once the daemon answers, the stuck processes are reaped and this uid is served: {a}")
    return 0 if all(results) else 1


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    sys.exit({"paths": paths, "disconnect": disconnect, "raw": raw, "stall": stall}[cmd](*args))
