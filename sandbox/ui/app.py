"""StudyApp: a controller plus a grid of views, served as a template or shown in a notebook."""
from __future__ import annotations

from functools import partial

import panel as pn
from panel.viewable import Viewer

from ..serving.turns import served_document
from .controller import StudyController
from ..serving.filling import InPieces, Maker, PageFilling

ACCENT = "#1f5f99"


class Page(Viewer):
    """A sidebar of controls beside a main area: served as a template, in a notebook as a row.
    Subclasses give `title`, `intro`, `sidebar_width`, `_start()`, `_sidebar()`, `_controllers()` and
    `_views()`.

    `_views()` gives the main area's parts as functions that make them, or as `InPieces` (a row of
    views): served, they are made piece by piece once the page has loaded (`PageFilling`; views
    draw their figures when first shown)."""

    sidebar_width = 340
    title, intro = "", ""

    def _start(self) -> None:
        raise NotImplementedError

    def _sidebar(self):
        raise NotImplementedError

    def _controllers(self) -> list[StudyController]:
        raise NotImplementedError

    def _views(self) -> list[Maker]:
        raise NotImplementedError

    def _main_parts(self) -> list[Maker]:
        header = [partial(pn.pane.Markdown, self.intro, sizing_mode="stretch_width", margin=(0, 10))] if self.intro else []
        return [*header, *self._views()]

    def _main(self):
        return pn.Column(*(make() for make in self._main_parts()), sizing_mode="stretch_width")

    def __panel__(self):
        self._start()
        return pn.Row(pn.Column(self._sidebar(), width=self.sidebar_width - 20), self._main(),
                      sizing_mode="stretch_width")

    def servable(self, title: str | None = None, **kwargs):
        """Served: a template with the controls in the sidebar. In a notebook: the plain layout."""
        doc = served_document()
        if doc is not None:
            # Bootstrap needs no web fonts: the page works offline (Fast pulls Google Fonts).
            # Each part of the main area is a root of its own, laid out on its own: a change in one
            # (a title, a slider's end) does not make the browser lay out and redraw the others,
            # which matters for a 3-D view that re-renders its WebGL scene on every layout.
            # No busy spinner: Panel's busy flag is one per server, so every page's spinner follows
            # every other page's events (a click, a turned 3-D camera): with many sessions each such
            # event updated all of them. The status line says what the run is doing.
            # The sidebar and the main area's parts are made and go in once the page has loaded, one
            # by one (`PageFilling`): the page's first turn only makes the template, and the document
            # the page pulls is small; each part then comes as a patch.
            makers = [self._sidebar, *self._main_parts()]
            places = [pn.Column()] + [pn.Column(sizing_mode="stretch_width") for _ in makers[1:]]
            controllers = self._controllers()
            for controller in controllers:       # their views are fed once every part is in
                controller.views_ready = False
            filling = PageFilling(list(zip(places, makers)), on_done=partial(_views_ready, controllers))
            template = pn.template.BootstrapTemplate(
                title=title or self.title, sidebar=places[:1], main=[filling.progress, *places[1:]],
                header_background=ACCENT, sidebar_width=self.sidebar_width, busy_indicator=None)
            # Each root added to the document makes Bokeh walk the whole document again; walked once
            # at the end instead, a page builds 0.1-0.8 s sooner.
            with doc.models.freeze():
                served = template.servable()
            # The run (the link's settings, the build, the first snapshot) starts once the page's
            # session is live, not in the GET: a request that never opens its page builds no model.
            pn.state.onload(self._start)
            pn.state.onload(filling.start)
            return served
        return super().servable(title=title, **kwargs)


def _views_ready(controllers: list[StudyController]) -> None:
    for controller in controllers:
        controller.views_ready = True


class StudyApp(Page):
    """`rows` is a list of rows, each a list of views (or any Panel object)."""

    def __init__(self, controller: StudyController, rows: list[list], title: str, intro: str = "", **params):
        super().__init__(**params)
        self.controller, self.rows, self.title, self.intro = controller, rows, title, intro

    def _start(self) -> None:
        self.controller.start()

    def _sidebar(self):
        return self.controller.sidebar()

    def _controllers(self) -> list[StudyController]:
        return [self.controller]

    def _views(self) -> list:
        return [self.controller.timeline.__panel__, *(InPieces(pn.Row, *row, sizing_mode="stretch_width") for row in self.rows)]
