"""Fourier metrics against hand-computable cases. Run: pytest tests/analysis/test_fourier.py"""
import numpy as np
import pytest

from sandbox.analysis import fourier, progress

P = 23
X = np.arange(P)


def cosine(k, phase=0.0, amplitude=1.0):
    return amplitude * np.cos(2 * np.pi * k * X / P + phase)


def test_basis_is_orthonormal():
    B = fourier.fourier_basis(P)
    np.testing.assert_allclose(B @ B.T, np.eye(P), atol=1e-12)


def test_even_p_is_refused():
    with pytest.raises(ValueError, match="odd"):
        fourier.fourier_basis(10)


def test_pure_cosine_puts_all_energy_at_its_frequency():
    energy = fourier.frequency_energy(cosine(5)[:, None])
    assert energy.argmax() + 1 == 5
    assert energy[4] / energy.sum() == pytest.approx(1.0, abs=1e-12)
    # Parseval: ‖cos‖² = p/2 for k ≠ 0.
    assert energy.sum() == pytest.approx(P / 2)


@pytest.mark.parametrize("phase", [0.0, 0.7, -2.0, np.pi / 2])
def test_phase_of_a_shifted_cosine_is_recovered(phase):
    got = fourier.phase_at(cosine(5, phase)[:, None], np.array([5]))
    assert got[0] == pytest.approx(fourier.wrap_phase(phase), abs=1e-9)


def test_sine_has_phase_minus_half_pi():
    W = np.sin(2 * np.pi * 3 * X / P)[:, None]
    assert fourier.phase_at(W, np.array([3]))[0] == pytest.approx(-np.pi / 2)


def test_constant_column_has_no_frequency_energy():
    assert fourier.frequency_energy(np.ones((P, 3))).sum() == pytest.approx(0.0, abs=1e-20)


def test_gini_of_equal_values_is_zero_and_of_one_hot_is_near_one():
    assert fourier.gini(np.ones(10)) == pytest.approx(0.0)
    one_hot = np.zeros(10)
    one_hot[3] = 5.0
    assert fourier.gini(one_hot) == pytest.approx(0.9)  # (n − 1) / n


def test_top_share():
    K = 11
    assert fourier.top_share(np.ones(K), 0.1) == pytest.approx(2 / K)  # ceil(1.1) = 2 frequencies
    spike = np.zeros(K)
    spike[4] = 1
    assert fourier.top_share(spike) == 1.0


def test_per_neuron_dominant_frequency_share_and_ipr():
    W = np.stack([cosine(2), cosine(7, 1.0), cosine(2) + cosine(9)], axis=1)  # 3 neurons
    per = fourier.frequency_energy_per_column(W)
    k, share = fourier.dominant_frequency(per)
    assert list(k[:2]) == [2, 7]
    np.testing.assert_allclose(share[:2], 1.0)
    assert share[2] == pytest.approx(0.5)
    np.testing.assert_allclose(fourier.inverse_participation_ratio(per), [1.0, 1.0, 0.5])
    np.testing.assert_allclose(fourier.top_share_per_column(per, 0.1), [1.0, 1.0, 1.0])  # 2 of 11 kept


def test_neurons_per_frequency_counts():
    counts = fourier.neurons_per_frequency(np.array([1, 1, 3, 11]), K=11)
    assert counts.tolist() == [2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]


def test_key_frequencies_strongest_first():
    assert fourier.key_frequencies(np.array([0.1, 5.0, 0.2, 3.0]), top=2).tolist() == [2, 4]


def test_restricted_and_excluded_loss_on_a_pure_fourier_circuit():
    """Logits = Σ_k cos(2πk(a + b − c)/p) over key k: the restricted loss equals the full loss
    (nothing else is there), and removing the keys leaves uniform logits (loss = log p)."""
    a, b = np.divmod(np.arange(P * P), P)
    y = (a + b) % P
    c = np.arange(P)
    keys = np.array([3, 8])
    logits = 8 * sum(np.cos(2 * np.pi * k * ((a + b)[:, None] - c[None, :]) / P) for k in keys)
    train = np.arange(0, P * P, 3)
    full = fourier._cross_entropy(logits, y)
    restricted, excluded = fourier.restricted_and_excluded_loss(logits, y, train, P, keys)
    assert restricted == pytest.approx(full, rel=1e-5)
    assert full < 0.5
    assert excluded == pytest.approx(np.log(P), rel=1e-6)


