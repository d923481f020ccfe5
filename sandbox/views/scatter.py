"""Points from two arrays of one snapshot (e.g. a phase per neuron against another)."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, LinearColorMapper, Span

from .base import View, fit_color_range, hover_labels, new_figure


class Scatter(View):
    """x = arrays[x_key], y = arrays[y_key], coloured by arrays[color_key]; optional y = slope·x lines."""

    def __init__(self, x_key: str, y_key: str, title: str, x_label: str = "", y_label: str = "",
                 color_key: str | None = None, size_key: str | None = None,
                 x_range=None, y_range=None, guides: list[tuple[list, list]] | None = None,
                 palette: str | list[str] = "Turbo256", color_range: tuple[float, float] | None = None,
                 label_key: str | None = None, points_key: str | None = None, height: int = 260,
                 line: bool = False, log_x: bool = False, log_y: bool = False, reference_key: str | None = None,
                 **params):
        """`points_key` names one (n, 2) array used instead of x_key/y_key; `label_key` an
        (n, …) int array shown on hover (e.g. each point's sequence); `reference_key` a scalar drawn
        as a dashed horizontal line where a snapshot holds it (a setting may leave it out)."""
        super().__init__(**params)
        self.x_key, self.y_key, self.color_key, self.size_key = x_key, y_key, color_key, size_key
        self.label_key, self.points_key, self.color_range = label_key, points_key, color_range
        self.keys = tuple(k for k in (x_key, y_key, color_key, size_key, label_key, points_key) if k)
        self.source = ColumnDataSource(self._empty())
        self.mapper = LinearColorMapper(palette=palette)
        if color_range is not None:
            self.mapper.low, self.mapper.high = color_range
        self.figure_options = dict(
            title=title, x_axis_label=x_label, y_axis_label=y_label, height=height,
            x_axis_type="log" if log_x else "linear", y_axis_type="log" if log_y else "linear",
            tools="pan,wheel_zoom,reset,save,hover",
            tooltips=[("#", "@index"), ("x", "@x{0.00}"), ("y", "@y{0.00}"), ("colour", "@c"),
                      *([("item", "@label")] if label_key else [])],
            **({"x_range": x_range} if x_range is not None else {}), **({"y_range": y_range} if y_range is not None else {}))
        self.guides, self.line = guides or [], line
        self.reference_key = reference_key
        self.reference = Span(location=None, dimension="width", line_color="#d62728", line_dash="dashed",
                              line_width=2)

    def _draw(self) -> None:
        self.figure = new_figure(**self.figure_options)
        for xs, ys in self.guides:
            self.figure.line(xs, ys, color="#999", line_dash="dashed")
        if self.line:  # points in order, joined (e.g. a quality-vs-budget curve)
            self.figure.line("x", "y", source=self.source, color="#1f77b4", line_width=2)
        self.figure.scatter("x", "y", source=self.source, size="s", alpha=0.7,
                            color={"field": "c", "transform": self.mapper})
        self.figure.add_layout(self.reference)

    @staticmethod
    def _empty() -> dict:
        return {"x": [], "y": [], "c": [], "s": [], "index": [], "label": []}

    def update(self, snap) -> None:
        if not self.required_keys() <= snap.keys():
            return  # not computed yet (e.g. before a run's first landscape)
        if self.points_key:
            xy = np.asarray(snap.arrays[self.points_key], dtype=float)
            x, y = xy[:, 0], xy[:, 1]
        else:
            x = np.asarray(snap.arrays[self.x_key], dtype=float)
            y = np.asarray(snap.arrays[self.y_key], dtype=float)
        c = np.asarray(snap.arrays[self.color_key], dtype=float) if self.color_key else np.zeros_like(x)
        s = 3 + 7 * np.asarray(snap.arrays[self.size_key], dtype=float) if self.size_key else np.full_like(x, 6)
        if self.color_range is None:
            fit_color_range(self.mapper, c)
        labels = hover_labels(snap.arrays[self.label_key], len(x)) if self.label_key else [""] * len(x)
        self.source.data = {"x": x, "y": y, "c": c, "s": s, "index": np.arange(len(x)), "label": labels}
        value = snap.scalars.get(self.reference_key) if self.reference_key else None
        self.reference.location = None if value is None or not np.isfinite(value) else float(value)

    def reset(self) -> None:
        self.source.data = self._empty()
        self.reference.location = None

    def __panel__(self):
        return self._pane(self.figure)
