"""Loading a damaged, foreign or mismatched run in the app: a clear message, the run on screen kept.
Run: pytest tests/apps/test_loading.py"""
import shutil

import torch

from sandbox.runtime import RunnerState
from tests.apps.conftest import opened_app
from tests.conftest import wait_until


def trained(c, steps=3):
    c.runner.step_n(steps)
    wait_until(lambda: c.runner.step == steps and c.runner.state == RunnerState.PAUSED, timeout=30)
    return c.runner.run_id


def saved(c, root, name):
    c.runner.save(root, name=name)
    wait_until(lambda: c.runner.saved_path is not None and c.runner.saved_path.name == name, timeout=30)
    return c.runner.saved_path


def test_damaged_and_foreign_runs_are_refused_and_the_run_goes_on(tmp_path):
    root = tmp_path / "runs"
    with opened_app("hopfield", root) as other:          # a run of another study, copied in by hand
        trained(other.controller, 2)
        foreign = saved(other.controller, root, "theirs")
    with opened_app("grokking", root) as app:
        c = app.controller
        run_id = trained(c)
        path = saved(c, root, "mine")
        shutil.copytree(foreign, root / "grokking" / "theirs")
        (root / "grokking" / "broken").mkdir()
        (root / "grokking" / "broken" / "config.json").write_text("{half a file")
        for name, words in [("theirs", "is a 'hopfield' run, not a 'grokking' run"), ("broken", "damaged"),
                            ("gone", "not a saved run")]:
            c.load(name)
            assert c.message.startswith("Could not load") and words in c.message, c.message
            assert c.runner.run_id == run_id and c.runner.step == 3
        (path / "snapshots" / sorted(p.name for p in (path / "snapshots").iterdir())[0]).write_bytes(b"PK\x03\x04junk")
        c.load("mine")
        assert "damaged or not a plain npz" in c.message and c.runner.step == 3


def test_weights_that_do_not_fit_their_settings_bring_the_old_run_back(tmp_path):
    root = tmp_path / "runs"
    with opened_app("grokking", root) as app:
        c = app.controller
        trained(c, 4)
        path = saved(c, root, "mine")
        state = torch.load(path / "state.pt", weights_only=True)
        state["model"] = {k: torch.zeros(3, 3) for k in state["model"]}      # another model's tensors
        torch.save(state, path / "state.pt")
        trained_more = c.runner.step + 2
        c.runner.step_n(2)
        wait_until(lambda: c.runner.step == trained_more, timeout=30)
        c.load("mine")
        wait_until(lambda: "do not fit" in c.runner.message, timeout=30)
        c.tick()
        assert "The run you had is back" in c.message
        assert c.runner.state == RunnerState.PAUSED and c.runner.step == trained_more
        c.runner.step_n(1)                                  # and it trains on
        wait_until(lambda: c.runner.step == trained_more + 1, timeout=30)