# ---- Nanda's neuron frequencies (sandbox.analysis.progress) -----------------------------------
A, B = np.divmod(np.arange(P * P), P)        # the grid, a-major, as the studies lay it out


def test_a_neuron_computing_cos_wk_a_plus_b_has_frequency_k_with_all_its_variance():
    ks, phases = [3, 3, 7, 11], [0.0, 1.1, -2.0, 0.4]
    hidden = np.stack([np.cos(2 * np.pi * k * (A + B) / P + phi) for k, phi in zip(ks, phases)], axis=1)
    energy, total = progress.neuron_frequency_energy(hidden, P)
    k, fraction = progress.neuron_frequencies(energy, total)
    assert k.tolist() == ks
    np.testing.assert_allclose(fraction, 1.0, rtol=1e-5)       # float32 activations
    np.testing.assert_allclose(total, P * P / 2, rtol=1e-5)      # Parseval: Σ cos² over the grid
    assert progress.neuron_key_frequencies(energy, total).tolist() == [3, 7, 11]


def test_a_quadratic_neuron_explains_four_fifths_at_k_and_the_rest_at_2k():
    """(cos α + cos β)² = 1 + ½cos 2α + ½cos 2β + 2 cos α cos β: variances ⅛ + ⅛ + 1, so k's
    8 terms hold 1 / 1.25 = 0.8 of it; the rest sits in the linear terms at 2k (here 2·4 = 8)."""
    hidden = ((np.cos(2 * np.pi * 4 * A / P + 0.3) + np.cos(2 * np.pi * 4 * B / P - 1.2)) ** 2)[:, None]
    energy, total = progress.neuron_frequency_energy(hidden, P)
    assert energy[0, 4 - 1] / total[0] == pytest.approx(0.8, rel=1e-5)
    assert energy[0, 8 - 1] / total[0] == pytest.approx(0.2, rel=1e-5)
    assert progress.neuron_key_frequencies(energy, total).tolist() == [4]


def test_a_dead_neuron_has_no_frequency_and_adds_no_key():
    hidden = np.stack([np.full(P * P, 2.5), np.cos(2 * np.pi * 5 * (A - B) / P)], axis=1)
    energy, total = progress.neuron_frequency_energy(hidden, P)
    k, fraction = progress.neuron_frequencies(energy, total)
    assert k.tolist() == [0, 5] and fraction[0] == 0.0
    assert progress.neuron_key_frequencies(energy, total).tolist() == [5]


def test_a_fourier_circuit_read_out_from_its_neurons_is_all_restricted_and_nothing_excluded():
    """Neurons cos(w_k(a+b) + φ_n) read out through cos(w_k c + φ_n), phases spread evenly:
    logits ∝ cos(w_k(a+b−c)). The neurons give key frequency k; keeping it keeps the whole loss,
    removing it leaves uniform logits (loss ln p)."""
    k, phases = 6, 2 * np.pi * np.arange(8) / 8
    hidden = np.cos(2 * np.pi * k * (A + B)[:, None] / P + phases[None, :])          # (p², 8)
    W_out = np.cos(2 * np.pi * k * np.arange(P)[None, :] / P + phases[:, None])       # (8, p)
    logits = 3 * hidden @ W_out
    keys = progress.neuron_key_frequencies(*progress.neuron_frequency_energy(hidden, P))
    assert keys.tolist() == [k]
    y, train = (A + B) % P, np.arange(0, P * P, 2)
    restricted, excluded = fourier.restricted_and_excluded_loss(logits, y, train, P, keys)
    assert restricted == pytest.approx(fourier._cross_entropy(logits, y), rel=1e-5)
    assert excluded == pytest.approx(np.log(P), rel=1e-5)
