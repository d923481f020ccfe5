"""A page's updates wait for its browser to have drawn the last one (sandbox/serving/pacing.py)."""
import pytest

from sandbox.runtime.runner import RunnerState
from sandbox.serving import pacing
from sandbox.serving.pacing import BrowserPacer
from tests.apps.conftest import opened_app
from tests.conftest import wait_until


@pytest.fixture
def served(monkeypatch):
    """As if in a served session: a document exists, and a turn queued with `soon` runs at once."""
    monkeypatch.setattr(pacing, "served_document", lambda: object())
    monkeypatch.setattr(pacing, "soon", lambda fn, *args: fn(*args))


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_unserved_it_never_holds_an_update_back():
    pacer = BrowserPacer()
    for _ in range(3):
        assert pacer.ready()
        pacer.sent()
    assert pacer.signal.sent == 0          # nothing asked of a browser that is not there


def test_at_most_two_updates_are_undrawn(served):
    pacer = BrowserPacer(in_flight=2, clock=Clock())
    pacer.sent()
    assert pacer.signal.sent == 1 and pacer.ready()     # the next may go while the first is drawn
    pacer.sent()
    assert pacer.signal.sent == 2 and not pacer.ready()
    pacer.signal.drawn = 1                 # what the page's script does once the frame is drawn
    assert pacer.ready()
    pacer.sent()
    pacer.signal.drawn = 2
    pacer.sent()
    assert pacer.signal.sent == 4 and not pacer.ready()  # 3 and 4 undrawn
    pacer.signal.drawn = 4
    assert pacer.ready()


def test_one_in_flight_waits_for_each_update_to_be_drawn(served):
    pacer = BrowserPacer(in_flight=1, clock=Clock())
    assert pacer.ready()
    pacer.sent()
    assert not pacer.ready()
    pacer.signal.drawn = 1
    assert pacer.ready()


def test_a_browser_that_never_answers_gets_an_update_after_give_up_s(served):
    clock = Clock()
    pacer = BrowserPacer(in_flight=1, give_up_s=10.0, clock=clock)
    pacer.sent()
    clock.now += 9.9
    assert not pacer.ready()
    clock.now += 0.2
    assert pacer.ready()


def test_a_training_controller_tick_waits_for_the_browser(served, tmp_path):
    with opened_app("grokking", tmp_path) as app:
        controller = app.controller
        controller.pacer.in_flight = 1
        controller.tick()
        assert controller.pacer.signal.sent == 0           # not training: nothing streams, nothing asked
        controller.runner.start()
        wait_until(lambda: controller.runner.state == RunnerState.RUNNING, what="training")
        controller.tick()
        assert controller.pacer.signal.sent == 1
        controller.status.object = "untouched"
        controller.tick()                          # the browser has not drawn the first yet: nothing sent
        assert controller.status.object == "untouched" and controller.pacer.signal.sent == 1
        controller.pacer.signal.drawn = 1
        controller.tick()
        assert controller.status.object.startswith('<div class="sandbox-status"')
        assert controller.pacer.signal.sent == 2
