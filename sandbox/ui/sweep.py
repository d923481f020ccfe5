"""The sweep panel: choose one or two settings and their values, run the grid on Dask, and watch
the phase diagram fill in as points finish.

The panel reads only the Sweep's plain results (a numpy grid, floats, a message); the sweep's
thread and Dask's workers never touch a Bokeh object. One sweep runs at a time per server: a
second session asking meanwhile is told so.

Where the sweep runs is the server's choice (`SANDBOX_DASK_SCHEDULER` when it was started; a
LocalCluster otherwise), never the page's: the server trusts the cluster it connects to with its
own process, so nothing a page sets holds an address. The panel says which kind it is, not where.
"""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np
import panel as pn
from bokeh.models import ColorBar, ColumnDataSource, FactorRange, LinearColorMapper

from ..runtime.sweep import SCHEDULER_ENV, Sweep, cell, make_spec, server_scheduler
from ..studies import get_study
from ..views.base import DrawnOnFirstUse, new_figure
from ..serving.live_text import LiveMarkdown
from ..serving.polling import Poller

_ONE_AT_A_TIME = threading.Lock()   # a LocalCluster takes every core: one sweep per server


def _where() -> str:
    # The kind of cluster only: its address would tell every visitor where the server's cluster is.
    if server_scheduler() is None:
        return "Runs on this machine (a Dask LocalCluster)."
    return f"Runs on the server's Dask cluster (`{SCHEDULER_ENV}`)."


