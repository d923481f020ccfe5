"""Give the memory a closed session freed back to the OS.

glibc's malloc keeps what a program frees for its next allocations, in one arena per thread that
allocated while another held its arena (up to 8 per core: 16 here). A session's training, observer
and landscape threads fill arenas with models, batches and snapshots; when the session ends those
are freed, but a page goes back to the OS only from the top of an arena, so any chunk still live
above the freed ones (a longer-lived string, a cached array) keeps them resident. Measured after
each cycle of 6 associative-memory sessions once nothing of theirs was left alive (issue 21,
benchmarks/memory_cycles.py): malloc's bytes in use flat at 159 MB, its freed-but-held bytes
124 -> 178 MB over five cycles, and idle RSS with them. `malloc_trim(0)` walks every arena and hands
the whole free pages inside it back (madvise(MADV_DONTNEED)); nothing moves, the chunks stay usable.
Measured: 90-130 MB back after each cycle.

It runs once a session's objects have been collected (`release_after_collection`, a few seconds
after the session is destroyed), not in the destroy callback: its document, views and study are
still alive then.
"""
from __future__ import annotations

import asyncio
import ctypes
import gc
import sys
import threading
from functools import cache

# Panel collects a destroyed session's objects 5 s after the last destroy (GC_DEBOUNCE in
# panel/io/document.py); trimming before that would find little free.
AFTER_PANEL_COLLECTS_S = 8.0


@cache
def _malloc_trim():
    """libc's malloc_trim, or None off glibc (macOS, Windows, musl: nothing to do or no such call)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")    # glibc's name; find_library would run ldconfig in the server
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_freed_memory(collect: bool = True) -> bool:
    """Collect unreachable objects (with `collect`), then return malloc's free pages to the OS.
    True if anything was given back; False when nothing was or off glibc. 0.1 s with 1 GB freed
    (1 ms with nothing to give); it holds each arena's lock while it walks that arena."""
    trim = _malloc_trim()
    if trim is None:
        return False
    if collect:
        gc.collect()
    return bool(trim(0))


class _Debounced:
    """One pending release on the event loop: sessions closed together (a browser quit) are
    released once, `delay_s` after the last of them, as Panel debounces its own collection."""

    def __init__(self):
        self.pending = None     # the asyncio TimerHandle of the release to come

    def __call__(self, delay_s: float = AFTER_PANEL_COLLECTS_S) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:    # no server (tests, scripts): now
            release_freed_memory()
            return
        if self.pending is not None:
            self.pending.cancel()
        self.pending = loop.call_later(delay_s, self._release)

    def _release(self) -> None:
        self.pending = None
        # No collection of our own: Panel's, 5 s after the last destroy, has run (a full one holds the
        # loop 0.13-0.3 s under load; twice would be the cost for nothing). The trim on a thread of its own: ctypes lets go of the GIL, and walking ~1 GB of freed heap
        # took 0.1 s, which on the loop would hold every page's answers.
        threading.Thread(target=release_freed_memory, kwargs={"collect": False}, name="sandbox-release",
                         daemon=True).start()


# Schedule `release_freed_memory` `delay_s` after the last call; call it from a session's destroy
# callback, on the server's event loop (with none running, it releases at once).
release_after_collection = _Debounced()
