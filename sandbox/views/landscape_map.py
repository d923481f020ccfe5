"""A loss landscape seen from above: the surface as a heatmap of log loss and the training
trajectory over it. Hovering a point of the trajectory shows that step's metrics; clicking one
shows every view at that step."""
from __future__ import annotations

import numpy as np
from bokeh.events import Tap
from bokeh.models import ColorBar, ColumnDataSource, HoverTool, LinearColorMapper, Range1d
from bokeh.palettes import Viridis256

from ..runtime.history import History
from .base import PALETTE, View, new_figure
from .surface3d import log10_floored


class LandscapeMap(View):
    """`surface_key`: (3, n, n) α, β, loss; `path_key`: (m, 3) α, β, loss of the trajectory's
    points, whose steps are in `steps_key` (m,). `hover_metrics`: history key → label, shown for
    the hovered point's step."""

    def __init__(self, surface_key: str, path_key: str, steps_key: str, title: str,
                 hover_metrics: dict[str, str] | None = None, height: int = 380, **params):
        super().__init__(**params)
        self.surface_key, self.path_key, self.steps_key = surface_key, path_key, steps_key
        self.keys = (surface_key, path_key, steps_key)
        self.hover_metrics = dict(hover_metrics or {})
        self._rows: dict[float, dict] = {}
        self._seen, self._version = 0, None
        self.title, self.height = title, height
        self.mapper = LinearColorMapper(palette=Viridis256)
        self.image = ColumnDataSource({"image": [], "x": [], "y": [], "dw": [], "dh": []})
        self.path = ColumnDataSource(self._empty_path())
        self.current = ColumnDataSource({"alpha": [], "beta": []})
        # Fixed ranges, set from each surface: ranges that follow the data would move with every new
        # point of the path, and every move lays out the page again (and redraws the 3-D view beside it).
        self.x_range, self.y_range = Range1d(-1, 1), Range1d(-1, 1)

    def _draw(self) -> None:
        self.figure = new_figure(self.title, height=self.height, x_axis_label="α", y_axis_label="β",
                                 x_range=self.x_range, y_range=self.y_range, tools="pan,wheel_zoom,reset,save,tap")
        self.figure.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.image, color_mapper=self.mapper)
        self.figure.add_layout(ColorBar(color_mapper=self.mapper, width=8, title="log₁₀ loss"), "right")
        self.figure.line("alpha", "beta", source=self.path, color=PALETTE["test"], line_width=2)
        points = self.figure.scatter("alpha", "beta", source=self.path, size=7, color="white",
                                     line_color=PALETTE["test"], line_width=1.5)
        tooltips = [("step", "@step{0}"), ("loss here", "@loss{0.000}"),
                    *((label, f"@{self._column(key)}{{0.000}}") for key, label in self.hover_metrics.items())]
        self.figure.add_tools(HoverTool(renderers=[points], tooltips=tooltips))
        self.figure.scatter("alpha", "beta", source=self.current, size=14, color=PALETTE["accent"],
                            line_color="black", marker="circle")
        self.figure.on_event(Tap, self._on_tap)

    @staticmethod
    def _column(key: str) -> str:
        return key.replace(".", "_")

    def _empty_path(self) -> dict:
        return {"alpha": [], "beta": [], "loss": [], "step": [],
                **{self._column(k): [] for k in self.hover_metrics}}

    def update_history(self, history: History) -> None:
        if history.version != self._version:
            self._rows, self._seen, self._version = {}, 0, history.version
        rows = history.since(self._seen)
        self._seen += len(rows)
        for row in rows:
            self._rows[row["step"]] = row

    def update(self, snap) -> None:
        if self.surface_key not in snap.arrays:     # a step before the run's first surface
            self._clear()
            return
        alpha, beta, loss = np.asarray(snap.arrays[self.surface_key], dtype=float)
        height = log10_floored(loss)
        self.mapper.low, self.mapper.high = float(height.min()), float(max(height.max(), height.min() + 1e-9))
        x0, x1, y0, y1 = alpha.min(), alpha.max(), beta.min(), beta.max()
        self.image.data = {"image": [height], "x": [x0], "y": [y0], "dw": [x1 - x0], "dh": [y1 - y0]}
        if (self.x_range.start, self.x_range.end) != (x0, x1):
            self.x_range.update(start=float(x0), end=float(x1))
            self.y_range.update(start=float(y0), end=float(y1))
        path = np.asarray(snap.arrays[self.path_key], dtype=float).reshape(-1, 3)
        steps = np.asarray(snap.arrays[self.steps_key], dtype=float)
        metrics = {self._column(k): [self._rows.get(s, {}).get(k, np.nan) for s in steps] for k in self.hover_metrics}
        self.path.data = {"alpha": path[:, 0], "beta": path[:, 1], "loss": path[:, 2], "step": steps, **metrics}
        self.current.data = {"alpha": path[-1:, 0], "beta": path[-1:, 1]}

    def _on_tap(self, event) -> None:
        """A click near a point of the trajectory picks its step."""
        alpha, beta = np.asarray(self.path.data["alpha"], float), np.asarray(self.path.data["beta"], float)
        if event.x is None or event.y is None or not len(alpha):
            return
        image = self.image.data
        reach = 0.05 * max(image["dw"][0], image["dh"][0]) if image["dw"] else np.inf
        distance = np.hypot(alpha - event.x, beta - event.y)
        nearest = int(np.argmin(distance))
        if distance[nearest] <= reach:
            self.picked_step = int(self.path.data["step"][nearest])

    def _clear(self) -> None:
        self.image.data = {"image": [], "x": [], "y": [], "dw": [], "dh": []}
        self.path.data = self._empty_path()
        self.current.data = {"alpha": [], "beta": []}

    def reset(self) -> None:
        self._clear()
        self._rows, self._seen, self._version = {}, 0, None

    def __panel__(self):
        return self._pane(self.figure)
