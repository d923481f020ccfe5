"""2-D targets and sources for flow matching. Run: pytest tests/tasks/test_flow2d.py"""
import numpy as np
import pytest

from sandbox.tasks.flow2d import (SOURCES, TARGETS, Source, make_target, nearest_mode_by_direction, outside_cone,
                                   prune, pruning_axis, sparse_directions)


@pytest.mark.parametrize("name", TARGETS)
def test_targets_are_seeded_split_and_finite(name):
    a, b = make_target(name, 256, 128, seed=3), make_target(name, 256, 128, seed=3)
    assert a.train.shape == (256, 2) and a.held_out.shape == (128, 2)
    np.testing.assert_array_equal(a.train, b.train)
    assert np.isfinite(a.train).all() and a.scale > 0
    if a.modes is not None:
        assert a.weights.sum() == pytest.approx(1.0) and len(a.weights) == len(a.modes)


def test_three_directions_has_the_papers_norm_and_masses():
    t = make_target("three directions", 4000, 100, seed=0)
    assert np.linalg.norm(t.train, axis=1).mean() == pytest.approx(25.0, abs=0.3)   # √χ²(625)
    nearest = np.linalg.norm(t.train[:, None] - t.modes[None], axis=2).argmin(1)
    np.testing.assert_allclose(np.bincount(nearest) / 4000, [0.05, 0.30, 0.65], atol=0.02)


@pytest.mark.parametrize("name", [s for s in SOURCES if s not in ("drawn", "early model")])  # need input
def test_every_source_samples_seeded_points(name):
    target = make_target("8 gaussians", 512, 64, seed=0)
    source = Source(name, target)
    x = source.sample(300, np.random.default_rng(1))
    assert x.shape == (300, 2) and np.isfinite(x).all()
    np.testing.assert_array_equal(x, source.sample(300, np.random.default_rng(1)))


def test_norms_of_aligned_misaligned_and_high_dim_sources():
    target = make_target("8 gaussians", 2048, 64, seed=0)
    rng = np.random.default_rng(0)
    data_norm = np.linalg.norm(target.train, axis=1).mean()
    aligned = np.linalg.norm(Source("norm-aligned", target).sample(4000, rng), axis=1).mean()
    doubled = np.linalg.norm(Source("norm-aligned", target, norm_ratio=2.0).sample(4000, rng), axis=1).mean()
    high_dim = np.linalg.norm(Source("high-dim gaussian", target).sample(4000, rng), axis=1).mean()
    assert aligned == pytest.approx(data_norm, rel=0.03)
    assert doubled == pytest.approx(2 * data_norm, rel=0.03)
    assert high_dim == pytest.approx(np.sqrt(3072), rel=0.01)


def test_drawn_source_uses_the_blobs_and_refuses_none():
    target = make_target("two moons", 64, 16, seed=0)
    x = Source("drawn", target, blobs=((5.0, -5.0, 0.1),)).sample(500, np.random.default_rng(0))
    np.testing.assert_allclose(x.mean(0), [5.0, -5.0], atol=0.02)
    with pytest.raises(ValueError, match="no blobs"):
        Source("drawn", target)
    with pytest.raises(ValueError, match="needs a target with modes"):
        Source("directional", target)


def test_pruning_keeps_only_directions_that_hold_data():
    target = make_target("8 gaussians", 4096, 64, seed=0)
    sparse = sparse_directions(target)
    assert 0 < sparse.sum() < len(sparse)
    on_mode = np.array([[4.0, 0.0], [0.0, 3.0]])          # modes sit at angles k·45°
    between = np.array([[np.cos(np.pi / 8), np.sin(np.pi / 8)]]) * 4
    assert prune(on_mode, sparse).all() and not prune(between, sparse).any()


def test_a_mixture_fit_keeps_the_data_masses_unless_told_to_equalise_them():
    target = make_target("three directions", 4000, 64, seed=0)
    rng = np.random.default_rng(0)
    fitted = Source("mixture fit", target, components=3).sample(6000, rng)
    equal = Source("mixture fit", target, components=3, equal_weights=True).sample(6000, rng)
    share = lambda x: np.sort(np.bincount(nearest_mode_by_direction(x, target.modes), minlength=3) / len(x))  # noqa: E731
    np.testing.assert_allclose(share(fitted), [0.05, 0.30, 0.65], atol=0.03)
    np.testing.assert_allclose(share(equal), [1 / 3] * 3, atol=0.03)


