"""History and SnapshotRing stay bounded and span the whole run. Run: pytest tests/runtime/test_history.py"""
from sandbox.runtime import History, Snapshot, SnapshotRing


def test_ring_is_bounded_and_keeps_first_and_newest():
    ring = SnapshotRing(capacity=10)
    for step in range(0, 1000, 10):
        ring.add(Snapshot(run_id=1, step=step))
    steps = ring.steps()
    assert len(steps) <= 10
    assert steps[0] == 0 and steps[-1] == 990
    assert steps == sorted(steps)


def test_ring_at_returns_nearest_recorded_step():
    ring = SnapshotRing(capacity=10)
    for step in (0, 10, 20, 40):
        ring.add(Snapshot(run_id=1, step=step))
    assert ring.at(13).step == 10
    assert ring.at(31).step == 40
    assert ring.at(10_000).step == 40


def test_history_since_streams_only_new_rows_and_thins_when_full():
    history = History(max_rows=8)
    for step in range(8):
        history.append({"step": step})
    assert [r["step"] for r in history.since(6)] == [6, 7]
    version = history.version
    history.append({"step": 8})
    assert history.version == version + 1
    assert [r["step"] for r in history.since(0)] == [0, 2, 4, 6, 8]
