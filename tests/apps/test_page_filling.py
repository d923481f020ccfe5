"""A served page's parts come one by one after it has loaded, with a line saying how far it got;
a part that fails to build is replaced by a message and the others still come
(sandbox/ui/filling.py). Unserved, each step runs at once."""
import panel as pn

from sandbox.ui.filling import PageFilling


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
