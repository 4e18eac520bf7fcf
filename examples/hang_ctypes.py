#!/usr/bin/env python3
"""hang_ctypes.py — hangs inside a C call: libc pause() through ctypes.
Python's own signal handling never gets a chance to run, so only a kill
from outside ends it. Expected under sandrun: timeout."""
import ctypes
import sys

print("hang_ctypes: calling libc pause()", file=sys.stderr, flush=True)
libc = ctypes.CDLL(None)
while True:
    libc.pause()
