"""A served page's parts come one by one after it has loaded, with a line saying how far it got;
a row of views comes view by view; a part that fails to build is replaced by a message and the
others still come (sandbox/serving/filling.py). Unserved, each step runs at once."""
from contextlib import contextmanager
from functools import partial
from types import SimpleNamespace

import panel as pn
from bokeh.document import Document
from panel.io.state import set_curdoc

from sandbox.serving import filling as filling_module
from sandbox.serving.filling import InPieces, PageFilling
from tests.apps.conftest import build_app
from tests.conftest import wait_until


@contextmanager
def served_session(query: dict[str, str] | None = None):
    """A document as `panel serve` makes one for a GET of the page with this query, without a server:
    what the app's script does runs as in that request. `pn.state._on_load(doc)` afterwards is what
    the page's websocket connecting does."""
    doc = Document()
    request = SimpleNamespace(arguments={k: [str(v).encode()] for k, v in (query or {}).items()}, headers={},
                              cookies={})
    context = SimpleNamespace(request=request, id="test-session", server_context=None)
    doc._session_context = lambda: context
    try:
        with set_curdoc(doc):
            yield doc
    finally:
        pn.state._onload.pop(doc, None)


def test_a_served_page_builds_no_model_in_its_get_only_once_its_session_is_live(tmp_path):
    with served_session() as doc:
        app = build_app("grokking", tmp_path)
        app.servable()                     # what `panel serve` runs for a GET of the page
        c = app.controller
        try:
            assert not c.runner._built and c.runner._thread is None and not hasattr(c.study, "model")
            pn.state._on_load(doc)         # the page's websocket connected
            wait_until(lambda: c.runner.mailbox.peek() is not None, timeout=30, what="the first snapshot")
            assert hasattr(c.study, "model") and c.runner.slots is not None   # served: it counts against the cap
        finally:
            c.close()


def test_every_part_comes_in_order_and_the_loading_line_goes():
    places, done = [pn.Column(), pn.Column(), pn.Column()], []
    filling = PageFilling([(places[0], lambda: pn.pane.Markdown("a")),
                           (places[1], lambda: pn.pane.Markdown("b")),
                           (places[2], lambda: pn.pane.Markdown("c"))],
                          on_done=lambda: done.append([len(place) for place in places]))
    assert filling.progress.object == "Loading the page: 0 of 3 parts…" and filling.progress.visible
    filling.start()
    assert [place.objects[0].object for place in places] == ["a", "b", "c"]
    assert filling.done == 3 and not filling.progress.visible
    assert done == [[1, 1, 1]]                   # told once, when every part is in


def test_a_part_that_fails_is_replaced_by_a_message_and_the_rest_still_come():
    def broken():
        raise ValueError("the figure could not be drawn")

    places = [pn.Column(), pn.Column()]
    filling = PageFilling([(places[0], broken), (places[1], lambda: pn.pane.Markdown("still here"))])
    filling.start()
    message = places[0].objects[0]
    assert isinstance(message, pn.pane.Alert) and message.alert_type == "danger"
    assert "ValueError: the figure could not be drawn" in message.object
    assert places[1].objects[0].object == "still here"
    assert not filling.progress.visible


class Unshowable(pn.viewable.Viewer):
    """Made fine, but fails when its models are made (as it is put in its place)."""

    def __panel__(self):
        raise RuntimeError("no models for this one")


def test_a_part_that_fails_as_it_is_put_in_is_replaced_too():
    places = [pn.Column(), pn.Column()]
    filling = PageFilling([(places[0], Unshowable), (places[1], lambda: pn.pane.Markdown("after"))])
    filling.start()
    assert "RuntimeError: no models for this one" in places[0].objects[0].object
    assert places[1].objects[0].object == "after" and not filling.progress.visible


class Drawn(pn.viewable.Viewer):
    """A view that notes when its figure is drawn (in `__panel__`, as the sandbox's views do)."""

    def __init__(self, label: str, drawn: list):
        super().__init__()
        self.label, self.drawn = label, drawn

    def __panel__(self):
        self.drawn.append(self.label)
        return pn.pane.Markdown(self.label)


def test_a_row_in_pieces_goes_in_view_by_view_each_step_a_turn_of_its_own(monkeypatch):
    turns, drawn = [], []
    monkeypatch.setattr(filling_module, "later", lambda fn, *args: turns.append(partial(fn, *args)))
    place = pn.Column()
    filling = PageFilling([(place, InPieces(pn.Row, Drawn("a", drawn), Drawn("b", drawn)))])
    filling.start()
    seen = []
    while turns:
        turns.pop(0)()
        row = place.objects[0] if place.objects else None
        seen.append((list(drawn), None if row is None else [pane.object for pane in row], filling.progress.visible))
    assert seen == [
        ([], [], True),                   # the empty row goes in first
        (["a"], [], True),                # a view is drawn in one turn ...
        (["a"], ["a"], True),             # ... and put in the row in the next
        (["a", "b"], ["a"], True),
        (["a", "b"], ["a", "b"], True),
        (["a", "b"], ["a", "b"], False),  # a turn later the page is whole: the loading line goes
    ]
    assert filling.done == 1


def test_a_view_that_fails_in_a_row_is_replaced_there_and_its_neighbours_still_come():
    class Broken(pn.viewable.Viewer):
        def __panel__(self):
            raise ValueError("no figure")

    place, drawn = pn.Column(), []
    PageFilling([(place, InPieces(pn.Row, Drawn("a", drawn), Broken(), Drawn("c", drawn)))]).start()
    row = place.objects[0]
    assert row[0].object == "a" and row[2].object == "c"
    assert isinstance(row[1], pn.pane.Alert) and "ValueError: no figure" in row[1].object


def test_in_pieces_called_makes_the_whole_layout_at_once_as_a_notebook_shows_it():
    drawn = []
    layout = InPieces(pn.Row, Drawn("a", drawn), InPieces(pn.Column, Drawn("b", drawn), height=50), width=300)()
    assert isinstance(layout, pn.Row) and layout.width == 300
    assert layout[0].object == "a" and isinstance(layout[1], pn.Column) and layout[1].height == 50
    assert layout[1][0].object == "b" and sorted(drawn) == ["a", "b"]
