"""Runner: commands apply between steps, errors become state. Run: pytest tests/runtime/test_runner.py"""
import math
import threading
import time

import numpy as np
import pytest
import torch

from sandbox.runtime import Runner, RunnerState, Snapshot, Mailbox
from tests.conftest import FakeStudy, wait_until


@pytest.fixture
def runner():
    r = Runner(FakeStudy(), snapshot_every=5)
    yield r
    r.stop()


def test_step_n_advances_exactly_n(runner):
    runner.step_n(7)
    wait_until(lambda: runner.step == 7 and runner.state == RunnerState.PAUSED)
    runner.step_n(3)
    wait_until(lambda: runner.step == 10)
    assert runner.study.count == 10
    assert runner.mailbox.peek().step == 10  # a finished Step ×N always publishes


def test_pause_really_stops_stepping(runner):
    runner.start()
    wait_until(lambda: runner.step > 20)
    runner.pause()
    wait_until(lambda: runner.state == RunnerState.PAUSED)
    paused_at = runner.step
    # Commands are applied in order: if any step ran after the pause, this lands past +5.
    runner.step_n(5)
    wait_until(lambda: runner.mailbox.peek().step == paused_at + 5)
    assert runner.step == paused_at + 5
    assert runner.study.count == paused_at + 5


def test_reset_restores_step_zero_and_bumps_run_id(runner):
    runner.step_n(12)
    wait_until(lambda: runner.step == 12)
    old_run = runner.run_id
    runner.reset()
    wait_until(lambda: runner.run_id == old_run + 1)
    wait_until(lambda: runner.mailbox.peek() is not None)
    snap = runner.mailbox.peek()
    assert (snap.run_id, snap.step, runner.step) == (old_run + 1, 0, 0)
    assert [row["step"] for row in runner.history.since(0)] == [0.0]
    assert runner.ring.steps() == [0]


def test_reset_with_bad_values_keeps_the_run_and_says_why(runner):
    runner.step_n(4)
    wait_until(lambda: runner.step == 4)
    runner.reset(size=13)
    wait_until(lambda: "unlucky" in runner.message)
    assert runner.step == 4 and runner.study.config.size == 4


def test_exception_in_step_becomes_error_state_and_reset_recovers(runner):
    runner.reset(fail_at=3)
    runner.start()
    wait_until(lambda: runner.state == RunnerState.ERROR)
    assert "injected failure" in runner.message and runner.alive
    assert runner.step == 2  # the failing step is not counted
    runner.start()  # ignored while in error
    runner.reset(fail_at=-1)
    wait_until(lambda: runner.state == RunnerState.IDLE and runner.message == "")
    runner.step_n(4)
    wait_until(lambda: runner.step == 4)


def test_nan_loss_auto_pauses_with_a_message(runner):
    runner.reset(nan_at=6)
    runner.start()
    wait_until(lambda: runner.state == RunnerState.PAUSED)
    assert runner.step == 6 and "nan" in runner.message.lower()
    # The observer thread publishes the pause's snapshot on its own time (it failed once under load).
    wait_until(lambda: getattr(runner.mailbox.peek(), "step", None) == 6, what="the snapshot of step 6")


class TensorLossStudy(FakeStudy):
    """Returns its loss as a tensor, as a GPU study does, and counts how often it is read back.
    Once NaN it stays NaN, as a real model's does once a NaN reached its weights."""

    def step(self):
        study = self

        class Loss(torch.Tensor):
            def __float__(self):
                study.reads += 1
                return super().__float__()

        value = super().step()
        broken = 0 <= self.config.nan_at <= self.count
        return torch.tensor(float("nan") if broken else value).as_subclass(Loss)


def test_a_tensor_loss_is_read_back_only_when_a_snapshot_is_due():
    study = TensorLossStudy()
    study.reads = 0
    runner = Runner(study, snapshot_every=5)
    try:
        runner.reset(nan_at=7)
        runner.start()
        wait_until(lambda: runner.state == RunnerState.PAUSED)
        # Steps 1, 2, 4 (powers of two) and 5 are due; the NaN of step 7 is seen at step 10.
        assert runner.step == 10 and "nan" in runner.message.lower()
        assert study.reads == 5
        runner.reset(nan_at=-1)
        runner.step_n(3)                      # the end of a Step ×N is always checked
        wait_until(lambda: runner.step == 3 and runner.state == RunnerState.PAUSED)
        assert study.reads == 5 + 3
    finally:
        runner.stop()


