"""Steps per second, as the status bar shows it."""
from __future__ import annotations

import time


class StepRate:
    """Steps per second over a sliding window of about one second."""

    def __init__(self, window: float = 1.0):
        self.window = window
        self._marks: list[tuple[float, int]] = []

    def mark(self, step: int) -> None:
        now = time.perf_counter()
        self._marks.append((now, step))
        while len(self._marks) > 2 and now - self._marks[1][0] > self.window:
            self._marks.pop(0)

    @property
    def value(self) -> float:
        if len(self._marks) < 2:
            return 0.0
        (t0, s0), (t1, s1) = self._marks[0], self._marks[-1]
        return (s1 - s0) / (t1 - t0) if t1 > t0 else 0.0

    def reset(self) -> None:
        self._marks = []
