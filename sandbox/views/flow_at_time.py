"""Particles of a flow and its velocity field at one time t, with a slider and a play button.

The snapshot carries whole trajectories and the field at a few times, so moving t redraws
from what the view already holds: no new snapshot, no model, no wait for training.
"""
from __future__ import annotations

import numpy as np
import panel as pn
import param
from bokeh.events import Tap
from bokeh.models import ColumnDataSource, LegendItem, LinearColorMapper

from .base import View, new_figure
from ..serving.live_text import LiveHTML


class FlowAtTime(View):
    """`clicked` holds [x, y, σ] for the last click on the plane (σ: 4% of the data's width), so an
    app can turn clicks into source blobs; `show_blobs` draws blobs placed so far."""

    DRAWS = ("figure", "blob_glyphs")

    clicked = param.List(default=[])

    def __init__(self, title: str, paths_key: str, field_points_key: str, field_velocity_key: str,
                 field_times_key: str, background_key: str, color_key: str, palette: str = "Turbo256",
                 color_range: tuple[float, float] = (-np.pi, np.pi), size: int = 470, **params):
        super().__init__(**params)
        self.paths_key, self.background_key, self.color_key = paths_key, background_key, color_key
        self.field_keys = (field_points_key, field_velocity_key, field_times_key)
        self.keys = (paths_key, background_key, color_key, *self.field_keys)
        self._paths = self._field = None
        self.title, self.size = title, size
        self.background = ColumnDataSource({"x": [], "y": []})
        self.particles = ColumnDataSource({"x": [], "y": [], "c": []})
        self.arrows = ColumnDataSource({"x0": [], "y0": [], "x1": [], "y1": []})
        self.blobs = ColumnDataSource({"x": [], "y": [], "r": []})
        self.mapper = LinearColorMapper(palette=palette, low=color_range[0], high=color_range[1])
        self.player = pn.widgets.Player(label="t", start=0, end=20, value=20, step=1, interval=150, loop_policy="once",
                                        show_loop_controls=False, width=320, css_classes=["sandbox-flow-t"])
        self.t_label = LiveHTML("", styles={"font-size": "13px"}, css_classes=["sandbox-flow-t-label"])
        self.player.param.watch(lambda event: self._show_time(), "value")

    def _draw(self) -> None:
        # Square and fixed, so circles stay circles and the plane is not stretched across the page.
        self.figure = new_figure(self.title, height=self.size, width=self.size, sizing_mode="fixed", x_axis_label="x₁",
                                 y_axis_label="x₂", match_aspect=True, tools="pan,wheel_zoom,box_zoom,reset,save")
        self.figure.scatter("x", "y", source=self.background, size=4, color="#bbbbbb", alpha=0.6,
                            legend_label="target (held out)")
        self.figure.segment("x0", "y0", "x1", "y1", source=self.arrows, color="#555555", line_width=1.2, alpha=0.7,
                            legend_label="velocity v(x, t)")
        self.figure.scatter("x", "y", source=self.particles, size=5, alpha=0.8,
                            color={"field": "c", "transform": self.mapper}, legend_label="particles")
        self.blob_glyphs = self.figure.circle("x", "y", radius="r", source=self.blobs, fill_alpha=0.15,
                                              fill_color="#9467bd", line_color="#9467bd", line_dash="dashed")
        self.figure.on_event(Tap, self._on_tap)
        self.figure.legend.location = "top_left"
        self.figure.legend.click_policy = "hide"
        self.figure.legend.label_text_font_size = "11px"
        self.figure.legend.background_fill_alpha = 0.6

    def _on_tap(self, event) -> None:
        if event.x is None or event.y is None:
            return
        background = self.background.data["x"]
        width = float(np.ptp(background)) if len(background) else 8.0
        self.clicked = [float(event.x), float(event.y), round(0.04 * width, 4)]

    def show_blobs(self, blobs: list) -> None:
        rows = np.asarray(blobs, dtype=float).reshape(-1, 3)
        self.blobs.data = {"x": rows[:, 0], "y": rows[:, 1], "r": 2 * rows[:, 2]}
        # The legend names the blobs only once there are some.
        if len(rows) and not any(self.blob_glyphs in item.renderers for item in self.figure.legend.items):
            self.figure.legend.items.append(LegendItem(label="drawn source blobs", renderers=[self.blob_glyphs]))

    @property
    def t(self) -> float:
        return self.player.value / self.player.end

    def update(self, snap) -> None:
        self._paths = np.asarray(snap.arrays[self.paths_key], dtype=float)                 # (frames, n, 2)
        self._field = tuple(np.asarray(snap.arrays[k], dtype=float) for k in self.field_keys)
        self._colors = np.asarray(snap.arrays[self.color_key], dtype=float)
        background = np.asarray(snap.arrays[self.background_key], dtype=float)
        self.background.data = {"x": background[:, 0], "y": background[:, 1]}
        self._show_time()

    def _show_time(self) -> None:
        """Particles and field at the player's time t, from what the view holds."""
        if self._paths is None:
            return
        t = self.t
        # Particles: linear interpolation between the solver's frames.
        position = t * (len(self._paths) - 1)
        i = min(int(position), len(self._paths) - 2) if len(self._paths) > 1 else 0
        w = position - i
        at = self._paths[i] if len(self._paths) == 1 else (1 - w) * self._paths[i] + w * self._paths[i + 1]
        self.particles.data = {"x": at[:, 0], "y": at[:, 1], "c": self._colors[:len(at)]}
        # Field: the nearest recorded time, arrows scaled to a fraction of the grid spacing.
        points, velocity, times = self._field
        v = velocity[int(np.abs(times - t).argmin())]
        spacing = np.ptp(points[:, 0]) / max(np.sqrt(len(points)) - 1, 1)
        length = np.linalg.norm(v, axis=1)
        scale = 0.9 * spacing / max(np.percentile(length, 95), 1e-9)
        tips = points + np.minimum(scale * length, 1.5 * spacing)[:, None] * v / np.maximum(length, 1e-9)[:, None]
        self.arrows.data = {"x0": points[:, 0], "y0": points[:, 1], "x1": tips[:, 0], "y1": tips[:, 1]}
        self.t_label.object = f"t = <b>{t:.2f}</b> (0: source, 1: generated)"

    def reset(self) -> None:
        self._paths = self._field = None
        for source in (self.background, self.particles, self.arrows):
            source.data = {k: [] for k in source.data}

    def __panel__(self):
        controls = pn.Row(self.player, self.t_label)
        pane = pn.pane.Bokeh(self.figure)
        parts = [controls, pane]
        if self.description:
            parts.append(self._caption(width=self.figure.width))
        return pn.Column(*parts)
