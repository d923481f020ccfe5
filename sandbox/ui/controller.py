"""StudyController: play/pause/step/reset, presets, live hyperparameters, time slider, save/load.

It owns the session's Runner and its one periodic callback. The callback reads the
latest Snapshot (skipping one it has shown: same run_id, step and serial), feeds every view, and
copies the Runner's status into parameters the status bar watches. The training thread
never sees any of this.
"""
from __future__ import annotations

import time
from functools import cached_property, partial
from pathlib import Path
from urllib.parse import urlencode

import panel as pn
import param
from panel.viewable import Viewer

from ..runtime.device import configure_cpu_threads
from ..runtime.runner import Runner, RunnerState
from ..runtime.slots import server_slots, server_work_permits
from ..serving.turns import served_document, soon
from ..serving.live_text import LiveAlert, LiveHTML
from ..serving.filling import InPieces
from ..serving.memory import release_after_collection
from ..serving.pacing import BrowserPacer
from ..serving.polling import every
from .run_files import RunFiles
from .timeline import Timeline
from .url import parse_query, query_for

STATE_COLORS = {"idle": "#7f7f7f", "running": "#2ca02c", "queued": "#9467bd", "paused": "#ff7f0e",
                "error": "#d62728", "stopped": "#7f7f7f"}


