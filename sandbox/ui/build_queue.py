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
import logging

from bokeh.server.contexts import ApplicationContext

PAUSE_S = 0.05
log = logging.getLogger(__name__)


def one_build_at_a_time(create_session_if_needed):
    """Wrap `ApplicationContext.create_session_if_needed`: sessions that exist, or are being built,
    are passed straight through (a page's websocket connecting to the session its visit built)."""
    lock = None

    @functools.wraps(create_session_if_needed)
    async def spaced(self, session_id, *args, **kwargs):
        nonlocal lock
        # (A Bokeh without these tables has every call spaced: slower to connect, never broken.)
        if session_id in getattr(self, "_sessions", ()) or session_id in getattr(self, "_pending_sessions", ()):
            return await create_session_if_needed(self, session_id, *args, **kwargs)
        lock = lock or asyncio.Lock()
        async with lock:
            await asyncio.sleep(PAUSE_S)
            return await create_session_if_needed(self, session_id, *args, **kwargs)

    spaced.builds_one_at_a_time = True
    return spaced


def install(context_cls=ApplicationContext) -> bool:
    """Space the builds of `context_cls` (once). A Bokeh without the method we wrap still serves,
    building pages back to back as before, and says so in the server's log."""
    create = getattr(context_cls, "create_session_if_needed", None)
    if create is None or not asyncio.iscoroutinefunction(create):
        log.warning("Bokeh's %s.create_session_if_needed is not the coroutine this setup wraps: pages opened "
                    "together are built back to back (each holds the server for its build)", context_cls.__name__)
        return False
    if not getattr(create, "builds_one_at_a_time", False):
        context_cls.create_session_if_needed = one_build_at_a_time(create)
    return True


install()
