"""Periodic callbacks that stay cheap with many sessions: `every()`, and a Poller that runs one only
while some background work goes on (a sweep, an ensemble of seeds), with a hook for when the session
ends, registered once."""
from __future__ import annotations

from typing import Callable

import panel as pn
from panel.io.callbacks import PeriodicCallback


def every(callback: Callable[[], None], period_ms: int) -> PeriodicCallback:
    """Run `callback` every `period_ms` in the current session, started now; `.stop()` ends it.

    Unlike `pn.state.add_periodic_callback`, it does not count as the app being busy. Panel keeps
    one busy flag for the whole server and every page's busy indicator follows it, so each tick of
    each session used to update every other session too: with 8 sessions three quarters of the
    server's event loop went to that, and the pages' clicks waited tens of seconds behind it.
    """
    periodic = PeriodicCallback(callback=callback, period=period_ms, background=True, log=False)
    periodic.start()
    return periodic


class Poller:
    def __init__(self, tick: Callable[[], None], period_ms: int, on_close: Callable[[], None]):
        self.tick, self.period_ms, self.on_close = tick, period_ms, on_close
        self._callback = None
        self._watching_session = False

    def start(self) -> None:
        """Poll from now on (served sessions only; in tests `tick` is called by hand)."""
        if pn.state.curdoc is None or self._callback is not None:
            return
        self._callback = every(self.tick, self.period_ms)
        if not self._watching_session:
            pn.state.on_session_destroyed(lambda ctx: self.on_close())
            self._watching_session = True

    def stop(self) -> None:
        if self._callback is not None:
            self._callback.stop()
            self._callback = None
