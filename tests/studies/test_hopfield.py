"""The Hopfield study headless: iterations, convergence, the background curves. Run:
pytest tests/studies/test_hopfield.py"""
import numpy as np
import pytest

from sandbox.runtime import Runner
from sandbox.studies.hopfield import BASIN_NOISE, CAPACITY_ALPHAS, HopfieldStudy

SMALL = dict(n_units=40, n_patterns=3, capacity_units=24, frame_ms=0.0, device="cpu")


def test_an_async_step_updates_an_eighth_of_the_units_and_the_run_stops_when_done():
    study = HopfieldStudy(**SMALL, experiments=False)
    study.build()
    before = study.state.clone()
    study.step()
    assert int((study.state != before).sum()) <= 5 and not study.finished      # ≤ ceil(40 / 8) units
    runner = Runner(HopfieldStudy(**SMALL, experiments=False), snapshot_every=1)
    snap = runner.run_headless(500)
    assert runner.step < 100 and runner.state == "paused"                   # it stopped by itself
    assert snap.scalars["overlap.target"] == 1.0 and snap.scalars["converged"] == 1.0
    assert "converged" in runner.message
    energies = [row["energy"] for row in runner.history.since(0)]
    assert all(b <= a + 1e-6 for a, b in zip(energies, energies[1:]))


def test_snapshot_arrays_have_the_shapes_the_views_need():
    snap = Runner(HopfieldStudy(**SMALL, experiments=False), snapshot_every=1).run_headless(1)
    a = snap.arrays
    assert a["patterns.stored"].shape == (3, 5, 8) and a["retrieval.images"].shape == (3, 5, 8)
    assert a["retrieval.overlaps"].shape == (3,) and list(a["patterns.target"]) == [0]
    assert np.isnan(a["capacity.success"]).all() and len(a["capacity.alpha"]) == len(CAPACITY_ALPHAS)
    np.testing.assert_array_equal(a["retrieval.images"][2], a["patterns.stored"][0])   # its pattern


def test_background_curves_fill_a_point_per_step_and_are_remembered_for_the_next_run():
    runner = Runner(HopfieldStudy(**SMALL, seed=7), snapshot_every=1)
    runner.run_headless(3)
    measured = np.count_nonzero(~np.isnan(runner.mailbox.peek().arrays["capacity.success"]))
    assert measured == 3
    runner.run_headless(100)
    arrays = runner.mailbox.peek().arrays
    assert not np.isnan(arrays["capacity.success"]).any() and not np.isnan(arrays["basin.success"]).any()
    assert arrays["basin.success"][0] == 1.0                     # 3 patterns of 40 units are fixed points
    again = HopfieldStudy(**SMALL, seed=7, noise=0.3)            # a new query, same network: no re-measuring
    again.build()
    assert all(curve.done for curve, _ in again.curves.values())
    assert len(BASIN_NOISE) == len(arrays["basin.noise"])


def test_modern_and_dense_networks_retrieve_in_the_study():
    for network in ("modern", "sparse", "dense"):
        runner = Runner(HopfieldStudy(**SMALL, network=network, experiments=False), snapshot_every=1)
        assert runner.run_headless(200).scalars["overlap.target"] > 0.95, network


def test_bad_settings_are_refused_with_a_message():
    with pytest.raises(ValueError, match="one of the 3 stored"):
        HopfieldStudy(**SMALL, target=3)
    with pytest.raises(ValueError, match="degree"):
        HopfieldStudy(**SMALL, network="dense", degree=1)
    with pytest.raises(ValueError):
        HopfieldStudy(**SMALL, beta=0.0)
