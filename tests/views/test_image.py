"""The image view without a browser: what it hands to Bokeh. Run: pytest tests/views/test_image.py"""
from types import SimpleNamespace

import numpy as np

from sandbox.views.image import Image


def snap(grid, title_value=0.0):
    return SimpleNamespace(arrays={"grid": np.asarray(grid)}, scalars={"k": title_value})


def test_an_unchanged_image_is_not_sent_again_but_a_changed_one_is():
    view = Image("grid", "Grid", title_template="k = {k:.0f}")
    view.update(snap([[0, 1], [2, 3]]))
    sent = view.source.data["image"][0]
    np.testing.assert_array_equal(sent, [[0, 1], [2, 3]])
    view.update(snap([[0, 1], [2, 3]], title_value=5))
    assert view.source.data["image"][0] is sent          # same pixels: nothing new for the browser
    assert view.figure.title.text == "k = 5"              # the title still follows the snapshot
    view.update(snap([[0, 1], [2, 2]]))
    np.testing.assert_array_equal(view.source.data["image"][0], [[0, 1], [2, 2]])
    view.update(snap([[0, 1, 1], [2, 2, 2]]))             # a new shape is placed anew
    assert view.source.data["dw"] == [3]
