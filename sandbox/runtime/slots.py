"""Server-wide caps: on runs that train at once (`TrainerSlots`), and on the one-off pieces of work
around them (`WorkPermits`: a build, an observation, a landscape). The others wait in line, first
come first served.

Every browser session trains its own model on its own thread. Past one trainer per core they only
slow each other down (and the server that has to answer them all), so a served process lets
`capacity` Runners train and queues the rest: a queued Runner costs nothing until a slot frees,
then starts by itself. Building a model, observing a snapshot and computing a landscape are no
training steps, yet each can take seconds and up to the per-run memory budget: twenty pages opened
at once would otherwise build twenty models together. Headless runs (CLI, tests, sweeps) take no
slot and need no permit.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

from .stopping import Stopped

ENV = "SANDBOX_MAX_TRAINERS"


class TrainerSlots:
    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError("at least one trainer must be allowed")
        self.capacity = capacity
        self._lock = threading.Lock()
        self._holders: set[object] = set()
        self._line: list[tuple[object, Callable[[], None]]] = []

    def acquire(self, owner, wake: Callable[[], None]) -> bool:
        """True if `owner` trains now (it holds a slot). Otherwise it is (or stays) in line, and
        `wake()` is called, from the thread that frees a slot, once the slot is its own."""
        with self._lock:
            if owner in self._holders:
                return True
            if len(self._holders) < self.capacity and not self._line:
                self._holders.add(owner)
                return True
            if all(queued is not owner for queued, _ in self._line):
                self._line.append((owner, wake))
            return False

    def release(self, owner) -> None:
        """`owner` stops training or leaves the line; a freed slot goes to the first in line."""
        with self._lock:
            self._line = [(o, w) for o, w in self._line if o is not owner]
            if owner not in self._holders:
                return
            self._holders.discard(owner)
            if not self._line:
                return
            nxt, wake = self._line.pop(0)
            self._holders.add(nxt)
        wake()   # outside the lock: it only queues a command for that Runner's thread

    def holds(self, owner) -> bool:
        with self._lock:
            return owner in self._holders

    def position(self, owner) -> int:
        """1 for the first in line; 0 when not waiting."""
        with self._lock:
            return next((i + 1 for i, (o, _) in enumerate(self._line) if o is owner), 0)

    @property
    def training(self) -> int:
        with self._lock:
            return len(self._holders)

    @property
    def waiting(self) -> int:
        with self._lock:
            return len(self._line)


class WorkPermits:
    """At most `capacity` one-off pieces of work at once, server-wide; the rest wait in line, in order."""

    POLL_S = 0.05      # how often a waiter looks at its stop event: a closed page's thread ends this fast

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError("at least one piece of work must be allowed")
        self.capacity = capacity
        self._cond = threading.Condition()
        self._in_use = 0
        self._line: list[object] = []

    @contextmanager
    def held(self, stop, waiting: Callable[[int], None] | None = None) -> Iterator[None]:
        """Hold a permit for the `with` block. While none is free, wait in line; `waiting(ahead)` is
        told how many wait before this one, each time that changes (it runs under the pool's lock: set a
        message, nothing more). Raises `Stopped` once `stop` (anything with `is_set()`) is set."""
        self._take(stop, waiting)
        try:
            yield
        finally:
            with self._cond:
                self._in_use -= 1
                self._cond.notify_all()

    def _take(self, stop, waiting) -> None:
        with self._cond:
            if self._in_use < self.capacity and not self._line:
                self._in_use += 1
                return
            ticket, told = object(), None
            self._line.append(ticket)
            try:
                # Short waits, not one long one: a stop event cannot notify this condition.
                while not (self._line[0] is ticket and self._in_use < self.capacity):
                    if stop.is_set():
                        raise Stopped()
                    ahead = self._line.index(ticket)
                    if waiting is not None and ahead != told:
                        told = ahead
                        waiting(ahead)
                    self._cond.wait(self.POLL_S)
                self._in_use += 1
            finally:
                self._line.remove(ticket)
                self._cond.notify_all()     # the next in line may take a permit still free

    @property
    def in_use(self) -> int:
        with self._cond:
            return self._in_use

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._line)


class NoPermits:
    """The pool of a headless run (CLI, tests, sweeps): every piece of work goes ahead at once."""

    capacity = None

    @contextmanager
    def held(self, stop=None, waiting=None) -> Iterator[None]:
        yield


NO_PERMITS = NoPermits()


def default_capacity() -> int:
    """SANDBOX_MAX_TRAINERS, else one trainer per core (at least two)."""
    text = os.environ.get(ENV, "").strip()
    if text:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise ValueError(f"{ENV}={text!r}: give a whole number of trainers, at least 1")
        return value
    return max(2, os.cpu_count() or 1)


_server_slots: TrainerSlots | None = None
_server_permits: WorkPermits | None = None
_server_lock = threading.Lock()


def server_slots() -> TrainerSlots:
    """The slots every session of this process shares (made on first use)."""
    global _server_slots
    with _server_lock:
        if _server_slots is None:
            _server_slots = TrainerSlots(default_capacity())
        return _server_slots


def server_work_permits() -> WorkPermits:
    """The permits every session of this process shares for builds, observations and landscapes:
    as many as trainer slots (made on first use)."""
    global _server_permits
    with _server_lock:
        if _server_permits is None:
            _server_permits = WorkPermits(default_capacity())
        return _server_permits
