"""A 3-D surface z(x, y) with a path on it, drawn by PyVista and shown through Panel's VTK pane
(vtk.js in the browser): energy or loss landscapes with the trajectory that went over them.

The scene is built once; each update moves the mesh's points and recolours it in place and
re-synchronises the pane, so the camera the user chose stays where it is. The scene is always the
same box: the plane is mapped onto [-1, 1]² and heights onto a fixed share of its width, whatever
the units (a landscape's α may span ±0.1 or ±100), so the camera never needs refitting; the tick
labels and the colour bar give the real values.
"""
from __future__ import annotations

import time
import weakref

import numpy as np
import panel as pn
import pyvista as pv
from bokeh.models import ColumnDataSource, LinearColorMapper
from bokeh.palettes import Viridis256
from vtkmodules.vtkCommonCore import vtkLogger

from ..serving.turns import served_document, soon
from .base import View, new_figure
from ..serving.live_text import LiveMarkdown

# The VTK pane only serialises the scene; nothing renders on the server. Without a display
# VTK still warns about the X connection it never needs: keep its log to errors.
vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_ERROR)

HEIGHT_SHARE = 0.6   # the surface's height range, as a share of the plane's width
# The scene is sent to the browser at most this often (except when the user picks a step): each
# sync makes the browser rebuild and redraw it, which with software WebGL (no GPU) takes its main
# thread for up to a second; more often and the page stops answering clicks.
SCENE_PERIOD_S = 5.0
PATH_LIFT = 0.02    # the path is drawn this share of the height range above its points
LOG_FLOOR = 1e-7     # log_z: smaller values (float32 losses that reached 0) are drawn at this height


def log10_floored(values: np.ndarray) -> np.ndarray:
    """log10 with values below LOG_FLOOR drawn at the floor (a loss that reached 0 in float32)."""
    return np.log10(np.maximum(values, LOG_FLOOR))


def _ticks(low: float, high: float, count: int = 5) -> np.ndarray:
    return np.linspace(low, high, count)