class StudyController(Viewer):
    state = param.String(default="idle")
    step = param.Integer(default=0)
    steps_per_second = param.Number(default=0.0)
    message = param.String(default="")

    def __init__(self, study_cls, views=(), preset: str | None = None, runs_root: str | Path = "runs",
                 period_ms: int = 200, snapshot_every: int = 10, study_params: dict | None = None,
                 array_period_s: float = 0.5, link_url: bool = True, landscape: bool = False, **params):
        """`link_url`: read settings from the page's query and keep it in step (off when several
        controllers share a page: they would overwrite each other's link). `landscape`: keep the
        run's loss landscape (its views read `landscape.*` arrays)."""
        super().__init__(**params)
        self.link_url = link_url
        configure_cpu_threads()  # process-wide: leave a core to the server and the observer
        self.study = study_cls(preset=preset, **(study_params or {}))
        self.study_cls = study_cls
        self.runner = Runner(self.study, snapshot_every=snapshot_every, landscape=landscape)
        self.views = []
        self.add_views(*views)
        self.runs_root = Path(runs_root)
        self.period_ms = period_ms
        # Curves stream every tick (a few numbers); whole-array views (images, bars) redraw at
        # most this often while running: on a small machine the browser's redraws otherwise
        # take the core the training thread needs.
        self.array_period_s = array_period_s
        self._shown_at = 0.0
        self._shown_key = None
        self._run_id = None
        self._callback = None
        self._runner_message = ""
        self._covered = ""      # the page's own message while one of the run's covers it
        # Served, a page's parts come after it has loaded (sandbox/serving/filling.py), and the views are
        # fed only once all are in: a view's data changed while its part is on its way reached the
        # browser before the part itself ("reference … isn't known").
        self.views_ready = True
        # Edited by the widgets; live parameters go to the Runner at once, the rest on Reset.
        self.settings = study_cls.Config(**self.study.config.values())
        self.settings.param.watch(self._on_live_change, list(study_cls.LIVE))
        if study_cls.RESTART:
            self.settings.param.watch(self._on_restart_change, list(study_cls.RESTART))
        self._build_widgets()

    # ---- widgets ---------------------------------------------------------------
    def _build_widgets(self) -> None:
        s = self.study_cls
        self.preset_select = pn.widgets.Select(label="Preset", options=list(s.PRESETS), value=self.study.preset)
        self._quiet_preset = False
        self.preset_select.param.watch(lambda e: None if self._quiet_preset else self.apply_preset(e.new), "value")
        self.preset_note = pn.pane.Markdown(s.PRESET_NOTES.get(self.study.preset, ""), margin=(0, 10),
                                            styles={"font-size": "12px", "color": "#555"})
        self.preset_select.param.watch(lambda e: setattr(self.preset_note, "object", s.PRESET_NOTES.get(e.new, "")),
                                       "value")
        self.start_button = pn.widgets.Button(label="Start", button_type="success", width=80)
        self.pause_button = pn.widgets.Button(label="Pause", button_type="warning", width=80)
        self.step_button = pn.widgets.Button(label="Step ×N", width=80)
        self.reset_button = pn.widgets.Button(label="Reset", button_type="danger", width=80)
        self.step_count = pn.widgets.IntInput(label="N", value=10, start=1, end=100_000, width=80,
                                             css_classes=["sandbox-step-count"])
        self.start_button.on_click(lambda e: self.runner.start())
        self.pause_button.on_click(lambda e: self.runner.pause())
        self.step_button.on_click(lambda e: self.runner.step_n(self.step_count.value))
        self.reset_button.on_click(lambda e: self.reset())
        self.timeline = Timeline(self.runner.ring, show=self._show, current_run=lambda: self._run_id,
                                 on_live=self._forget_shown)
        self.files = RunFiles(self.runner, self.study_cls, self.runs_root, shown=self._shown_snapshot,
                              on_loaded=self._apply_loaded, say=partial(setattr, self, "message"))
        self.status = LiveHTML(self._status_html(), sizing_mode="stretch_width")
        self.alert = LiveAlert("", alert_type="warning", visible=False, sizing_mode="stretch_width")
        self.pacer = BrowserPacer()

    # The settings' widgets are made with the sidebar, not in the page's first turn (`Page.servable`):
    # a widget per setting is half of the controller's making (~35 ms), and nothing else reads them.
    @cached_property
    def live_widgets(self) -> pn.Param:
        """Settings that act on the next step. Selections are set by clicking views; restart
        controls sit with the live ones."""
        s = self.study_cls
        live = [n for n in (*s.LIVE, *s.RESTART) if n not in s.SELECTION]
        return pn.Param(self.settings, parameters=live, show_name=False,
                        widgets={n: self._widget_spec(n, live=True) for n in live})

    @cached_property
    def fixed_widgets(self) -> pn.Param:
        """Settings applied on Reset."""
        s = self.study_cls
        fixed = [n for n in self.settings.param if n not in ("name", *s.LIVE, *s.RESTART)]
        return pn.Param(self.settings, parameters=fixed, show_name=False,
                        widgets={n: self._widget_spec(n) for n in fixed})

    def _widget_spec(self, name: str, live: bool = False) -> dict:
        """Typed inputs for numbers (sliders make p = 97 or a seed hard to hit exactly); live
        floats (learning rates, weight decay) step finely. Each widget carries a
        `sandbox-param-<name>` class so tests (and CSS) can find it."""
        css = [f"sandbox-param-{name}"]
        p = self.settings.param[name]
        if isinstance(p, param.Integer):
            return {"type": pn.widgets.IntInput, "css_classes": css}
        if isinstance(p, param.Number):
            return {"type": pn.widgets.FloatInput, "css_classes": css, **({"step": 1e-4} if live else {})}
        return {"css_classes": css}

    # ---- actions (UI thread) ---------------------------------------------------
    def apply_preset(self, preset: str) -> None:
        values = self.study_cls.preset_values(preset)
        self.settings.param.update(**values)
        self.runner.reset(preset=preset)

    def reset(self) -> None:
        values = {k: v for k, v in self.settings.param.values().items() if k != "name"}
        try:
            self.study_cls.validated(values)
        except ValueError as exc:
            self.message = f"Not applied: {exc}"
            return
        self.runner.reset(**values)

    def _on_live_change(self, event) -> None:
        try:
            self.runner.set_param(event.name, event.new)
        except ValueError as exc:
            self.message = str(exc)
        if event.name in (*self.study_cls.SELECTION, *self.study_cls.OBSERVED):
            self.runner.refresh()  # show the new selection or sampling now, also while paused

    def _on_restart_change(self, *events) -> None:
        running = self.runner.state == RunnerState.RUNNING
        self.reset()
        if running:
            self.runner.start()

    def select(self, name: str, value) -> None:
        """A view reported a selection (e.g. a clicked neuron); -1 or None means nothing."""
        if value is not None and value != -1:
            setattr(self.settings, name, value)

    def go_live(self) -> None:
        self.timeline.go_live()

    def _forget_shown(self) -> None:
        self._shown_key = None      # following live again: the newest snapshot is shown at the next tick

    def scrub_to(self, step: int) -> None:
        """Show every view as it was at the recorded step nearest to `step`."""
        self.timeline.scrub_to(step)

    @property
    def follow_live(self) -> bool:
        return self.timeline.follow_live

    @property
    def shown_step(self) -> int:
        return self.timeline.shown_step

    def add_views(self, *views) -> None:
        """Views fed by this controller. A step clicked in any of them (a point of a curve, of a
        trajectory) is shown by all."""
        for view in views:
            self.views.append(view)
            view.param.watch(lambda event: self.timeline.pick(event.new), "picked_step", onlychanged=False)

    def save(self) -> None:
        """Ask the training thread to write the run, weights included (it owns them)."""
        self.files.save()

    def load(self, name: str | None) -> None:
        """Start loading a saved run (RunFiles.load): returns at once; the run on screen stays until
        the files are read and checked."""
        self.files.load(name)

    def _apply_loaded(self, record) -> None:
        """A checked run replaces the one on screen in one go: the sidebar, then the Runner (as a Reset does)."""
        self.settings.param.update(**{k: v for k, v in record.params.items() if k in self.settings.param})
        self.runner.load(record)
        self.go_live()

    def _shown_snapshot(self):
        """The snapshot on screen: the scrubbed one, or the newest."""
        return self.runner.mailbox.peek() if self.follow_live else self.runner.ring.at(self.shown_step)

    # ---- the periodic callback -------------------------------------------------
    def start(self) -> None:
        """Begin the periodic callback (once per session) and stop the thread when the session ends."""
        if self._callback is None:
            if served_document() is not None:
                self.runner.slots = server_slots()   # served: every session's training counts against one cap
                self.runner.permits = server_work_permits()   # and its builds, observations and landscapes
            if self.link_url:
                self._apply_link()
            self.runner.refresh()  # build now, so a first visit shows the untrained model, not empty plots
            self._callback = every(self.tick, self.period_ms)
            if pn.state.curdoc is not None:
                pn.state.on_session_destroyed(self._on_session_destroyed)

    def _apply_link(self) -> None:
        """Settings from the page's URL query, validated like the widgets; then keep the URL in step."""
        args = pn.state.session_args if pn.state.curdoc is not None else {}
        try:
            preset, values = parse_query(self.study_cls, dict(args or {}))
        except ValueError as exc:
            self.message = f"Ignored the link's settings: {exc}"
        else:
            if preset or values:
                preset = preset or self.study.preset
                self._set_preset_quietly(preset)
                self.settings.param.update(**{**self.study_cls.preset_values(preset), **values})
                self.runner.reset(preset=preset, **values)
        if pn.state.location is not None:
            self.settings.param.watch(lambda e: self._update_link(), [n for n in self.settings.param if n != "name"])

    def _update_link(self) -> None:
        try:
            pn.state.location.search = "?" + urlencode(query_for(self.study_cls, self.preset_select.value, self.settings))
        except Exception:  # noqa: BLE001 - the link is a convenience; never break a session over it
            pass

    def current_settings(self) -> tuple[str, dict]:
        """The preset and every setting as the sidebar shows them now (what a sweep starts from)."""
        return self.preset_select.value, {k: v for k, v in self.settings.param.values().items() if k != "name"}

    def _set_preset_quietly(self, preset: str) -> None:
        self._quiet_preset = True
        try:
            self.preset_select.value = preset
        finally:
            self._quiet_preset = False

    def _on_session_destroyed(self, session_context) -> None:
        self.close()
        # Here, not in close(): tests and scripts close controllers without paying for a collection.
        release_after_collection()   # malloc's freed pages back to the OS once the session is collected

    def close(self) -> None:
        if self._callback is not None:
            self._callback.stop()
            self._callback = None
        self.runner.stop()

    def _show_runner_message(self, new: str) -> None:
        """The run's message replaces the page's own; when the run clears it, what it covered comes
        back: a passing "Waiting for the server…" must not erase why a link was ignored."""
        if new:
            if not self._runner_message:
                self._covered = self.message
            self.message = new
        else:
            if self.message == self._runner_message:    # unless the page has said something since
                self.message = self._covered
            self._covered = ""
        self._runner_message = new

    def tick(self) -> None:
        if not self.pacer.ready():      # the browser has not drawn the last two updates yet
            return
        r = self.runner
        self.state, self.step = r.state.value, r.step
        self.steps_per_second = round(r.steps_per_second, 1)
        if r.message != self._runner_message:   # a new message from the run, or the run cleared its own (Reset)
            self._show_runner_message(r.message)
        self.files.notice_saved()
        if self.views_ready:
            self._feed_views(r)
        self.status.object = self._status_html()
        if r.state == RunnerState.RUNNING:   # updates stream only while training; an idle page costs no round trips
            self.pacer.sent()

    def _feed_views(self, r) -> None:
        snap = r.mailbox.peek()
        if snap is not None and snap.run_id != self._run_id:  # a new run: drop the old one's data
            for view in self.views:
                self._guard(view.reset)
            self._run_id = snap.run_id
        for view in self.views:
            self._guard(view.update_history, r.history)
        self.timeline.keep_up(r.step, running=r.state == RunnerState.RUNNING)
        fresh = snap is not None and snap.key != self._shown_key
        throttled = r.state == RunnerState.RUNNING and time.monotonic() - self._shown_at < self.array_period_s
        if self.follow_live and fresh and not throttled:
            self._show(snap)

    def _show(self, snap) -> None:
        for view in self.views:        # one view per turn of the event loop: other pages wait less
            soon(self._show_in, view, snap, None if self.follow_live else snap.step)
        self._shown_key = snap.key
        self._shown_at = time.monotonic()
        self.timeline.shown_step = snap.step

    def _show_in(self, view, snap, marked_step) -> None:
        self._guard(view.update, snap)
        self._guard(view.mark_step, marked_step)

    def _guard(self, fn, *args) -> None:
        try:
            fn(*args)
        except Exception as exc:  # noqa: BLE001 - a broken view must not stop the others
            self.message = f"A view failed to update: {type(exc).__name__}: {exc}"

    @param.depends("message", watch=True)
    def _show_message(self) -> None:
        self.alert.object = self.message
        self.alert.alert_type = "danger" if self.state == "error" else "info" if self.message.startswith(("Saved", "Loaded")) else "warning"
        self.alert.visible = bool(self.message)

    def _status_html(self) -> str:
        color = STATE_COLORS.get(self.state, "#000")
        device = getattr(getattr(self.study, "device", None), "type", "not built")
        shown = "" if self.follow_live else f" · <b>showing step {self.shown_step}</b>"
        if self.state == "queued" and (place := self.runner.queue_position):
            shown += f' · <b class="sandbox-queue">number {place} in line</b>'

        snap = self.runner.mailbox.peek()
        headline = "".join(
            f' · {label} <b class="sandbox-{key.replace(".", "-")}">{snap.scalars[key]:.3f}</b>'
            for key, label in self.study_cls.HEADLINE.items() if snap is not None and key in snap.scalars)
        return (f'<div class="sandbox-status" style="font-size:13px">'
                f'<span style="color:{color};font-weight:bold">● {self.state}</span>'
                f' · step <b class="sandbox-step">{self.step}</b> · {self.steps_per_second:.1f} steps/s'
                f' · device {device}{headline}{shown}</div>')

    # ---- layout ----------------------------------------------------------------
    def __panel__(self):
        return self.sidebar()()

    def sidebar(self) -> InPieces:
        """The controls, as a page puts them in: the ones in view first, then each card. Made in one
        go the sidebar was up to half a second of the server's work, most of it the settings'
        widgets in the collapsed cards."""
        return InPieces(
            pn.Column,
            # The buttons first: nothing above them may change height while a run trains (the status
            # wraps onto more lines as its numbers grow, a message comes and goes), or a click on
            # Pause lands on whatever moved under it.
            [pn.Row(self.start_button, self.pause_button), pn.Row(self.step_button, self.step_count),
             self.reset_button, self.status, self.alert, self.preset_select, self.preset_note,
             pn.pane.Markdown("**Live** (next step)"), self.live_widgets],
            InPieces(pn.Card, self.fixed_widgets, title="Settings (apply on Reset)", collapsed=True,
                     sizing_mode="stretch_width"),
            InPieces(pn.Card, self.files.pieces(), title="Save / load / export", collapsed=True,
                     sizing_mode="stretch_width"),
            self.pacer.signal,
            sizing_mode="stretch_width",
        )
