"""A 2-D array as an image: heatmaps, p×p grids. Clicking a row reports it as a selection."""
from __future__ import annotations

import numpy as np
import param
from bokeh.events import Tap
from bokeh.models import ColorBar, ColumnDataSource, Legend, LinearColorMapper

from .base import View, new_figure


class Image(View):
    """Shows `key` (rows × cols). With `order_key`, rows are shown in that order.

    `selected_row` holds the original row index of the last clicked row (-1: none).
    `palette` with `categories` (value → label) draws a categorical image with a legend.
    """

    selected_row = param.Integer(default=-1)

    def __init__(self, key: str, title: str, x_label: str = "", y_label: str = "", order_key: str | None = None,
                 palette: str | list[str] = "Viridis256", low: float | None = None, high: float | None = None,
                 categories: dict[int, str] | None = None, height: int = 300, colorbar: bool = True,
                 x_start: float = 0.0, title_template: str | None = None, extent_key: str | None = None,
                 missing: str | None = None, **params):
        """`missing`: the array is optional (e.g. only some models have it); when a snapshot lacks
        it the plot is cleared and its title says this instead."""
        super().__init__(**params)
        self.title, self.missing = title, missing
        self.key, self.order_key = key, order_key
        # extent_key names a [x0, x1, y0, y1] array: the image covers that box of data space.
        self.extent_key = extent_key
        # e.g. "Neuron {neuron.selected:.0f}": filled from the snapshot's scalars on update.
        self.title_template = title_template
        self.keys = () if missing else (key,) + tuple(k for k in (order_key, extent_key) if k)
        self._order = None
        self.mapper = LinearColorMapper(palette=palette, low=low, high=high)
        self.x_start = x_start
        self.source = ColumnDataSource(self._empty())
        self.x_label, self.y_label, self.height = x_label, y_label, height
        self.categories, self.colorbar = categories, colorbar

    def _draw(self) -> None:
        self.figure = new_figure(self.title, x_axis_label=self.x_label, y_axis_label=self.y_label, height=self.height,
                                 tools="pan,wheel_zoom,reset,save,hover", tooltips=[("x", "$x{0}"), ("y", "$y{0}"), ("value", "@image{0.000}")])
        self.figure.x_range.range_padding = self.figure.y_range.range_padding = 0
        # x_start = 0.5 centres column j on x = j + 1 (e.g. frequency k = j + 1).
        self.figure.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.source, color_mapper=self.mapper)
        if self.categories:
            self.figure.hover.tooltips = [(self.y_label or "row", "$y{0}"), (self.x_label or "column", "$x{0}")]
            items = []
            for value, label in self.categories.items():  # invisible glyphs that only feed the legend
                glyph = self.figure.scatter([np.nan], [np.nan], color=self.mapper.palette[value],
                                            marker="square", size=10)
                items.append((label, [glyph]))
            self.figure.add_layout(Legend(items=items, label_text_font_size="11px", border_line_alpha=0), "right")
        elif self.colorbar:
            self.figure.add_layout(ColorBar(color_mapper=self.mapper, width=8), "right")
        self.figure.on_event(Tap, self._on_tap)

    def update(self, snap) -> None:
        if self.missing and self.key not in snap.arrays:
            self.reset()
            self.figure.title.text = f"{self.title} ({self.missing})"
            return
        self.figure.title.text = self.title
        image = np.asarray(snap.arrays[self.key], dtype=np.float32)
        if self.order_key:
            self._order = np.asarray(snap.arrays[self.order_key])
            image = image[self._order]
        rows, cols = image.shape
        # Bokeh draws row 0 at the bottom; keep that so y reads as the row index.
        if self.extent_key:
            x0, x1, y0, y1 = (float(v) for v in snap.arrays[self.extent_key])
            placed = {"x": [x0], "y": [y0], "dw": [x1 - x0], "dh": [y1 - y0]}
        else:
            placed = {"x": [self.x_start], "y": [0], "dw": [cols], "dh": [rows]}
        shown = self.source.data
        # An image that stopped changing (a grid once learnt) is not sent to the browser again.
        if not (all(shown[k] == v for k, v in placed.items()) and np.array_equal(shown["image"][0], image)):
            self.source.data = {"image": [image], **placed}
        if self.title_template:
            self.figure.title.text = self.title_template.format_map(
                {k.replace(".", "_"): v for k, v in snap.scalars.items()})

    def _on_tap(self, event) -> None:
        if event.y is None:
            return
        if self.extent_key:
            return  # rows of a data-space image are not items to select
        row = int(np.floor(event.y))
        rows = self.source.data["image"][0].shape[0]
        if 0 <= row < rows:
            self.selected_row = int(self._order[row]) if self._order is not None else row

    def _empty(self) -> dict:
        return {"image": [np.zeros((1, 1), dtype=np.float32)], "x": [self.x_start], "y": [0], "dw": [1], "dh": [1]}

    def reset(self) -> None:
        self.source.data = self._empty()

    def __panel__(self):
        return self._pane(self.figure)
