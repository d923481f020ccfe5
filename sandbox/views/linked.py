"""The same items drawn in several planes side by side, with one shared selection.

Dragging draws a selection box (no pan tool: a drag never means anything else); the wheel zooms.
Every panel reads its x/y columns from one ColumnDataSource, so a box or lasso selection in any
panel highlights the same items in all of them in the browser itself, without a round trip to
the server (that is how Bokeh links glyphs that share a source). The selection survives updates
as long as the items keep their order, which is why studies send a fixed set of items.
"""
from __future__ import annotations

import numpy as np
import panel as pn
from bokeh.layouts import gridplot
from bokeh.models import BoxSelectTool, ColumnDataSource, LinearColorMapper

from .base import View, fit_color_range, hover_labels, new_figure


class LinkedPlanes(View):
    """`points_key` holds (n_panels, n, 2) points; panel i is titled `titles[i]` and coloured by
    the array named in `colors[i]` = (key, palette, (low, high) or None: the data's range)."""

    DRAWS = ("figures",)

    def __init__(self, points_key: str, titles: list[str], colors: list[tuple[str, list[str], tuple]],
                 label_key: str | None = None, extra_keys: dict[str, str] | None = None, height: int = 300,
                 frames: list[int] | None = None, paths_in: int | None = None,
                 background_key: str | None = None, background_in: int | None = None,
                 axis_labels: tuple[str, str] = ("z₁", "z₂"), **params):
        """`extra_keys` maps a hover label to a per-item array shown on hover (e.g. "target").
        `frames`: panel i shows points[frames[i]] (e.g. [0, -1]: the first and last frame of
        trajectories); `paths_in`: that panel also draws every item's whole path through the
        frames, so selected items' trajectories stand out; `background_key` (m, 2) points drawn
        in grey in panel `background_in`."""
        super().__init__(**params)
        if len(titles) != len(colors):
            raise ValueError("give one colour spec per panel")
        self.points_key, self.label_key, self.colors = points_key, label_key, colors
        self.frames, self.paths_in = frames, paths_in
        self.background_key, self.background_in = background_key, background_in
        self.extra_keys = dict(extra_keys or {})
        # Per-item arrays copied into the shared source: the colour keys and the hover extras.
        self.item_keys = sorted({key for key, _, _ in colors} | set(self.extra_keys.values()))
        self.keys = (points_key, *self.item_keys, *([label_key] if label_key else []),
                     *([background_key] if background_key else []))
        self.source = ColumnDataSource(self._empty())
        self.background = ColumnDataSource({"x": [], "y": []})
        self.mappers = [LinearColorMapper(palette=palette, **(dict(zip(("low", "high"), bounds)) if bounds else {}))
                        for _, palette, bounds in colors]
        self.titles, self.height, self.axis_labels = titles, height, axis_labels

    def _draw(self) -> None:
        tooltips = [("#", "@index"), *([("sequence", "@label")] if self.label_key else []),
                    *((name, f"@{self._column(key)}") for name, key in self.extra_keys.items())]
        self.figures = []
        for i, (title, (key, _, _), mapper) in enumerate(zip(self.titles, self.colors, self.mappers)):
            fig = new_figure(title, height=self.height, x_axis_label=self.axis_labels[0],
                             y_axis_label=self.axis_labels[1],
                             tools="box_select,lasso_select,tap,wheel_zoom,reset,save,hover", tooltips=tooltips)
            if i == self.background_in:
                fig.scatter("x", "y", source=self.background, size=4, color="#bbbbbb", alpha=0.5)
            if i == self.paths_in:
                lines = fig.multi_line("xs", "ys", source=self.source, line_alpha=0.25, line_width=1,
                                       color={"field": self._column(key), "transform": mapper})
                lines.nonselection_glyph.line_alpha = 0.03
                lines.selection_glyph = None
            renderer = fig.scatter(f"x{i}", f"y{i}", source=self.source, size=6, alpha=0.75,
                                   color={"field": self._column(key), "transform": mapper})
            renderer.nonselection_glyph.fill_alpha = renderer.nonselection_glyph.line_alpha = 0.08
            renderer.selection_glyph = None  # keep each point's colour when selected
            fig.toolbar.active_drag = fig.select_one(BoxSelectTool)  # "auto" would pick the lasso
            self.figures.append(fig)

    @staticmethod
    def _column(key: str) -> str:
        return key.replace(".", "_")

    def _empty(self) -> dict:
        data = {"index": [], "label": [], "xs": [], "ys": []}
        for i in range(len(self.colors)):
            data[f"x{i}"], data[f"y{i}"] = [], []
        for key in self.item_keys:
            data[self._column(key)] = []
        return data

    def update(self, snap) -> None:
        planes = np.asarray(snap.arrays[self.points_key], dtype=float)          # (panels or frames, n, 2)
        n = planes.shape[1]
        data = {"index": np.arange(n)}
        for i in range(len(self.colors)):
            frame = planes[self.frames[i] if self.frames else i]
            data[f"x{i}"], data[f"y{i}"] = frame[:, 0], frame[:, 1]
        if self.paths_in is not None:
            data["xs"], data["ys"] = list(planes[:, :, 0].T), list(planes[:, :, 1].T)
        else:
            data["xs"] = data["ys"] = [[]] * n
        if self.background_key:
            background = np.asarray(snap.arrays[self.background_key], dtype=float)
            self.background.data = {"x": background[:, 0], "y": background[:, 1]}
        for key in self.item_keys:
            data[self._column(key)] = np.asarray(snap.arrays[key])
        for mapper, (key, _, bounds) in zip(self.mappers, self.colors):
            if bounds is None:
                fit_color_range(mapper, data[self._column(key)])
        data["label"] = hover_labels(snap.arrays[self.label_key], n) if self.label_key else [""] * n
        self.source.data = data

    @property
    def selected(self) -> list[int]:
        """Items selected in any panel (the same indices in all of them)."""
        return list(self.source.selected.indices)

    def reset(self) -> None:
        self.source.data = self._empty()
        self.background.data = {"x": [], "y": []}
        self.source.selected.indices = []

    def __panel__(self):
        grid = gridplot([self.figures], sizing_mode="stretch_width", toolbar_location="above", merge_tools=True)
        grid.toolbar.logo = None
        return self._pane(grid)
