"""The landscape tracker: surfaces on its own thread, the trajectory on them, refinement when
training stops, one sharpness row per surface, and a clean stop.
Run: pytest tests/runtime/test_landscape_tracker.py"""
import math
import threading

import numpy as np
import pytest
import torch

from sandbox.analysis.landscape import LandscapeProbe
from sandbox.runtime import landscape as tracking
from sandbox.runtime.landscape import COARSE, FINE, PCA, RANDOM, TRAJECTORY_POINTS, LandscapeTracker, surface_value


def quadratic_probe():
    """Least squares in two weights: loss = mean((x w - y)²), minimum at w* = (1, -2)."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, generator=generator)
    y = x @ torch.tensor([1.0, -2.0])
    model = torch.nn.Linear(2, 1, bias=False)
    return LandscapeProbe(model, (x,), lambda out: ((out[:, 0] - y) ** 2).mean(), label="squared error")


def weights_at(t: float) -> dict:
    """Points of a straight path from (0, 0) to the optimum (1, -2)."""
    return {"weight": torch.tensor([[1.0 * t, -2.0 * t]])}


@pytest.fixture
def tracker():
    t = LandscapeTracker()
    t.begin(1, quadratic_probe())
    yield t
    t.stop()


def record_path(tracker, steps, training):
    for step in steps:
        tracker.record(1, step, weights_at(step / steps[-1]), lr=0.1, training=training)


def test_nothing_is_carried_before_the_first_surface_and_a_paused_run_gets_a_fine_one(tracker):
    scalars, arrays = tracker.record(1, 0, weights_at(0.0), lr=0.1, training=False)
    assert scalars == {} and arrays == {}
    assert tracker.wait_idle(30)
    scalars, arrays = tracker.record(1, 0, weights_at(0.0), lr=0.1, training=False)
    assert arrays["landscape.surface"].shape == (3, FINE, FINE)
    assert scalars["landscape.resolution"] == FINE and scalars["landscape.step"] == 0
    # One point, no trajectory yet: the random filter-normalized plane, with no PCA variance to report.
    assert math.isnan(scalars["landscape.explained1"])


def test_pca_plane_of_a_straight_path_holds_the_path_and_its_minimum(tracker):
    steps = list(range(0, 101, 10))
    record_path(tracker, steps, training=False)
    assert tracker.wait_idle(30)
    scalars, arrays = tracker.record(1, 100, weights_at(1.0), lr=0.1, training=False)
    assert scalars["landscape.explained1"] == pytest.approx(1.0, abs=1e-5)      # a line: one direction
    path, path_steps = arrays["landscape.path"], arrays["landscape.path_steps"]
    assert list(path_steps) == steps
    assert path[-1, :2] == pytest.approx([0.0, 0.0], abs=1e-6)                 # centred on the newest point
    assert path[-1, 2] == pytest.approx(0.0, abs=1e-6)                          # which is the optimum
    assert np.all(np.diff(path[:, 2]) < 0)                                      # the loss falls along it
    alpha, beta, loss = arrays["landscape.surface"]
    i, j = np.unravel_index(loss.argmin(), loss.shape)
    assert abs(alpha[i, j]) <= alpha[0, 1] - alpha[0, 0] and abs(beta[i, j]) <= beta[1, 0] - beta[0, 0]
    # The straight line from the first point: the quadratic falls monotonically to 0.
    line = arrays["landscape.interpolation"]
    assert line[0, 0] == 0 and line[-1, 0] == 1 and line[-1, 1] == pytest.approx(0.0, abs=1e-6)
    assert np.all(np.diff(line[:, 1]) <= 1e-6)


def test_sharpness_is_the_hessians_top_eigenvalue_and_enters_the_history_once_per_surface(tracker):
    record_path(tracker, [0, 10, 20], training=False)
    assert tracker.wait_idle(30)
    scalars, _ = tracker.record(1, 20, weights_at(1.0), lr=0.1, training=False)
    probe = quadratic_probe()
    x = probe.inputs[0]
    expected = float(torch.linalg.eigvalsh(2 * x.T @ x / len(x)).max())        # ∇² mean((xw − y)²)
    assert scalars["landscape.sharpness"] == pytest.approx(expected, rel=1e-3)
    assert scalars["landscape.stability_edge"] == pytest.approx(2 / 0.1)
    again, _ = tracker.record(1, 20, weights_at(1.0), lr=0.1, training=False)
    assert "landscape.sharpness" not in again and "landscape.step" in again


def test_points_recorded_after_a_surface_are_placed_on_it(tracker):
    record_path(tracker, [0, 10, 20], training=False)
    assert tracker.wait_idle(30)
    tracker.configure(refresh_s=0.0)          # no new surface while "training": the old one stays
    _, arrays = tracker.record(1, 30, weights_at(1.2), lr=0.1, training=True)
    assert tracker.wait_idle(30)
    _, arrays = tracker.record(1, 30, weights_at(1.2), lr=0.1, training=True)
    assert list(arrays["landscape.path_steps"]) == [0, 10, 20, 30]
    # (1.2 − 1.0) × (1, −2): one fifth of the first half-path beyond the centre, along −d₁ or +d₁.
    newest = arrays["landscape.path"][-1]
    first = arrays["landscape.path"][0]
    assert abs(newest[0]) == pytest.approx(abs(first[0]) / 5, rel=1e-4)
    assert newest[2] == pytest.approx(surface_value(arrays["landscape.surface"], newest[0], newest[1]))


def test_training_gets_coarse_surfaces_and_recompute_forces_one(tracker):
    tracker.configure(refresh_s=0.0)
    record_path(tracker, [0, 10, 20], training=True)
    assert tracker.wait_idle(30)
    scalars, _ = tracker.record(1, 20, weights_at(1.0), lr=0.1, training=True)
    assert scalars["landscape.resolution"] == COARSE
    first_step = scalars["landscape.step"]
    tracker.record(1, 30, weights_at(1.5), lr=0.1, training=True)
    assert tracker.wait_idle(30)
    assert tracker.record(1, 30, weights_at(1.5), lr=0.1, training=True)[0]["landscape.step"] == first_step
    tracker.recompute()
    assert tracker.wait_idle(30)
    assert tracker.record(1, 30, weights_at(1.5), lr=0.1, training=True)[0]["landscape.step"] == 30


def test_random_directions_are_chosen_on_request(tracker):
    tracker.configure(directions=RANDOM)
    record_path(tracker, [0, 10, 20], training=False)
    assert tracker.wait_idle(30)
    scalars, arrays = tracker.record(1, 20, weights_at(1.0), lr=0.1, training=False)
    assert math.isnan(scalars["landscape.explained1"])
    # Li et al.'s [-1, 1]², widened only as far as the path needs.
    half = arrays["landscape.surface"][0].max()
    assert half >= 1.0 and np.abs(arrays["landscape.path"][:, :2]).max() <= half
    with pytest.raises(ValueError, match="unknown directions"):
        tracker.configure(directions="sideways")
    tracker.configure(directions=PCA)


def test_the_trajectory_stays_bounded_and_keeps_its_start(tracker):
    tracker.configure(refresh_s=0.0)
    for step in range(3 * TRAJECTORY_POINTS):
        tracker.record(1, step, weights_at(step / 100), training=True)
    steps = [s for s, _ in tracker._trajectory]
    assert len(steps) <= TRAJECTORY_POINTS and steps[0] == 0 and steps[-1] == 3 * TRAJECTORY_POINTS - 1


def test_a_new_run_forgets_the_old_surface_and_a_stale_run_records_nothing(tracker):
    record_path(tracker, [0, 10, 20], training=False)
    assert tracker.wait_idle(30)
    tracker.begin(2, quadratic_probe())
    assert tracker.record(1, 30, weights_at(1.0)) == ({}, {})                  # the old run's capture
    assert tracker.record(2, 0, weights_at(0.0)) == ({}, {})                   # nothing computed yet


def test_a_failing_probe_is_reported_and_the_thread_lives_on():
    errors = []
    probe = quadratic_probe()
    probe.loss_of_output = lambda out: (_ for _ in ()).throw(RuntimeError("boom"))
    tracker = LandscapeTracker(on_error=errors.append)
    try:
        tracker.begin(1, probe)
        tracker.record(1, 0, weights_at(0.0))
        assert tracker.wait_idle(30)
        assert [str(e) for e in errors] == ["boom"] and tracker.alive
        assert tracker.record(1, 0, weights_at(0.0)) == ({}, {})
    finally:
        tracker.stop()


def test_stop_interrupts_a_long_computation(monkeypatch):
    started, release = threading.Event(), threading.Event()
    probe = quadratic_probe()
    slow = probe.loss_of_output

    def waiting(out):
        started.set()
        release.wait(0.05)
        return slow(out)
    probe.loss_of_output = waiting
    monkeypatch.setattr(tracking, "CHUNK", 1)       # a cancellation check between every grid point
    tracker = LandscapeTracker()
    tracker.begin(1, probe)
    tracker.record(1, 0, weights_at(0.0))
    assert started.wait(30)
    tracker.stop(timeout=10)
    assert not tracker.alive


def test_the_random_plane_is_not_the_initial_weights():
    """The directions' generator was seeded 0, as the studies seed their initial weights by default, and
    drew in the same order: the first "random" direction was the initial weights, rescaled."""
    from sandbox.analysis.landscape import flatten
    from sandbox.studies.grokking import GrokkingStudy
    from tests.conftest import built

    study = built(GrokkingStudy(preset="fast", p=11, width=16, device="cpu", seed=0))
    probe = study.landscape_probe()
    center = {k: v.detach().clone() for k, v in study.model.named_parameters()}
    d1, d2 = LandscapeTracker._random_directions(center, probe.output_axes)
    weights = flatten(center)
    for d in (d1, d2):
        cosine = float(torch.dot(d, weights) / (d.norm() * weights.norm()))
        assert abs(cosine) < 0.5, cosine


def sharpness_scalars(tracker, optimizer):
    """The scalars of the first surface of a path recorded with `optimizer`'s state at lr = 0.1."""
    for step in (0, 10, 20):
        tracker.record(1, step, weights_at(step / 20), lr=0.1, optimizer=optimizer)
    assert tracker.wait_idle(30)
    return tracker.record(1, 20, weights_at(1.0), lr=0.1, optimizer=optimizer)[0]


