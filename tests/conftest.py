"""Shared fixtures: a FakeStudy that trains nothing but behaves like a study, and helpers.

Run everything: `make test`; only the fast tier: `make test-fast`.
"""
from __future__ import annotations

import time

import numpy as np
import param
import pytest

from sandbox.studies.base import Study, StudyConfig


class FakeConfig(StudyConfig):
    lr = param.Number(default=0.1, bounds=(0.0, 10.0))
    size = param.Integer(default=4, bounds=(1, 100))
    fail_at = param.Integer(default=-1, doc="Raise inside step() at this step (-1: never).")
    nan_at = param.Integer(default=-1, doc="Return a NaN loss at this step (-1: never).")

    def check(self):
        super().check()
        if self.size == 13:
            raise ValueError("size 13 is unlucky")


class FakeStudy(Study):
    """Counts steps; loss = 1 / (1 + step). Records the lr in force at every step."""

    name = "fake"
    title = "Fake"
    Config = FakeConfig
    PRESETS = {"default": {}, "big": {"size": 8}}
    DEFAULT_PRESET = "default"
    LIVE = ("lr",)

    def build(self):
        self.count = 0
        self.lrs: list[float] = []
        self.builds = getattr(self, "builds", 0) + 1

    def step(self):
        self.count += 1
        self.lrs.append(self.config.lr)
        if self.count == self.config.fail_at:
            raise RuntimeError("injected failure")
        if self.count == self.config.nan_at:
            return float("nan")
        return 1.0 / (1 + self.count)

    def capture(self):
        return self.count

    def observe(self, count):
        return ({"loss.train": 1.0 / (1 + count), "count": float(count)},
                {"weights": np.full(self.config.size, float(count))})

    def snapshot(self):
        return self.observe(self.capture())


@pytest.fixture
def fake_study():
    return FakeStudy()


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.005, what: str = "condition"):
    """Poll `predicate` until true; fail the test with a clear message (`what` was awaited) on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"{what} not met within {timeout}s")


def built(study):
    """The study after build(): ready to step and snapshot."""
    study.build()
    return study

