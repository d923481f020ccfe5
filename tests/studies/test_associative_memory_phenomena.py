"""Associative memories trained by gradient descent: the error falls with the memory size and with
training, at seeds 0, 1 and 2 (a seed draws the classes f*(x), the embeddings, the initial memories
and the batches). Figures measured on one CPU thread of a 2-core machine.
Run: pytest -m slow tests/studies/test_associative_memory_phenomena.py"""
import numpy as np
import pytest
import torch

from sandbox.runtime import Runner
from sandbox.studies.associative_memory import DIMS, AssociativeMemoryStudy

pytestmark = pytest.mark.slow

SEEDS = [0, 1, 2]
STEPS = 2000


def history(preset: str, seed: int, every: int = STEPS) -> list[dict]:
    torch.set_num_threads(1)
    runner = Runner(AssociativeMemoryStudy(preset=preset, device="cpu", seed=seed), snapshot_every=every)
    runner.run_headless(STEPS)
    return runner.history.since(0)


def errors(row: dict) -> np.ndarray:
    return np.array([row[f"error.d{d}"] for d in DIMS])


@pytest.fixture(scope="module")
def zipf_15() -> dict[int, list[dict]]:
    """One run per seed serves both tests: its history every 100 steps, its end at 2000."""
    return {seed: history("Zipf α = 1.5", seed, every=100) for seed in SEEDS}


def test_error_falls_as_a_power_law_in_the_memory_size(zipf_15):
    """2000 steps, Zipf α = 1.5, errors for d = 4 … 64 (exponent). Measured: seed 0: 0.244 /
    0.154 / 0.092 / 0.048 / 0.019 (−0.91); seed 1: 0.240 / 0.176 / 0.106 / 0.051 / 0.018 (−0.92);
    seed 2: 0.297 / 0.127 / 0.113 / 0.050 / 0.020 (−0.92). At α = 2 the exponent is steeper at
    each: −1.13, −1.12, −1.20. Single seeds are noisy at small d (seed 3: 0.214 at d = 4, 0.216 at
    d = 8), so the steady fall is asserted on the mean over seeds, the law on each seed."""
    per_seed = np.stack([errors(zipf_15[seed][-1]) for seed in SEEDS])
    assert (np.diff(per_seed.mean(axis=0)) < 0).all(), per_seed
    for seed, row in zip(SEEDS, per_seed):
        exponent = zipf_15[seed][-1]["scaling.exponent"]
        assert row[-1] < 0.2 * row[0], (seed, row)
        assert -1.3 < exponent < -0.5, (seed, exponent)
        steeper = history("Zipf α = 2 (few frequent tokens)", seed)[-1]["scaling.exponent"]
        assert steeper < exponent, (seed, steeper, exponent)


def test_error_falls_with_training(zipf_15):
    """Error of the d = 64 memory, first snapshot → step 1000. Measured: 0.479 → 0.023 (seed 0),
    0.817 → 0.023 (seed 1), 0.882 → 0.024 (seed 2)."""
    for seed, rows in zipf_15.items():
        at_1000 = next(r for r in rows if r["step"] == 1000)
        assert at_1000["error.d64"] < 0.3 * rows[0]["error.d64"], (seed, rows[0]["error.d64"], at_1000["error.d64"])
