"""The seed-spread panel of the grokking app: many seeds of the MLP trained at once (one vmapped
ensemble, `SeedEnsemble`), each seed's test accuracy over steps, when each one groks, and which
Fourier frequencies each one ends up using — the lottery of the initialisation.

The ensemble trains on its own thread; the panel reads only the plain arrays it leaves behind.
"""
from __future__ import annotations

import threading
from typing import Callable

import numpy as np
import panel as pn
import torch
from bokeh.models import ColumnDataSource

from ..runtime.device import lower_thread_priority
from ..runtime.slots import TrainerSlots, server_slots
from ..studies.grokking_seeds import MAX_SEEDS, SeedEnsemble, SeedSpread, checked_config
from ..serving.turns import served_document
from ..views.base import PALETTE, DrawnOnFirstUse, new_figure
from ..serving.live_text import LiveMarkdown
from ..serving.polling import Poller


class SeedSpreadPanel(DrawnOnFirstUse, pn.viewable.Viewer):
    """`settings()` gives (preset, values): the seeds start from the app's current settings. `slots`: the
    trainer cap the seeds count against (served: the server's; unserved, none unless given)."""

    DRAWS = ("curves", "wins")

    def __init__(self, settings: Callable[[], tuple[str, dict]], seeds: int | None = None, steps: int = 1000,
                 period_ms: int = 500, slots: TrainerSlots | None = None):
        # A GPU trains 64 seeds of 1000 steps in seconds; a CPU core needs ~100 s for 8 (benchmarks/RESULTS.md).
        seeds = seeds or (64 if torch.cuda.is_available() else 8)
        self.settings = settings
        self.seeds = pn.widgets.IntInput(label="seeds", value=seeds, start=1, end=MAX_SEEDS, width=110)
        self.steps = pn.widgets.IntInput(label="steps", value=steps, start=50, end=100_000, step=500, width=110)
        self.run_button = pn.widgets.Button(label="Train the seeds", button_type="primary", width=140)
        self.stop_button = pn.widgets.Button(label="Stop the seeds", width=120, disabled=True)
        self.status = LiveMarkdown("", sizing_mode="stretch_width")
        self.run_button.on_click(lambda e: self.run())
        self.stop_button.on_click(lambda e: self.stop())
        self._stop = threading.Event()
        self._wake = threading.Event()     # a trainer slot became ours, or stop()
        self._thread: threading.Thread | None = None
        self.slots = slots
        self.waiting = False               # in line for a trainer slot (written by the seeds' thread)
        self.poller = Poller(self.tick, period_ms, on_close=self.stop)
        # Written by the ensemble's thread, read by the session: plain values only.
        self.measured: tuple[list[int], list[np.ndarray]] = ([], [])
        self.spread: SeedSpread | None = None
        self.message = ""
        self.curves_source = ColumnDataSource({"xs": [], "ys": []})
        self.wins_source = ColumnDataSource({"k": [], "seeds": []})

    def _draw(self) -> None:
        self.curves = new_figure("Test accuracy of every seed", height=280, x_axis_type="log", y_range=(-0.02, 1.02),
                                 x_axis_label="step", tools="pan,wheel_zoom,reset,save")
        self.curves.multi_line("xs", "ys", source=self.curves_source, line_color=PALETTE["test"], line_alpha=0.35)
        self.wins = new_figure("Seeds per key frequency k", height=280,
                               x_axis_label="frequency k", y_axis_label="seeds", tools="hover,save",
                               tooltips=[("k", "@k"), ("seeds", "@seeds")])
        self.wins.vbar(x="k", top="seeds", width=0.8, source=self.wins_source, color=PALETTE["accent"])

    def run(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        preset, values = self.settings()
        values = {k: v for k, v in values.items() if k not in ("selected_neuron",)}
        total = int(self.seeds.value)
        try:   # here, not only in the browser's input: a forged count or size is refused before any build
            checked_config(total, preset, **values)
        except ValueError as exc:
            self.status.object = f"**Not started:** {exc}"
            return
        self._stop.clear()
        self._wake.clear()
        self.measured, self.spread, self.message = ([], []), None, ""
        self.curves_source.data, self.wins_source.data = {"xs": [], "ys": []}, {"k": [], "seeds": []}
        slots = self.slots if self.slots is not None else server_slots() if served_document() is not None else None
        self._thread = threading.Thread(target=self._train, args=(slots, total, preset, values, int(self.steps.value)),
                                        name="sandbox-seeds", daemon=True)
        self._thread.start()
        self.run_button.disabled, self.stop_button.disabled = True, False
        self.status.object = f"Training {total} seeds together (seeds {values.get('seed', 0)}…)…"
        self.poller.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    def _train(self, slots: TrainerSlots | None, seeds: int, preset: str, values: dict, steps: int) -> None:
        lower_thread_priority()
        owner = object()      # this run's place in the trainer line
        def progress(step, train, test):
            steps_so_far, tests = self.measured
            self.measured = (steps_so_far + [step], tests + [test])
        try:
            if slots is not None and not self._wait_for_slot(slots, owner):
                self.message = "Stopped before a trainer was free."
                return
            ensemble = SeedEnsemble(seeds=seeds, preset=preset, **values)   # built once it may train
            self.spread = ensemble.run(steps, every=max(10, steps // 60), progress=progress, stop=self._stop.is_set)
        except Exception as exc:  # noqa: BLE001 - say why in the panel; the app goes on
            self.message = f"The seeds stopped: {type(exc).__name__}: {exc}"
        finally:
            self.waiting = False
            if slots is not None:
                slots.release(owner)

    def _wait_for_slot(self, slots: TrainerSlots, owner) -> bool:
        """Take a trainer slot like a session's run does, waiting in line while all are busy; False if
        stopped meanwhile."""
        while not slots.acquire(owner, wake=self._wake.set):
            self.waiting = True
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set():
                return False
        self.waiting = False
        return not self._stop.is_set()

    def tick(self) -> None:
        steps, tests = self.measured
        if self.waiting:
            self.status.object = ("Waiting: every trainer of this server is busy. The seeds start by themselves "
                                  "when one of them pauses or its tab closes.")
        if steps:
            accuracy = np.array(tests).T                      # (seeds, measurements)
            self.curves_source.data = {"xs": [steps] * len(accuracy), "ys": [list(row) for row in accuracy]}
            self.status.object = (f"step {steps[-1]} of {self.steps.value} · "
                                  f"{int((accuracy[:, -1] >= 0.95).sum())} of {len(accuracy)} seeds at test acc ≥ 0.95")
        if not self.wait(0):
            return
        spread = self.spread
        if spread is not None:
            k = np.arange(1, len(spread.frequency_wins))
            self.wins_source.data = {"k": k, "seeds": spread.frequency_wins[1:]}
            grokked = spread.grok_step[np.isfinite(spread.grok_step)]
            when = (f"grokked at steps {grokked.min():.0f}–{grokked.max():.0f} (median {np.median(grokked):.0f})"
                    if len(grokked) else "none grokked within the steps")
            top = np.argsort(spread.frequency_wins)[::-1][:3]
            self.status.object = (f"**Done:** {len(grokked)} of {len(spread.seeds)} seeds {when}. Every seed picks its "
                                  f"own key frequencies; the most shared: " +
                                  ", ".join(f"k = {i} ({spread.frequency_wins[i]} seeds)" for i in top) + ".")
        if self.message:
            self.status.object = f"**{self.message}**"
        self.run_button.disabled, self.stop_button.disabled = False, True
        self.poller.stop()

    def __panel__(self):
        how = pn.pane.Markdown(
            "Each seed is the same MLP and data split with other initial weights (seed, seed + 1, …), all "
            "trained together in one vmapped pass. They grok at about the same time, but each settles on its "
            "own few frequencies: the bars count how many seeds use each k.",
            sizing_mode="stretch_width", styles={"font-size": "12px", "color": "#555"})
        controls = pn.Column(pn.Row(self.seeds, self.steps), pn.Row(self.run_button, self.stop_button),
                             self.status, how, width=320)
        return pn.Card(pn.Row(controls, pn.pane.Bokeh(self.curves, sizing_mode="stretch_width"),
                              pn.pane.Bokeh(self.wins, sizing_mode="stretch_width"), sizing_mode="stretch_width"),
                       title="Seed spread (many seeds at once)", sizing_mode="stretch_width")
