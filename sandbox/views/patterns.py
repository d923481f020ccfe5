"""Binary (or continuous) patterns as a row of small images: stored memories, a query and the
state it moves through. Clicking a tile, or a cell of a tile, reports it."""
from __future__ import annotations

import numpy as np
import param
from bokeh.events import Tap
from bokeh.models import ColumnDataSource, LinearColorMapper

from .base import PALETTE, View, new_figure

GAP = 1  # empty cells between tiles


class PatternGrid(View):
    """Shows `key`, an array (k, rows, cols), as k tiles in rows of `per_row`, −1 white and +1
    black (continuous states in grey between). `highlight_key` names tile indices outlined in
    orange; `labels` (one per tile) are written under the first row's tiles."""

    clicked_tile = param.Integer(default=-1, doc="The last clicked tile (-1: none).")
    clicked_cell = param.List(default=[], doc="[tile, unit] of the last clicked cell.")

    def __init__(self, key: str, title: str, per_row: int = 12, highlight_key: str | None = None,
                 labels: list[str] | None = None, height: int = 220, **params):
        super().__init__(**params)
        self.key, self.per_row, self.highlight_key, self.labels = key, per_row, highlight_key, labels
        self.keys = (key,) + ((highlight_key,) if highlight_key else ())
        self.title, self.height = title, height
        self.mapper = LinearColorMapper(palette=["#ffffff", "#d9d9d9", "#969696", "#525252", "#000000"],
                                        low=-1, high=1, nan_color=(0, 0, 0, 0))   # gaps: blank
        self.source = ColumnDataSource(self._empty())
        self.outlines = ColumnDataSource({"left": [], "right": [], "top": [], "bottom": []})
        self.captions = ColumnDataSource({"x": [], "y": [], "text": []})
        self._tile_shape = (0, 0)
        self._count = 0

    def _draw(self) -> None:
        self.figure = new_figure(self.title, height=self.height, tools="tap,save", match_aspect=True,
                                 x_axis_type=None, y_axis_type=None, min_border_left=10)
        self.figure.grid.visible = False
        self.figure.x_range.range_padding = self.figure.y_range.range_padding = 0.02
        self.figure.image(image="image", x="x", y="y", dw="dw", dh="dh", source=self.source,
                          color_mapper=self.mapper)
        self.figure.quad(left="left", right="right", top="top", bottom="bottom", source=self.outlines,
                         fill_alpha=0, line_color=PALETTE["accent"], line_width=3)
        self.figure.text(x="x", y="y", text="text", source=self.captions, text_align="center",
                         text_baseline="top", text_font_size="12px", text_color="#333")
        self.figure.on_event(Tap, self._on_tap)

    @staticmethod
    def _empty() -> dict:
        return {"image": [np.full((1, 1), np.nan, dtype=np.float32)], "x": [0], "y": [0], "dw": [1], "dh": [1]}

    def _origin(self, i: int) -> tuple[int, int]:
        """Lower-left corner of tile i in the mosaic (tile 0 top left)."""
        rows, cols = self._tile_shape
        grid_rows = -(-self._count // self.per_row)
        r, c = divmod(i, self.per_row)
        return c * (cols + GAP), (grid_rows - 1 - r) * (rows + GAP + (1 if self.labels else 0))

    def update(self, snap) -> None:
        tiles = np.asarray(snap.arrays[self.key], dtype=np.float32)
        count, rows, cols = tiles.shape
        self._tile_shape, self._count = (rows, cols), count
        width = min(count, self.per_row) * (cols + GAP) - GAP
        _, top = self._origin(0)
        mosaic = np.full((top + rows, width), np.nan, dtype=np.float32)
        for i, tile in enumerate(tiles):
            x, y = self._origin(i)
            mosaic[y:y + rows, x:x + cols] = tile[::-1]      # image row 0 at the top of its tile
        self.source.data = {"image": [mosaic], "x": [0], "y": [0], "dw": [width], "dh": [top + rows]}
        marked = np.asarray(snap.arrays[self.highlight_key]).astype(int) if self.highlight_key else []
        boxes = [self._origin(i) for i in marked if 0 <= i < count]
        self.outlines.data = {"left": [x - 0.3 for x, _ in boxes], "right": [x + cols + 0.3 for x, _ in boxes],
                              "bottom": [y - 0.3 for _, y in boxes], "top": [y + rows + 0.3 for _, y in boxes]}
        if self.labels:
            spots = [self._origin(i) for i in range(min(count, len(self.labels)))]
            self.captions.data = {"x": [x + cols / 2 for x, _ in spots], "y": [y - 0.2 for _, y in spots],
                                  "text": self.labels[:len(spots)]}

    def tile_at(self, x: float, y: float) -> tuple[int, int] | None:
        """(tile, unit) under data point (x, y), or None between tiles."""
        rows, cols = self._tile_shape
        for i in range(self._count):
            x0, y0 = self._origin(i)
            if x0 <= x < x0 + cols and y0 <= y < y0 + rows:
                row_from_top = rows - 1 - int(np.floor(y - y0))
                return i, row_from_top * cols + int(np.floor(x - x0))
        return None

    def _on_tap(self, event) -> None:
        if event.x is None or event.y is None:
            return
        hit = self.tile_at(event.x, event.y)
        if hit is not None:
            if self.clicked_cell == list(hit):
                self.param.trigger("clicked_cell")  # a second click on the same cell counts too
            else:
                self.clicked_cell = list(hit)
            self.clicked_tile = hit[0]

    def reset(self) -> None:
        self.source.data = self._empty()
        self.outlines.data = {"left": [], "right": [], "top": [], "bottom": []}

    def __panel__(self):
        return self._pane(self.figure)
