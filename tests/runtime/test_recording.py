"""Recording: a run's history, snapshot ring and newest snapshot, and its round trip through a RunRecord."""
import numpy as np

from sandbox.runtime.recording import Recording
from tests.conftest import FakeStudy


def test_an_observation_lands_in_the_history_the_ring_and_the_mailbox():
    rec = Recording()
    first = rec.add(1, 10, {"loss": 2.0}, {"w": np.zeros(3)})
    second = rec.add(1, 10, {"loss": 1.5}, {"w": np.ones(3)})       # the same step again: a new serial
    assert second.serial > first.serial and rec.mailbox.peek() is second
    assert [row["loss"] for row in rec.history.since(0)] == [2.0, 1.5]
    assert rec.ring.at(10) is second


def test_a_saved_run_comes_back_as_the_new_run_with_its_newest_snapshot_shown():
    study = FakeStudy()
    study.build()
    rec = Recording()
    for step in (0, 5, 10):
        rec.add(1, step, {"loss": 1.0 / (step + 1)}, {"w": np.full(2, step)})
    readers = (rec.mailbox, rec.history, rec.ring)
    record = rec.to_record(study)
    rec.add(1, 15, {"loss": 0.01}, {"w": np.zeros(2)})             # the run went on after saving

    assert rec.restore(record, run_id=2) == 10
    assert (rec.mailbox, rec.history, rec.ring) == readers          # the views' objects stay
    assert [row["step"] for row in rec.history.since(0)] == [0, 5, 10]
    shown = rec.mailbox.peek()
    assert (shown.run_id, shown.step) == (2, 10) and np.array_equal(shown.arrays["w"], [10, 10])
    assert rec.ring.steps() == [0, 5, 10]


def test_clear_empties_everything_for_a_new_run():
    rec = Recording()
    rec.add(1, 3, {"loss": 1.0}, {})
    rec.clear()
    assert rec.mailbox.peek() is None and rec.history.since(0) == [] and rec.ring.steps() == []
