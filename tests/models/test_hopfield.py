"""Hopfield networks on cases computable by hand. Run: pytest tests/models/test_hopfield.py"""
import numpy as np
import pytest
import torch

from sandbox.analysis.hopfield import capacity, corrupt, overlaps, random_patterns
from sandbox.models.hopfield import (ClassicalHopfield, DenseHopfield, ModernHopfield, make_network,
                                     sparsemax)
from sandbox.tasks.patterns import digit_patterns, image_shape, make_patterns


def pattern(n=50, seed=0):
    return random_patterns(1, n, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("net, negative_too", [(lambda x: ClassicalHopfield(x), True),
                                               (lambda x: DenseHopfield(x, 3), False),   # odd F: −ξ is a maximum
                                               (lambda x: DenseHopfield(x, 0), False)])
@pytest.mark.parametrize("rule", ["async", "sync"])
def test_one_stored_pattern_is_a_fixed_point_and_in_the_classical_net_its_negative_too(net, negative_too, rule):
    xi = pattern()
    hopfield = net(xi)
    for start in (xi, -xi) if negative_too else (xi,):
        final, sweeps = hopfield.retrieve(start.clone(), rule=rule)
        assert torch.equal(final, start) and sweeps == 1
    # and a corrupted copy comes back to it (one pattern: every unit's drive points to it)
    final, _ = hopfield.retrieve(corrupt(xi, 0.3, generator=torch.Generator().manual_seed(1)), rule=rule)
    assert torch.equal(final, xi)


def test_hebbian_weights_by_hand():
    xi = torch.tensor([[1.0, -1.0, 1.0]])
    w = ClassicalHopfield(xi).weights
    np.testing.assert_allclose(w.numpy(), np.array([[0, -1, 1], [-1, 0, -1], [1, -1, 0]]) / 3)
    assert float(ClassicalHopfield(xi).energy(xi)[0]) == pytest.approx(-0.5 * (1 + 1 + 1) * 2 / 3)


@pytest.mark.parametrize("net", [lambda x: ClassicalHopfield(x), lambda x: DenseHopfield(x, 3),
                                 lambda x: DenseHopfield(x, 0)])
def test_energy_never_increases_under_asynchronous_updates(net):
    generator = torch.Generator().manual_seed(0)
    hopfield = net(random_patterns(30, 60, generator))      # overloaded: long, non-trivial descents
    state = random_patterns(8, 60, generator)
    energies = [hopfield.energy(state)]
    for unit in torch.randperm(60, generator=generator).tolist() * 3:
        state = hopfield.update_units(state, [unit])
        energies.append(hopfield.energy(state))
    steps = torch.stack(energies).diff(dim=0)
    assert (steps <= 1e-4 * torch.stack(energies).abs().max()).all()


def test_exponential_dense_net_does_not_overflow_on_large_overlaps():
    xi = random_patterns(3, 2000, torch.Generator().manual_seed(0))
    hopfield = DenseHopfield(xi, 0)
    final, _ = hopfield.retrieve(corrupt(xi, 0.2, generator=torch.Generator().manual_seed(1)), rule="sync")
    assert torch.equal(final, xi) and torch.isfinite(hopfield.energy(final)).all()


def test_modern_hopfield_at_large_beta_returns_the_nearest_pattern_in_one_step():
    generator = torch.Generator().manual_seed(0)
    stored = random_patterns(40, 32, generator)
    queries = corrupt(stored[:10], 0.2, generator=generator)
    for sparse in (False, True):
        one_step = ModernHopfield(stored, beta=10.0, sparse=sparse).update(queries)
        nearest = overlaps(queries, stored).argmax(dim=1)
        torch.testing.assert_close(one_step, stored[nearest])


def test_modern_hopfield_at_small_beta_averages_the_patterns():
    stored = random_patterns(8, 64, torch.Generator().manual_seed(0))
    state = ModernHopfield(stored, beta=1e-3).update(stored[:1])
    torch.testing.assert_close(state[0], stored.mean(0), atol=0.02, rtol=0)


def test_sparsemax_by_hand():
    p = sparsemax(torch.tensor([[3.0, 1.0, 0.2], [1.0, 1.0, 1.0], [0.5, 0.3, -5.0]]))
    torch.testing.assert_close(p, torch.tensor([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.6, 0.4, 0.0]]))


