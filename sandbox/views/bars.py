"""A bar chart of one array (a spectrum, a histogram), optionally highlighting some bars."""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource

from .base import PALETTE, View, new_figure


class Bars(View):
    """Bars of `key` at x = first_x, first_x + 1, …; bars whose x is in `highlight_key` are coloured."""

    def __init__(self, key: str, title: str, x_label: str = "frequency k", y_label: str = "",
                 highlight_key: str | None = None, first_x: int = 1, **params):
        super().__init__(**params)
        self.key, self.highlight_key, self.first_x = key, highlight_key, first_x
        self.keys = (key,) + ((highlight_key,) if highlight_key else ())
        self.figure = new_figure(title, x_axis_label=x_label, y_axis_label=y_label,
                                 tools="xpan,xwheel_zoom,reset,save,hover",
                                 tooltips=[("k", "@x"), ("value", "@top{0.000}")])
        self.source = ColumnDataSource({"x": [], "top": [], "color": []})
        self.figure.vbar(x="x", top="top", width=0.8, color="color", source=self.source)
        self.figure.y_range.start = 0

    def update(self, snap) -> None:
        values = np.asarray(snap.arrays[self.key], dtype=float)
        x = np.arange(self.first_x, self.first_x + len(values))
        color = np.full(len(values), PALETTE["muted"], dtype=object)
        if self.highlight_key:
            color[np.isin(x, snap.arrays[self.highlight_key])] = PALETTE["accent"]
        else:
            color[:] = PALETTE["train"]
        self.source.data = {"x": x, "top": values, "color": list(color)}

    def reset(self) -> None:
        self.source.data = {"x": [], "top": [], "color": []}

    def __panel__(self):
        return self._pane(self.figure)
