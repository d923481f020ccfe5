"""Text panes rewritten while training keep the stylesheets their page was built with, so an update
carries no models and Bokeh does not walk the whole document again (see sandbox/serving/live_text.py)."""
from __future__ import annotations

import panel as pn
import pytest
from bokeh.document import Document

from sandbox.serving.live_text import LiveAlert, LiveHTML, LiveMarkdown


def served_in_a_template(pane):
    doc = Document()
    pn.template.BootstrapTemplate(main=[pane]).server_doc(doc)
    model = next(m for m, _ in pane._models.values() if m.document is doc)
    return doc, model


def stylesheet_names(model) -> list[str]:
    return [getattr(sheet, "url", "inline") for sheet in model.stylesheets]


@pytest.mark.parametrize("pane_cls", [pn.pane.HTML, pn.pane.Markdown, pn.pane.Alert])
def test_panels_own_panes_swap_their_stylesheets_on_the_first_new_text(pane_cls):
    """Why the live panes exist. If this fails, Panel has fixed it and they can go."""
    pane = pane_cls("first")
    _, model = served_in_a_template(pane)
    before = stylesheet_names(model)
    pane.object = "second"
    assert len(stylesheet_names(model)) > len(before)      # Bootstrap's CSS files, added


@pytest.mark.parametrize("pane_cls", [LiveHTML, LiveMarkdown, LiveAlert])
def test_a_live_pane_sends_its_new_text_and_keeps_its_stylesheets(pane_cls):
    pane = pane_cls("first")
    _, model = served_in_a_template(pane)
    before = list(model.stylesheets)
    pane.object = "second"
    assert "second" in model.text
    assert list(model.stylesheets) == before       # the same models: nothing for Bokeh to walk
    assert stylesheet_names(model)[-1].endswith("theme/bootstrap.css")


def test_a_live_alert_still_changes_its_kind_and_visibility():
    alert = LiveAlert("", alert_type="warning", visible=False)
    _, model = served_in_a_template(alert)
    alert.object, alert.alert_type, alert.visible = "Saved", "info", True
    assert "Saved" in model.text and "alert-info" in model.css_classes and model.visible
