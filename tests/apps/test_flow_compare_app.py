"""Two flow runs side by side, without a server. Run: pytest tests/apps/test_flow_compare_app.py"""
import pytest

from tests.apps.conftest import TINY, load_app_module
from tests.conftest import wait_until


@pytest.fixture
def app(tmp_path):
    app = load_app_module("flow_compare").build_app(runs_root=str(tmp_path), **TINY["flow_matching"])
    yield app
    for c in app.controllers.values():
        c.close()


def test_two_runs_with_their_own_sources_train_together_and_pause_together(app):
    a, b = app.controllers["A"], app.controllers["B"]
    assert (a.study.config.source, b.study.config.source) == ("high-dim gaussian", "norm-aligned")
    assert a.runner is not b.runner and a.views[0] is not b.views[0]
    app.start_all.clicks += 1
    wait_until(lambda: a.runner.step > 20 and b.runner.step > 20)
    app.pause_all.clicks += 1
    wait_until(lambda: a.runner.state.value == "paused" and b.runner.state.value == "paused")
    for c in (a, b):  # the pause publishes a snapshot of the last step; the observer needs a moment
        wait_until(lambda: c.runner.mailbox.peek() is not None and c.runner.mailbox.peek().step == c.runner.step)
        c.tick()
    start_a = a.views[0].particles.data["x"]
    assert len(start_a) == 512 and len(b.views[0].particles.data["x"]) == 512
    app.step_all.clicks += 1
    wait_until(lambda: a.runner.step >= 120 and b.runner.step >= 120 and a.runner.state.value == "paused")


def test_reset_both_restarts_both_runs(app):
    a, b = app.controllers["A"], app.controllers["B"]
    for c in (a, b):
        c.runner.run_headless(5)
    app.reset_all.clicks += 1
    wait_until(lambda: a.runner.step == 0 and b.runner.step == 0)
