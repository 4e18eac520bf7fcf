#!/usr/bin/env python3
"""segfault.py — writes to address 8 through ctypes (a C bug in an
extension, in miniature). Expected under sandrun: signaled, signal 11
(SIGSEGV)."""
import ctypes
import sys

print("segfault: writing to address 8", file=sys.stderr, flush=True)
ctypes.memset(8, 0, 1)
print("segfault: still alive?", file=sys.stderr)
