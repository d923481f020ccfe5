"""Builds, observations and landscape computations take a server-wide work permit, in line, and a
closed page stops waiting at once; headless runs take none. Run: pytest tests/runtime/test_work_permits.py"""
import threading

import pytest

from sandbox.runtime import Runner, RunnerState
from sandbox.runtime.landscape import COARSE, LandscapeTracker
from sandbox.runtime.slots import NO_PERMITS, WorkPermits
from sandbox.runtime.stopping import Stopped
from tests.conftest import FakeStudy, wait_until
from tests.runtime.test_landscape_tracker import quadratic_probe, weights_at


class GatedBuild(FakeStudy):
    """build() says that it began, then waits for `release` (a slow model, under the test's control)."""

    def __init__(self, **params):
        self.began, self.release = threading.Event(), threading.Event()
        super().__init__(**params)

    def build(self):
        self.began.set()
        self.release.wait(10)
        super().build()


class Meter:
    """How many observations are inside observe() now, and the most there ever were."""

    def __init__(self):
        self.lock = threading.Lock()
        self.inside = self.peak = 0

    def enter(self):
        with self.lock:
            self.inside += 1
            self.peak = max(self.peak, self.inside)

    def leave(self):
        with self.lock:
            self.inside -= 1


class MeteredObserve(FakeStudy):
    """observe() counts itself in the meter and waits at the gate while the test holds it shut."""

    meter: Meter
    gate: threading.Event

    def observe(self, count):
        self.meter.enter()
        try:
            self.gate.wait(10)
            return super().observe(count)
        finally:
            self.meter.leave()


@pytest.fixture
def pages():
    """Runners made by the test; afterwards every gate opens and every runner stops."""
    made = []
    yield made
    for runner in made:
        for gate in ("release", "gate"):
            getattr(runner.study, gate, threading.Event()).set()
        runner.stop()


@pytest.fixture
def held():
    """Hold one permit of a pool as another page's work would, until the test lets go."""
    letting_go = []

    def hold(permits):
        holding = permits.held(threading.Event())
        holding.__enter__()
        letting_go.append(holding)
        return lambda: letting_go.remove(holding) or holding.__exit__(None, None, None)

    yield hold
    for holding in letting_go:
        holding.__exit__(None, None, None)


# ---- the pool ------------------------------------------------------------------------------------
def test_permits_go_in_the_order_asked_and_waiters_hear_their_place(held):
    permits, order, places = WorkPermits(1), [], []
    let_go = held(permits)

    def work(i):
        with permits.held(threading.Event(), waiting=lambda ahead: places.append((i, ahead))):
            order.append(i)

    threads = []
    for i in range(3):
        threads.append(threading.Thread(target=work, args=(i,)))
        threads[-1].start()
        wait_until(lambda: permits.waiting == i + 1, what=f"waiter {i} in line")
    let_go()
    for thread in threads:
        thread.join(2)
    assert order == [0, 1, 2]
    assert (0, 0) in places and (1, 1) in places and (2, 2) in places    # each heard how many were ahead
    assert permits.in_use == permits.waiting == 0


def test_a_stopped_waiter_leaves_the_line_with_stopped(held):
    permits, stop, outcome = WorkPermits(1), threading.Event(), []
    held(permits)

    def work():
        try:
            with permits.held(stop):
                outcome.append("worked")
        except Stopped:
            outcome.append("stopped")

    thread = threading.Thread(target=work)
    thread.start()
    wait_until(lambda: permits.waiting == 1)
    stop.set()
    thread.join(1.0)
    assert not thread.is_alive() and outcome == ["stopped"] and permits.waiting == 0 and permits.in_use == 1


def test_a_pool_needs_a_permit_and_the_null_pool_never_waits():
    with pytest.raises(ValueError):
        WorkPermits(0)
    with NO_PERMITS.held(threading.Event()):
        with NO_PERMITS.held(threading.Event()):    # no cap: nesting, any number at once
            pass


# ---- the runner's build ----------------------------------------------------------------------------
def test_a_second_page_is_built_only_once_the_first_build_gives_its_permit_back(pages):
    permits = WorkPermits(1)
    first, second = (Runner(GatedBuild(), permits=permits) for _ in range(2))
    pages += [first, second]
    first.refresh()
    assert first.study.began.wait(5)
    second.refresh()
    wait_until(lambda: permits.waiting == 1 or second.study.began.is_set(), what="the second build in line")
    assert not second.study.began.is_set(), "the second build began while the first held the only permit"
    assert second.message.startswith("Waiting for the server") and "1 model at a time" in second.message
    first.study.release.set()
    assert second.study.began.wait(5), "the second build never began"
    assert second.message == ""                    # cleared once the permit is its own, before the build
    second.study.release.set()
    wait_until(lambda: second.mailbox.peek() is not None and first.mailbox.peek() is not None)


