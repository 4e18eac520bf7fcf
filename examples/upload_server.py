#!/usr/bin/env python3
"""upload_server.py — an http.server upload handler, in the two shapes of
the post-mortem of issue 14 (docs/serve.md):

  --backend sandrun --socket S   every POST /analyze is handed to
        `sandrun serve` at S (examples/sandrun_client.py) and waits for its
        outcome: the server's one pool of -j slots runs every request's
        analyzer in its own sandbox. A full queue is a 503 with
        Retry-After, at once. The web server never forks.
  --backend pool                 the plain shape: every request runs
        examples/pool_analyzer.py's analyze() in a ProcessPoolExecutor of
        its own, inside this process. With six concurrent requests and one
        process limit the nested pools deadlock the whole server.

    upload_server.py --listen unix:/run/app/http.sock --backend sandrun --socket S
    upload_server.py --listen 127.0.0.1:8080 --backend pool
    curl --data-binary @file.wav http://127.0.0.1:8080/analyze

Answers: 200 with the outcome as JSON ({"status": "done"|"failed",
"outcome": ..., "result": ...}), 503 busy, 422 when sandrun refused the
file, 502 when the backend failed. Standard library only.
"""
import argparse
import json
import multiprocessing as mp
import os
import socket
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pool_analyzer  # noqa: E402
import sandrun_client  # noqa: E402

MAX_BODY = 64 << 20


def via_sandrun(sock_path, body):
    # The upload goes to an unnamed temporary file; sandrun gets its
    # descriptor, copies it, and the file is gone when this returns.
    with tempfile.TemporaryFile() as f:
        f.write(body)
        f.flush()
        with sandrun_client.Client(sock_path) as c:
            a = c.submit(f, wait=True, name="upload")
    return {k: a[k] for k in ("id", "status", "outcome", "error", "result", "wall_ms") if k in a}


def via_pool(body):
    with ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as pool:
        result = pool.submit(pool_analyzer.analyze, body).result()
    return {"status": "done", "outcome": "ok", "result": result}


class Handler(BaseHTTPRequestHandler):
    def reply(self, code, obj, headers=()):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if self.path != "/analyze":
            return self.reply(404, {"error": "POST /analyze"})
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            return self.reply(413, {"error": "too large"})
        body = self.rfile.read(n)
        try:
            if self.server.backend == "sandrun":
                return self.reply(200, via_sandrun(self.server.sandrun_socket, body))
            return self.reply(200, via_pool(body))
        except sandrun_client.Busy as e:
            return self.reply(503, {"error": "busy", "message": e.answer.get("message")},
                              [("Retry-After", str(max(1, round(e.retry_after))))])
        except sandrun_client.Refused as e:
            return self.reply(422, {"error": e.code, "message": e.answer.get("message")})
        except Exception as e:  # the backend itself failed
            return self.reply(502, {"error": type(e).__name__, "message": str(e)})

    def address_string(self):
        return "unix" if isinstance(self.client_address, (str, bytes)) else super().address_string()

    def log_message(self, fmt, *args):
        print("upload_server: " + (fmt % args), file=sys.stderr, flush=True)


class UnixHTTPServer(ThreadingHTTPServer):
    address_family = socket.AF_UNIX

    def server_bind(self):
        if os.path.exists(self.server_address):
            os.unlink(self.server_address)
        self.socket.bind(self.server_address)
        self.server_name, self.server_port = "localhost", 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:8080", help="HOST:PORT or unix:PATH")
    ap.add_argument("--backend", choices=("sandrun", "pool"), default="sandrun")
    ap.add_argument("--socket", default=os.environ.get("SANDRUN_SOCKET", "/run/sandrun/sandrun.sock"),
                    help="sandrun serve's socket (--backend sandrun)")
    a = ap.parse_args()
    if a.listen.startswith("unix:"):
        httpd = UnixHTTPServer(a.listen[5:], Handler)
    else:
        host, port = a.listen.rsplit(":", 1)
        httpd = ThreadingHTTPServer((host, int(port)), Handler)
    httpd.backend, httpd.sandrun_socket = a.backend, a.socket
    httpd.daemon_threads = True
    print(f"upload_server: {a.backend} backend on {a.listen}", file=sys.stderr, flush=True)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
