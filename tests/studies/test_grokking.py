"""Grokking study on a tiny table: snapshot contract, validation, live parameters.
Run: pytest tests/studies/test_grokking.py"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from sandbox.analysis import fourier, progress
from sandbox.studies.grokking import GrokkingStudy
from tests.conftest import built

TINY = GrokkingStudy.TINY


@pytest.fixture
def study():
    return built(GrokkingStudy(preset="fast", **TINY))


def test_snapshot_holds_every_metric_with_the_right_shapes(study):
    for _ in range(3):
        study.step()
    scalars, arrays = study.snapshot()
    K, p, d = 5, 11, 16
    for key in ("loss.train", "loss.test", "acc.train", "acc.test", "loss.restricted", "loss.excluded",
                "weights.norm", "fourier.key_count", "fourier.top_share", "fourier.gini", "neurons.mean_dominant_share",
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


def _trained(study, steps, lr_at=None):
    study.build()
    for i in range(steps):
        if i == lr_at:
            study.set_param("lr", 0.01)
        study.step()
    return study


def test_a_run_saved_from_a_graphed_optimiser_loads_and_trains_on_a_cpu():
    state = _trained(GrokkingStudy(preset="fast", p=11, width=16, device="cpu"), 3).state_dict()
    state["optimizer"]["param_groups"][0]["capturable"] = True      # as a CUDA-graphed run saves it
    study = GrokkingStudy(preset="fast", p=11, width=16, device="cpu")
    study.build()
    study.load_state_dict(state)
    assert study.optimizer.param_groups[0]["capturable"] is False
    assert np.isfinite(float(study.step()))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_graphed_study_trains_as_the_eager_one_and_saves_both_ways():
    eager = _trained(GrokkingStudy(preset="fast", device="cuda", cuda_graph=False), 30, lr_at=10)
    graphed = _trained(GrokkingStudy(preset="fast", device="cuda"), 30, lr_at=10)
    assert eager.graphed is None and graphed.graphed.recordings == 2        # again after the live change
    # The embedding's backward sums with atomics (GPU order varies): compare what training achieved.
    losses = [float(F.cross_entropy(s.model(s.a_train, s.b_train), s.y_train)) for s in (eager, graphed)]
    assert losses[1] == pytest.approx(losses[0], rel=1e-2)
    on_cpu = GrokkingStudy(preset="fast", device="cpu")
    on_cpu.build()
    on_cpu.load_state_dict(graphed.state_dict())
    assert np.isfinite(float(on_cpu.step()))
    graphed.load_state_dict(on_cpu.state_dict())
    assert np.isfinite(float(graphed.step())) and np.isfinite(float(graphed.step()))
    assert graphed.graphed.recordings == 3


@pytest.mark.parametrize("preset, size", [("fast", dict(width=16)), ("nanda2023", dict(d_model=16, n_heads=2, d_mlp=24))])
def test_key_frequencies_and_progress_measures_come_from_the_neurons_activations(preset, size):
    """For both models the keys are the frequencies of the neurons' activations over (a, b)
    (for the transformer a and b reach its neurons only through attention), and the restricted
    and excluded losses use them."""
    s = built(GrokkingStudy(preset=preset, p=11, train_fraction=0.5, device="cpu", **size))
    for _ in range(5):
        s.step()
    scalars, arrays = s.snapshot()
    with torch.no_grad():
        logits, hidden = s.model.forward_with_hidden(s.a, s.b)
    keys = progress.neuron_key_frequencies(*progress.neuron_frequency_energy(hidden.numpy(), 11))
    assert arrays["fourier.key_frequencies"].tolist() == keys.tolist()
    assert scalars["fourier.key_count"] == len(keys)
    restricted, excluded = fourier.restricted_and_excluded_loss(logits.numpy(), s.table.y, s.table.train, 11, keys)
    assert scalars["loss.restricted"] == pytest.approx(restricted, rel=1e-6)
    assert scalars["loss.excluded"] == pytest.approx(excluded, rel=1e-6)


def hand_set_transformer(k=3, j=5, p=11):
    """A GrokTransformer (d_model 8, one head, 8 neurons) set by hand. The number tokens embed
    frequency k in dims 0–1 and frequency j in dims 2–3; the `=` token and the positions embed
    nothing. Attention is uniform (Q = K = 0) and copies dims 0–1 of a, b and `=` into dims 4–5,
    so at `=` the residual is (cos w_k a + cos w_k b)/3, (sin w_k a + sin w_k b)/3 there and 0
    elsewhere. Even neurons read dim 4, odd ones dim 5, each with a large bias (ReLU stays linear)
    and a large weight on dims 2–3, which hold frequency j for the tokens but are 0 at `=`:
    W_E·W_in says j, the neurons' activations say k."""
    s = built(GrokkingStudy(preset="nanda2023", p=p, d_model=8, n_heads=1, d_mlp=8, train_fraction=0.5,
                            device="cpu"))
    x = torch.arange(p, dtype=torch.float32)
    m = s.model
    with torch.no_grad():
        for param in m.parameters():
            param.zero_()
        m.W_E[:p, 0], m.W_E[:p, 1] = torch.cos(2 * torch.pi * k * x / p), torch.sin(2 * torch.pi * k * x / p)
        m.W_E[:p, 2], m.W_E[:p, 3] = torch.cos(2 * torch.pi * j * x / p), torch.sin(2 * torch.pi * j * x / p)
        m.W_QKV[2, 0, 0, 0] = m.W_QKV[2, 0, 1, 1] = 1.0               # V: dims 0, 1 → head dims 0, 1
        m.W_O[0, 0, 4] = m.W_O[0, 1, 5] = 1.0                          # head dims 0, 1 → residual 4, 5
        m.W_in[4, 0::2] = m.W_in[5, 1::2] = 1.0
        m.W_in[2, 0::2] = m.W_in[3, 1::2] = 5.0
        m.b_in.fill_(2.0)
        m.W_out[:, 0] = 1.0
        m.W_U[0] = torch.randn(p)
    return s