def test_a_page_waiting_to_be_built_stops_within_a_second(pages, held):
    permits = WorkPermits(1)
    held(permits)                                  # another page's build holds the only permit
    runner = Runner(FakeStudy(), permits=permits)
    pages.append(runner)
    runner.refresh()
    wait_until(lambda: permits.waiting == 1 or getattr(runner.study, "builds", 0), what="the build in line")
    assert getattr(runner.study, "builds", 0) == 0, "built without a permit"
    thread = runner._thread
    runner.stop(timeout=1.0)
    assert not thread.is_alive(), "the thread still waits for a permit after stop()"
    assert runner.state == RunnerState.STOPPED and permits.waiting == 0
    assert getattr(runner.study, "builds", 0) == 0


def test_a_pool_given_after_construction_reaches_the_build_the_observer_and_the_landscape(pages, held):
    permits = WorkPermits(1)
    runner = Runner(FakeStudy(), landscape=True)    # as a controller makes it, before it knows it is served
    pages.append(runner)
    runner.permits = permits
    assert runner.landscape.permits is permits
    let_go = held(permits)
    runner.refresh()
    wait_until(lambda: permits.waiting == 1 or getattr(runner.study, "builds", 0), what="the build in line")
    assert getattr(runner.study, "builds", 0) == 0, "built without a permit"
    let_go()
    wait_until(lambda: runner.mailbox.peek() is not None)
    assert runner._observer.permits is permits


# ---- observations ----------------------------------------------------------------------------------
@pytest.mark.parametrize("capacity, count", [(1, 2), (2, 3)])
def test_observations_of_several_pages_never_overlap_beyond_the_pool(pages, capacity, count):
    permits, meter, gate = WorkPermits(capacity), Meter(), threading.Event()
    gate.set()
    for _ in range(count):
        study = MeteredObserve()
        study.meter, study.gate = meter, gate
        pages.append(Runner(study, snapshot_every=5, permits=permits))
    for runner in pages:
        runner.refresh()
    wait_until(lambda: all(r.mailbox.peek() is not None for r in pages), what="every page built and shown")
    gate.clear()                                   # observations now last until the test opens the gate
    for runner in pages:
        runner.step_n(1)
    wait_until(lambda: meter.inside == capacity and permits.waiting == count - capacity or meter.peak > capacity,
               what=f"{capacity} observing and the rest in line")
    assert meter.peak == capacity, f"{meter.peak} pages observed at once"
    gate.set()
    wait_until(lambda: all(r.mailbox.peek().step == 1 for r in pages), what="every page's step 1 shown")
    assert meter.peak == capacity


def test_an_observer_waiting_for_a_permit_stops_within_a_second(pages, held):
    permits = WorkPermits(1)
    runner = Runner(FakeStudy(), snapshot_every=5, permits=permits)
    pages.append(runner)
    runner.refresh()
    wait_until(lambda: runner.mailbox.peek() is not None)
    held(permits)
    runner.step_n(1)
    wait_until(lambda: permits.waiting == 1 or runner.mailbox.peek().step == 1, what="the observation in line")
    assert runner.mailbox.peek().step == 0, "observed without a permit"
    runner.stop(timeout=1.0)
    assert not runner._observer.alive and permits.waiting == 0


# ---- landscapes ------------------------------------------------------------------------------------
def test_a_landscape_is_computed_only_with_a_permit_and_its_wait_ends_on_stop(held):
    permits = WorkPermits(1)
    let_go = held(permits)
    tracker = LandscapeTracker(permits=permits)
    tracker.begin(1, quadratic_probe())
    try:
        tracker.record(1, 0, weights_at(0.0), lr=0.1, training=True)    # training: a coarse grid, quick
        payload = lambda: tracker.record(1, 0, weights_at(0.0), lr=0.1, training=True)  # noqa: E731 - same point again
        wait_until(lambda: permits.waiting == 1 or payload() != ({}, {}), what="the computation in line")
        assert payload() == ({}, {}), "a surface was computed without a permit"
        let_go()
        assert tracker.wait_idle(30)
        _, arrays = tracker.record(1, 0, weights_at(0.0), lr=0.1, training=True)
        assert arrays["landscape.surface"].shape == (3, COARSE, COARSE)
        held(permits)
        tracker.record(1, 5, weights_at(0.5), lr=0.1)                # paused at newer weights: a fine one is due
        wait_until(lambda: permits.waiting == 1, what="the next computation in line")
    finally:
        tracker.stop(timeout=1.0)
    assert not tracker.alive and permits.waiting == 0


# ---- headless ----------------------------------------------------------------------------------------
def test_headless_runners_take_no_permit_and_build_side_by_side(pages):
    first, second = Runner(GatedBuild()), Runner(GatedBuild())
    pages += [first, second]
    assert first.permits is NO_PERMITS
    first.refresh(), second.refresh()
    assert first.study.began.wait(5) and second.study.began.wait(5)      # both inside build() at once
    first.study.release.set(), second.study.release.set()
    wait_until(lambda: first.mailbox.peek() is not None and second.mailbox.peek() is not None)
    assert Runner(FakeStudy(), snapshot_every=5).run_headless(12).step == 12
