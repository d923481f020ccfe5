"""Pages are built one at a time, with the network read between two builds.

Served with `panel serve --setup sandbox/ui/build_queue.py` (the Makefile and the tests' server do).
Bokeh builds a new session's document inside the request that asks for the page, in one turn of the
server's one event loop (0.7-1.4 s of CPU for these apps), and asyncio runs every turn that is ready
before it reads the network again. So pages opened at the same moment were built back to back, and
every other page and request waited for all of them: up to 8-9 s with eight. Here a new session's
build waits for the one in progress and then for a short pause in which the loop answers what has
arrived meanwhile. Building the same pages takes as long as before; the wait of everyone else is
one build at most.
"""
from __future__ import annotations

import asyncio
import functools

from bokeh.server.contexts import ApplicationContext

PAUSE_S = 0.05


def one_build_at_a_time(create_session_if_needed):
    """Wrap `ApplicationContext.create_session_if_needed`: sessions that exist, or are being built,
    are passed straight through (a page's websocket connecting to the session its visit built)."""
    lock = None

    @functools.wraps(create_session_if_needed)
    async def spaced(self, session_id, *args, **kwargs):
        nonlocal lock
        if session_id in self._sessions or session_id in self._pending_sessions:
            return await create_session_if_needed(self, session_id, *args, **kwargs)
        lock = lock or asyncio.Lock()
        async with lock:
            await asyncio.sleep(PAUSE_S)
            return await create_session_if_needed(self, session_id, *args, **kwargs)

    spaced.builds_one_at_a_time = True
    return spaced


if not getattr(ApplicationContext.create_session_if_needed, "builds_one_at_a_time", False):
    ApplicationContext.create_session_if_needed = one_build_at_a_time(ApplicationContext.create_session_if_needed)
