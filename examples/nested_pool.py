#!/usr/bin/env python3
"""nested_pool.py — multiprocessing.Pool(32) whose every task starts a
nested Pool(32) and waits for it. A pool's workers are daemonic and may not
have children, so each task lifts that flag (a common recipe) and forks 32
more; when forks fail (pids.max) it retries, like code that treats EAGAIN
as transient. The nested pools can never all start: the batch job waits
forever with up to 1 + 32 + 32*32 processes. Expected under sandrun:
timeout, with the process count held at --pids. Under plain `parallel
--timeout` the grandchildren outlive the killed parent."""
import multiprocessing as mp
import sys
import time


def square(x):
    time.sleep(0.01)
    return x * x


def task(i):
    mp.current_process()._config["daemon"] = False  # allow children
    while True:
        try:
            with mp.get_context("fork").Pool(32) as inner:
                return sum(inner.map(square, range(32)))
        except OSError as e:  # BlockingIOError: fork hit the pids limit
            print(f"task {i}: nested pool cannot start: {e}; retrying", file=sys.stderr, flush=True)
            time.sleep(0.5)


if __name__ == "__main__":
    with mp.get_context("fork").Pool(32) as outer:
        print(sum(outer.map(task, range(32))))
