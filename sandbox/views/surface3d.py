"""A 3-D surface z(x, y) with a path on it, drawn by PyVista and shown through Panel's VTK pane
(vtk.js in the browser): energy or loss landscapes with the trajectory that went over them.

The scene is built once; each update moves the mesh's points and recolours it in place and
re-synchronises the pane, so the camera the user chose stays where it is. Heights are scaled to a
fixed share of the plane's width (energies and losses come in any units); the z ticks and the
colour bar give the real values.
"""
from __future__ import annotations

import numpy as np
import panel as pn
import pyvista as pv
from bokeh.models import ColumnDataSource, LinearColorMapper
from bokeh.palettes import Viridis256
from vtkmodules.vtkCommonCore import vtkLogger

from .base import View, new_figure

# The VTK pane only serialises the scene; nothing renders on the server. Without a display
# VTK still warns about the X connection it never needs: keep its log to errors.
vtkLogger.SetStderrVerbosity(vtkLogger.VERBOSITY_ERROR)

HEIGHT_SHARE = 0.6   # the surface's height range, as a share of the plane's larger side


def _ticks(low: float, high: float, count: int = 5) -> np.ndarray:
    return np.linspace(low, high, count)


class Surface3D(View):
    """`surface_key`: an array (3, ny, nx) of x, y and z; `path_key`: (n, 3) points (x, y, z),
    the last one marked. `log_z` draws log10 of z (losses)."""

    def __init__(self, surface_key: str, path_key: str, title: str, axis_labels=("x", "y", "z"),
                 log_z: bool = False, height: int = 440, extent=(-1.0, 1.0, -1.0, 1.0),
                 status=None, waiting: str = "", **params):
        """`extent` (x0, x1, y0, y1): where the surface is expected. The empty scene covers it, so
        the browser's first camera fit (made before any data arrives) already frames the surface.
        `status(snap) -> str`: a line under the title about the surface shown; `waiting`: that
        line while snapshots carry no surface yet (e.g. while the first one is computed)."""
        super().__init__(**params)
        self.status_of, self.waiting = status, waiting
        self.status = pn.pane.Markdown(waiting, margin=(0, 10), styles={"font-size": "12px", "color": "#555"},
                                       css_classes=["sandbox-surface3d-status"])
        self.surface_key, self.path_key, self.log_z = surface_key, path_key, log_z
        self.keys = (surface_key, path_key)
        self.title, self.axis_labels = title, axis_labels
        self.plotter = pv.Plotter(off_screen=True)
        self.plotter.set_background("white")
        x0, x1, y0, y1 = extent
        xs, ys = np.meshgrid([x0, x1], [y0, y1])
        tilt = np.array([[0.0, 0.0], [0.0, HEIGHT_SHARE * max(x1 - x0, y1 - y0)]])
        self.mesh = pv.StructuredGrid(xs, ys, tilt)
        self.mesh["value"] = np.zeros(4)
        # Updates go into the datasets the actors draw (add_mesh may have drawn a copy).
        self.surface_actor = self.plotter.add_mesh(self.mesh, scalars="value", cmap="viridis", show_scalar_bar=False)
        self.mesh = self.surface_actor.mapper.dataset
        path_actor = self.plotter.add_mesh(pv.lines_from_points(np.zeros((2, 3))), color="#d62728", line_width=4)
        self.path = path_actor.mapper.dataset
        marker_actor = self.plotter.add_mesh(pv.Sphere(radius=0.01), color="#ff7f0e")
        self.marker = marker_actor.mapper.dataset
        self.plotter.view_isometric()                  # fits the camera to the extent the mesh spans
        self.pane = pn.pane.VTK(self.plotter.ren_win, sizing_mode="stretch_width", height=height,
                                orientation_widget=False, enable_keybindings=False,
                                css_classes=["sandbox-surface3d"])
        # A scene synchronised before the page has loaded breaks the pane for good (vtk.js has no
        # renderer yet; it throws on getActiveCamera): hold changes until the page is up.
        self._axes: dict = {}
        doc = pn.state.curdoc
        self._loaded = doc is None or doc.session_context is None       # not served: nothing to wait for
        if not self._loaded:
            pn.state.onload(self._on_load)
        # The colour scale: a strip of the same colour map along the value axis.
        self.colorbar = new_figure("", height=75, toolbar_location=None, tools="", min_border_left=10,
                                   y_axis_type=None, x_axis_label=axis_labels[2], outline_line_color=None)
        self.colorbar.grid.visible = False
        self.strip = ColumnDataSource({"image": [np.linspace(0, 1, 256)[None, :]], "x": [0.0], "dw": [1.0]})
        self.colorbar.image(image="image", x="x", y=0, dw="dw", dh=1, source=self.strip,
                            color_mapper=LinearColorMapper(palette=Viridis256, low=0, high=1))
        self.colorbar.x_range.range_padding = self.colorbar.y_range.range_padding = 0
        self._shown = None          # the surface on screen (bytes), so an unchanged one is not re-sent

    def _height(self, z: np.ndarray) -> np.ndarray:
        return np.log10(np.maximum(z, 1e-12)) if self.log_z else z

    def update(self, snap) -> None:
        if self.surface_key not in snap.arrays:
            self.status.object = self.waiting
            return
        if self.status_of is not None:
            self.status.object = self.status_of(snap)
        surface = np.asarray(snap.arrays[self.surface_key], dtype=float)
        path = np.asarray(snap.arrays[self.path_key], dtype=float).reshape(-1, 3)
        x, y, z = surface
        h = self._height(z)
        low, high = float(h.min()), float(max(h.max(), h.min() + 1e-9))
        span = HEIGHT_SHARE * max(np.ptp(x), np.ptp(y), 1e-9)
        scale = lambda values: (values - low) / (high - low) * span  # noqa: E731
        key = surface.tobytes()
        if key != self._shown:
            self._shown = key
            grid = pv.StructuredGrid(x, y, scale(h))
            grid["value"] = h.ravel(order="F")
            self.mesh.copy_from(grid)
            self.surface_actor.mapper.scalar_range = (low, high)
            self.strip.data = {"image": [np.linspace(0, 1, 256)[None, :]], "x": [low], "dw": [high - low]}
            self._axes = self._axes_for(x, y, low, high, span)
        if len(path):
            points = np.c_[path[:, :2], scale(self._height(path[:, 2]))]
            self.path.copy_from(pv.lines_from_points(points if len(points) > 1 else np.repeat(points, 2, axis=0)))
            self.marker.copy_from(pv.Sphere(radius=0.03 * max(np.ptp(x), np.ptp(y)), center=points[-1]))
        # The camera is the user's: synchronising leaves it where they turned it.
        if self._loaded:
            self._push()

    def _push(self) -> None:
        if self._axes and self.pane.axes != self._axes:
            self.pane.axes = self._axes
        self.pane.synchronize()

    def _on_load(self) -> None:
        self._loaded = True
        self._push()
        # Frame the extent from the isometric camera the scene was built with (the browser's own
        # first fit may have been made before the scene arrived).
        camera = self.plotter.camera
        self.pane.camera = {"position": list(camera.position), "focalPoint": list(camera.focal_point),
                            "viewUp": list(camera.up), "viewAngle": camera.view_angle,
                            "parallelScale": camera.parallel_scale, "clippingRange": list(camera.clipping_range)}

    def _axes_for(self, x, y, low, high, span) -> dict:
        def ticker(ticks, labels, name):
            labels = list(labels)
            labels[-1] = f"{labels[-1]} {name}"          # the axis' name at its far end
            return {"ticks": list(map(float, ticks)), "labels": labels}

        xt, yt = _ticks(x.min(), x.max()), _ticks(y.min(), y.max())
        values = _ticks(low, high)
        zt = (values - low) / (high - low) * span
        fmt = (lambda v: f"1e{v:.1f}") if self.log_z else (lambda v: f"{v:.3g}")
        return {"xticker": ticker(xt, [f"{v:.2g}" for v in xt], self.axis_labels[0]),
                "yticker": ticker(yt, [f"{v:.2g}" for v in yt], self.axis_labels[1]),
                "zticker": ticker(zt, [fmt(v) for v in values], self.axis_labels[2]),
                "origin": [float(x.min()), float(y.min()), 0.0], "fontsize": 12, "digits": 2,
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
