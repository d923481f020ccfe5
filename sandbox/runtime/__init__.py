"""Runs a study in a background thread and hands snapshots across the thread boundary."""
from .snapshot import Snapshot, Mailbox
from .history import History, SnapshotRing
from .runner import Runner, RunnerState

__all__ = ["Snapshot", "Mailbox", "History", "SnapshotRing", "Runner", "RunnerState"]
