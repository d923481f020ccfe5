"""Every key an app's views read is in its study's snapshot, and a saved run loads back intact.
Run: pytest tests/apps/test_contract.py"""
import numpy as np
import pytest

from sandbox.runtime.landscape import LandscapeTracker
from sandbox.runtime.store import load_run, save_run
from tests.apps.conftest import TINY, opened_app


@pytest.mark.parametrize("name", sorted(TINY))
def test_every_key_the_views_read_is_in_the_snapshot(name, tmp_path):
    with opened_app(name, tmp_path) as app:
        study = app.controller.study
        study.build()
        scalars, arrays = study.snapshot()
        if app.controller.runner.landscape is not None:    # the landscape's keys come from its tracker
            tracker, captured = LandscapeTracker(), study.capture()
            weights, optimizer = captured["weights"], captured.get("optimizer")
            tracker.begin(1, study.landscape_probe())
            tracker.record(1, 0, weights, optimizer=optimizer)
            assert tracker.wait_idle(120)
            more_scalars, more_arrays = tracker.record(1, 0, weights, optimizer=optimizer)
            tracker.stop()
            scalars, arrays = {**scalars, **more_scalars}, {**arrays, **more_arrays}
        required = set().union(*(view.required_keys() for view in app.controller.views))
        assert required and required <= set(scalars) | set(arrays)


@pytest.mark.parametrize("name", sorted(TINY))
def test_a_saved_run_loads_back_with_every_array_intact(name, tmp_path):
    with opened_app(name, tmp_path) as app:
        runner = app.controller.runner
        runner.run_headless(12)
        record = runner.record()      # (a landscape finished meanwhile may add a snapshot to the ring)
        path = save_run(tmp_path, record, "roundtrip")
        loaded = load_run(path, expect_study=app.controller.study.name)
        original, replayed = record.snapshots[-1], loaded.snapshots[-1]
        assert set(replayed.arrays) == set(original.arrays)
        for key, value in original.arrays.items():
            np.testing.assert_array_equal(replayed.arrays[key], value, err_msg=key)
