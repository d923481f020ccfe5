"""Points from two arrays of one snapshot (e.g. a phase per neuron against another)."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, LinearColorMapper

from .base import View, new_figure


class Scatter(View):
    """x = arrays[x_key], y = arrays[y_key], coloured by arrays[color_key]; optional y = slope·x lines."""

    def __init__(self, x_key: str, y_key: str, title: str, x_label: str = "", y_label: str = "",
                 color_key: str | None = None, size_key: str | None = None,
                 x_range=None, y_range=None, guides: list[tuple[list, list]] | None = None, **params):
        super().__init__(**params)
        self.x_key, self.y_key, self.color_key, self.size_key = x_key, y_key, color_key, size_key
        self.keys = tuple(k for k in (x_key, y_key, color_key, size_key) if k)
        options = dict(x_axis_label=x_label, y_axis_label=y_label, tools="pan,wheel_zoom,reset,save,hover",
                       tooltips=[("neuron", "@index"), ("x", "@x{0.00}"), ("y", "@y{0.00}"), ("colour", "@c")])
        if x_range is not None:
            options["x_range"] = x_range
        if y_range is not None:
            options["y_range"] = y_range
        self.figure = new_figure(title, **options)
        for xs, ys in guides or []:
            self.figure.line(xs, ys, color="#999", line_dash="dashed")
        self.source = ColumnDataSource({"x": [], "y": [], "c": [], "s": [], "index": []})
        self.mapper = LinearColorMapper(palette="Turbo256")
        self.figure.scatter("x", "y", source=self.source, size="s", alpha=0.7,
                            color={"field": "c", "transform": self.mapper})

    def update(self, snap) -> None:
        x = np.asarray(snap.arrays[self.x_key], dtype=float)
        y = np.asarray(snap.arrays[self.y_key], dtype=float)
        c = np.asarray(snap.arrays[self.color_key], dtype=float) if self.color_key else np.zeros_like(x)
        s = 3 + 7 * np.asarray(snap.arrays[self.size_key], dtype=float) if self.size_key else np.full_like(x, 6)
        if len(c):
            self.mapper.low, self.mapper.high = float(c.min()), float(max(c.max(), c.min() + 1))
        self.source.data = {"x": x, "y": y, "c": c, "s": s, "index": np.arange(len(x))}

    def reset(self) -> None:
        self.source.data = {"x": [], "y": [], "c": [], "s": [], "index": []}

    def __panel__(self):
        return self._pane(self.figure)
