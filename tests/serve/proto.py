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
  proto.py hold SOCK SLOW FUSEPID OTHER N
      one client sends 3 descriptors of SLOW (its daemon stopped) and no
      submit line, and stays connected; meanwhile N other clients each
      submit OTHER with wait: true and must all get their result, done (a
      job that inherited SLOW's descriptors would hang closing them).
  proto.py flood SOCK SLOW FUSEPID OTHER SERVERPID UID
      with SLOW's daemon stopped, uid UID has two copies of SLOW under way
      and loops submits of SLOW on a third connection: answered busy, until
      the server's processes on UID's files reach their bound and it is
      disconnected; the server's children stay bounded and another
      client's stats is answered at once.
  proto.py reserve SOCK SLOW FUSEPID OTHER UID TIMEOUT
      with --quota-bytes: while a copy of UID's (SLOW, stalled) is under
      way, its limit is reserved of UID's quota: OTHER is refused (quota);
      once that copy ends (spool_timeout), OTHER is taken.
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


def checker():
    results = []

    def check(cond, what):
        results.append(bool(cond))
        print(("ok " if cond else "FAIL ") + what, flush=True)
    return results, check


def as_uid(uid):
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def lines(s, timeout):
    """Every answer line until EOF or timeout."""
    s.settimeout(timeout)
    out, buf = [], b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except (socket.timeout, ConnectionResetError):
        pass
    for ln in buf.split(b"\n"):
        if ln.strip():
            out.append(json.loads(ln))
    return out


def hold(sock, slow, fusepid, other, n):
    fusepid, n = int(fusepid), int(n)
    results, check = checker()
    fd = os.open(slow, os.O_RDONLY)
    os.kill(fusepid, signal.SIGSTOP)
    try:
        holder = connect(sock)
        for _ in range(3):  # each its own message; no line ends
            socket.send_fds(holder, [b" "], [fd])
        time.sleep(0.5)
        clients = []
        for i in range(n):
            c = connect(sock)
            with open(other, "rb") as f:
                socket.send_fds(c, [json.dumps({"op": "submit", "wait": True, "tag": i}).encode() + b"\n"],
                                [f.fileno()])
            clients.append(c)
        answers = []
        for c in clients:
            c.settimeout(30)
            try:
                answers.append(read_line(c))
            except socket.timeout:
                answers.append(None)
        check(all(a and a.get("ok") and a.get("status") == "done" for a in answers),
              f"with 3 descriptors of a stalled FUSE file held ahead of their submits, {n} other "
              f"submits ran to their end: {answers}")
        a = ask(connect(sock), {"op": "stats"})
        check(a and a.get("ok"), "stats answered")
        holder.close()
    finally:
        os.kill(fusepid, signal.SIGCONT)
    os.close(fd)
    return 0 if all(results) else 1


def children(pid):
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    n += int(f.read().rsplit(")", 1)[1].split()[1]) == pid
            except (OSError, IndexError, ValueError):
                pass
    return n


def as_client(uid, fn, pids):
    """fn() in a child as uid; its result (JSON) back through a pipe the
    child closes itself: its exit, which closes the stalled FUSE file it
    inherited, hangs until the daemon answers, so it is waited for (pids)
    only after that."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            as_uid(uid)
            res = fn()
        except Exception as e:  # noqa: BLE001 - reported to the parent
            res = {"exception": repr(e)}
        os.write(w, json.dumps(res).encode())
        os.close(w)
        os._exit(0)
    pids.append(pid)
    os.close(w)
    data = b""
    while True:
        chunk = os.read(r, 1 << 20)
        if not chunk:
            break
        data += chunk
    os.close(r)
    return json.loads(data) if data else {"exception": "no report"}


def flood(sock, slow, fusepid, other, serverpid, uid):
    fusepid, serverpid, uid = int(fusepid), int(serverpid), int(uid)
    results, check = checker()
    fd = os.open(slow, os.O_RDONLY)
    pids = []
    os.kill(fusepid, signal.SIGSTOP)
    try:
        def loop():
            copying = [connect(sock) for _ in range(2)]
            for c in copying:
                socket.send_fds(c, [b'{"op":"submit"}\n'], [fd])
            time.sleep(0.3)
            c = connect(sock)
            sent = 0
            try:
                for _ in range(200):
                    socket.send_fds(c, [b'{"op":"submit"}\n'], [fd])
                    sent += 1
                    time.sleep(0.01)
            except OSError:
                pass
            return {"sent": sent, "answers": lines(c, 10)}
        rep = as_client(uid, loop, pids)
        ans = rep.get("answers", [])
        last = ans[-1] if ans else {}
        print(f"# {rep.get('exception', '')} sent {rep.get('sent')} submits; {len(ans)} answers; "
              f"first {ans[0] if ans else None}; last {last}")
        check(len(ans) >= 2 and all(a.get("error") == "busy" for a in ans) and
              "processes of this server are on files of uid" in last.get("message", ""),
              "a client looping submits of a stalled FUSE file is answered busy, then, its uid's processes "
              "at their bound, disconnected")
        kids = children(serverpid)
        check(10 <= kids <= 32 + 2, f"the server's children stay bounded: {kids} (32 per uid)")
        c = connect(sock)
        t1 = time.monotonic()
        a = ask(c, {"op": "stats"})
        check(a and a.get("ok") and time.monotonic() - t1 < 2, f"stats answered at once: {a}")

        def again():
            c = connect(sock)
            socket.send_fds(c, [b'{"op":"submit"}\n'], [fd])
            return lines(c, 5)
        got = as_client(uid, again, pids)
        check(isinstance(got, list) and got and "processes of this server" in got[-1].get("message", ""),
              f"the next connection of that uid is refused too: {got}")
        kids = children(serverpid)
        check(kids <= 32 + 2, f"... and the server's children stay bounded: {kids}")
    finally:
        os.kill(fusepid, signal.SIGCONT)
    for pid in pids:
        os.waitpid(pid, 0)
    os.close(fd)
    return 0 if all(results) else 1


def reserve(sock, slow, fusepid, other, uid, timeout):
    fusepid, uid, timeout = int(fusepid), int(uid), float(timeout)
    results, check = checker()
    fd = os.open(slow, os.O_RDONLY)
    ofd = os.open(other, os.O_RDONLY)
    pids = []
    os.kill(fusepid, signal.SIGSTOP)
    try:
        def run():
            a1 = connect(sock)
            socket.send_fds(a1, [b'{"op":"submit","tag":"stalled"}\n'], [fd])
            time.sleep(0.3)
            b = connect(sock)
            return [ask(b, {"op": "submit", "tag": "while"}, ofd), read_line(a1),
                    ask(b, {"op": "submit", "tag": "after"}, ofd)]
        got = as_client(uid, run, pids)
        if not isinstance(got, list):
            got = [got, None, None]
        check(got[0] and got[0].get("error") == "quota",
              f"while a copy of the uid is under way, its limit is reserved of the quota: the next file is "
              f"refused: {got[0]}")
        check(got[1] and got[1].get("error") == "spool_timeout", f"the stalled copy ends at its deadline: {got[1]}")
        check(got[2] and got[2].get("ok"), f"... and its reservation with it: the file is taken: {got[2]}")
    finally:
        os.kill(fusepid, signal.SIGCONT)
    for pid in pids:
        os.waitpid(pid, 0)
    os.close(fd)
    os.close(ofd)
    return 0 if all(results) else 1


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    sys.exit({"paths": paths, "disconnect": disconnect, "raw": raw, "stall": stall, "hold": hold,
              "flood": flood, "reserve": reserve}[cmd](*args))