def test_the_transformer_neuron_views_show_the_frequency_of_the_activations_not_of_W_E_W_in():
    """Issue 22: at `=` a and b reach the MLP only through attention, so the neurons' direct
    weights from the tokens (W_E·W_in, what the views showed before) describe nothing they do."""
    s = hand_set_transformer(k=3, j=5)
    scalars, arrays = s.snapshot()
    direct = (s.model.W_E[:11] @ s.model.W_in).detach().numpy()          # (p, d_mlp): the old source
    assert fourier.dominant_frequency(fourier.frequency_energy_per_column(direct))[0].tolist() == [5] * 8
    assert arrays["neurons.dominant"].tolist() == [3] * 8
    assert arrays["fourier.key_frequencies"].tolist() == [3]
    np.testing.assert_allclose(arrays["neurons.share"], 1.0, rtol=1e-5)    # a linear wave at 3, all of it
    assert arrays["neurons.per_frequency"].tolist() == [0, 0, 8, 0, 0]
    assert arrays["neuron.spectrum"].argmax() == 3 - 1
    # Even neurons are (cos w a + cos w b)/3 + 2, odd ones (sin w a + sin w b)/3 + 2 = cos(· − π/2)…
    np.testing.assert_allclose(arrays["neurons.phase_a"], [0.0, -np.pi / 2] * 4, atol=1e-5)
    np.testing.assert_allclose(arrays["neurons.phase_b"], [0.0, -np.pi / 2] * 4, atol=1e-5)
    # The embedding spectrum is W_E's own (the number tokens): frequencies k and j, equally.
    energy = arrays["fourier.energy"]
    assert sorted(np.flatnonzero(energy > 1e-6 * energy.max()) + 1) == [3, 5]
    assert energy[2] == pytest.approx(energy[4], rel=1e-5)


def test_the_transformer_has_no_per_neuron_input_weights():
    """Nothing may read a path the model lacks by mistake: the name is gone."""
    s = built(GrokkingStudy(preset="nanda2023", p=11, d_model=16, n_heads=2, d_mlp=24, device="cpu"))
    assert not hasattr(s.model, "input_weights")
    assert s.model.token_embedding().shape == (11, 16)
