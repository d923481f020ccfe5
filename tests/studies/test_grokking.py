"""Grokking study on a tiny table: snapshot contract, validation, live parameters.
Run: pytest tests/studies/test_grokking.py"""
import numpy as np
import pytest
import torch

from sandbox.studies.grokking import GrokkingStudy
from tests.conftest import built

TINY = dict(p=11, width=16, train_fraction=0.5, device="cpu")


@pytest.fixture
def study():
    return built(GrokkingStudy(preset="fast", **TINY))


def test_snapshot_holds_every_metric_with_the_right_shapes(study):
    for _ in range(3):
        study.step()
    scalars, arrays = study.snapshot()
    K, p, d = 5, 11, 16
    for key in ("loss.train", "loss.test", "acc.train", "acc.test", "loss.restricted", "loss.excluded",
                "weights.norm", "fourier.top_share", "fourier.gini", "neurons.mean_dominant_share",
                "neurons.concentration"):
        assert np.isfinite(scalars[key]), key
    shapes = {"fourier.energy": (K,), "neurons.frequency_energy": (d, K), "neurons.order": (d,),
              "neurons.dominant": (d,), "neurons.phase_sum": (d,), "neurons.phase_out": (d,),
              "neurons.per_frequency": (K,), "grid.correct": (p, p), "neuron.activation": (p, p),
              "neuron.spectrum": (K,)}
    for key, shape in shapes.items():
        assert arrays[key].shape == shape, key
    assert arrays["neurons.per_frequency"].sum() == d
    np.testing.assert_allclose(arrays["neurons.frequency_energy"].sum(axis=1), 1.0, rtol=1e-5)
    # The grid codes train/test and right/wrong; its train cells match the split.
    assert ((arrays["grid.correct"] >= 2).sum()) == len(study.table.train)


def test_selected_neuron_activation_matches_its_weights(study):
    study.set_param("selected_neuron", 3)
    _, arrays = study.snapshot()
    W_a, W_b = study.model.W_a.detach().numpy(), study.model.W_b.detach().numpy()
    expected = (W_a[:, 3][:, None] + W_b[:, 3][None, :]) ** 2  # quadratic activation over (a, b)
    np.testing.assert_allclose(arrays["neuron.activation"], expected, rtol=1e-5)
    k = int(arrays["neurons.dominant"][3])
    i, j = 2, 5  # row i of the relabelled grid is a = i·k⁻¹ mod p
    a, b = (i * pow(k, -1, 11)) % 11, (j * pow(k, -1, 11)) % 11
    assert arrays["neuron.activation_by_k"][i, j] == pytest.approx(expected[a, b], rel=1e-5)


def test_live_learning_rate_reaches_the_optimiser(study):
    study.set_param("lr", 0.02)
    assert study.optimizer.param_groups[0]["lr"] == 0.02
    with pytest.raises(ValueError, match="Reset"):
        study.set_param("p", 13)


@pytest.mark.parametrize("bad, message", [
    (dict(p=12), "not prime"), (dict(train_fraction=1.5), "train_fraction"),
    (dict(model="transformer", d_model=10, n_heads=4), "divisible"), (dict(selected_neuron=99), "does not exist"),
    pytest.param(dict(device="cuda"), "no CUDA GPU",
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present"))])
def test_bad_settings_are_refused_and_nothing_changes(study, bad, message):
    before = study.config.values()
    with pytest.raises(ValueError, match=message):
        study.configure(**bad)
    assert study.config.values() == before


def test_transformer_trains_and_snapshots():
    s = built(GrokkingStudy(preset="nanda2023", p=11, d_model=16, n_heads=2, d_mlp=24, device="cpu"))
    first = s.step()
    for _ in range(5):
        last = s.step()
    assert last < first
    _, arrays = s.snapshot()
    assert arrays["neurons.frequency_energy"].shape == (24, 5)


def test_state_dict_round_trip(study):
    study.step()
    state = study.state_dict()
    other = built(GrokkingStudy(preset="fast", **TINY))
    other.load_state_dict(state)
    np.testing.assert_array_equal(other.snapshot()[1]["grid.correct"], study.snapshot()[1]["grid.correct"])