class Surface3D(View):
    """`surface_key`: an array (3, ny, nx) of x, y and z; `path_key`: (n, 3) points (x, y, z),
    the last one marked. `log_z` draws log10 of z (losses)."""

    DRAWS = ("pane", "plotter", "mesh", "surface_actor", "path", "marker", "colorbar")

    def __init__(self, surface_key: str, path_key: str, title: str, axis_labels=("x", "y", "z"),
                 log_z: bool = False, height: int = 440, status=None, waiting: str = "", **params):
        """`status(snap) -> str`: a line under the title about the surface shown; `waiting`: that
        line while snapshots carry no surface yet (e.g. while the first one is computed)."""
        super().__init__(**params)
        self.status_of, self.waiting = status, waiting
        self.status = LiveMarkdown(waiting, margin=(0, 10), styles={"font-size": "12px", "color": "#555"},
                                       css_classes=["sandbox-surface3d-status"])
        self.surface_key, self.path_key, self.log_z = surface_key, path_key, log_z
        self.keys = (surface_key, path_key)
        self.title, self.axis_labels = title, axis_labels
        self.height = height
        # A scene synchronised before the page has loaded breaks the pane for good (vtk.js has no
        # renderer yet; it throws on getActiveCamera): hold changes until the page is up.
        self._axes: dict = {}
        self._loaded = served_document() is None       # not served: nothing to wait for
        if not self._loaded:
            pn.state.onload(self._on_load)
        self.strip = ColumnDataSource({"image": [np.linspace(0, 1, 256)[None, :]], "x": [0.0], "dw": [1.0]})
        self._shown = None          # the surface on screen (bytes), so an unchanged one is not re-sent
        self._pushed_at = -np.inf
        self._deferred = False      # a push is scheduled for when SCENE_PERIOD_S has passed
        self._pushing = False       # a push is scheduled for the event loop's next turns

    def _draw(self) -> None:
        # Panel renders the window on the server before each sync (to bring the pipeline up to date),
        # in software here: at the default 1024 x 768 that cost ~40 ms of the event loop per sync, at
        # 16 x 16 ~1 ms. Nothing looks at that picture; the browser draws the scene at its own size.
        self.plotter = pv.Plotter(off_screen=True, window_size=(16, 16))
        # PyVista keeps every Plotter in a module-level registry until its close() (pyvista's _ALL_PLOTTERS):
        # never closed, each page's scene (render window, GL context, meshes: ~10 MB, and Mesa's threads)
        # outlived its session. Closed when this view is collected, it lives as long as the view.
        weakref.finalize(self, self.plotter.close)
        self.plotter.set_background("white")
        # The empty scene spans the box, so the browser's first camera fit (made before any data
        # arrives) already frames every surface.
        xs, ys = np.meshgrid([-1.0, 1.0], [-1.0, 1.0])
        tilt = np.array([[0.0, 0.0], [0.0, 2 * HEIGHT_SHARE]])
        mesh = pv.StructuredGrid(xs, ys, tilt)
        mesh["value"] = np.zeros(4)
        # Updates go into the datasets the actors draw (add_mesh may have drawn a copy).
        self.surface_actor = self.plotter.add_mesh(mesh, scalars="value", cmap="viridis", show_scalar_bar=False)
        self.mesh = self.surface_actor.mapper.dataset
        path_actor = self.plotter.add_mesh(pv.lines_from_points(np.zeros((2, 3))), color="#d62728", line_width=4)
        self.path = path_actor.mapper.dataset
        marker_actor = self.plotter.add_mesh(pv.Sphere(radius=0.01), color="#ff7f0e")
        self.marker = marker_actor.mapper.dataset
        # Every sync sends each mapper's colour table; these two draw one colour, and their default
        # 256-entry tables made the scene twice as large (and twice as slow to send).
        for solid in (path_actor, marker_actor):
            solid.mapper.lookup_table = pv.LookupTable(n_values=2)
        self.plotter.view_isometric()                  # fits the camera to the extent the mesh spans
        self.pane = pn.pane.VTK(self.plotter.ren_win, sizing_mode="stretch_width", height=self.height,
                                orientation_widget=False, enable_keybindings=False,
                                css_classes=["sandbox-surface3d"])
        # Framed from the isometric camera the scene is built with, in the pane's first model (the
        # browser's own first fit may be made before the scene arrives).
        camera = self.plotter.camera
        self.pane.camera = {"position": list(camera.position), "focalPoint": list(camera.focal_point),
                            "viewUp": list(camera.up), "viewAngle": camera.view_angle,
                            "parallelScale": camera.parallel_scale, "clippingRange": list(camera.clipping_range)}
        # The colour scale: a strip of the same colour map along the value axis.
        self.colorbar = new_figure("", height=75, toolbar_location=None, tools="", min_border_left=10,
                                   y_axis_type=None, x_axis_label=self.axis_labels[2], outline_line_color=None)
        self.colorbar.grid.visible = False
        self.colorbar.image(image="image", x="x", y=0, dw="dw", dh=1, source=self.strip,
                            color_mapper=LinearColorMapper(palette=Viridis256, low=0, high=1))
        self.colorbar.x_range.range_padding = self.colorbar.y_range.range_padding = 0

    def _height(self, z: np.ndarray) -> np.ndarray:
        return log10_floored(z) if self.log_z else z

    def update(self, snap) -> None:
        if self.surface_key not in snap.arrays:
            self.status.object = self.waiting if self._shown is None else f"No surface yet at step {snap.step}."
            return
        if self.status_of is not None:
            self.status.object = self.status_of(snap)
        surface = np.asarray(snap.arrays[self.surface_key], dtype=float)
        path = np.asarray(snap.arrays[self.path_key], dtype=float).reshape(-1, 3)
        x, y, z = surface
        h = self._height(z)
        low, high = float(h.min()), float(max(h.max(), h.min() + 1e-9))
        span = 2 * HEIGHT_SHARE
        scale = lambda values: (values - low) / (high - low) * span  # noqa: E731
        bounds = (float(x.min()), float(max(x.max(), x.min() + 1e-12)), float(y.min()),
                  float(max(y.max(), y.min() + 1e-12)))
        to_box = lambda values, lo, hi: 2 * (values - lo) / (hi - lo) - 1  # noqa: E731
        key = surface.tobytes()
        if key != self._shown:
            self._shown = key
            grid = pv.StructuredGrid(to_box(x, *bounds[:2]), to_box(y, *bounds[2:]), scale(h))
            grid["value"] = h.ravel(order="F")
            self.mesh.copy_from(grid)
            self.surface_actor.mapper.scalar_range = (low, high)
            self.strip.data = {"image": [np.linspace(0, 1, 256)[None, :]], "x": [low], "dw": [high - low]}
            self._axes = self._axes_for(bounds, low, high, span)
        if len(path):
            # Lifted a little, so a path lying on the surface is not half buried in its facets.
            points = np.c_[to_box(path[:, 0], *bounds[:2]), to_box(path[:, 1], *bounds[2:]),
                           scale(self._height(path[:, 2])) + PATH_LIFT * span]
            self.path.copy_from(pv.lines_from_points(points if len(points) > 1 else np.repeat(points, 2, axis=0)))
            self.marker.copy_from(pv.Sphere(radius=0.06, center=points[-1]))
        self._request_push()

    def mark_step(self, step) -> None:
        if step is not None:          # the user picked a step: show it now
            self._request_push(urgent=True)

    def _request_push(self, urgent: bool = False) -> None:
        if not self._loaded:
            return
        wait = self._pushed_at + SCENE_PERIOD_S - time.monotonic()
        if urgent or wait <= 0 or pn.state.curdoc is None:     # no document: nothing to throttle for
            if not self._pushing:     # else the push on its way sends the latest state
                self._pushing = True
                soon(self._push)
        elif not self._deferred:      # the latest state goes out when the period is over
            self._deferred = True
            pn.state.curdoc.add_timeout_callback(self._push_when_due, int(wait * 1000) + 1)

    def _push_when_due(self) -> None:
        self._deferred = False
        self._push()

    def _push(self) -> None:
        # New axes and the scene in turns of their own (each costs the event loop ~0.1 s of CPU).
        # The camera is the user's: synchronising leaves it where they turned it.
        self._pushing = False         # (a failure here must not stop later pushes)
        self._pushed_at = time.monotonic()
        if self._axes and self.pane.axes != self._axes:
            self.pane.axes = self._axes
            soon(self.pane.synchronize)
        else:
            self.pane.synchronize()

    def _on_load(self) -> None:
        self._loaded = True
        # Served, the view is drawn when its part of the page comes, after the page has loaded, with
        # the scene as it is then; drawn here it cost the page's load 0.1-0.3 s outside its turns.
        if self._is_drawn:
            self._push()

    def _axes_for(self, bounds, low, high, span) -> dict:
        def ticker(ticks, labels, name):
            labels = list(labels)
            labels[-1] = f"{labels[-1]} {name}"          # the axis' name at its far end
            return {"ticks": list(map(float, ticks)), "labels": labels}

        box = _ticks(-1.0, 1.0)
        xs, ys = _ticks(*bounds[:2]), _ticks(*bounds[2:])
        values = _ticks(low, high)
        zt = (values - low) / (high - low) * span
        fmt = (lambda v: f"1e{v:.1f}") if self.log_z else (lambda v: f"{v:.3g}")
        return {"xticker": ticker(box, [f"{v:.2g}" for v in xs], self.axis_labels[0]),
                "yticker": ticker(box, [f"{v:.2g}" for v in ys], self.axis_labels[1]),
                "zticker": ticker(zt, [fmt(v) for v in values], self.axis_labels[2]),
                "origin": [-1.0, -1.0, 0.0], "fontsize": 12, "digits": 2,
                "show_grid": True, "grid_opacity": 0.3, "axes_opacity": 1}

    def reset(self) -> None:
        self._shown = None
        self.status.object = self.waiting

    def __panel__(self):
        header = pn.pane.Markdown(f"**{self.title}**", margin=(0, 10), styles={"font-size": "13px"})
        parts = [header, *([self.status] if self.status_of or self.waiting else []), self.pane, pn.pane.Bokeh(self.colorbar, sizing_mode="stretch_width")]
        if self.description:
            parts.append(self._caption(margin=(0, 10)))
        return pn.Column(*parts, sizing_mode="stretch_width")
