"""Turns captured training state into Snapshots off the training thread.

The training thread only *captures* (a cheap copy of the weights) and drops it into a
one-slot, latest-wins inbox. This thread does the expensive part, `study.observe()`:
full-table evaluation, Fourier analysis, and so on. When the observer is slower than the
captures, intermediate ones are skipped, never queued: training never waits for analysis.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from .device import lower_thread_priority


class Observer:
    def __init__(self, work: Callable[[Any], None], on_error: Callable[[Exception], None]):
        self._work, self._on_error = work, on_error
        self._cond = threading.Condition()
        self._item: Any = None
        self._busy = False
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="sandbox-observer", daemon=True)
        self._thread.start()

    @property
    def idle(self) -> bool:
        with self._cond:
            return self._item is None and not self._busy

    def submit(self, item: Any) -> None:
        with self._cond:
            self._item = item  # latest wins
            self._cond.notify()

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far has been observed."""
        with self._cond:
            return self._cond.wait_for(lambda: self._item is None and not self._busy, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _loop(self) -> None:
        lower_thread_priority()
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._item is not None or self._stopped)
                if self._stopped:
                    return
                item, self._item, self._busy = self._item, None, True
            try:
                self._work(item)
            except Exception as exc:  # noqa: BLE001 - reported through the runner's error state
                self._on_error(exc)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
