"""How long the server takes to answer while it is under load: the load tests' probe."""
from __future__ import annotations

import threading
import time
import urllib.request
from dataclasses import dataclass


class LatencyProbe:
    """GETs the server's liveness endpoint four times a second on its own thread: how long it takes to answer
    (the endpoint itself costs nothing, so this measures how busy the server's event loop is)."""

    def __init__(self, url: str):
        self.url, self.seconds, self._stop = url, [], threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            started = time.monotonic()
            with urllib.request.urlopen(self.url, timeout=30) as answer:
                answer.read()
            self.seconds.append(time.monotonic() - started)
            self._stop.wait(0.25)

    def stop(self) -> "Latencies":
        self._stop.set()
        self._thread.join(35)
        return Latencies(sorted(self.seconds))


@dataclass
class Latencies:
    sorted_seconds: list[float]

    def share_within(self, share: float) -> float:
        return self.sorted_seconds[int(share * len(self.sorted_seconds))]

    @property
    def median(self) -> float:
        return self.share_within(0.5)

    @property
    def worst(self) -> float:
        return self.sorted_seconds[-1]

    def __str__(self) -> str:
        return (f"{len(self.sorted_seconds)} answers, median {self.median:.3f} s, 90% within "
                f"{self.share_within(0.9):.3f} s, 95% within {self.share_within(0.95):.3f} s, max {self.worst:.3f} s")
