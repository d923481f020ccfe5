"""Flow-matching metrics on hand-computable cases. Run: pytest tests/analysis/test_flow.py"""
import numpy as np
import pytest

from sandbox.analysis.flow import (crossing_fraction, energy_distance, matched_coverage, mode_coverage,
                                   mode_divergence, mode_shares, ot_pairing, straightness, stranded_fraction,
                                   wasserstein2)


def test_w2_between_a_set_and_its_shift_is_the_length_of_the_shift():
    x = np.random.default_rng(0).standard_normal((300, 2))
    c = np.array([3.0, -4.0])
    assert wasserstein2(x, x + c) == pytest.approx(5.0, rel=1e-9)
    assert wasserstein2(x, x[::-1]) == pytest.approx(0.0, abs=1e-12)      # same set, other order


def test_w2_refuses_sets_of_different_sizes():
    with pytest.raises(ValueError, match="equal-size"):
        wasserstein2(np.zeros((3, 2)), np.zeros((4, 2)))


def test_energy_distance_is_zero_for_equal_sets_and_grows_with_a_shift():
    x = np.random.default_rng(1).standard_normal((200, 2))
    assert energy_distance(x, x) == pytest.approx(0.0, abs=1e-12)
    near, far = energy_distance(x, x + [0.5, 0]), energy_distance(x, x + [3.0, 0])
    assert 0 < near < far


def test_ot_pairing_undoes_a_shuffle():
    x = np.random.default_rng(2).standard_normal((50, 2))
    perm = np.random.default_rng(3).permutation(50)
    pairing = ot_pairing(x, x[perm])
    np.testing.assert_array_equal(x[perm][pairing], x)


def test_straight_paths_have_straightness_one_and_a_detour_less():
    t = np.linspace(0, 1, 11)[:, None, None]
    x0, x1 = np.zeros((1, 2)), np.array([[2.0, 0.0]])
    straight = (1 - t) * x0 + t * x1                                     # (11, 1, 2)
    assert straightness(straight) == pytest.approx(1.0)
    detour = np.array([[[0, 0]], [[1, 1]], [[2, 0]]], dtype=float)     # two sides of a right triangle
    assert straightness(detour) == pytest.approx(2 / (2 * np.sqrt(2)))


def test_crossings_of_an_x_and_of_parallel_lines():
    t = np.linspace(0, 1, 5)[:, None]
    a = np.hstack([t, t])                   # (0,0) → (1,1)
    b = np.hstack([t, 1 - t])               # (0,1) → (1,0): crosses a
    c = np.hstack([t, t + 5])               # parallel to a, far away
    assert crossing_fraction(np.stack([a, b], axis=1)) == 1.0
    assert crossing_fraction(np.stack([a, c], axis=1)) == 0.0
    assert crossing_fraction(np.stack([a, b, c], axis=1)) == pytest.approx(1 / 3)


def test_stranded_points_and_mode_statistics():
    modes = np.array([[0.0, 0.0], [10.0, 0.0]])
    data = np.array([[0.0, 0.0], [10.0, 0.0]])
    generated = np.array([[0.1, 0.0], [0.0, 0.2], [5.0, 0.0], [9.9, 0.0]])
    assert stranded_fraction(generated, data, threshold=1.0) == 0.25      # (5, 0) sits between modes
    np.testing.assert_allclose(mode_shares(generated, modes), [0.75, 0.25])
    assert mode_coverage(generated, modes, np.array([0.5, 0.5])) == 1.0
    assert mode_coverage(generated[:2], modes, np.array([0.5, 0.5])) == 0.5
    assert mode_divergence(np.array([[0.0, 0.0], [10.0, 0.0]]), modes, np.array([0.5, 0.5])) == pytest.approx(0.0)
    assert mode_divergence(generated, modes, np.array([0.5, 0.5])) == pytest.approx(
        0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(0.5 / 0.25))


def test_matched_coverage_pairs_each_generated_point_with_one_data_point():
    data = np.array([[0.0, 0.0], [0.2, 0.0], [5.0, 0.0]])
    one = np.array([[0.1, 0.0]])                   # within 0.5 of both near points, but only one sample
    assert matched_coverage(one, data, epsilon=0.5) == pytest.approx(1 / 3)
    two = np.array([[0.1, 0.0], [0.15, 0.0]])
    assert matched_coverage(two, data, epsilon=0.5) == pytest.approx(2 / 3)
    assert matched_coverage(data, data, epsilon=0.5) == 1.0
    assert matched_coverage(np.array([[0.5, 0.0]]), data[:1], epsilon=0.5) == 0.0   # closer than ε, not at it


def test_matched_coverage_is_greedy_in_data_order_as_the_paper():
    """Data point 0 takes the first free sample in range, sample 0, and leaves data point 1 none:
    1/2, where the best matching (0 with sample 1, 1 with sample 0) would cover both."""
    data = np.array([[0.0, 0.0], [0.8, 0.0]])
    generated = np.array([[0.4, 0.0], [-0.3, 0.0]])
    assert matched_coverage(generated, data, epsilon=0.5) == 0.5
    assert matched_coverage(generated[::-1], data, epsilon=0.5) == 1.0
