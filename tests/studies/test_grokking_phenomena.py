"""DESIGN §3.A phenomena, reproduced on CPU with the "fast" preset at seed 0 (about a minute).
Run: pytest -m slow tests/studies/test_grokking_phenomena.py"""
import numpy as np
import pytest
import torch

from sandbox.runtime import Runner
from sandbox.studies.grokking import GrokkingStudy

pytestmark = pytest.mark.slow


def train(preset: str, steps: int):
    torch.set_num_threads(1)  # as on a 2-core machine with the server on the other core
    runner = Runner(GrokkingStudy(preset=preset, device="cpu"), snapshot_every=50)
    runner.run_headless(steps)
    rows = runner.history.since(0)
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


@pytest.fixture(scope="module")
def fast():
    return train("fast", 1800)


def first_step(curve, steps, threshold):
    hits = np.flatnonzero(curve >= threshold)
    assert len(hits), f"never reached {threshold}"
    return int(steps[hits[0]])


def test_generalisation_is_delayed_well_after_memorisation(fast):
    s1 = first_step(fast["acc.train"], fast["step"], 0.99)
    s2 = first_step(fast["acc.test"], fast["step"], 0.95)
    assert s2 >= 3 * s1, (s1, s2)
    assert fast["acc.test"][fast["step"] == s1][0] < 0.1  # at memorisation the test set is at chance


def test_spectrum_is_flat_at_init_and_concentrated_after_grokking(fast):
    # Per neuron: the share of its energy in its top 10% of frequencies (see README on why per neuron).
    assert fast["neurons.concentration"][0] <= 0.3
    assert fast["neurons.concentration"][-1] >= 0.7
    assert fast["fourier.gini"][-1] > 3 * fast["fourier.gini"][0]


def test_weight_norm_falls_while_the_model_generalises(fast):
    s2 = first_step(fast["acc.test"], fast["step"], 0.95)
    peak = int(np.argmax(fast["weights.norm"]))
    assert fast["step"][peak] < s2
    assert fast["weights.norm"][-1] <= 0.95 * fast["weights.norm"][peak]


def test_after_grokking_most_neurons_are_single_frequency(fast):
    assert fast["neurons.mean_dominant_share"][-1] >= 0.7


def first_below(curve, steps, threshold):
    hits = np.flatnonzero(curve < threshold)
    assert len(hits), f"never fell below {threshold:.3f} (lowest {curve.min():.3f})"
    return int(steps[hits[0]])


def test_restricted_loss_reaches_half_of_chance_before_the_test_loss(fast):
    """Nanda's restricted loss (only the key frequencies of the neurons kept) shows the Fourier
    circuit forming while the test loss is still high."""
    half_chance = 0.5 * np.log(97)
    s_restricted = first_below(fast["loss.restricted"], fast["step"], half_chance)
    s_test = first_below(fast["loss.test"], fast["step"], half_chance)
    assert s_restricted < s_test, (s_restricted, s_test)


def test_excluded_loss_rises_after_memorisation_before_generalisation(fast):
    """Nanda's excluded loss (train pairs, key frequencies removed) rises as the circuit replaces
    memorisation: by generalisation it is at least twice its value at memorisation."""
    s1 = first_step(fast["acc.train"], fast["step"], 0.99)
    s2 = first_step(fast["acc.test"], fast["step"], 0.95)
    between = (fast["step"] >= s1) & (fast["step"] <= s2)
    at_memorisation = fast["loss.excluded"][fast["step"] == s1][0]
    assert fast["loss.excluded"][between].max() >= 2 * at_memorisation, (at_memorisation, s1, s2)


def test_without_weight_decay_the_model_memorises_but_never_generalises():
    run = train("no_weight_decay", 800)
    assert run["acc.train"][-1] == 1.0
    assert run["acc.test"].max() < 0.05
