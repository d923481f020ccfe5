"""A served page's parts, made and put in their places piece by piece after the page has loaded.

Built in one go, a page held the server's one event loop, and so every other page, for 1.5-2 s
(its views' figures alone cost 20-50 ms each). Here each step is a turn of its own that waits for
the server's other work (`later`): make a part, then put it in its place, then the next. A row of
views (`InPieces`) goes in view by view: an empty row first, then each view made and put in, as a
row of three figures is up to half a second of Bokeh's and Panel's work. A line at the top of the
page says how far it got, and a piece that fails to build is replaced by a message saying so; the
others still come.
"""
from __future__ import annotations

import logging
from functools import partial
from typing import Callable, Iterator, Union

import panel as pn

from .live_text import LiveAlert, LiveHTML
from .turns import later

log = logging.getLogger(__name__)


class InPieces:
    """A layout (`pn.Row`, `pn.Column`, `pn.Card`) that a page puts in piece by piece: the empty
    layout, then each item in turns of its own. An item is a view or any Panel object, a list of
    them (small pieces that go in together), or an `InPieces`. Shown anywhere else (a notebook),
    it is the whole layout at once."""

    def __init__(self, layout: type[pn.layout.ListLike], *items, **params):
        self.layout, self.items, self.params = layout, items, params

    def __call__(self) -> pn.layout.ListLike:
        return self.layout(*(obj for item in self.items for obj in _panels(item)), **self.params)

    __panel__ = __call__


Maker = Union[Callable[[], Union[pn.viewable.Viewable, "InPieces"]], InPieces]


class PageFilling:
    """`parts`: (place, make) pairs, `place` an empty column already on the page, `make` an
    `InPieces` or a function that makes the part (or its `InPieces`); `on_done()` is called once
    every part is in and sent."""

    def __init__(self, parts: list[tuple[pn.Column, Maker]], on_done: Callable[[], None] = lambda: None):
        self.parts, self.done, self.on_done = parts, 0, on_done
        self.progress = LiveHTML(self._progress_text(), css_classes=["sandbox-loading"], margin=(0, 10),
                                 styles={"font-size": "13px", "color": "#555"})
        self._steps = self._all_steps()

    def _progress_text(self) -> str:
        return f"Loading the page: {self.done} of {len(self.parts)} parts…"

    def start(self) -> None:
        later(self._step)

    def _step(self) -> None:
        if next(self._steps, None) is None:     # (a turn after the last part's: Panel has sent it)
            self.progress.visible = False
            self.on_done()
        else:
            later(self._step)

    def _all_steps(self) -> Iterator[bool]:
        """One step per `next`, each its own turn."""
        for place, make in self.parts:
            yield from _fill(place, make)
            self.done += 1
            self.progress.object = self._progress_text()


def _fill(box: pn.layout.ListLike, make: Maker) -> Iterator[bool]:
    """Make a part and put it in `box`, yielding between steps. A layout `InPieces` (given, or made
    by `make`) goes in empty, then its items one by one."""
    if isinstance(make, InPieces):
        layout = make.layout(**make.params)
        yield from _put(box, [layout])
        for item in make.items:
            yield from _fill(layout, item if isinstance(item, InPieces) else partial(_panels, item))
        return
    try:
        part = make()             # (a view draws its figures here)
    except Exception as exc:  # noqa: BLE001 - one broken part must not leave the page half built
        part = _failed(exc)
    yield True
    if isinstance(part, InPieces):
        yield from _fill(box, part)
    else:
        yield from _put(box, part if isinstance(part, list) else [part])


def _panels(item) -> list[pn.viewable.Viewable]:
    """An item of an `InPieces` (one object or a list of them) as Panel objects (a nested
    `InPieces` whole)."""
    return [pn.panel(obj) for obj in (item if isinstance(item, list) else [item])]


def _put(box: pn.layout.ListLike, parts: list) -> Iterator[bool]:
    try:
        box.extend(parts)         # (Panel makes their Bokeh models in the page's next turn)
    except Exception as exc:  # noqa: BLE001 - as above
        box.append(_failed(exc))
    yield True


def _failed(exc: Exception) -> LiveAlert:
    log.exception("a part of the page failed to build")
    return LiveAlert(f"This part of the page could not be built: {type(exc).__name__}: {exc}",
                     alert_type="danger", sizing_mode="stretch_width")
