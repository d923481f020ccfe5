"""Timeline: which recorded step the views show. The time slider, Follow live, and steps picked in
any view (a point of a curve, of a landscape's path) all move it; the controller shows the snapshot.
"""
from __future__ import annotations

import time
from typing import Callable

import panel as pn
import param
from panel.viewable import Viewer


class Timeline(Viewer):
    follow_live = param.Boolean(default=True, doc="Views follow the newest step; off while scrubbing.")
    shown_step = param.Integer(default=0, doc="The step of the snapshot on screen.")

    def __init__(self, ring, show: Callable, current_run: Callable[[], int | None],
                 on_live: Callable[[], None] = lambda: None, **params):
        """`ring`: the run's recorded snapshots (SnapshotRing); `show(snap)`: put one on screen;
        `current_run()`: the run the views hold (a snapshot of another run is never shown);
        `on_live()`: called when Follow live is pressed (the newest snapshot is to be shown again)."""
        super().__init__(**params)
        self._ring, self._show, self._current_run, self._on_live = ring, show, current_run, on_live
        self.slider = pn.widgets.IntSlider(label="Time: step shown", start=0, end=1, value=0,
                                           sizing_mode="stretch_width", css_classes=["sandbox-time"])
        self.slider.param.watch(self._on_scrub, "value_throttled")
        self.live_button = pn.widgets.Button(label="Follow live", width=100)
        self.live_button.on_click(lambda e: self.go_live())
        self._syncing = False      # the slider moved by us, not by the user
        self._slider_at = 0.0

    def __panel__(self):
        return pn.Row(self.slider, self.live_button, sizing_mode="stretch_width")

    def go_live(self) -> None:
        self.follow_live = True
        self._on_live()

    def scrub_to(self, step: int) -> None:
        """Show every view as it was at the recorded step nearest to `step`."""
        snap = self._ring.at(step)
        if snap is None or snap.run_id != self._current_run():
            return
        self.follow_live = False
        self._show(snap)

    def pick(self, step: int | None) -> None:
        """A step clicked in a view: shown by all, and the slider moves to the recorded step shown."""
        if step is None:
            return
        self.scrub_to(step)
        if self.follow_live:
            return  # nothing recorded to show
        self._set_slider(value=min(max(self.shown_step, self.slider.start), self.slider.end))

    def keep_up(self, newest_step: int, running: bool) -> None:
        """Stretch the slider to the newest step (and move it there while following live); while
        training at most once a second, as a slider redraw is costly."""
        now = time.monotonic()
        if running and now - self._slider_at < 1.0:
            return
        self._slider_at = now
        self._set_slider(end=max(newest_step, 1), **({"value": newest_step} if self.follow_live else {}))

    def _set_slider(self, **values) -> None:
        self._syncing = True
        try:
            self.slider.param.update(**values)
        finally:
            self._syncing = False

    def _on_scrub(self, event) -> None:
        if not self._syncing:
            self.scrub_to(event.new)
