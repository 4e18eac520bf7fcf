#!/usr/bin/env python3
"""pool_analyzer.py — an analyzer that uses process pools the way real
analysis code does: a ProcessPoolExecutor over chunks of the input, each
of whose tasks starts a nested ProcessPoolExecutor over sub-chunks, and a
fork that fails (EAGAIN: a process limit) is retried as transient.

Alone, it finishes in well under a second with 1 + 4 + 4*4 processes and
prints {"bytes": ..., "sum": ..., "mean": ...}. Under sandrun each job has
its own --pids: every request's pools fit. In a web server that runs it in
a pool per request (examples/upload_server.py --backend pool), six
concurrent requests share one process limit: the pools of each hold the
processes the others wait for, every nested fork fails and is retried,
and no request ever finishes (the post-mortem of issue 14).

    python3 pool_analyzer.py < FILE        (as a sandrun --cmd: stdin)
"""
import json
import multiprocessing as mp
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

WORKERS = 4


def split(data, n):
    step = max(1, -(-len(data) // n))
    return [data[i:i + step] for i in range(0, len(data), step)] or [b""]


def byte_sum(chunk):
    time.sleep(0.02)  # a little work per task
    return sum(chunk)


def pooled(fn, items):
    """fn over items in a fresh pool, retrying when processes cannot be had."""
    while True:
        try:
            with ProcessPoolExecutor(WORKERS, mp_context=mp.get_context("fork")) as pool:
                return list(pool.map(fn, items))
        except (OSError, BrokenProcessPool) as e:  # fork: EAGAIN under a pids limit
            print(f"pool_analyzer: cannot start a pool ({e}); retrying", file=sys.stderr, flush=True)
            time.sleep(0.2)


def chunk_sum(chunk):
    return sum(pooled(byte_sum, split(chunk, WORKERS)))  # the nested pool


def analyze(data):
    total = sum(pooled(chunk_sum, split(data, WORKERS)))
    return {"bytes": len(data), "sum": total, "mean": total / len(data) if data else 0.0}


if __name__ == "__main__":
    print(json.dumps(analyze(sys.stdin.buffer.read())))
