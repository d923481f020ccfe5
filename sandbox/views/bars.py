"""A bar chart of one array (a spectrum, a histogram), optionally highlighting some bars or
marking a reference value per bar."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource, Range1d

from .base import PALETTE, View, new_figure


class Bars(View):
    """Bars of `key` at x = first_x, first_x + 1, …; bars whose x is in `highlight_key` are
    coloured; `reference_key` (same length) draws a black tick per bar (e.g. the value it should
    have). With `missing` the arrays are optional: a snapshot without them empties the chart and
    says `missing` in the title."""

    def __init__(self, key: str, title: str, x_label: str = "frequency k", y_label: str = "",
                 highlight_key: str | None = None, first_x: int = 1, reference_key: str | None = None,
                 missing: str | None = None, height: int = 260,
                 y_range: tuple[float, float] | None = None, **params):
        super().__init__(**params)
        self.key, self.highlight_key, self.first_x = key, highlight_key, first_x
        self.reference_key, self.title, self.missing = reference_key, title, missing
        self.keys = () if missing else (key,) + tuple(k for k in (highlight_key, reference_key) if k)
        self.x_label, self.y_label, self.height, self.y_range = x_label, y_label, height, y_range
        self.source = ColumnDataSource(self._empty())

    def _draw(self) -> None:
        reference = self.reference_key
        tooltips = [("k", "@x"), ("value", "@top{0.000}")] + ([("reference", "@ref{0.000}")] if reference else [])
        self.figure = new_figure(self.title, x_axis_label=self.x_label, y_axis_label=self.y_label,
                                 tools="xpan,xwheel_zoom,reset,save,hover", tooltips=tooltips,
                                 height=self.height)
        self.figure.vbar(x="x", top="top", width=0.8, color="color", source=self.source)
        if reference:
            self.figure.scatter(x="x", y="ref", marker="dash", size=40, line_width=3, color="black",
                                source=self.source)
        if self.y_range is not None:        # fixed (e.g. overlaps in [−1, 1]: bars may point down)
            self.figure.y_range = Range1d(*self.y_range)
        elif reference:                     # its end follows bars and ticks in update()
            self.figure.y_range = Range1d(0, 1)
        else:
            self.figure.y_range.start = 0
        self.figure.xaxis.ticker.min_interval = 1      # bars sit on integers: no ticks at 0.5

    def _empty(self) -> dict:
        return {"x": [], "top": [], "color": [], **({"ref": []} if self.reference_key else {})}

    def update(self, snap) -> None:
        if self.missing and self.key not in snap.arrays:
            self.source.data = self._empty()
            self.figure.title.text = f"{self.title} ({self.missing})"
            return
        self.figure.title.text = self.title
        values = np.asarray(snap.arrays[self.key], dtype=float)
        x = np.arange(self.first_x, self.first_x + len(values))
        color = np.full(len(values), PALETTE["muted"], dtype=object)
        if self.highlight_key:
            color[np.isin(x, snap.arrays[self.highlight_key])] = PALETTE["accent"]
        else:
            color[:] = PALETTE["train"]
        data = {"x": x, "top": values, "color": list(color)}
        if self.reference_key:
            data["ref"] = np.asarray(snap.arrays[self.reference_key], dtype=float)
            # An auto range would end at the highest bar and clip a tick above it.
            self.figure.y_range.end = 1.1 * float(max(values.max(initial=0), data["ref"].max(initial=0))) or 1.0
        self.source.data = data

    def reset(self) -> None:
        self.source.data = self._empty()

    def __panel__(self):
        return self._pane(self.figure)
