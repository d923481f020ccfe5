"""Flow-matching study, headless: snapshot contract, couplings, live sampling settings, validation.
Run: pytest tests/studies/test_flow.py"""
import numpy as np
import pytest

from sandbox.studies.flow import FlowStudy
from sandbox.tasks.flow2d import nearest_mode_by_direction, outside_cone, pruning_axis
from tests.conftest import built

TINY = FlowStudy.TINY


@pytest.fixture
def study():
    return built(FlowStudy(preset="8 gaussians", **TINY))


def test_snapshot_holds_the_metrics_with_the_right_shapes(study):
    for _ in range(3):
        study.step()
    scalars, arrays = study.snapshot()
    for key in ("loss.train", "quality.energy", "quality.w2", "quality.stranded", "paths.straightness",
                "paths.crossings", "modes.coverage", "modes.divergence", "quality.coverage_eps"):
        assert np.isfinite(scalars[key]), key
    assert arrays["particles.paths"].shape == (5, 512, 2)            # nfe 4, euler: 4 steps + the start
    assert arrays["field.velocity"].shape == (11, 21 * 21, 2) and arrays["field.points"].shape == (441, 2)
    assert arrays["quality.energy_by_nfe"].shape == arrays["quality.nfe"].shape == (6,)
    assert 0 <= scalars["paths.crossings"] <= 1 and 0 < scalars["paths.straightness"] <= 1
    assert 0 <= scalars["quality.coverage_eps"] <= 1


def test_targets_without_modes_have_no_mode_metrics():
    s = built(FlowStudy(preset="8 gaussians", **TINY, target="two moons"))
    scalars, _ = s.snapshot()
    assert "modes.coverage" not in scalars and np.isfinite(scalars["quality.energy"])


def test_sampling_settings_change_live_and_the_next_snapshot_uses_them(study):
    study.set_param("nfe", 8)
    study.set_param("method", "midpoint")
    _, arrays = study.snapshot()
    assert arrays["particles.paths"].shape[0] == 8 // 2 + 1
    study.set_param("pruned", True)
    _, arrays = study.snapshot()
    start = arrays["particles.paths"][0]
    assert np.array_equal(start, study.pruned_particles[:512])
    study.set_param("pruning", "one cone")
    _, arrays = study.snapshot()
    assert np.array_equal(arrays["particles.paths"][0], study.pruned_by_rule["one cone"][:512])
    assert not np.array_equal(arrays["particles.paths"][0], start)


def test_ot_coupling_trains_and_bad_settings_are_refused(study):
    s = built(FlowStudy(preset="8 gaussians, OT coupling", **TINY))
    assert np.isfinite(float(s.step()))
    with pytest.raises(ValueError):
        study.configure(nfe=0)
    with pytest.raises(ValueError, match="σ > 0"):
        study.configure(source="drawn", blobs=[[0.0, 0.0, -1.0]])
    with pytest.raises(ValueError, match="Reset"):
        study.set_param("target", "rings")


def test_mode_matched_pairs_send_each_source_sample_to_the_mode_it_points_to():
    s = built(FlowStudy(preset="three directions: von Mises + mode matching", **TINY))
    x0, x1 = s._pairs(200, np.random.default_rng(0), "train")
    modes = s.target.modes
    assert (nearest_mode_by_direction(x0, modes) == nearest_mode_by_direction(x1, modes)).all()
    with pytest.raises(ValueError, match="needs a target with modes"):
        s.configure(target="rings")


def test_early_model_source_is_built_from_a_briefly_trained_flow():
    s = built(FlowStudy(preset="8 gaussians", **{**TINY, "source": "early model", "early_steps": 5}))
    bank = {tuple(row) for row in s.source.bank.round(5)}
    assert s.source.bank.shape == (8192, 2) and np.isfinite(s.source.bank).all()
    assert all(tuple(row) in bank for row in s.particles[:20].round(5))
    assert np.isfinite(float(s.step()))


def test_sourcefm_presets_use_the_papers_cones_batches_and_one_pruned_cone():
    loose, tight = (FlowStudy.preset_values(f"SourceFM: directional cone {c}") for c in ("0.9", "0.98"))
    assert (loose["cone_cosine"], tight["cone_cosine"]) == (0.9, 0.98)
    for values in (loose, tight):
        assert (values["source"], values["coupling"], values["batch_size"]) == ("directional cones", "minibatch OT", 10)
    pruned = FlowStudy.preset_values("SourceFM: pruned")
    assert (pruned["coupling"], pruned["pruned"], pruned["pruning"]) == ("independent", True, "one cone")
    s = built(FlowStudy(preset="SourceFM: pruned", device="cpu", width=16, depth=1, nfe=4))
    inside = ~outside_cone(s.particles, pruning_axis(s.target), 0.98)
    assert inside.mean() == pytest.approx(0.064, abs=0.02)      # 2·arccos(0.98) / 2π of the directions
    assert outside_cone(s.pruned_particles, pruning_axis(s.target), 0.98).all()
    assert np.isfinite(float(s.step()))


def test_perfect_pairing_pairs_a_source_batch_with_all_the_data_once_by_exact_ot():
    s = built(FlowStudy(preset="SourceFM: perfect pairing", device="cpu", width=16, depth=1, nfe=4))
    assert s.config.batch_size == s.config.n_data == 1024
    x0, x1 = s._pairs(1024, np.random.default_rng(0), "train")
    np.testing.assert_array_equal(np.sort(x1, axis=0), np.sort(s.target.train, axis=0))
    cost = lambda a, b: ((a - b) ** 2).sum()  # noqa: E731
    swapped = x1.copy()
    swapped[[0, 1]] = swapped[[1, 0]]
    assert cost(x0, x1) <= cost(x0, swapped)


def test_the_cone_source_and_its_cosine_are_checked_before_a_build():
    with pytest.raises(ValueError, match="directional cones source needs a target with modes"):
        FlowStudy(preset="SourceFM: directional cone 0.9", target="spirals")
    with pytest.raises(ValueError):
        FlowStudy(preset="SourceFM: directional cone 0.9", cone_cosine=1.5)


def test_the_converged_reference_is_sampled_when_asked_and_is_what_many_solver_steps_tend_to(study):
    scalars, arrays = study.snapshot()
    assert not any(key.startswith("converged.") for key in scalars)      # dopri5 costs: only when asked
    assert arrays["quality.stranded_by_nfe"].shape == arrays["quality.nfe"].shape
    study.set_param("converged", True)
    study.set_param("method", "rk4")
    scalars, arrays = study.snapshot()
    assert scalars["converged.nfe"] >= 6 and 0 <= scalars["converged.quality.stranded"] <= 1
    assert abs(scalars["converged.quality.energy_by_nfe"] - arrays["quality.energy_by_nfe"][-1]) < 1e-3
    assert scalars["converged.quality.stranded_by_nfe"] == pytest.approx(arrays["quality.stranded_by_nfe"][-1], abs=0.01)