def test_early_model_source_draws_from_its_bank_and_needs_one():
    target = make_target("8 gaussians", 64, 16, seed=0)
    bank = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    x = Source("early model", target, bank=bank).sample(50, np.random.default_rng(0))
    assert {tuple(row) for row in x} <= {(1.0, 2.0), (3.0, 4.0)}
    with pytest.raises(ValueError, match="bank"):
        Source("early model", target)


def test_directional_source_can_miss_the_smallest_modes():
    target = make_target("three directions", 2048, 64, seed=0)          # masses 5 / 30 / 65 %
    rng = np.random.default_rng(0)
    full = nearest_mode_by_direction(Source("directional", target, concentration=200.0).sample(4000, rng),
                                     target.modes)
    missing = nearest_mode_by_direction(
        Source("directional", target, concentration=200.0, missed_modes=1).sample(4000, rng), target.modes)
    smallest = int(np.argmin(target.weights))
    assert (full == smallest).mean() == pytest.approx(0.05, abs=0.015)
    assert (missing == smallest).mean() == 0.0
    # The kept modes keep their relative masses (30 : 65).
    shares = np.bincount(missing, minlength=3) / len(missing)
    assert shares[np.argmax(target.weights)] == pytest.approx(65 / 95, abs=0.03)
    with pytest.raises(ValueError, match="at least one"):
        Source("directional", target, missed_modes=3)


def angle_to_nearest_mode(x, modes):
    unit = lambda a: a / np.linalg.norm(a, axis=-1, keepdims=True)  # noqa: E731
    return np.arccos(np.clip((unit(x) @ unit(modes).T).max(axis=1), -1, 1))


@pytest.mark.parametrize("cosine", [0.9, 0.98])
def test_directional_cones_are_the_papers_gaussian_conditioned_on_its_direction(cosine):
    """The paper draws its 3072-dim Gaussian's points and keeps those with cosine ≥ 0.9 (0.98) to
    a data direction. Same law here: every point inside a cone, directions uniform across it
    (compared with that rejection sampler by a two-sample KS test), norm ≈ √3072."""
    from scipy.stats import ks_2samp
    target = make_target("three directions", 1024, 64, seed=0)
    rng = np.random.default_rng(0)
    x = Source("directional cones", target, cone_cosine=cosine).sample(4000, rng)
    off = angle_to_nearest_mode(x, target.modes)
    assert off.max() <= np.arccos(cosine) + 1e-6
    assert np.linalg.norm(x, axis=1).mean() == pytest.approx(np.sqrt(3072), rel=0.01)
    gaussian = Source("high-dim gaussian", target).sample(200_000, rng)
    kept = gaussian[angle_to_nearest_mode(gaussian, target.modes) <= np.arccos(cosine)]
    assert ks_2samp(off, angle_to_nearest_mode(kept, target.modes)).pvalue > 0.01


def test_every_batch_of_cones_holds_each_modes_share_the_papers_way():
    """A batch of 10 over masses 5 / 30 / 65 %: 1, 3 and 6 points, the 5% cone never empty."""
    target = make_target("three directions", 1024, 64, seed=0)
    source = Source("directional cones", target, cone_cosine=0.98)
    for seed in range(5):
        x = source.sample(10, np.random.default_rng(seed))
        counts = np.bincount(nearest_mode_by_direction(x, target.modes), minlength=3)
        np.testing.assert_array_equal(counts, [1, 3, 6])
    with pytest.raises(ValueError, match="needs a target with modes"):
        Source("directional cones", make_target("rings", 64, 16, seed=0))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        Source("directional cones", target, cone_cosine=1.5)


def test_the_pruned_cone_is_six_percent_of_directions_around_minus_pc2_away_from_the_data():
    target = make_target("three directions", 1024, 64, seed=0)
    axis = pruning_axis(target)
    centred = target.train - target.train.mean(0)
    pc1 = np.linalg.eigh(np.cov(centred.T))[1][:, -1]
    assert abs(axis @ pc1) < 1e-6 and np.linalg.norm(axis) == pytest.approx(1.0)
    assert axis @ target.train.mean(0) < 0
    angle = np.linspace(-np.pi, np.pi, 100_000, endpoint=False)
    directions = np.stack([np.cos(angle), np.sin(angle)], axis=1) * 55.0
    assert 1 - outside_cone(directions, axis, 0.98).mean() == pytest.approx(2 * np.arccos(0.98) / (2 * np.pi), abs=1e-4)
    assert not outside_cone(axis[None] * 3.0, axis, 0.98).any() and outside_cone(-axis[None], axis, 0.98).all()
