"""A closed page's 3-D scene goes with it (issue 21: idle memory crept by ~10 MB a session).

PyVista keeps every Plotter in a module-level registry until its close()
(`pyvista.plotting.plotter._ALL_PLOTTERS`). Surface3D made one per page and never closed it, so each
session's render window, renderers, lights and meshes outlived it: after 30 sessions the server held
30 Plotters, 150 vtkLightActors and ~240 MB more of malloc's heap in use, with no controller,
Runner, study or document left (benchmarks/memory_cycles.py --probe).

Run: pytest tests/apps/test_session_release.py"""
from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

pv = pytest.importorskip("pyvista")
from pyvista.plotting.plotter import _ALL_PLOTTERS  # noqa: E402

from sandbox.runtime.snapshot import Snapshot  # noqa: E402
from sandbox.views.surface3d import Surface3D  # noqa: E402


def drawn_surface() -> Surface3D:
    view = Surface3D("landscape.surface", "landscape.path", "loss surface", log_z=True)
    view.pane                                   # first use draws it: the Plotter is made here
    x, y = np.meshgrid(np.linspace(-1, 1, 5), np.linspace(-1, 1, 5))
    view.update(Snapshot(run_id=0, step=1, scalars={},
                         arrays={"landscape.surface": np.stack([x, y, 1 + x**2 + y**2]),
                                 "landscape.path": np.array([[0.0, 0.0, 1.0], [0.1, 0.1, 1.02]])}))
    return view


def test_a_dropped_3d_view_leaves_no_plotter_behind():
    registered = set(_ALL_PLOTTERS)
    view = drawn_surface()
    plotter = weakref.ref(view.plotter)
    del view
    gc.collect()
    assert plotter() is None, "the view's Plotter outlived it"
    assert set(_ALL_PLOTTERS) <= registered
