"""Loading a damaged, foreign or mismatched run in the app: a clear message, the run on screen kept,
the files read off the event loop. Run: pytest tests/apps/test_loading.py"""
import json
import logging
import os
import shutil
import threading

import pytest
import torch

from sandbox.runtime import RunnerState, store
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


def finished(c):
    """Wait until the Load in progress has been applied (or refused)."""
    wait_until(lambda: not c.files.load_button.disabled, timeout=30, what="the load to finish")


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
            finished(c)
            assert c.message.startswith("Could not load") and words in c.message, c.message
            assert c.runner.run_id == run_id and c.runner.step == 3
        (path / "snapshots" / sorted(p.name for p in (path / "snapshots").iterdir())[0]).write_bytes(b"PK\x03\x04junk")
        c.load("mine")
        finished(c)
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
        run_id = c.runner.run_id
        c.load("mine")                      # checked against a scratch build: the run is never replaced
        finished(c)
        assert "state.pt: its weights do not fit a grokking model" in c.message, c.message
        assert c.runner.run_id == run_id and c.runner.step == trained_more
        c.runner.load(store.load_run(path))     # unchecked, straight to the Runner: its own fallback
        wait_until(lambda: "do not fit" in c.runner.message, timeout=30)
        c.tick()
        assert "The run you had is back" in c.message
        assert c.runner.state == RunnerState.PAUSED and c.runner.step == trained_more
        c.runner.step_n(1)                                  # and it trains on
        wait_until(lambda: c.runner.step == trained_more + 1, timeout=30)


# ---- a run is checked whole before it replaces the one on screen (issue 21) ------------------


def on_screen(c):
    """What a person sees of the run: must not change when a load is refused. The history by its steps:
    the paused run's refined landscape re-observes the last step at its own pace, a row of the same step."""
    r = c.runner
    return dict(step=r.step, run_id=r.run_id, state=r.state, lr=c.study.config.lr, p=c.study.config.p,
                history_steps=sorted({row["step"] for row in r.history.since(0)}),
                sidebar={k: v for k, v in c.settings.param.values().items() if k != "name"})


def edit_config(path, **changes):
    config = json.loads((path / "config.json").read_text())
    config.update(changes)
    (path / "config.json").write_text(json.dumps(config))


def edit_params(path, **changes):
    config = json.loads((path / "config.json").read_text())
    edit_config(path, params={**config["params"], **changes})


def edit_optimizer(path, change):
    state = torch.load(path / "state.pt", weights_only=True)
    change(state["optimizer"])
    torch.save(state, path / "state.pt")


DAMAGE = {   # name → (how the saved run is damaged, words the message must hold)
    "metrics without a step column": (lambda p: (p / "metrics.csv").write_text("loss.train\n0.5\n"), "no 'step' column"),
    "an optimizer state that is a list": (lambda p: edit_optimizer(p, lambda o: o.update(state=[1])),
                                          "weights do not fit"),
    "a momentum of the wrong shape": (lambda p: edit_optimizer(p, lambda o: o["state"][0].update(exp_avg=torch.zeros(3))),
                                      "optimizer state 'exp_avg' has shape (3,)"),
    "a learning rate that is text": (lambda p: edit_optimizer(p, lambda o: o["param_groups"][0].update(lr="fast")),
                                     "'lr' is 'fast'"),
    "p = 100 (not prime) with another lr": (lambda p: edit_params(p, p=100, lr=0.5), "settings this study refuses"),
    "params that are a list": (lambda p: edit_config(p, params=[1, 2]), "'params' must map"),
    "a setting that is a dict": (lambda p: edit_params(p, lr={"a": 1}), "setting 'lr' is a dict"),
    "a setting the study lacks": (lambda p: edit_params(p, colour=3), "has no setting 'colour'"),
    "nested JSON": (lambda p: (p / "config.json").write_text("[" * 50_000 + "]" * 50_000), "config.json is damaged"),
    "a snapshot named step_abc.npz": (lambda p: os.replace(min((p / "snapshots").iterdir()), p / "snapshots" / "step_abc.npz"),
                                      "step_abc.npz is not named step_<number>.npz"),
    "a 33 MB metrics.csv": (lambda p: os.truncate(p / "metrics.csv", store.MAX_METRICS_BYTES + 1), "too large to load"),
}


