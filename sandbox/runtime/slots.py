"""A server-wide cap on runs that train at once; the others wait in line, first come first served.

Every browser session trains its own model on its own thread. Past one trainer per core they only
slow each other down (and the server that has to answer them all), so a served process lets
`capacity` Runners train and queues the rest: a queued Runner costs nothing until a slot frees,
then starts by itself. Headless runs (CLI, tests, sweeps) take no slot.
"""
from __future__ import annotations

import os
import threading
from typing import Callable

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
_server_lock = threading.Lock()


def server_slots() -> TrainerSlots:
    """The slots every session of this process shares (made on first use)."""
    global _server_slots
    with _server_lock:
        if _server_slots is None:
            _server_slots = TrainerSlots(default_capacity())
        return _server_slots
