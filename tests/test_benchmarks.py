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
    alone, together = per_seed_step_ms(seeds=2, steps=1, device="cpu")
    assert alone > 0 and together > 0
    spread = SeedEnsemble(seeds=2, p=11, width=8, device="cpu").run(steps=2, every=1)
    assert spread.test_accuracy.shape == (2, 2) and np.isnan(spread.grok_step).sum() <= 2


def test_study_speed_measures_every_headless_figure_and_prints_a_table():
    from benchmarks.study_speed import SPECS, measure_headless, table
    spec = next(s for s in SPECS if s.study == "associative_memory")
    row = measure_headless(spec, "cpu", seconds=0.3)
    assert all(row[k] > 0 for k in ("bare", "runner", "runner_landscape", "snapshot_ms", "peak_rss_mb"))
    printed = table([(spec, row)], browser=False)
    assert printed.count("\n") == 2 and "associative_memory" in printed


def test_step_variants_run_and_agree_on_the_loss():
    from benchmarks.step_variants import eager, eager_item
    (rate_a, loss_a), (rate_b, loss_b) = eager_item("fast", "cpu", 3), eager("fast", "cpu", 3)
    assert rate_a > 0 and rate_b > 0 and loss_a == loss_b
