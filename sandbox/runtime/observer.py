"""Turns captured training state into Snapshots off the training thread.

The training thread only *captures* (a cheap copy of the weights) and drops it into a
one-slot, latest-wins inbox. This thread does the expensive part, `study.observe()`:
full-table evaluation, Fourier analysis, and so on. When the observer is slower than the
captures, intermediate ones are skipped, never queued: training never waits for analysis.
Served, each observation first takes a work permit (slots.WorkPermits): at most so many pages
observe at once; while it waits, newer captures keep replacing the one it will observe.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from .device import lower_thread_priority
from .slots import NO_PERMITS
from .stopping import Stopped


class Observer:
    def __init__(self, work: Callable[[Any], None], on_error: Callable[[Exception], None], permits=NO_PERMITS):
        self._work, self._on_error = work, on_error
        self.permits = permits
        self._cond = threading.Condition()
        self._item: Any = None
        self._busy = False
        self._stopped = threading.Event()     # an event, not a flag: a wait for a permit watches it
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
            self._stopped.set()
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
                self._cond.wait_for(lambda: self._item is not None or self._stopped.is_set())
                if self._stopped.is_set():
                    return
                self._busy = True
            try:
                with self.permits.held(self._stopped):
                    with self._cond:     # taken only now: the newest capture, however long the wait was
                        item, self._item = self._item, None
                    self._work(item)
            except Stopped:
                return           # stopped while waiting for a permit: the page is gone
            except Exception as exc:  # noqa: BLE001 - reported through the runner's error state
                self._on_error(exc)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