def test_with_adams_state_the_sharpness_is_preconditioned_and_the_edge_is_38_over_lr(tracker):
    v = torch.tensor([[4e-2, 1e-4]])                          # exp_avg_sq of the (1, 2) weight
    adam = {"exp_avg_sq": {"weight": v}, "step": 20.0, "betas": (0.9, 0.999), "eps": 1e-8}
    scalars = sharpness_scalars(tracker, adam)
    x = quadratic_probe().inputs[0]
    H = (2 * x.T @ x / len(x)).double().numpy()
    P = (v[0].double() / (1 - 0.999 ** 20)).sqrt().numpy() + 1e-8
    expected = np.linalg.eigvals(np.diag(1 / P) @ H).real.max()
    assert scalars["landscape.preconditioned_sharpness"] == pytest.approx(expected, rel=1e-3)
    assert scalars["landscape.sharpness"] == pytest.approx(np.linalg.eigvalsh(H).max(), rel=1e-3)   # kept, raw
    assert scalars["landscape.stability_edge"] == pytest.approx(38 / 0.1)


def test_with_sgd_the_preconditioned_sharpness_is_the_raw_one_and_momentum_moves_the_edge(tracker):
    scalars = sharpness_scalars(tracker, {"momentum": 0.9})
    assert scalars["landscape.preconditioned_sharpness"] == scalars["landscape.sharpness"]
    assert scalars["landscape.stability_edge"] == pytest.approx((2 + 2 * 0.9) / 0.1)


def test_adam_before_its_first_step_has_no_preconditioned_sharpness_yet(tracker):
    adam = {"exp_avg_sq": None, "step": 0.0, "betas": (0.9, 0.999), "eps": 1e-8}
    scalars = sharpness_scalars(tracker, adam)
    assert math.isnan(scalars["landscape.preconditioned_sharpness"]) and math.isfinite(scalars["landscape.sharpness"])
    assert scalars["landscape.stability_edge"] == pytest.approx(38 / 0.1)
