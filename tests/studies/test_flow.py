"""Flow-matching study, headless: snapshot contract, couplings, live sampling settings, validation.
Run: pytest tests/studies/test_flow.py"""
import numpy as np
import pytest

from sandbox.studies.flow import FlowStudy
from sandbox.tasks.flow2d import nearest_mode_by_direction
from tests.conftest import built

TINY = dict(n_data=256, batch_size=32, width=16, depth=1, nfe=4, device="cpu")


@pytest.fixture
def study():
    return built(FlowStudy(preset="8 gaussians", **TINY))


def test_snapshot_holds_the_metrics_with_the_right_shapes(study):
    for _ in range(3):
        study.step()
    scalars, arrays = study.snapshot()
    for key in ("loss.train", "quality.energy", "quality.w2", "quality.stranded", "paths.straightness",
                "paths.crossings", "modes.coverage", "modes.divergence"):
        assert np.isfinite(scalars[key]), key
    assert arrays["particles.paths"].shape == (5, 512, 2)            # nfe 4, euler: 4 steps + the start
    assert arrays["field.velocity"].shape == (11, 21 * 21, 2) and arrays["field.points"].shape == (441, 2)
    assert arrays["quality.energy_by_nfe"].shape == arrays["quality.nfe"].shape == (6,)
    assert 0 <= scalars["paths.crossings"] <= 1 and 0 < scalars["paths.straightness"] <= 1


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
    s = built(FlowStudy(preset="three directions: directional + pairing", **TINY))
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
