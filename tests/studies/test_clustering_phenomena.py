"""Clustering heads: the paper's behaviours over seeds 0, 1 and 2 on one CPU thread (figures
measured on a 2-core machine). At d = 2 the outcome depends strongly on the seed (it draws the
data, the initial weights and the batch order), so each test asserts the share of seeds that show
the behaviour, prints it, and checks the behaviour itself at every seed that shows it.
Run: pytest -m slow -s tests/studies/test_clustering_phenomena.py"""
import numpy as np
import pytest
import torch

from sandbox.runtime import Runner
from sandbox.studies.clustering import ClusteringStudy

pytestmark = pytest.mark.slow

SEEDS = [0, 1, 2]
# Under one seed of three: a share is held to its measured count of seeds, because one seed
# less would let "no seed shows it" pass where one of three does.
MARGIN = 0.1


def train(preset: str, seed: int, steps: int, every: int = 50, give_up=None) -> list[dict]:
    """The history of one run; `give_up(rows)`, checked every 500 steps, ends it early."""
    torch.set_num_threads(1)
    runner = Runner(ClusteringStudy(preset=preset, device="cpu", seed=seed), snapshot_every=every)
    while runner.step < steps:
        runner.run_headless(min(500, steps - runner.step))
        if give_up is not None and give_up(runner.history.since(0)):
            break
    return runner.history.since(0)


def first_step(rows, key, threshold) -> float:
    return next((r["step"] for r in rows if r[key] >= threshold), np.inf)


def half_gain_step(rows, key) -> float:
    start, end = rows[0][key], rows[-1][key]
    return first_step(rows, key, start + 0.5 * (end - start))


def share(name: str, shown: dict[int, bool]) -> float:
    value = float(np.mean(list(shown.values())))
    print(f"{name}: {value:.2f} of seeds {sorted(shown)} ({sorted(s for s, ok in shown.items() if ok)} show it)")
    return value


@pytest.fixture(scope="module")
def paper() -> dict[int, list[dict]]:
    """The paper's setting, 4500 steps per seed or until test acc 0.9; also the curriculum
    test's control."""
    learned = lambda rows: rows[-1]["acc.test"] >= 0.9       # noqa: E731
    return {seed: train("paper", seed, 4500, every=500, give_up=learned) for seed in SEEDS}


def test_paper_setting_learns_at_some_seeds_and_their_sequences_cluster_by_their_sum(paper):
    """Test acc ≥ 0.9 within 4500 steps. Measured: seed 0 learns (0.93 at step 3000; Fisher ratio
    by Σ over S 0.8 → 115 there, 168 at 4500), seeds 1 and 2 stay at chance (0.51, 0.52 at 4500),
    as does seed 3 (0.50 at 7000): 1 of 3 (1 of 4; seed 0 reaches 1.0 by step 6000)."""
    learned = {seed: first_step(rows, "acc.test", 0.9) <= 4500 for seed, rows in paper.items()}
    assert share("paper setting learns", learned) >= 1 / 3 - MARGIN
    for seed in (s for s, ok in learned.items() if ok):
        rows = paper[seed]
        assert rows[-1]["cluster.by_sum"] > 10 * rows[0]["cluster.by_sum"], seed


def test_fast_preset_learns_the_invariant_but_only_some_seeds_learn_it_first():
    """k = 3, 3000 steps. Measured (seeds 0, 1, 2): test acc 0.95 at steps 1200, 3000, 2500;
    influence of S ends at 0.89, 0.83, 0.91; attention mass on S 0.32, 0.35, 0.23 (uniform:
    k/T = 0.25). Two stages, influence half its gain ≥ 500 steps before accuracy: only at seed 2
    (1000 vs 2100); seeds 0 and 1 gain both together (1100 / 1100, 2100 / 2200): 1 of 3. Seeds 3
    and 4 do not learn in 3000 steps (0.49, 0.59)."""
    runs = {seed: train("fast CPU", seed, 3000) for seed in SEEDS}
    for seed, rows in runs.items():
        assert first_step(rows, "acc.test", 0.95) <= 3000, seed
        assert rows[-1]["influence.on_s"] >= 0.8, seed       # the read-out ignores positions outside S
        # Not through attention: the read-out head attends to S about uniformly.
        assert rows[-1]["attn.mass_on_s"] < 0.4, seed
    two_stages = {seed: half_gain_step(rows, "influence.on_s") + 500 <= half_gain_step(rows, "acc.test")
                  for seed, rows in runs.items()}
    assert share("fast preset, invariant first", two_stages) >= 1 / 3 - MARGIN


def never_converged_by(step: int):
    return lambda rows: rows[-1]["step"] >= step and min(r["loss.train"] for r in rows) >= 0.01


def test_loss_spike_preset_spikes_after_converging_and_recovers_at_some_seeds():
    """lr 0.01. Measured: seed 0 converges (loss < 0.01) by step 1400, spikes at ~5750 (whole
    train loss 0.33) and recovers (test acc 0.97 at 6500); seeds 1 and 2 never learn at this lr
    (test acc 0.51 at 6500), so their runs end at step 2500: 1 of 3."""
    runs = {seed: train("loss spikes", seed, 6500, give_up=never_converged_by(2500)) for seed in SEEDS}
    shown = {}
    for seed, rows in runs.items():
        spikes = [r["step"] for r in rows if np.isfinite(r["loss.spike"])]
        converged = next((r["step"] for r in rows if r["loss.train"] < 0.01), np.inf)
        late = [s for s in spikes if s > converged]
        peak = max((r["loss.train"] for r in rows if late and r["step"] >= late[0]), default=0.0)
        # A late spike that the whole-train-set loss shows too, and recovery from it.
        shown[seed] = bool(late) and peak > 10 * 0.01 and rows[-1]["acc.test"] >= 0.95
    assert share("spikes after converging, then recovers", shown) >= 1 / 3 - MARGIN


def test_curriculum_rescues_seeds_that_fail_without_it(paper):
    """'k grows' (the label first sums S's first position, one more every 500 steps), runs
    ended once test acc reaches 0.95. Measured: seeds 1 and 2 fail without (0.51, 0.52 at 4500)
    and reach 0.95 with it by steps 3000 and 4000: 2 of 2 (seed 3: 0.85 at 4500). Seed 0, which
    learns without, fails with it (0.50 at 4500): the curriculum is no free win."""
    failing = [seed for seed, rows in paper.items() if rows[-1]["acc.test"] < 0.6]
    assert failing
    solved = lambda rows: rows[-1]["acc.test"] >= 0.95       # noqa: E731
    rescued = {seed: solved(train("curriculum: k grows", seed, 4500, every=500, give_up=solved))
               for seed in failing}
    assert share("rescued by the curriculum", rescued) >= 1.0 - MARGIN
