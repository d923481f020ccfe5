"""Text panes that are rewritten while training (status bars, messages): an update sends the text.

Panel's HTML, Markdown and Alert panes send all of their properties again whenever their text
changes, the stylesheets among them. Under a template the stylesheets sent then differ from the
ones the page was built with (the template applies its design "not isolated", a pane's update "isolated":
Bootstrap's CSS files are added), so the first change of each pane's text swaps in new stylesheet
models. A change that carries models makes Bokeh walk the whole document again: 0.2 s of the
server's one event loop per pane, per page (measured on associative_memory's ~2,600 models), and
8 pages starting together queued 1-2 s of such turns. These panes keep the stylesheets they were
built with; their text, classes and visibility update as before.
"""
from __future__ import annotations

import panel as pn


class _SendsText:
    def _update(self, ref, model) -> None:
        properties = self._get_properties(model.document)
        properties.pop("stylesheets", None)
        model.update(**properties)


class LiveHTML(_SendsText, pn.pane.HTML):
    pass


class LiveMarkdown(_SendsText, pn.pane.Markdown):
    pass


class LiveAlert(_SendsText, pn.pane.Alert):
    pass
