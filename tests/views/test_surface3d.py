"""The 3-D surface view without a browser: what it hands to vtk.js. Run:
pytest tests/views/test_surface3d.py"""
import json
from types import SimpleNamespace

import numpy as np
import pytest

from sandbox.views.surface3d import HEIGHT_SHARE, PATH_LIFT, Surface3D


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


def test_the_scene_sent_on_each_sync_stays_small():
    """Each sync sends the scene with every mapper's colour table: one table of 256 colours (the
    surface's), not three (the path and marker draw one colour each)."""
    view = Surface3D("surface", "path", "Loss", axis_labels=("α", "β", "loss"), log_z=True)
    view.update(snapshot(z_offset=1.0))
    assert len(json.dumps(view.pane.get_root().scene)) < 50_000       # 84 kB with three tables


def test_the_page_loading_leaves_the_view_undrawn_and_the_pane_comes_framed():
    """Served, the view's part comes after the page has loaded: the load must not draw it (that cost
    the load 0.1-0.3 s outside the page's turns), and the pane it draws later frames the scene from
    its first model."""
    view = Surface3D("surface", "path", "Loss")
    view._loaded = False                    # as served, before the page has loaded
    view._on_load()
    assert "pane" not in view.__dict__ and view._loaded
    camera = view.pane.get_root().camera    # drawn now, with the isometric camera in its model
    assert camera["parallelScale"] > 0 and len(camera["position"]) == 3
