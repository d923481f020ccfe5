"""The benchmark scripts run (quick settings; their figures are reported, never asserted).
Run: pytest tests/test_benchmarks.py"""
import numpy as np

from benchmarks.ensemble_speed import per_seed_step_ms
from benchmarks.landscape_cost import measure
from sandbox.studies.associative_memory import AssociativeMemoryStudy
from sandbox.studies.grokking_seeds import SeedEnsemble


def test_landscape_cost_measures_every_part_of_a_landscape():
    row = measure(AssociativeMemoryStudy, steps=1)
    assert row["parameters"] == 4 * 4 + 8 * 8 + 16 * 16 + 32 * 32 + 64 * 64
    assert all(row[key] > 0 for key in ("21²", "41²", "sharpness", "line"))


def test_ensemble_speed_times_both_ways_and_the_spread_runs():
    alone, together = per_seed_step_ms(seeds=2, steps=1)
    assert alone > 0 and together > 0
    spread = SeedEnsemble(seeds=2, p=11, width=8, device="cpu").run(steps=2, every=1)
    assert spread.test_accuracy.shape == (2, 2) and np.isnan(spread.grok_step).sum() <= 2