def test_live_parameter_takes_effect_on_the_next_step(runner):
    runner.step_n(3)
    wait_until(lambda: runner.step == 3)
    runner.set_param("lr", 0.5)
    runner.step_n(2)
    wait_until(lambda: runner.step == 5)
    assert runner.study.lrs == [0.1, 0.1, 0.1, 0.5, 0.5]


def test_non_live_parameter_is_refused_with_a_message_and_training_goes_on(runner):
    runner.set_param("size", 9)
    wait_until(lambda: "Reset" in runner.message)
    assert runner.study.config.size == 4
    runner.set_param("lr", -1.0)  # out of bounds
    wait_until(lambda: "lr" in runner.message)
    runner.step_n(2)
    wait_until(lambda: runner.step == 2)
    assert runner.study.lrs == [0.1, 0.1]


def test_snapshots_follow_schedule_and_history_records_them(runner):
    runner.observe_inline = True  # record every due step (the CLI's mode)
    runner.step_n(20)
    wait_until(lambda: runner.step == 20)
    steps = [int(r["step"]) for r in runner.history.since(0)]
    assert steps == [0, 1, 2, 4, 5, 10, 15, 20]  # powers of two before `snapshot_every`, then every 5


def test_stop_ends_the_thread():
    r = Runner(FakeStudy())
    r.start()
    wait_until(lambda: r.step > 0)
    thread = r._thread
    r.stop()
    assert not thread.is_alive() and r.state == RunnerState.STOPPED
    with pytest.raises(RuntimeError):
        r.start()


def test_training_never_waits_for_a_slow_observer():
    release = threading.Event()

    class SlowToObserve(FakeStudy):
        def observe(self, count):
            release.wait(10)
            return super().observe(count)

    r = Runner(SlowToObserve(), snapshot_every=1)
    r.start()
    # The observer is stuck on the first capture, yet the training thread keeps stepping.
    wait_until(lambda: r.step > 200)
    assert r.mailbox.peek() is None
    release.set()
    wait_until(lambda: r.mailbox.peek() is not None)
    r.stop()


def test_an_exception_while_observing_becomes_the_error_state():
    class BrokenObserver(FakeStudy):
        def observe(self, count):
            if count >= 5:
                raise KeyError("no such metric")
            return super().observe(count)

    r = Runner(BrokenObserver(), snapshot_every=5)
    r.start()
    wait_until(lambda: r.state == RunnerState.ERROR)
    assert "no such metric" in r.message
    r.stop()


def test_run_headless_matches_background_recording():
    r = Runner(FakeStudy(), snapshot_every=5)
    snap = r.run_headless(12)
    assert snap.step == 12 and r.state == RunnerState.PAUSED
    assert r._thread is None


def test_steps_per_second_is_positive_while_running(runner):
    runner.start()
    wait_until(lambda: runner.steps_per_second > 0)
    runner.pause()
    wait_until(lambda: runner.state == RunnerState.PAUSED)
    assert runner.steps_per_second == 0.0


def test_mailbox_latest_wins():
    box = Mailbox()
    for step in range(5):
        box.put(Snapshot(run_id=1, step=step))
    assert box.peek().step == 4


def test_snapshot_is_frozen_numpy_only():
    snap = Snapshot(run_id=1, step=0, arrays={"w": np.zeros(3)})
    with pytest.raises(ValueError):
        snap.arrays["w"][0] = 1.0
    with pytest.raises(TypeError, match="not numpy"):
        Snapshot(run_id=1, step=0, arrays={"w": torch.zeros(3)})


