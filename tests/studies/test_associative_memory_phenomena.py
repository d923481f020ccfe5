"""Associative memories trained by gradient descent: the error falls with the memory size.
Run: pytest -m slow tests/studies/test_associative_memory_phenomena.py"""
import numpy as np
import pytest
import torch

from sandbox.runtime import Runner
from sandbox.studies.associative_memory import DIMS, AssociativeMemoryStudy

pytestmark = pytest.mark.slow


def last_errors(preset: str, steps: int = 2000) -> tuple[np.ndarray, float]:
    torch.set_num_threads(1)
    runner = Runner(AssociativeMemoryStudy(preset=preset, device="cpu"), snapshot_every=steps)
    snap = runner.run_headless(steps)
    return np.array([snap.scalars[f"error.d{d}"] for d in DIMS]), snap.scalars["scaling.exponent"]


def test_error_falls_as_a_power_law_in_the_memory_size():
    """Measured at seed 0, 2000 steps, Zipf α = 1.5: errors 0.244 / 0.154 / 0.092 / 0.048 / 0.019
    for d = 4 … 64, exponent −0.91; at α = 2 it is steeper (−1.13)."""
    errors, exponent = last_errors("Zipf α = 1.5")
    assert (np.diff(errors) < 0).all() and errors[-1] < 0.2 * errors[0]
    assert -1.3 < exponent < -0.5
    _, steeper = last_errors("Zipf α = 2 (few frequent tokens)")
    assert steeper < exponent


def test_error_falls_with_training():
    torch.set_num_threads(1)
    runner = Runner(AssociativeMemoryStudy(device="cpu"), snapshot_every=100)
    runner.run_headless(1000)
    rows = runner.history.since(0)
    assert rows[-1]["error.d64"] < 0.3 * rows[0]["error.d64"]
