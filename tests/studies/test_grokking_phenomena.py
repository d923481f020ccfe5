"""DESIGN §3.A phenomena, reproduced on CPU with the "fast" preset at seeds 0, 1 and 2 (a seed draws
the train split and the initial weights); figures measured on one thread of a 2-core machine.
Each phenomenon is asserted at every seed, or as the share of seeds that show it (printed).
Run: pytest -m slow -s tests/studies/test_grokking_phenomena.py"""
import numpy as np
import pytest
import torch

from sandbox.runtime import Runner
from sandbox.studies.grokking import GrokkingStudy
from sandbox.studies.grokking_seeds import SeedEnsemble
from tests.studies.curves import as_curves, first_below, first_step

pytestmark = pytest.mark.slow

SEEDS = [0, 1, 2]


def train(preset: str, steps: int, seed: int):
    torch.set_num_threads(1)  # as on a 2-core machine with the server on the other core
    runner = Runner(GrokkingStudy(preset=preset, device="cpu", seed=seed), snapshot_every=50)
    runner.run_headless(steps)
    return as_curves(runner)


@pytest.fixture(scope="module")
def runs() -> dict[int, dict[str, np.ndarray]]:
    return {seed: train("fast", 1800, seed) for seed in SEEDS}


def memorised_and_generalised(run) -> tuple[int, int]:
    return first_step(run["acc.train"], run["step"], 0.99), first_step(run["acc.test"], run["step"], 0.95)


def test_generalisation_is_delayed_well_after_memorisation(runs):
    """Measured (seeds 0, 1, 2): train acc 0.99 at step 100 each, test acc 0.95 at 650, 600, 650;
    test acc at memorisation 0.005, 0.007, 0.007."""
    for seed, run in runs.items():
        s1, s2 = memorised_and_generalised(run)
        assert s2 >= 3 * s1, (seed, s1, s2)
        assert run["acc.test"][run["step"] == s1][0] < 0.1, seed  # at memorisation the test set is at chance


def test_spectrum_is_flat_at_init_and_concentrated_after_grokking(runs):
    """Per neuron (docs/grokking.md says why per neuron), the share of its energy in its top 10% of
    frequencies. Measured (seeds 0, 1, 2): 0.26 → 0.84, 0.26 → 0.84, 0.26 → 0.85; Gini of the
    embedding spectrum 0.025 → 0.19, 0.023 → 0.17, 0.030 → 0.19."""
    for seed, run in runs.items():
        assert run["neurons.concentration"][0] <= 0.3, seed
        assert run["neurons.concentration"][-1] >= 0.7, seed
        assert run["fourier.gini"][-1] > 3 * run["fourier.gini"][0], seed


def test_weight_norm_falls_once_the_model_generalises(runs):
    """Measured (seeds 0, 1, 2): the norm ends at 0.917, 0.925, 0.920 of its peak. It is flat
    (within 1%) while test acc climbs and falls once it is 1.0 (from step ~1000): the peak comes
    before test acc 0.95 at seeds 0 and 2 (steps 300, 350 < 650) only by a 1% wiggle, and after it
    at seed 1 (950 > 600): 2 of 3."""
    before = {}
    for seed, run in runs.items():
        _, s2 = memorised_and_generalised(run)
        peak = int(np.argmax(run["weights.norm"]))
        assert run["weights.norm"][-1] <= 0.95 * run["weights.norm"][peak], seed
        before[seed] = bool(run["step"][peak] < s2)
    share = np.mean(list(before.values()))
    print(f"weight norm peaks before test acc 0.95 at {share:.2f} of seeds: {before}")
    assert share >= 2 / 3 - 0.1


def test_after_grokking_most_neurons_are_single_frequency(runs):
    """Mean share of a neuron's energy in its dominant frequency at step 1800. Measured (seeds
    0, 1, 2): 0.760, 0.766, 0.775 (each below 0.7 until step ~1300)."""
    for seed, run in runs.items():
        assert run["neurons.mean_dominant_share"][-1] >= 0.7, seed


def test_restricted_loss_reaches_half_of_chance_before_the_test_loss(runs):
    """Nanda's restricted loss (only the key frequencies of the neurons kept) shows the Fourier
    circuit forming while the test loss is still high. Measured: below ½ ln 97 at step 150, 100,
    150 (seeds 0, 1, 2), the test loss at 450, 400, 450."""
    half_chance = 0.5 * np.log(97)
    for seed, run in runs.items():
        s_restricted = first_below(run["loss.restricted"], run["step"], half_chance)
        s_test = first_below(run["loss.test"], run["step"], half_chance)
        assert s_restricted < s_test, (seed, s_restricted, s_test)


def test_excluded_loss_rises_after_memorisation_before_generalisation(runs):
    """Nanda's excluded loss (train pairs, key frequencies removed) rises as the circuit replaces
    memorisation: by generalisation it is at least twice its value at memorisation. Measured: its
    highest value in between is 3.2, 3.1, 3.1 times that (seeds 0, 1, 2)."""
    for seed, run in runs.items():
        s1, s2 = memorised_and_generalised(run)
        between = (run["step"] >= s1) & (run["step"] <= s2)
        at_memorisation = run["loss.excluded"][run["step"] == s1][0]
        assert run["loss.excluded"][between].max() >= 2 * at_memorisation, (seed, at_memorisation, s1, s2)


def test_without_weight_decay_the_model_memorises_but_never_generalises():
    """Init seeds 0, 1, 2 on seed 0's split, trained together (vmapped), for 650 steps: with weight
    decay the same three reach test acc 0.95 at steps 650, 650, 600. Measured without: train acc
    1.0 from step 100 at each, test acc at most 0.007, 0.009, 0.009 (0.008, 0.012, 0.011 by 800)."""
    spread = SeedEnsemble(seeds=len(SEEDS), preset="no_weight_decay", device="cpu").run(650, every=50)
    assert (spread.train_accuracy[:, -1] == 1.0).all(), spread.train_accuracy[:, -1]
    assert (spread.test_accuracy.max(axis=1) < 0.05).all(), spread.test_accuracy.max(axis=1)
