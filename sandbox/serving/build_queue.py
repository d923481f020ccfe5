"""Pages are built one at a time, with the network read between two builds.

Served with `panel serve --setup sandbox/serving/build_queue.py` (the Makefile and the tests' server do).
Bokeh builds a new session's document inside the request that asks for the page, in one turn of the
server's one event loop (0.15-0.2 s of CPU on an idle server now that a page's parts come later),
and asyncio runs every turn that is ready before it reads the network again. So pages opened at
the same moment were built back to back, and every other page and request waited for all of them:
up to 8-9 s with eight (when a page was built whole in its first turn). Here a new session's build
waits for its turn in the server's queue of page work (`sandbox/serving/turns.py`): after the
build before it, and the parts other pages are making, with some passes of the loop after each, in
which it answers what has arrived meanwhile.
"""
from __future__ import annotations

import asyncio
import functools
import logging

from bokeh.server.contexts import ApplicationContext

log = logging.getLogger(__name__)


def one_build_at_a_time(create_session_if_needed, queue=None):
    """Wrap `ApplicationContext.create_session_if_needed`: a new session is built in a turn of the
    server's queue of page work (`sandbox.serving.turns`, shared with the parts pages make after they have
    loaded). Sessions that exist, or are being built, are passed straight through (a page's
    websocket connecting to the session its visit built)."""

    @functools.wraps(create_session_if_needed)
    async def spaced(self, session_id, *args, **kwargs):
        # (A Bokeh without these tables has every call spaced: slower to connect, never broken.)
        if session_id in getattr(self, "_sessions", ()) or session_id in getattr(self, "_pending_sessions", ()):
            return await create_session_if_needed(self, session_id, *args, **kwargs)
        from sandbox.serving.turns import TURNS      # (imports Panel and the sandbox: not before the server runs)
        async with (queue or TURNS).turn():
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
