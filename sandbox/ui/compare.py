"""Two (or more) runs of one study side by side, each with its own Runner and views.

The sidebar drives them together (Start / Pause / Step / Reset both) and holds each run's own
controls in a card; the main area shows the runs' views in columns, so the same view of every
run sits at the same height.
"""
from __future__ import annotations

import panel as pn

from .app import Page
from .controller import StudyController
from ..serving.filling import InPieces


class CompareApp(Page):
    sidebar_width = 360

    def __init__(self, controllers: dict[str, StudyController], columns: dict[str, list], title: str,
                 intro: str = "", **params):
        """`controllers` and `columns` map a run's label to its controller and to the views
        (or Panel objects) stacked in its column."""
        super().__init__(**params)
        if set(controllers) != set(columns):
            raise ValueError("give one column of views per controller")
        self.controllers, self.columns, self.title, self.intro = controllers, columns, title, intro
        each = list(controllers.values())
        self.start_all = pn.widgets.Button(label="Start both", button_type="success", width=110)
        self.pause_all = pn.widgets.Button(label="Pause both", button_type="warning", width=110)
        self.step_all = pn.widgets.Button(label="Step both ×100", width=110)
        self.reset_all = pn.widgets.Button(label="Reset both", button_type="danger", width=110)
        self.start_all.on_click(lambda e: [c.runner.start() for c in each])
        self.pause_all.on_click(lambda e: [c.runner.pause() for c in each])
        self.step_all.on_click(lambda e: [c.runner.step_n(100) for c in each])
        self.reset_all.on_click(lambda e: [c.reset() for c in each])

    def _sidebar(self):
        cards = [InPieces(pn.Card, c.sidebar(), title=f"Run {label}", collapsed=False, sizing_mode="stretch_width")
                 for label, c in self.controllers.items()]
        return InPieces(pn.Column, [pn.Row(self.start_all, self.pause_all), pn.Row(self.step_all, self.reset_all)],
                        *cards, sizing_mode="stretch_width")

    def _controllers(self) -> list[StudyController]:
        return list(self.controllers.values())

    def _views(self) -> list:
        columns = [InPieces(pn.Column, pn.pane.Markdown(f"### Run {label}", margin=(0, 10)), c.status,
                            *self.columns[label], sizing_mode="stretch_width")
                   for label, c in self.controllers.items()]
        return [InPieces(pn.Row, *columns, sizing_mode="stretch_width")]

    def _start(self) -> None:
        for c in self.controllers.values():
            c.start()
