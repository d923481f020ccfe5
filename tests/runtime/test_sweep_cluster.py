"""What a sweep's Dask cluster may do to the server: a point's result is never unpickled on it, and
the workers' scratch space stays inside the sweep (or a temporary directory removed afterwards).
Each test starts a one-worker LocalCluster with worker processes (in-process workers hand objects
over without serialising them, which would test nothing).
Run: pytest tests/runtime/test_sweep_cluster.py"""
import os
import tempfile
from pathlib import Path

import pytest

from sandbox.runtime.sweep import Measure, Sweep, SweepSpec


def _mark(path: str) -> int:
    Path(path).write_text(str(os.getpid()))     # which process unpickled it
    return 0


class Payload:
    """What a hostile worker would send back: unpickling it calls `_mark`."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return _mark, (self.marker,)


def payload_point(preset: str, values: dict, steps: int) -> dict:
    """Point 0 measures honestly; point 1 hands back the payload in place of a number."""
    return {"value": 1.0} if values["x"] == 0 else {"value": Payload(values["marker"])}


def plain_point(preset: str, values: dict, steps: int) -> dict:
    return {"value": float(values["x"])}


PAYLOAD = Measure(payload_point, "value", "payload")
PLAIN = Measure(plain_point, "value", "plain")


def test_a_result_that_runs_code_when_unpickled_is_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "unpickled"
    spec = SweepSpec("payload", "none", {"x": [0, 1]}, fixed={"marker": str(marker)}, measure=PAYLOAD)
    sweep = Sweep(spec, n_workers=1).start()
    assert sweep.wait(60) and sweep.state == "done", sweep.message
    assert not marker.exists(), f"process {marker.read_text()} unpickled a worker's result"
    # The honest point still arrives (plain floats need no pickle); the other is an error of its own.
    assert sweep.results[(0,)]["value"] == 1.0 and "error" in sweep.results[(1,)]
    assert len(sweep.errors) == 1 and sweep.outcome[0, 0] == 1.0


@pytest.mark.parametrize("stored", [True, False], ids=["in the run store", "without a run store"])
def test_the_workers_scratch_space_is_not_left_in_the_system_temp_dir(tmp_path, monkeypatch, stored):
    """Dask's default is <tmp>/dask-scratch-space, shared by every Dask on the machine and never removed."""
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(system_tmp))                 # the worker processes' temp dir
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))     # this process's (the nannies')
    runs = tmp_path / "runs" if stored else None
    sweep = Sweep(SweepSpec("plain", "none", {"x": [0, 1]}, measure=PLAIN), n_workers=1, runs_root=runs, name="scratch").start()
    assert sweep.wait(60) and sweep.state == "done", sweep.message
    assert sweep.outcome.tolist() == [[0.0, 1.0]]
    assert not (system_tmp / "dask-scratch-space").exists()
    assert not [p.name for p in system_tmp.iterdir() if p.name.startswith("sandbox-sweep")], "a scratch dir was left"
    if stored:   # the sweep's directory holds its record, and its scratch space is gone with the cluster
        assert [p.name for p in (runs / "sweeps" / "scratch").iterdir()] == ["sweep.json"]
