"""What a closed session freed goes back to the OS (issue 21: idle RSS crept with each session).

Run: pytest tests/test_memory_release.py"""
from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest

from sandbox.serving import memory
from tests.ui.serving import ROOT

# A heap as a session leaves it: 200 MB of 16 KB blocks (below malloc's mmap threshold, so inside
# the heap), each 64th kept alive, the rest freed. The kept ones pin the pages above them: free()
# gives none back, so RSS stays put until malloc_trim.
FRAGMENTED = """
import ctypes, runpy
from pathlib import Path
# by path: importing the sandbox.ui package loads Panel and torch
release_freed_memory = runpy.run_path("sandbox/serving/memory.py")["release_freed_memory"]
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def rss_mb():
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmRSS:")).split()[1]) / 1024
blocks = [libc.malloc(16384) for _ in range(12800)]
for block in blocks:
    ctypes.memset(block, 1, 16384)
for i, block in enumerate(blocks):
    if i % 64:
        libc.free(block)
freed = rss_mb()
released = release_freed_memory()
print(freed, rss_mb(), released)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or memory._malloc_trim() is None, reason="glibc only")
def test_freed_heap_pages_go_back_to_the_os():
    done = subprocess.run([sys.executable, "-c", FRAGMENTED], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    freed, released, anything = done.stdout.split()
    assert float(freed) - float(released) > 150, done.stdout   # of ~197 MB freed; the kept blocks pin ~6 MB
    assert anything == "True"


def test_off_glibc_it_does_nothing(monkeypatch):
    memory._malloc_trim.cache_clear()
    monkeypatch.setattr(sys, "platform", "darwin")
    try:
        assert memory.release_freed_memory() is False
    finally:
        memory._malloc_trim.cache_clear()


def test_sessions_closed_together_are_released_once_after_the_last(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "release_freed_memory", lambda collect: calls.append((time.monotonic(), collect)))
    release = memory._Debounced()

    async def close_three_sessions():
        for _ in range(3):
            release(0.05)
            await asyncio.sleep(0.01)
        last = time.monotonic()
        await asyncio.sleep(0.2)
        return last

    last = asyncio.run(close_three_sessions())
    assert len(calls) == 1 and calls[0][0] >= last + 0.03
    assert calls[0][1] is False         # collected on the loop; only the trim goes to a thread
    assert release.pending is None


def test_without_a_running_loop_it_releases_at_once(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "release_freed_memory", lambda collect=True: calls.append(1))
    memory._Debounced()()
    assert calls == [1]
