#!/usr/bin/env python3
"""sandrun_client.py — a client of `sandrun serve` (docs/serve.md), the
Python standard library only.

    from sandrun_client import Client, Busy
    c = Client("/run/sandrun/media.sock")
    answer = c.submit(open("upload.wav", "rb"), wait=True)   # or an fd
    answer["status"], answer["outcome"], answer.get("result")

The file goes to the server as an open descriptor (SCM_RIGHTS,
socket.send_fds), never as a path: the server cannot be made to open
anything the caller could not, and keeps its own copy before it answers.
A full queue raises Busy (with retry_after seconds) at once, never waits.

As a command:  sandrun_client.py SOCKET FILE...   (prints one answer each)
"""
import json
import os
import socket
import sys


class Refused(Exception):
    """The server said no: .code ("bad_file", "forbidden", ...), .answer."""

    def __init__(self, answer):
        super().__init__(f"{answer.get('error')}: {answer.get('message')}")
        self.code = answer.get("error")
        self.answer = answer


class Busy(Refused):
    """The queue is full: retry after .retry_after seconds."""

    def __init__(self, answer):
        super().__init__(answer)
        self.retry_after = answer.get("retry_after_ms", 1000) / 1000


class Client:
    """One connection; one request at a time (not shared between threads:
    give each thread or request its own Client)."""

    def __init__(self, path, timeout=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _answer(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        answer = json.loads(line)
        if not answer.get("ok"):
            raise (Busy if answer.get("error") == "busy" else Refused)(answer)
        return answer

    def _ask(self, request, fd=None):
        line = (json.dumps(request) + "\n").encode()
        if fd is None:
            self.sock.sendall(line)
        else:
            socket.send_fds(self.sock, [line], [fd])
        return self._answer()

    def submit(self, file, wait=False, name=None):
        """file: an open file object or descriptor (read access)."""
        fd = file if isinstance(file, int) else file.fileno()
        req = {"v": 1, "op": "submit", "wait": wait}
        if name is not None:
            req["name"] = name
        return self._ask(req, fd)

    def status(self, item_id):
        return self._ask({"v": 1, "op": "status", "id": item_id})

    def cancel(self, item_id):
        return self._ask({"v": 1, "op": "cancel", "id": item_id})

    def stats(self):
        return self._ask({"v": 1, "op": "stats"})


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    status = 0
    with Client(argv[1]) as c:
        for path in argv[2:]:
            try:
                with open(path, "rb") as f:
                    a = c.submit(f, wait=True, name=os.path.basename(path))
                status = max(status, a.get("status") != "done")
            except Refused as e:
                a, status = e.answer, max(status, 2)
            print(json.dumps(dict(a, file=path)))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
