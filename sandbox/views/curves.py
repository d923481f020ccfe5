"""Metrics over training steps, streamed: only rows added since the last update cross the wire."""
from __future__ import annotations

import numpy as np
from bokeh.events import Tap
from bokeh.models import ColumnDataSource, Legend, Span

from ..runtime.history import History
from .base import SERIES_COLORS, View, new_figure


class Curves(View):
    """Lines of scalar metrics against step; `series` maps snapshot key → legend label."""

    def __init__(self, title: str, series: dict[str, str], log_x: bool = True, log_y: bool = False,
                 y_range: tuple[float, float] | None = None, colors: list[str] | None = None,
                 markers: dict[str, str] | None = None, **params):
        """`markers` (key → legend label) are drawn as marks, not lines: a metric that is NaN
        except at events (e.g. the loss at a detected spike)."""
        super().__init__(**params)
        self.markers = dict(markers or {})
        self.series = {**series, **self.markers}
        self.keys = tuple(self.series)
        self.log_x = log_x
        self._seen, self._version = 0, None
        self.title, self.log_y, self.y_range, self.colors = title, log_y, y_range, colors or SERIES_COLORS
        self.source = ColumnDataSource(self._empty())
        self.marker = Span(location=None, dimension="height", line_color="#444", line_dash="dashed", line_width=1)

    def _draw(self) -> None:
        options = dict(x_axis_type="log" if self.log_x else "linear", y_axis_type="log" if self.log_y else "linear",
                       x_axis_label="step")
        if self.y_range is not None:
            options["y_range"] = self.y_range
        self.figure = new_figure(self.title, **options)
        items = []
        for i, (key, label) in enumerate(self.series.items()):
            if key in self.markers:
                glyph = self.figure.scatter("step", self._column(key), source=self.source, marker="triangle",
                                            size=9, color="#d62728", line_color="#7a0000")
            else:
                glyph = self.figure.line("step", self._column(key), source=self.source, line_width=2,
                                         color=self.colors[i % len(self.colors)])
            items.append((label, [glyph]))
        self.figure.add_layout(Legend(items=items, location="top_left", label_text_font_size="11px",
                                      background_fill_alpha=0.6, click_policy="hide"), "center")
        self.figure.add_layout(self.marker)
        self.figure.add_tools("tap")
        self.figure.on_event(Tap, self._on_tap)

    def _on_tap(self, event) -> None:
        """A click picks the recorded step nearest to it: every view then shows that step."""
        steps = np.asarray(self.source.data["step"], dtype=float)
        if event.x is None or not len(steps):
            return
        distance = np.abs(np.log(steps / event.x)) if self.log_x and event.x > 0 else np.abs(steps - event.x)
        self.picked_step = int(steps[int(np.argmin(distance))])

    @staticmethod
    def _column(key: str) -> str:
        return key.replace(".", "_")

    def _empty(self) -> dict:
        return {"step": np.array([], dtype=float), **{self._column(k): np.array([], dtype=float) for k in self.series}}

    def _columns_from(self, rows) -> dict:
        rows = [r for r in rows if not self.log_x or r.get("step", 0) >= 1]  # log axis: step 0 has no place
        # A row holding none of these series (a metric recorded at other steps) would break the lines.
        rows = [r for r in rows if any(key in r for key in self.series)]
        data = {"step": np.array([r["step"] for r in rows], dtype=float)}
        for key in self.series:
            data[self._column(key)] = np.array([r.get(key, np.nan) for r in rows], dtype=float)
        return data

    def update(self, snap) -> None:
        pass  # curves are fed from history, not from single snapshots

    def update_history(self, history: History) -> None:
        if history.version != self._version:  # cleared or thinned: replace everything
            rows = history.since(0)
            self.source.data = self._columns_from(rows)
            self._version, self._seen = history.version, len(rows)
            return
        rows = history.since(self._seen)
        if rows:
            self._seen += len(rows)
            fresh = self._columns_from(rows)
            if len(fresh["step"]):
                self.source.stream(fresh)

    def mark_step(self, step):
        self.marker.location = None if step is None else max(step, 1)

    def reset(self) -> None:
        self.source.data = self._empty()
        self._seen, self._version = 0, None

    def __panel__(self):
        return self._pane(self.figure)
