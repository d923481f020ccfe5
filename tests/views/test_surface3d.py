"""The 3-D surface view without a browser: what it hands to vtk.js. Run:
pytest tests/views/test_surface3d.py"""
import json
from types import SimpleNamespace

import numpy as np
import pytest

from sandbox.views.surface3d import HEIGHT_SHARE, PATH_LIFT, Surface3D, nice_range


def snapshot(z_offset=0.0, path=((0.0, 0.0, 1.0), (0.5, 0.5, 0.25))):
    x, y = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5))
    return SimpleNamespace(arrays={"surface": np.stack([x, y, x ** 2 + y ** 2 + z_offset]),
                                   "path": np.asarray(path, dtype=float)})


def test_the_surface_is_scaled_to_the_plane_and_the_path_ends_at_the_marker():
    view = Surface3D("surface", "path", "Loss", axis_labels=("α", "β", "loss"))
    view.update(snapshot())
    assert view.mesh.n_points == 25
    z = view.mesh.points[:, 2]
    assert z.min() == pytest.approx(0.0) and z.max() == pytest.approx(HEIGHT_SHARE * 2)   # plane 2 wide
    assert view.mesh["value"].min() == pytest.approx(0.0) and view.mesh["value"].max() == pytest.approx(2.0)
    assert view.path.n_points == 2
    np.testing.assert_allclose(view.marker.center, [0.5, 0.5, (0.25 / 2 + PATH_LIFT) * HEIGHT_SHARE * 2], atol=1e-6)
    axes = view.pane.axes
    assert axes["xticker"]["labels"][-1].endswith("α") and axes["zticker"]["labels"][-1].endswith("loss")
    assert axes["zticker"]["labels"][0] == "0"


def test_an_unchanged_surface_is_not_sent_again_and_log_z_uses_decades():
    view = Surface3D("surface", "path", "Loss", log_z=True)
    view.update(snapshot(z_offset=1.0))
    before = view.mesh.points.copy()
    view.update(snapshot(z_offset=1.0, path=((0.0, 0.0, 1.0),)))       # one point: still drawn
    np.testing.assert_array_equal(view.mesh.points, before)
    assert view.path.n_points == 2
    assert view.mesh["value"].max() == pytest.approx(np.log10(3.0))
    assert view.pane.axes["zticker"]["labels"][0].startswith("1e")


@pytest.mark.parametrize("low, high, expected", [
    (0.0, 2.0, [0.0, 0.5, 1.0, 1.5, 2.0]),
    (0.0, 0.477, [0.0, 0.2, 0.4, 0.6]),            # log10 of losses from 1 to 3
    (-3.2, -0.1, [-4.0, -3.0, -2.0, -1.0, 0.0]),
    (0.1234, 0.1256, [0.123, 0.124, 0.125, 0.126]),
])
def test_nice_ranges_cover_the_data_with_round_ticks(low, high, expected):
    lo, hi, ticks = nice_range(low, high)
    np.testing.assert_allclose(ticks, expected, atol=1e-12)
    assert lo == pytest.approx(expected[0]) and hi == pytest.approx(expected[-1])


def test_a_drifting_surface_keeps_its_axes_and_the_scene_stays_small():
    """New axes cost the server a walk over the whole page; a loss range that drifts a little
    (training) keeps the ticks, so no new axes are sent. The scene sent on each sync is small."""
    view = Surface3D("surface", "path", "Loss", axis_labels=("α", "β", "loss"), log_z=True)
    view.update(snapshot(z_offset=1.0))
    axes = view.pane.axes
    view.update(snapshot(z_offset=1.02))
    assert view.pane.axes == axes
    assert view.pane.axes["zticker"]["labels"] == ["1e0", "1e0.2", "1e0.4", "1e0.6 loss"]
    view.update(snapshot(z_offset=100.0))             # a real change gets new ticks
    assert view.pane.axes["zticker"]["labels"][0] == "1e2"
    model = view.pane.get_root()
    assert len(json.dumps(model.scene)) < 50_000      # three actors; one colour table (256 entries)