def test_commands_from_many_threads_are_all_applied(runner):
    threads = [threading.Thread(target=runner.step_n, args=(5,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_until(lambda: runner.step == 40)


def test_loading_a_run_with_bad_settings_keeps_the_current_run(runner):
    from sandbox.runtime.store import RunRecord
    runner.step_n(3)
    wait_until(lambda: runner.step == 3)
    runner.load(RunRecord(study="fake", preset="default", params={"size": 13}, rows=[], snapshots=[]))
    wait_until(lambda: "Could not load" in runner.message)
    assert "unlucky" in runner.message and runner.step == 3


def test_a_fast_run_is_snapshotted_at_most_every_min_interval_in_the_background():
    runner = Runner(FakeStudy(), snapshot_every=5, min_interval_s=0.2)
    try:
        runner.start()
        wait_until(lambda: runner.step > 0)
        started = time.perf_counter()
        wait_until(lambda: time.perf_counter() - started > 1.0 and runner.step > 2000)
        runner.pause()
        wait_until(lambda: runner.state == RunnerState.PAUSED)
        elapsed = time.perf_counter() - started
        wait_until(lambda: runner.mailbox.peek().step == runner.step)      # the pause's own snapshot
        steps = [row["step"] for row in runner.history.since(0)]
        assert steps[0] == 0.0
        later = [s for s in steps[1:-1] if s >= 5]
        assert 1 <= len(later) <= elapsed / 0.2 + 2, (len(later), elapsed)
        assert steps[-1] == runner.step                      # the pause is always shown
    finally:
        runner.stop()


@pytest.mark.parametrize("fault, state, says", [("exception@4", RunnerState.ERROR, "injected fault at step 4"),
                                                  ("nan@4", RunnerState.PAUSED, "Loss became nan at step 4")])
def test_an_injected_fault_is_reported_and_reset_recovers(monkeypatch, fault, state, says):
    monkeypatch.setenv("SANDBOX_INJECT_FAULT", fault)
    runner = Runner(FakeStudy(), snapshot_every=5)
    try:
        runner.start()
        wait_until(lambda: runner.state == state)
        assert says in runner.message and runner.alive
        runner.reset()
        runner.step_n(10)                     # the fault fired once: the new run passes step 4
        wait_until(lambda: runner.step == 10 and runner.state == RunnerState.PAUSED)
        assert runner.message == ""
    finally:
        runner.stop()


def test_a_malformed_fault_hook_is_refused(monkeypatch):
    monkeypatch.setenv("SANDBOX_INJECT_FAULT", "crash@x")
    with pytest.raises(ValueError, match="exception@30"):
        Runner(FakeStudy())


def test_a_runner_reports_adams_preconditioned_sharpness_not_the_raw_one():
    """The tracker needs the optimizer's state with the weights: without it an Adam run's edge-of-stability
    panel fell back to gradient descent's (preconditioned = raw λ_max, edge 2/lr)."""
    import math

    from sandbox.studies.grokking import GrokkingStudy

    runner = Runner(GrokkingStudy(preset="fast", p=11, width=16, device="cpu"), snapshot_every=10,
                    observe_inline=True, landscape=True)
    try:
        rows = []
        for _ in range(10):          # a surface computed meanwhile is reported by the next snapshot
            runner.run_headless(10)
            assert runner.landscape.wait_idle(30)
            rows = [r for r in runner.history.since(0) if "landscape.preconditioned_sharpness" in r]
            if rows:
                break
        assert rows, "no surface reported a sharpness"
        last = rows[-1]
        lr = runner.study.config.lr
        assert math.isclose(last["landscape.stability_edge"], 38 / lr, rel_tol=1e-6)
        assert not math.isclose(last["landscape.preconditioned_sharpness"], last["landscape.sharpness"], rel_tol=0.1)
    finally:
        runner.stop()


class Animated(FakeStudy):
    """A study paced like an animation: a frame far longer than any test waits."""
    step_period = 60.0


def test_a_paced_study_waits_for_its_next_frame_but_takes_a_pause_at_once():
    runner = Runner(Animated(), snapshot_every=5)
    try:
        runner.start()
        wait_until(lambda: runner.step == 1)              # the first frame; the next is a minute away
        runner.pause()                                    # the wait for it must not hold the pause
        wait_until(lambda: runner.state == RunnerState.PAUSED, timeout=10)
        assert runner.step == 1
        runner.step_n(1)                                  # Step ×N follows the same frames
        wait_until(lambda: runner.step == 2, timeout=10)
    finally:
        runner.stop()


def test_a_headless_run_never_waits_for_frames():
    runner = Runner(Animated(), snapshot_every=5)
    runner.run_headless(3)                                # three minutes if it waited
    assert runner.step == 3