def test_sparse_energy_by_hand():
    """Patterns e₁, e₂, β = 1. At ξ = 0 the scores tie, p = (½, ½), Ψ*(0) = ⟨p, 0⟩ − ½‖p‖² + ½ = ¼,
    so E = −¼. At ξ = e₁, p = (1, 0), Ψ* = 1 − ½ + ½ = 1 and E = −1 + ½‖e₁‖² = −½: lower, as the
    pattern should be."""
    net = ModernHopfield(torch.eye(2), beta=1.0, sparse=True)
    energy = net.energy(torch.tensor([[0.0, 0.0], [1.0, 0.0]]))
    torch.testing.assert_close(energy, torch.tensor([-0.25, -0.5]))


def test_bad_settings_are_refused():
    xi = pattern()
    with pytest.raises(ValueError, match="degree"):
        DenseHopfield(xi, 1)
    with pytest.raises(ValueError, match="β"):
        ModernHopfield(xi, beta=0.0)
    with pytest.raises(ValueError, match="unknown network"):
        make_network("boltzmann", xi)
    with pytest.raises(ValueError, match="fractions"):
        corrupt(xi, 1.5)


def test_corruption_flips_exactly_the_asked_share_and_occludes_the_last_units():
    xi = torch.ones(4, 100)
    noisy = corrupt(xi, 0.1, generator=torch.Generator().manual_seed(0))
    assert ((noisy == -1).sum(1) == 10).all()
    hidden = corrupt(xi, 0.0, occlusion=0.25)
    assert (hidden[:, 75:] == -1).all() and (hidden[:, :75] == 1).all()


def test_capacity_is_where_the_success_rate_crosses_one_half():
    assert capacity([0.1, 0.12, 0.14, 0.16], [1.0, 0.9, 0.3, 0.0]) == pytest.approx(0.12 + 0.4 / 0.6 * 0.02)
    assert np.isnan(capacity([0.1, 0.2], [1.0, 0.8]))


def test_digits_are_binarized_and_interleaved_by_class():
    digits = digit_patterns(12)
    assert digits.shape == (12, 64) and set(np.unique(digits)) == {-1.0, 1.0}
    from sklearn.datasets import load_digits
    data = load_digits()
    first_zero = data.data[np.flatnonzero(data.target == 0)[0]]
    np.testing.assert_array_equal(digits[0], np.where(first_zero > 8, 1.0, -1.0))
    second_zero = data.data[np.flatnonzero(data.target == 0)[1]]
    np.testing.assert_array_equal(digits[10], np.where(second_zero > 8, 1.0, -1.0))
    assert make_patterns("random", 3, 20, seed=1).shape == (3, 20)
    assert image_shape(64) == (8, 8) and image_shape(100) == (10, 10) and image_shape(36) == (6, 6)
    assert image_shape(50) == (5, 10)


def test_the_plane_of_two_patterns_has_them_and_their_negatives_at_its_corners():
    from sandbox.analysis.hopfield import energy_plane, mixed_states, plane_coordinates
    a, b = random_patterns(2, 60, torch.Generator().manual_seed(3))
    states, xy = mixed_states(a, b, grid=5)
    corners = {(-1, 0): -a, (1, 0): a, (0, 1): b, (0, -1): -b}
    for (x, y), pattern in corners.items():
        i = int(((xy[:, 0] - x).abs() + (xy[:, 1] - y).abs()).argmin())
        assert torch.equal(states[i], pattern) and abs(float(xy[i, 0]) - x) + abs(float(xy[i, 1]) - y) < 1e-6
    assert set(np.unique(states.numpy())) == {-1.0, 1.0}
    # Coordinates of any state: a itself is (1, 0); for the net storing only a and b, the
    # energy surface is lowest at the four corners.
    torch.testing.assert_close(plane_coordinates(a[None], a, b), torch.tensor([[1.0, 0.0]]))
    plane = energy_plane(ClassicalHopfield(torch.stack([a, b])), a, b, grid=5)
    corner_energy = plane[2][[0, 4, 0, 4], [0, 4, 4, 0]]
    assert plane.shape == (3, 5, 5) and np.allclose(corner_energy, plane[2].min())
    with pytest.raises(ValueError, match="equal"):
        mixed_states(a, a)
