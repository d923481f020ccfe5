"""The server-wide cap on runs training at once. Run: pytest tests/runtime/test_slots.py"""
import pytest

from sandbox.runtime import Runner, RunnerState
from sandbox.runtime.slots import TrainerSlots, default_capacity
from tests.conftest import FakeStudy, wait_until


def test_slots_go_to_the_line_in_order_and_a_release_wakes_the_next():
    slots, woken = TrainerSlots(2), []
    assert slots.acquire("a", lambda: woken.append("a")) and slots.acquire("b", lambda: woken.append("b"))
    assert not slots.acquire("c", lambda: woken.append("c"))
    assert not slots.acquire("d", lambda: woken.append("d"))
    assert not slots.acquire("c", lambda: woken.append("c"))       # asking again keeps its place
    assert (slots.position("c"), slots.position("d"), slots.waiting) == (1, 2, 2)
    slots.release("d")                                              # leaves the line: no slot freed
    assert woken == [] and slots.waiting == 1
    slots.release("a")
    assert woken == ["c"] and slots.holds("c") and slots.training == 2 and slots.position("c") == 0
    slots.release("nobody")                                         # harmless
    assert slots.training == 2


def test_a_newcomer_does_not_jump_the_line():
    slots = TrainerSlots(1)
    assert slots.acquire("a", lambda: None)
    assert not slots.acquire("b", lambda: None)
    slots._holders.clear()                # a slot free while someone waits (between release and wake)
    assert not slots.acquire("c", lambda: None)


def test_capacity_comes_from_the_environment_and_bad_values_are_refused(monkeypatch):
    monkeypatch.setenv("SANDBOX_MAX_TRAINERS", "3")
    assert default_capacity() == 3
    monkeypatch.setenv("SANDBOX_MAX_TRAINERS", "lots")
    with pytest.raises(ValueError, match="whole number"):
        default_capacity()
    monkeypatch.delenv("SANDBOX_MAX_TRAINERS")
    assert default_capacity() >= 2
    with pytest.raises(ValueError):
        TrainerSlots(0)


@pytest.fixture
def runners():
    slots = TrainerSlots(2)
    made = [Runner(FakeStudy(), snapshot_every=5, slots=slots) for _ in range(4)]
    yield slots, made
    for r in made:
        r.stop()


def test_runs_past_the_cap_wait_queued_and_start_by_themselves(runners):
    slots, (a, b, c, d) = runners
    a.start(), b.start()
    wait_until(lambda: a.step > 5 and b.step > 5)
    c.start(), d.start()
    wait_until(lambda: c.state == d.state == RunnerState.QUEUED)
    assert c.step == d.step == 0 and "Queued" in c.message and "busy (2 at a time)" in c.message
    # The line is in the order their threads asked for a slot.
    assert sorted((c.queue_position, d.queue_position)) == [1, 2]
    first, second = (c, d) if c.queue_position == 1 else (d, c)
    a.pause()                                                       # frees a slot: the first in line starts
    wait_until(lambda: first.state == RunnerState.RUNNING and first.step > 5)
    assert first.message == "" and second.state == RunnerState.QUEUED and second.queue_position == 1
    second.pause()                                                  # leaves the line
    wait_until(lambda: second.state == RunnerState.PAUSED)
    assert second.message == "" and slots.waiting == 0 and second.step == 0
    b.stop()                                                        # a closed tab frees its slot too
    assert slots.training == 1
    a.start()
    wait_until(lambda: a.state == RunnerState.RUNNING)
    assert slots.training == 2


def test_a_queued_step_n_runs_its_steps_and_stays_paused(runners):
    slots, (a, b, c, _) = runners
    a.start(), b.start()
    wait_until(lambda: slots.training == 2)
    c.step_n(7)
    wait_until(lambda: c.state == RunnerState.QUEUED)
    b.pause()
    wait_until(lambda: c.step == 7 and c.state == RunnerState.PAUSED)
    wait_until(lambda: slots.training == 1)                         # given back when the steps are done


def test_errors_and_resets_give_the_slot_back(runners):
    slots, (a, b, c, _) = runners
    a.reset(fail_at=3)
    a.start(), b.start()
    wait_until(lambda: a.state == RunnerState.ERROR)
    wait_until(lambda: slots.training == 1)
    c.start()
    wait_until(lambda: c.state == RunnerState.RUNNING)
    c.reset()                                                       # a reset leaves it idle: slot freed
    wait_until(lambda: c.state == RunnerState.IDLE and slots.training == 1)
