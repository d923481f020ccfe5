"""Recording: what a run has recorded and what its views read: the newest snapshot (a one-slot,
latest-wins Mailbox), the metric history, and the ring of snapshots behind the time slider.

The Runner decides when to record and owns the model; this holds the data, and turns it into a
RunRecord for saving and back again on loading.
"""
from __future__ import annotations

from .history import History, SnapshotRing
from .snapshot import Mailbox, Snapshot
from .store import RunRecord


class Recording:
    def __init__(self, history_rows: int = 20_000, ring_capacity: int = 120):
        self.mailbox = Mailbox()
        self.history = History(max_rows=history_rows)
        self.ring = SnapshotRing(capacity=ring_capacity)
        self._serial = 0

    def clear(self) -> None:
        """A new run: nothing recorded yet (the readers keep the same objects)."""
        self.history.clear()
        self.ring.clear()
        self.mailbox.clear()

    def stamp(self, run_id: int, step: int, scalars, arrays) -> Snapshot:
        """A Snapshot with the next serial: views show it even at a step they have shown."""
        self._serial += 1
        return Snapshot(run_id=run_id, step=step, scalars=scalars, arrays=arrays, serial=self._serial)

    def add(self, run_id: int, step: int, scalars, arrays) -> Snapshot:
        """Record an observation: a history row, a ring entry, and the newest snapshot."""
        snap = self.stamp(run_id, step, scalars, arrays)
        self.history.append({"step": float(step), **snap.scalars})
        self.ring.add(snap)
        self.mailbox.put(snap)
        return snap

    def to_record(self, study) -> RunRecord:
        """The run as a RunRecord: the study's settings and weights (read now), and everything recorded."""
        return RunRecord(study=study.name, preset=study.preset, params=study.config.values(),
                         rows=self.history.since(0), snapshots=self.ring.items(), state=study.state_dict())

    def restore(self, record: RunRecord, run_id: int) -> int:
        """Replace what is recorded with a saved run's rows and snapshots (as run `run_id`); the newest
        becomes the one shown. Returns the run's last step."""
        self.clear()
        for row in record.rows:
            self.history.append(row)
        for old in record.snapshots:
            self.ring.add(self.stamp(run_id, old.step, old.scalars, old.arrays))
        step = int(record.rows[-1]["step"]) if record.rows else 0
        last = self.ring.at(step)
        if last is not None:
            self.mailbox.put(last)
        return step
