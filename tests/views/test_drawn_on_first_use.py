"""Views make their figures when first used, not when made (sandbox/views/base.py: DrawnOnFirstUse):
an app's page is built in small turns, and a run's data flows in before the figures exist."""
import numpy as np
import pytest

from sandbox.runtime.history import History
from sandbox.views import Bars, Curves
from sandbox.views.base import DrawnOnFirstUse


def test_a_view_is_made_without_its_figure_and_fed_before_it_is_drawn():
    view = Curves("Loss", {"loss.train": "train"})
    assert "figure" not in view.__dict__
    history = History()
    history.append({"step": 1, "loss.train": 2.0})
    history.append({"step": 2, "loss.train": 1.0})
    view.update_history(history)                 # data flows into the source; nothing is drawn
    assert "figure" not in view.__dict__
    assert list(view.source.data["loss_train"]) == [2.0, 1.0]


def test_the_first_use_draws_it_on_the_same_source():
    view = Curves("Loss", {"loss.train": "train"})
    figure = view.figure
    assert figure.title.text == "Loss"
    assert {r.data_source for r in figure.renderers} == {view.source}
    assert view.figure is figure                 # drawn once
    assert view.__panel__().object is figure     # and shown with that figure (no caption: a bare pane)


def test_an_update_that_needs_the_figure_draws_it():
    view = Bars("spectrum", "Energy per frequency")
    view.update(type("Snap", (), {"arrays": {"spectrum": np.array([1.0, 3.0])}})())
    assert view.figure.title.text == "Energy per frequency"
    assert list(view.source.data["top"]) == [1.0, 3.0]


class Broken(DrawnOnFirstUse):
    draws = 0

    def _draw(self):
        Broken.draws += 1
        raise ValueError("no figure today")


def test_a_failing_draw_says_why_at_every_use_and_private_names_never_draw():
    view = Broken()
    with pytest.raises(AttributeError):
        view._private
    assert Broken.draws == 0
    for attempt in (1, 2):
        with pytest.raises(ValueError, match="no figure today"):
            view.figure
        assert Broken.draws == attempt


class Plain(DrawnOnFirstUse):
    def _draw(self):
        self.figure = "drawn"


def test_a_missing_attribute_after_drawing_is_an_attribute_error():
    view = Plain()
    assert view.figure == "drawn"
    with pytest.raises(AttributeError, match="nothing"):
        view.nothing


def test_a_typo_raises_at_once_and_draws_nothing():
    view = Curves("Loss", {"loss.train": "train"})
    with pytest.raises(AttributeError, match="figur"):
        view.figur
    assert "figure" not in view.__dict__


@pytest.mark.parametrize("name", ["grokking", "clustering_heads", "flow_matching", "hopfield", "associative_memory"])
def test_every_view_of_every_app_declares_exactly_what_its_draw_makes(name, tmp_path):
    """DRAWS is what a read draws; a name `_draw` sets but DRAWS lacks would raise where it is read
    before the view was drawn, and a declared name `_draw` never sets would draw and then raise."""
    import gc

    from tests.apps.conftest import opened_app
    with opened_app(name, tmp_path):
        views = [o for o in gc.get_objects() if isinstance(o, DrawnOnFirstUse) and not o._is_drawn]
        assert views
        for view in views:
            before = set(view.__dict__)
            getattr(view, type(view).DRAWS[0])
            made = {k for k in set(view.__dict__) - before if not k.startswith("_")}
            assert made == set(type(view).DRAWS), f"{type(view).__name__}: _draw sets {sorted(made)}"
