"""A stopped run (its session closed) ends promptly even inside a long loop of its build, quietly.
Run: pytest tests/runtime/test_stop.py"""
import threading

from sandbox.runtime import Runner, RunnerState
from sandbox.studies.flow import FlowStudy
from tests.conftest import wait_until

# 100 000 early-model steps of a tiny model: inside the work budget (tiny steps), yet a minute or
# more of training inside build(), before the first picture.
LONG_BUILD = dict(source="early model", early_steps=100_000, width=16, depth=1, batch_size=32, n_data=256,
                  device="cpu")


def test_a_stop_during_the_early_model_training_ends_the_thread_within_two_seconds(monkeypatch):
    FlowStudy.validated({**FlowStudy.preset_values("three directions: early-model source"), **LONG_BUILD})
    steps_taken = []
    step = FlowStudy.step
    monkeypatch.setattr(FlowStudy, "step", lambda self: (steps_taken.append(1), step(self))[1])
    runner = Runner(FlowStudy(preset="three directions: early-model source", **LONG_BUILD), observe_inline=True)
    runner.start()
    wait_until(lambda: len(steps_taken) > 50, timeout=60, what="the early model's training")
    thread = runner._thread
    runner.stop(timeout=2.0)
    thread.join(0)
    assert not thread.is_alive(), "the build went on after stop()"
    assert len(steps_taken) < LONG_BUILD["early_steps"]
    assert runner.state == RunnerState.STOPPED and not runner.message     # a quiet stop, not an error


def test_a_study_no_runner_drives_is_never_stopped():
    study = FlowStudy(preset="8 gaussians", device="cpu")
    study.check_stop()                     # raises nothing
    assert not study.stop_event.is_set() and not isinstance(study.stop_event, threading.Event)
