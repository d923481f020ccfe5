"""Work that can wait (making a page's parts), done one item per pass of the server's event loop.

A served page's work runs as callbacks of its Bokeh document on the server's one event loop, and
asyncio runs every callback that is ready before it reads the network again. A page's parts queued
as separate callbacks therefore still ran back to back, and eight pages opened together held every
answer for 2-3 s, although no single part took more than a third of a second. `later` puts such
work in one queue for the whole server and hands it to the pages one item at a time, the next only
some passes of the loop after the last has run, so between two items the loop reads the network
and answers what has arrived: clicks, the pacing signal, other pages' updates (which keep using
`soon`, and so never wait behind a page being built).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from functools import partial
from typing import Callable

import panel as pn


def served_document():
    """The current session's Bokeh document when served (`panel serve`), else None (a notebook, a
    test, a script). `pn.state.served` only looks at the caller's module, so this asks the document."""
    doc = pn.state.curdoc
    return doc if doc is not None and doc.session_context is not None else None


def soon(fn: Callable[..., None], *args) -> None:
    """Call `fn(*args)` in a turn of its own of the session's event loop (now, if not served).

    The server's one event loop answers every page and every request in turns; a turn that updates
    a whole page at once holds all of them up for as long as it takes, which on a busy machine
    stretches to seconds. Small turns keep every answer short.
    """
    doc = served_document()
    if doc is None:
        fn(*args)
    else:
        doc.add_next_tick_callback(partial(fn, *args))


log = logging.getLogger(__name__)
# After an item, passes of the loop before the next: a request takes three or four passes to be
# read, answered and written, and with one pass between items it waited for several of them. Counted
# in passes, not time: on an idle server they take microseconds, and a page's 40-odd steps come
# without waiting (a 20 ms gap made a page whole 0.6-0.9 s later); on a busy one each pass answers
# what arrived during the item before it.
GAP_PASSES = 8
# An item handed to a page that is closed before it runs never runs (Bokeh drops the callbacks of
# a closed session): after this long the queue goes on without it.
STALL_S = 2.0


class TurnQueue:
    """Items `(document, fn)`: each handed to `document.add_next_tick_callback` once the one before
    has run and GAP_PASSES passes of the loop have gone; or a `turn` for a block run by the event
    loop itself.

    Used from the event loop's thread (where Bokeh runs a document's callbacks). A page closed
    meanwhile drops its items with its document; the queue goes on with the next item.
    """

    def __init__(self):
        self._items: deque[tuple[object, Callable[[], None]]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None   # set while an item is on its way
        self._current: object | None = None                      # the item on its way

    def __len__(self) -> int:
        return len(self._items)

    def add(self, doc, fn: Callable[[], None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:             # not on the loop's thread: Bokeh's own hand-over is thread-safe
            doc.add_next_tick_callback(fn)
            return
        self._enqueue(loop, (doc, fn))

    def _enqueue(self, loop: asyncio.AbstractEventLoop, item: tuple) -> None:
        self._items.append(item)
        if self._loop is None:           # idle: start handing out
            self._loop = loop
            loop.call_soon(self._hand_one)

    @contextlib.asynccontextmanager
    async def turn(self):
        """The queue's turn for a block of the event loop's own (a page's first turn, which Bokeh
        runs inside the request for the page): waits for the items before it, and the next goes
        GAP_PASSES passes after the block."""
        loop = asyncio.get_running_loop()
        handed = loop.create_future()
        self._enqueue(loop, (None, handed))
        token = await handed
        try:
            yield
        finally:
            self._next(token, GAP_PASSES)

    def _hand_one(self) -> None:
        doc, fn = self._items.popleft()
        token = self._current = object()
        if doc is None:                  # a turn awaited by a block (`turn`)
            if fn.cancelled():           # (its request went away while it waited)
                self._next(token, 0)
            else:
                fn.set_result(token)
            return
        try:
            doc.add_next_tick_callback(partial(self._run, token, doc, fn))
        except Exception:  # noqa: BLE001 - a page torn down meanwhile must not stop the others' work
            log.debug("dropped an item for a page that is gone", exc_info=True)
            self._next(token, 0)
            return
        self._loop.call_later(STALL_S, self._next, token, 0)

    def _run(self, token: object, doc, fn: Callable[[], None]) -> None:
        try:
            fn()
        finally:
            # The passes are counted once what the item left for the page's next turns has run too:
            # Panel puts a part's models in a callback of its own (not as Panel's current document,
            # which would make Panel write them to the page's socket itself, overtaking Bokeh's
            # patches that define the models they refer to: "reference … isn't known" in the browser).
            try:
                doc.add_next_tick_callback(partial(self._next, token, GAP_PASSES))
            except Exception:  # noqa: BLE001 - the page is gone: go on at once
                self._next(token, GAP_PASSES)

    def _next(self, token: object, passes: int) -> None:
        if token is not self._current:   # gone on already (the item ran, or stalled and was skipped)
            return
        self._current = None
        if self._items:
            _after_passes(self._loop, passes, self._hand_one)
        else:
            self._loop = None


def _after_passes(loop: asyncio.AbstractEventLoop, passes: int, fn: Callable[[], None]) -> None:
    """Call `fn` once the loop has gone round `passes` times (each pass reads the network)."""
    if passes <= 0:
        loop.call_soon(fn)
    else:
        loop.call_soon(_after_passes, loop, passes - 1, fn)


TURNS = TurnQueue()


def later(fn: Callable[..., None], *args) -> None:
    """Call `fn(*args)` in a turn of its own once the server's earlier `later` work is done, with
    time between two such turns for the loop to answer others (now, if not served)."""
    doc = served_document()
    if doc is None:
        fn(*args)
    else:
        TURNS.add(doc, partial(fn, *args))
