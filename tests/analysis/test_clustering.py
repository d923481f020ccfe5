"""Clustering-heads metrics on hand-computable cases. Run: pytest tests/analysis/test_clustering.py"""
import numpy as np
import pytest

from sandbox.analysis.clustering import (attention_mass_on, cluster_quality, loss_spikes, per_class_accuracy,
                                        position_influence, share_on)


def test_attention_mass_per_head():
    attention = np.array([[[0.5, 0.5, 0.0], [0.1, 0.1, 0.8]],
                          [[1.0, 0.0, 0.0], [0.2, 0.2, 0.6]]])          # (n=2, H=2, T=3)
    mass = attention_mass_on(attention, np.array([True, True, False]))
    np.testing.assert_allclose(mass, [1.0, 0.3])


def test_cluster_quality_by_hand():
    # Class means (0, 1) and (4, 1), overall mean (2, 1): between = 4, within = 1.
    x = np.array([[0, 0], [0, 2], [4, 0], [4, 2]])
    assert cluster_quality(x, np.array([0, 0, 1, 1])) == pytest.approx(4.0)
    # The same points labelled across the clusters: means coincide, no separation.
    assert cluster_quality(x, np.array([0, 1, 0, 1])) == pytest.approx(1 / 4)


def test_cluster_quality_of_unrelated_labels_is_near_zero():
    rng = np.random.default_rng(0)
    assert cluster_quality(rng.normal(size=(4000, 2)), rng.integers(0, 5, 4000)) < 0.01


def test_loss_spikes_finds_the_jump_only():
    losses = np.full(60, 0.1)
    losses[40] = 1.0
    assert loss_spikes(losses, factor=3.0, window=20).tolist() == [40]
    assert loss_spikes(np.linspace(1, 0.1, 60)).tolist() == []


def test_per_class_accuracy():
    acc = per_class_accuracy(np.array([0, 1, 1, 2]), np.array([0, 1, 0, 2]), n_classes=4)
    np.testing.assert_array_equal(acc[:3], [0.5, 1.0, 1.0])
    assert np.isnan(acc[3])


def test_position_influence_of_a_readout_that_only_sees_position_0():
    # z = (x_0, 0): shifting position 0 by +1 mod 3 moves z by 1, except 2 → 0 moves it by 2.
    x = np.array([[0, 1, 2], [1, 2, 0], [2, 0, 1]])
    influence = position_influence(lambda seqs: np.stack([seqs[:, 0], 0 * seqs[:, 0]], axis=1), x, p=3)
    np.testing.assert_allclose(influence, [(1 + 1 + 2) / 3, 0.0, 0.0])
    assert share_on(influence, np.array([True, False, False])) == 1.0


def test_share_on_is_the_masked_fraction_and_nan_when_nothing_moves():
    assert share_on(np.array([1.0, 3.0]), np.array([False, True])) == 0.75
    assert np.isnan(share_on(np.zeros(2), np.array([True, False])))


def test_spike_floor_ignores_tiny_losses_tripling():
    losses = np.array([0.004] * 20 + [0.015, 0.004] + [0.004] * 18 + [0.5])
    assert loss_spikes(losses, factor=3.0).tolist() == [20, 40]
    assert loss_spikes(losses, factor=3.0, min_rise=0.1).tolist() == [40]
