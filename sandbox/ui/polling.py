"""A session's periodic callback that runs only while some background work goes on (a sweep, an
ensemble of seeds), and a hook for when the session ends, registered once."""
from __future__ import annotations

from typing import Callable

import panel as pn


class Poller:
    def __init__(self, tick: Callable[[], None], period_ms: int, on_close: Callable[[], None]):
        self.tick, self.period_ms, self.on_close = tick, period_ms, on_close
        self._callback = None
        self._watching_session = False

    def start(self) -> None:
        """Poll from now on (served sessions only; in tests `tick` is called by hand)."""
        if pn.state.curdoc is None or self._callback is not None:
            return
        self._callback = pn.state.add_periodic_callback(self.tick, period=self.period_ms)
        if not self._watching_session:
            pn.state.on_session_destroyed(lambda ctx: self.on_close())
            self._watching_session = True

    def stop(self) -> None:
        if self._callback is not None:
            self._callback.stop()
            self._callback = None
