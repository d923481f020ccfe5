"""Pace a page's updates by its browser: at most two go out that it has not drawn yet.

Bokeh has no flow control: the server sends every update as it is made, and a browser that draws
them more slowly than they come (a weak laptop, eight tabs, WebGL in software) falls further and
further behind. Measured with eight pages on one core, the status bar of a training page answered
11-21 s late; paced one update at a time, 4-5 s, and it shows the newest update, not a backlog.
A fast browser is not held back: while it draws one update the next is already on its way.
"""
from __future__ import annotations

import time

import param
from panel.reactive import ReactiveHTML

from .turns import served_document, soon

# After the patches that asked for it are applied, the browser waits for the next frame (where Bokeh
# and VTK.js draw) and for the work queued in it, then answers with the number it was sent.
_ANSWER_WHEN_DRAWN = "requestAnimationFrame(() => setTimeout(() => { data.drawn = data.sent }, 0))"


class DrawnSignal(ReactiveHTML):
    """An invisible element: `sent` counts updates the server has sent, `drawn` the last one the
    browser has drawn (it sets it)."""

    sent = param.Integer(default=0)
    drawn = param.Integer(default=0)

    _template = '<div id="signal"></div>'
    _scripts = {"render": _ANSWER_WHEN_DRAWN, "sent": _ANSWER_WHEN_DRAWN}


class BrowserPacer:
    """`ready()`: may the next update go out? `sent()`: an update has just been queued.

    Ready while fewer than `in_flight` updates are undrawn. Unserved (tests, notebooks) it is always
    ready. An answer that never comes (a tab in the background draws no frames) holds updates back
    for `give_up_s` at most."""

    def __init__(self, in_flight: int = 2, give_up_s: float = 10.0, clock=time.monotonic):
        self.signal = DrawnSignal(width=0, height=0, margin=0, sizing_mode="fixed")
        self.in_flight, self.give_up_s, self.clock = in_flight, give_up_s, clock
        self._asked = 0                # counted here at once; the signal's `sent` follows a few turns later
        self._sent_at = float("-inf")

    def ready(self) -> bool:
        if served_document() is None or self._asked - self.signal.drawn < self.in_flight:
            return True
        return self.clock() - self._sent_at > self.give_up_s

    def sent(self) -> None:
        """Call after queueing an update's turns: the question goes out after them."""
        if served_document() is None:
            return
        self._asked += 1
        self._sent_at = self.clock()
        soon(self._ask, self._asked)

    def _ask(self, number: int) -> None:
        self.signal.sent = number
