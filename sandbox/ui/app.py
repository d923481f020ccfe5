"""StudyApp: a controller plus a grid of views, served as a template or shown in a notebook."""
from __future__ import annotations

import panel as pn
from panel.viewable import Viewer

from .controller import StudyController

ACCENT = "#1f5f99"


class StudyApp(Viewer):
    """`rows` is a list of rows, each a list of views (or any Panel object)."""

    def __init__(self, controller: StudyController, rows: list[list], title: str, intro: str = "", **params):
        super().__init__(**params)
        self.controller, self.rows, self.title, self.intro = controller, rows, title, intro

    def _main(self):
        grid = [pn.Row(*row, sizing_mode="stretch_width") for row in self.rows]
        header = [pn.pane.Markdown(self.intro, sizing_mode="stretch_width", margin=(0, 10))] if self.intro else []
        return pn.Column(*header, self.controller.timeline(), *grid, sizing_mode="stretch_width")

    def __panel__(self):
        self.controller.start()
        return pn.Row(pn.Column(self.controller, width=320), self._main(), sizing_mode="stretch_width")

    def servable(self, title: str | None = None, **kwargs):
        """Served: a template with the controls in the sidebar. In a notebook: the plain layout."""
        doc = pn.state.curdoc  # pn.state.served only looks at the *caller's* module, so ask the document
        if doc is not None and doc.session_context is not None:
            self.controller.start()
            # Bootstrap needs no web fonts: the page works offline (Fast pulls Google Fonts).
            template = pn.template.BootstrapTemplate(
                title=title or self.title, sidebar=[self.controller], main=[self._main()],
                header_background=ACCENT, sidebar_width=340)
            return template.servable()
        return super().servable(title=title, **kwargs)
