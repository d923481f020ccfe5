"""RunFiles: a session's save / load / export card, and the hand-over of a load from the loader thread.

The controller keeps the run and the views; this part only knows the Runner it saves and loads,
where runs live, and three callbacks: which snapshot is on screen (for the NPZ export), what to do
with a checked run (the controller updates the sidebar and the Runner), and how to say something.
"""
from __future__ import annotations

import io
import logging
from functools import partial
from pathlib import Path
from typing import Callable

import panel as pn
from panel.viewable import Viewer

from ..runtime.run_checks import read_checked, submit
from ..runtime.runner import RunnerState
from ..runtime.store import RunRecord, RunStoreError, list_runs, run_dir, write_metrics, write_snapshot
from ..serving.turns import served_document


class RunFiles(Viewer):
    def __init__(self, runner, study_cls, runs_root: str | Path, shown: Callable[[], object],
                 on_loaded: Callable[[RunRecord], None], say: Callable[[str], None]):
        super().__init__()
        self.runner, self.study_cls, self.runs_root = runner, study_cls, Path(runs_root)
        self._shown, self._on_loaded, self._say = shown, on_loaded, say
        self.save_button = pn.widgets.Button(label="Save run", width=110)
        self.save_button.on_click(lambda e: self.save())
        self.run_select = pn.widgets.Select(label="Saved runs", options=self._saved_runs())
        self.load_button = pn.widgets.Button(label="Load", width=110)
        self.load_button.on_click(lambda e: self.load(self.run_select.value))
        self._loading = None    # the Future of the load in progress (files read and checked off the event loop)
        self.metrics_download = pn.widgets.FileDownload(callback=self.metrics_csv, filename="metrics.csv",
                                                        label="Metrics (CSV)", button_type="light", width=140)
        self.snapshot_download = pn.widgets.FileDownload(callback=self.snapshot_npz, filename="snapshot.npz",
                                                         label="Shown step (NPZ)", button_type="light", width=140)

    def pieces(self) -> list:
        """The card's contents, in order (the sidebar makes the card)."""
        return [pn.Row(self.save_button), self.run_select, self.load_button,
                pn.pane.Markdown("Export (figures: the save tool on each plot)", margin=(5, 10, 0, 10)),
                pn.Row(self.metrics_download, self.snapshot_download)]

    def __panel__(self):
        return pn.Column(*self.pieces())

    # ---- export ------------------------------------------------------------------
    def metrics_csv(self) -> io.StringIO:
        buffer = io.StringIO()
        write_metrics(buffer, self.runner.history.since(0))
        buffer.seek(0)
        return buffer

    def snapshot_npz(self) -> io.BytesIO:
        """The snapshot on screen (the scrubbed one, or the newest)."""
        snap = self._shown()
        buffer = io.BytesIO()
        if snap is not None:
            write_snapshot(buffer, snap)
            self.snapshot_download.filename = f"{self.study_cls.name}_step_{snap.step}.npz"
        buffer.seek(0)
        return buffer

    # ---- save --------------------------------------------------------------------
    def save(self) -> None:
        """Ask the training thread to write the run, weights included (it owns them)."""
        self.runner.save(self.runs_root)

    def _saved_runs(self) -> list[str]:
        try:
            return list_runs(self.runs_root, self.study_cls.name)
        except RunStoreError:
            return []

    def notice_saved(self) -> None:
        """Called every tick: a run the training thread has just saved joins the list."""
        saved = self.runner.saved_path
        if saved is not None and saved.name not in self.run_select.options:
            self.run_select.options = self._saved_runs()

    # ---- load --------------------------------------------------------------------
    def load(self, name: str | None) -> None:
        """Start loading a saved run; returns at once. Its files are read and checked whole on the
        loader thread (a big run held the server's event loop for seconds), and the result comes
        back to this session's turn (`_loaded`): the run on screen is untouched until then, and
        kept whole if any check fails."""
        if not name:
            self._say("No saved run to load yet: press Save run first, or run the CLI.")
            return
        if self._loading is not None:
            self._say("Still loading the last run; Load again when it is in.")
            return
        try:
            run_dir(self.runs_root, self.study_cls.name, name)   # a forged name is refused now, not later
        except RunStoreError as exc:
            self._say(f"Could not load: {exc}")
            return
        self._say(f"Loading {name} …")
        self.load_button.disabled = True
        session = served_document()      # read here: the loader thread has no current document
        self._loading = submit(read_checked, self.runs_root, self.study_cls, name, self.runner.permits)
        self._loading.add_done_callback(lambda future: self._hand_back(session, name, future))

    def _hand_back(self, session, name: str, future) -> None:
        """On the loader thread: the result goes to the session's event loop (Bokeh's one thread-safe
        door into a document); with no server (tests, scripts) there is no loop, so it applies now."""
        if session is None:
            self._loaded(name, future)
            return
        try:
            session.add_next_tick_callback(partial(self._loaded, name, future))
        except Exception:  # noqa: BLE001 - the session closed meanwhile: nobody to show it to
            self._loading = None

    def _loaded(self, name: str, future) -> None:
        """In the session's turn: a checked run replaces the one on screen in one go, or a message
        says which file is wrong and nothing changes."""
        self._loading = None
        self.load_button.disabled = False
        if self.runner.state == RunnerState.STOPPED:
            return                      # the session closed while the files were read
        try:
            record = future.result()
        except RunStoreError as exc:
            self._say(f"Could not load: {exc}")
            return
        except Exception as exc:  # noqa: BLE001 - a failure of the checks themselves: say so, keep the run
            logging.getLogger(__name__).exception("loading %s failed", name)
            self._say(f"Could not load {name}: {type(exc).__name__}: {exc}")
            return
        self._on_loaded(record)