@pytest.fixture(scope="module")
def saved_app(tmp_path_factory):
    """One app, trained 3 steps and saved as `good`, kept for every case (each damages a copy)."""
    root = tmp_path_factory.mktemp("runs")
    with opened_app("grokking", root) as app:
        trained(app.controller, 3)
        yield app, saved(app.controller, root, "good")


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_run_is_refused_and_the_run_on_screen_is_untouched(saved_app, damage, caplog):
    app, good = saved_app
    c = app.controller
    broken = good.with_name(damage.replace(" ", "_").replace("(", "").replace(")", "").replace("=", "").replace(",", ""))
    shutil.copytree(good, broken)
    spoil, words = DAMAGE[damage]
    spoil(broken)
    target = c.runner.step + 1          # the run on screen differs from the file: more steps than its 3
    c.runner.step_n(1)
    wait_until(lambda: c.runner.step == target and c.runner.state == RunnerState.PAUSED, timeout=30)
    assert c.runner.wait_observed()     # the pause's snapshot (and its history row) are in
    c.tick()
    before = on_screen(c)
    with caplog.at_level(logging.WARNING):
        c.load(broken.name)
        finished(c)
    assert c.message.startswith("Could not load") and words in c.message, c.message
    assert on_screen(c) == before
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_a_good_run_replaces_the_one_on_screen_settings_and_all(saved_app):
    app, good = saved_app
    c = app.controller
    copy = good.with_name("good_lr")
    shutil.copytree(good, copy, dirs_exist_ok=True)
    edit_params(copy, lr=0.0123)
    c.load(copy.name)
    finished(c)
    wait_until(lambda: c.runner.step == 3 and "Loaded good_lr" in c.runner.message, timeout=30)
    c.tick()
    assert c.settings.lr == 0.0123 == c.study.config.lr and c.runner.state == RunnerState.PAUSED
    assert not c.files.load_button.disabled and c.message == "Loaded good_lr at step 3."


def test_load_returns_at_once_and_reads_the_files_on_a_worker_thread(saved_app, monkeypatch):
    """The caller (the server's event loop) only starts the load: the files are read elsewhere while
    the page says Loading … and the Load button is off; a second Load meanwhile is turned away."""
    from sandbox.ui import run_files as module
    app, good = saved_app
    c = app.controller
    assert c.runner.wait_observed()
    before, release, readers = on_screen(c), threading.Event(), []
    real = module.read_checked

    def held(*args):
        readers.append(threading.current_thread())
        assert release.wait(30)
        return real(*args)

    monkeypatch.setattr(module, "read_checked", held, raising=False)
    c.load(good.name)
    assert c.files.load_button.disabled and c.message == "Loading good …"
    wait_until(lambda: readers, what="the worker to start reading")
    assert readers[0] is not threading.current_thread() and on_screen(c) == before
    c.load(good.name)
    assert "Still loading" in c.message
    release.set()
    finished(c)
    wait_until(lambda: c.runner.step == 3 and "Loaded good" in c.runner.message, timeout=30)


def test_served_the_result_is_applied_in_the_sessions_own_turn(saved_app, monkeypatch):
    """Served, the worker hands the result to the session's event loop (add_next_tick_callback);
    nothing of the page changes on the worker thread."""
    from sandbox.ui import run_files as module

    class Session:
        callbacks = []

        def add_next_tick_callback(self, fn):
            self.callbacks.append(fn)

    app, good = saved_app
    c = app.controller
    copy = good.with_name("good_served")
    shutil.copytree(good, copy, dirs_exist_ok=True)
    edit_params(copy, lr=0.0456)
    monkeypatch.setattr(module, "served_document", lambda: Session(), raising=False)
    c.load(copy.name)
    wait_until(lambda: Session.callbacks, timeout=30, what="the result to be handed to the session")
    assert c.files.load_button.disabled and c.settings.lr != 0.0456      # not applied on the worker
    Session.callbacks.pop()()                                       # the session's turn
    assert not c.files.load_button.disabled and c.settings.lr == 0.0456
    wait_until(lambda: "Loaded good_served" in c.runner.message, timeout=30)


def test_a_symlinked_run_is_not_offered_nor_loaded(saved_app, tmp_path):
    app, good = saved_app
    c = app.controller
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(good, elsewhere)
    (good.parent / "linked").symlink_to(elsewhere, target_is_directory=True)
    assert "linked" not in c.files._saved_runs() and "good" in c.files._saved_runs()
    assert c.runner.wait_observed()
    before = on_screen(c)
    c.load("linked")
    finished(c)
    assert c.message.startswith("Could not load") and "symlink" in c.message and on_screen(c) == before


def test_the_runner_itself_brings_the_old_run_back_for_any_misfit_of_the_weights(saved_app):
    """A record handed straight to the Runner (no checks) whose optimiser state raises an
    AttributeError on loading: the run on screen comes back, not the error state at step 0."""
    app, good = saved_app
    c = app.controller
    copy = good.with_name("good_list_state")
    shutil.copytree(good, copy, dirs_exist_ok=True)
    edit_optimizer(copy, lambda o: o.update(state=[1]))
    step = c.runner.step
    c.runner.load(store.load_run(copy))
    wait_until(lambda: "do not fit" in c.runner.message, timeout=30)
    assert c.runner.state == RunnerState.PAUSED and c.runner.step == step
