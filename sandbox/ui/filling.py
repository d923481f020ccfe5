"""A served page's parts, made and put in their places one by one after the page has loaded.

Built in one go, a page held the server's one event loop, and so every other page, for 1.5-2 s
(its views' figures alone cost 20-50 ms each). Here each step is a turn of its own that waits for
the server's other work (`later`): make a part, then put it in its place, then the next. A line
at the top of the page says how far it got, and a part that fails to build is replaced by a
message saying so; the others still come.
"""
from __future__ import annotations

import logging
from typing import Callable

import panel as pn

from ..views.live_text import LiveAlert, LiveHTML
from .turns import later

log = logging.getLogger(__name__)

Maker = Callable[[], pn.viewable.Viewable]


class PageFilling:
    """`parts`: (place, make) pairs, `place` an empty column already on the page; `on_done()` is
    called once every part is in and sent."""

    def __init__(self, parts: list[tuple[pn.Column, Maker]], on_done: Callable[[], None] = lambda: None):
        self.parts, self.done, self.on_done = parts, 0, on_done
        self.progress = LiveHTML(self._progress_text(), css_classes=["sandbox-loading"], margin=(0, 10),
                                 styles={"font-size": "13px", "color": "#555"})

    def _progress_text(self) -> str:
        return f"Loading the page: {self.done} of {len(self.parts)} parts…"

    def start(self) -> None:
        later(self._make_next)

    def _make_next(self) -> None:
        if self.done == len(self.parts):     # (a turn after the last part's: Panel has sent it)
            self.progress.visible = False
            self.on_done()
            return
        place, make = self.parts[self.done]
        try:
            part = make()
        except Exception as exc:  # noqa: BLE001 - one broken part must not leave the page half built
            part = _failed(exc)
        later(self._put, place, part)

    def _put(self, place: pn.Column, part: pn.viewable.Viewable) -> None:
        try:
            place.append(part)      # (its Bokeh models are made here)
        except Exception as exc:  # noqa: BLE001 - as above
            place.objects = [_failed(exc)]
        self.done += 1
        self.progress.object = self._progress_text()
        later(self._make_next)


def _failed(exc: Exception) -> LiveAlert:
    log.exception("a part of the page failed to build")
    return LiveAlert(f"This part of the page could not be built: {type(exc).__name__}: {exc}",
                     alert_type="danger", sizing_mode="stretch_width")
