"""What a run remembers: scalar metrics per step, and a bounded set of snapshots."""
from __future__ import annotations

import threading
from bisect import bisect_left

from .snapshot import Snapshot


class History:
    """Append-only table of scalar metrics, one row per recorded step.

    Rows are dicts so a metric may appear late (e.g. one computed only every k steps).
    `since(n)` lets a curve view stream only the rows it has not seen. Bounded: when
    `max_rows` is reached every second row is dropped, so the whole run stays visible at
    half the resolution (`version` changes then, and readers re-read everything).
    """

    def __init__(self, max_rows: int = 20_000):
        self.max_rows = max_rows
        self._rows: list[dict[str, float]] = []
        self._lock = threading.Lock()
        self.version = 0

    def append(self, row: dict[str, float]) -> None:
        with self._lock:
            self._rows.append(dict(row))
            if len(self._rows) > self.max_rows:
                self._rows = self._rows[::2]
                self.version += 1

    def since(self, start: int) -> list[dict[str, float]]:
        with self._lock:
            return list(self._rows[start:])

    def __len__(self) -> int:
        with self._lock:
            return len(self._rows)

    def columns(self) -> list[str]:
        with self._lock:
            names: dict[str, None] = {}
            for row in self._rows:
                names.update(dict.fromkeys(row))
            return list(names)

    def clear(self) -> None:
        with self._lock:
            self._rows = []
            self.version += 1


MIN_RING_CAPACITY = 4      # the first, the last and room to thin the rest


class SnapshotRing:
    """Recorded snapshots for the time slider, at most `capacity` of them.

    When full, every second snapshot is dropped (keeping the first and the newest), so
    the ring always spans the whole run and its spacing doubles, instead of forgetting
    the early steps where most of the dynamics happen.
    """

    def __init__(self, capacity: int = 120):
        if capacity < MIN_RING_CAPACITY:
            raise ValueError(f"SnapshotRing capacity must be at least {MIN_RING_CAPACITY}")
        self.capacity = capacity
        self._items: list[Snapshot] = []
        self._lock = threading.Lock()

    def add(self, snap: Snapshot) -> None:
        with self._lock:
            if self._items and self._items[-1].step == snap.step:
                self._items[-1] = snap
                return
            self._items.append(snap)
            if len(self._items) > self.capacity:
                newest = self._items[-1]
                self._items = self._items[:-1:2] + [newest]

    def items(self) -> list[Snapshot]:
        with self._lock:
            return list(self._items)

    def steps(self) -> list[int]:
        with self._lock:
            return [s.step for s in self._items]

    def at(self, step: int) -> Snapshot | None:
        """The recorded snapshot nearest to `step` (None when empty)."""
        with self._lock:
            if not self._items:
                return None
            steps = [s.step for s in self._items]
            i = bisect_left(steps, step)
            candidates = [j for j in (i - 1, i) if 0 <= j < len(steps)]
            return self._items[min(candidates, key=lambda j: abs(steps[j] - step))]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items = []