def _label(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


class SweepPanel(DrawnOnFirstUse, pn.viewable.Viewer):
    """`settings()` gives the values the grid starts from (the app's current settings and preset)."""

    def __init__(self, study: str, x: str, y: str, settings: Callable[[], tuple[str, dict]],
                 runs_root: str = "runs", steps: int | None = None, palette: str | list = "Viridis256",
                 period_ms: int = 500):
        self.study, self.settings, self.runs_root = study, settings, runs_root
        self.measure = get_study(study).SWEEP
        self.x_axis = pn.widgets.TextInput(label="x axis (name=values or start:stop:count)", value=x,
                                           sizing_mode="stretch_width")
        self.y_axis = pn.widgets.TextInput(label="y axis (empty: one row)", value=y, sizing_mode="stretch_width")
        self.steps = pn.widgets.IntInput(label="most steps per point", value=steps or self.measure.default_steps,
                                         start=1, step=500, width=160, visible=bool(self.measure.default_steps))
        self.where = pn.pane.Markdown(_where(), sizing_mode="stretch_width", styles={"font-size": "12px", "color": "#555"})
        self.run_button = pn.widgets.Button(label="Run sweep", button_type="primary", width=120)
        self.cancel_button = pn.widgets.Button(label="Cancel sweep", width=120, disabled=True)
        self.status = LiveMarkdown("", sizing_mode="stretch_width", css_classes=["sandbox-sweep-status"])
        self.run_button.on_click(lambda e: self.run())
        self.cancel_button.on_click(lambda e: self.cancel())
        self.sweep: Sweep | None = None
        self.poller = Poller(self.tick, period_ms, on_close=self.cancel)
        self._shown = -1
        self.mapper = LinearColorMapper(palette=palette, nan_color="#eeeeee")
        self.source = ColumnDataSource({"x": [], "y": [], "value": [], "text": [], "ink": []})

    def _draw(self) -> None:
        self.figure = new_figure(f"Sweep: {self.measure.label}", height=320, tools="hover,save",
                                 x_range=FactorRange(), y_range=FactorRange(),
                                 tooltips=[("x", "@x"), ("y", "@y"), (self.measure.outcome, "@text")])
        self.figure.rect(x="x", y="y", width=0.95, height=0.95, source=self.source,
                         fill_color={"field": "value", "transform": self.mapper}, line_color=None)
        self.figure.text(x="x", y="y", text="text", source=self.source, text_align="center",
                         text_baseline="middle", text_font_size="11px", text_color="ink")
        self.figure.add_layout(ColorBar(color_mapper=self.mapper, width=8), "right")
        self.figure.xgrid.visible = self.figure.ygrid.visible = False

    # ---- commands ------------------------------------------------------------------------
    def run(self) -> None:
        if self.sweep is not None and self.sweep.state == "running":
            return
        preset, values = self.settings()
        grid = [a for a in (self.x_axis.value.strip(), self.y_axis.value.strip()) if a]
        try:   # the device is each worker's own choice
            spec = make_spec(get_study(self.study), grid, preset, self.steps.value, {k: v for k, v in values.items() if k != "device"})
        except ValueError as exc:
            self.status.object = f"**Not started:** {exc}"
            return
        if not _ONE_AT_A_TIME.acquire(blocking=False):
            self.status.object = "Another sweep is running on this server; try again when it has finished."
            return
        try:
            self.sweep = Sweep(spec, scheduler=server_scheduler(), runs_root=self.runs_root,
                               on_finish=_ONE_AT_A_TIME.release)   # also when the session is gone
        except ValueError as exc:     # e.g. a run store path that cannot be used
            _ONE_AT_A_TIME.release()
            self.status.object = f"**Not started:** {exc}"
            return
        self._draw_axes(spec)
        self.sweep.start()
        self.run_button.disabled, self.cancel_button.disabled = True, False
        self.status.object = f"Starting {self.sweep.total} points…"
        self.poller.start()

    def cancel(self) -> None:
        if self.sweep is not None:
            self.sweep.cancel()

    # ---- drawing (the session's thread) ----------------------------------------------------
    def _draw_axes(self, spec) -> None:
        names = list(spec.axes)
        xs = [_label(v) for v in spec.axes[names[0]]]
        ys = [_label(v) for v in spec.axes[names[1]]] if len(names) > 1 else ["–"]
        self.figure.x_range.factors, self.figure.y_range.factors = xs, ys
        self.figure.xaxis.axis_label = names[0]
        self.figure.yaxis.axis_label = names[1] if len(names) > 1 else ""
        grid_x, grid_y = np.meshgrid(xs, ys)
        self._cells = (list(grid_x.ravel()), list(grid_y.ravel()))
        self._shown = -1
        self._redraw()

    def _redraw(self) -> None:
        outcome = self.sweep.outcome.copy()
        values = outcome.ravel()
        measured = np.zeros(outcome.shape, dtype=bool)
        for index in list(self.sweep.results):
            measured[cell(index)] = True
        text = ["" if not m else "—" if np.isnan(v) else f"{v:.0f}" if abs(v) >= 100 else f"{v:.3g}"
                for v, m in zip(values, measured.ravel())]
        finite = values[np.isfinite(values)]
        low, high = (float(finite.min()), float(max(finite.max(), finite.min() + 1e-9))) if len(finite) else (0, 1)
        # Light text on the dark lower half of the palette, dark text on the light upper half.
        dark = np.nan_to_num((values - low) / (high - low), nan=1.0) < 0.5
        self.source.data = {"x": self._cells[0], "y": self._cells[1], "value": values, "text": text,
                            "ink": np.where(dark, "#ffffff", "#222222")}
        self.mapper.low, self.mapper.high = low, high

    def tick(self) -> None:
        sweep = self.sweep
        if sweep is None:
            return
        if sweep.finished != self._shown:
            self._shown = sweep.finished
            self._redraw()
        ended = sweep.state != "running" and sweep.wait(0)
        # Between the last point and the end of the sweep's thread its workers are shut down (seconds):
        # Run stays off meanwhile, and the status says why.
        closing = " · closing the workers…" if sweep.state != "running" and not ended else ""
        self.status.object = (f"**{sweep.state}** · {sweep.finished} of {sweep.total} points · "
                              f"{sweep.message}" + (f" · saved in `{sweep.path}`" if sweep.path else "") + closing)
        if ended:
            self.run_button.disabled, self.cancel_button.disabled = False, True
            self.poller.stop()
            self._redraw()

    def __panel__(self):
        how = pn.pane.Markdown(
            f"Each cell is one training run from the settings on the left, with the two settings below "
            f"changed; the colour is the {self.measure.label}. "
            "Cells fill in as Dask's workers finish them (grey: not yet; — : not reached).",
            sizing_mode="stretch_width", styles={"font-size": "12px", "color": "#555"})
        # The cluster's line under the steps, not beside them: beside, it was cut off at the panel's edge.
        controls = pn.Column(self.x_axis, self.y_axis, self.steps, self.where,
                             pn.Row(self.run_button, self.cancel_button), self.status, how, width=420)
        return pn.Card(pn.Row(controls, pn.pane.Bokeh(self.figure, sizing_mode="stretch_width"),
                              sizing_mode="stretch_width"),
                       title="Phase diagram (a sweep on Dask)", sizing_mode="stretch_width", collapsed=False)
