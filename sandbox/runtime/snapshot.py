"""The one object that crosses from the training thread to the UI: a frozen Snapshot."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np


@dataclass(frozen=True)
class Snapshot:
    """Everything a view may show about one step of one run.

    `run_id` changes on Reset, so a view can drop snapshots of a run that no longer
    exists. `scalars` and `arrays` are keyed by stable dotted names
    (`loss.train`, `embed.fourier_energy`, ...). Arrays are numpy, never tensors: the
    GPU→CPU copy happens when the study builds the snapshot and nowhere else.
    """

    run_id: int
    step: int
    scalars: Mapping[str, float] = field(default_factory=dict)
    arrays: Mapping[str, np.ndarray] = field(default_factory=dict)
    # Counts the runner's snapshots: a refresh at the same step (a new selection while
    # paused) is new to the views even though (run_id, step) is not.
    serial: int = 0

    def __post_init__(self):
        for name, value in self.arrays.items():
            if not isinstance(value, np.ndarray):
                raise TypeError(f"snapshot array {name!r} is {type(value).__name__}, not numpy")
            value.setflags(write=False)  # views share these arrays; nobody may mutate them
        object.__setattr__(self, "scalars", MappingProxyType(dict(self.scalars)))
        object.__setattr__(self, "arrays", MappingProxyType(dict(self.arrays)))

    @property
    def key(self) -> tuple[int, int, int]:
        return (self.run_id, self.step, self.serial)

    def keys(self) -> set[str]:
        return set(self.scalars) | set(self.arrays)


class Mailbox:
    """One slot, latest wins: a slow reader never makes the writer wait or queue up."""

    def __init__(self):
        self._lock = threading.Lock()
        self._item: Snapshot | None = None

    def put(self, item: Snapshot) -> None:
        with self._lock:
            self._item = item

    def peek(self) -> Snapshot | None:
        with self._lock:
            return self._item

    def clear(self) -> None:
        with self._lock:
            self._item = None
