"""A neuron's frequency and phases read from its activation map over the p × p grid, on maps made
by hand whose answer is known in closed form.
Run: pytest tests/analysis/test_neuron_activations.py"""
import numpy as np
import pytest

from sandbox.analysis import fourier, neurons

P = 23
A, B = np.meshgrid(np.arange(P), np.arange(P), indexing="ij")   # a-major, as the study's grid


def w(k):
    return 2 * np.pi * k / P


def as_hidden(*maps):
    """(p, p) maps → (p², d), one neuron per map, rows a·p + b."""
    return np.stack([m.reshape(-1) for m in maps], axis=1)


@pytest.mark.parametrize("k, phi", [(1, 0.0), (3, 1.0), (7, -2.5), (11, np.pi / 2)])
def test_a_neuron_cos_k_a_plus_b_has_frequency_k_all_of_its_variance_and_phase_phi(k, phi):
    d = neurons.from_activations(as_hidden(np.cos(w(k) * (A + B) + phi)), P)
    assert d.dominant[0] == k
    assert d.share[0] == pytest.approx(1.0)
    assert d.phase_sum[0] == pytest.approx(phi, abs=1e-6)


@pytest.mark.parametrize("k, phi", [(2, 0.0), (5, 0.7), (9, -1.9)])
def test_a_neuron_of_a_alone_has_frequency_k_and_its_phase_in_a(k, phi):
    d = neurons.from_activations(as_hidden(3.0 * np.cos(w(k) * A + phi) + 0.5), P)
    assert d.dominant[0] == k and d.share[0] == pytest.approx(1.0)
    assert d.phase_a[0] == pytest.approx(phi, abs=1e-6)
    # No wave in b, none in a + b: all of the neuron is its row of a.
    assert d.energy[0].sum() == pytest.approx(d.total[0])


def test_a_mixture_is_dominated_by_its_larger_wave_with_the_share_its_variance_gives():
    # Variances over the grid: amplitude² · p²/2 for each wave, so 0.8² : 0.3² of the whole.
    mixture = 0.8 * np.cos(w(4) * (A + B) + 0.3) + 0.3 * np.cos(w(10) * B - 1.2)
    d = neurons.from_activations(as_hidden(mixture), P)
    assert d.dominant[0] == 4
    assert d.share[0] == pytest.approx(0.64 / 0.73)
    assert d.fraction[0, 10 - 1] == pytest.approx(0.09 / 0.73)
    assert d.phase_sum[0] == pytest.approx(0.3, abs=1e-6)


def test_a_product_of_two_waves_at_k_counts_at_k_and_its_sum_wave_keeps_the_phase_sum():
    # cos(wa + α)·cos(wb + β) = ½cos(w(a+b) + α + β) + ½cos(w(a−b) + α − β): all of it is at k.
    alpha, beta = 0.4, -1.1
    d = neurons.from_activations(as_hidden(np.cos(w(6) * A + alpha) * np.cos(w(6) * B + beta)), P)
    assert d.dominant[0] == 6 and d.share[0] == pytest.approx(1.0)
    assert d.phase_sum[0] == pytest.approx(alpha + beta, abs=1e-6)


def test_a_relu_neuron_keeps_its_frequency_and_phase_despite_the_harmonics():
    relu = np.maximum(0.0, np.cos(w(3) * (A + B) - 0.8))
    d = neurons.from_activations(as_hidden(relu), P)
    assert d.dominant[0] == 3 and 0.8 < d.share[0] < 1.0       # some variance goes to 2k, 4k, …
    assert d.phase_sum[0] == pytest.approx(-0.8, abs=0.01)     # harmonics alias back a little


def test_each_neuron_of_several_is_described_on_its_own_and_a_dead_one_has_no_share():
    maps = [np.cos(w(2) * (A + B) + 1.0), np.zeros((P, P)) + 4.0, np.sin(w(8) * A) + np.sin(w(8) * B)]
    d = neurons.from_activations(as_hidden(*maps), P)
    assert d.dominant.tolist() == [2, 1, 8]
    np.testing.assert_allclose(d.share, [1.0, 0.0, 1.0], atol=1e-6)
    # sin x = cos(x − π/2)
    assert d.phase_a[2] == pytest.approx(-np.pi / 2) and d.phase_b[2] == pytest.approx(-np.pi / 2)


def test_the_sum_profile_adds_each_anti_diagonal_of_the_grid():
    H = np.random.default_rng(0).normal(size=(P, P, 2))
    profile = neurons.sum_profile(H)
    for c in (0, 5, P - 1):
        expected = sum(H[a, (c - a) % P] for a in range(P))
        np.testing.assert_allclose(profile[c], expected)


def test_the_weights_of_a_quadratic_neuron_and_its_activations_agree_on_frequency_and_phase_sum():
    """For act(W_a[a] + W_b[b]) = (cos(wa + φ_a) + cos(wb + φ_b))², the description from the
    weights (the MLP's) and from the activations (the transformer's) give the same frequency and
    the same wave in a + b. The activations have no wave at k in a alone (the square moves it to
    2k), so only the weights know φ_a and φ_b."""
    phi_a, phi_b = 0.9, -0.4
    W_a, W_b = np.cos(w(5) * np.arange(P) + phi_a)[:, None], np.cos(w(5) * np.arange(P) + phi_b)[:, None]
    from_weights = neurons.from_input_weights(W_a, W_b)
    from_activity = neurons.from_activations(as_hidden((W_a[:, 0][:, None] + W_b[:, 0][None, :]) ** 2), P)
    assert from_weights.dominant[0] == from_activity.dominant[0] == 5
    assert from_weights.phase_a[0] == pytest.approx(phi_a) and from_weights.phase_b[0] == pytest.approx(phi_b)
    assert from_activity.phase_sum[0] == pytest.approx(fourier.wrap_phase(phi_a + phi_b), abs=1e-6)
    assert from_weights.phase_sum[0] == pytest.approx(fourier.wrap_phase(phi_a + phi_b), abs=1e-6)
