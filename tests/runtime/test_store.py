"""Run store: round trip, atomic writes, clear errors, no pickle. Run: pytest tests/runtime/test_store.py"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from sandbox.runtime import Snapshot
from sandbox.runtime.store import RunRecord, RunStoreError, list_runs, load_run, run_dir, save_run


class NotATensor:
    pass


def record(**kw):
    snaps = [Snapshot(run_id=3, step=s, scalars={"loss.train": 1.0 / (s + 1)},
                      arrays={"w": np.arange(4, dtype=np.float32) * s}) for s in (0, 10, 20)]
    base = dict(study="fake", preset="default", params={"lr": 0.1, "size": 4},
                rows=[{"step": 0.0, "loss.train": 1.0}, {"step": 10.0, "loss.train": 0.1, "acc": 0.5}],
                snapshots=snaps, state={"model": {"w": torch.ones(2, 2)}})
    base.update(kw)
    return RunRecord(**base)


def test_round_trip(tmp_path):
    path = save_run(tmp_path, record(), name="r1")
    loaded = load_run(path, expect_study="fake")
    assert loaded.params == {"lr": 0.1, "size": 4} and loaded.preset == "default"
    assert loaded.rows == [{"step": 0.0, "loss.train": 1.0}, {"step": 10.0, "loss.train": 0.1, "acc": 0.5}]
    assert [s.step for s in loaded.snapshots] == [0, 10, 20]
    np.testing.assert_array_equal(loaded.snapshots[2].arrays["w"], np.arange(4) * 20)
    assert loaded.snapshots[1].scalars["loss.train"] == pytest.approx(1 / 11)
    assert torch.equal(loaded.state["model"]["w"], torch.ones(2, 2))
    assert list_runs(tmp_path, "fake") == ["r1"]


def test_failed_save_leaves_no_directory_behind(tmp_path):
    bad = record(snapshots=[Snapshot(run_id=1, step=0, arrays={"w": np.zeros(2)})], state={"x": (i for i in range(3))})
    with pytest.raises(TypeError):  # a generator cannot be saved: the save fails half-way
        save_run(tmp_path, bad, name="broken")
    assert os.listdir(tmp_path / "fake") == []
    assert list_runs(tmp_path, "fake") == []


def test_names_cannot_escape_the_root(tmp_path):
    for name in ("../evil", "a/b", "..", ""):
        with pytest.raises(RunStoreError):
            run_dir(tmp_path, "fake", name)
    with pytest.raises(RunStoreError):
        save_run(tmp_path, record(study="../x"))


def test_missing_or_foreign_or_damaged_runs_give_clear_errors(tmp_path):
    with pytest.raises(RunStoreError, match="not a saved run"):
        load_run(tmp_path)
    path = save_run(tmp_path, record(), name="r1")
    with pytest.raises(RunStoreError, match="not a 'grokking' run"):
        load_run(path, expect_study="grokking")
    (path / "config.json").write_text(json.dumps({"format": "other/9"}))
    with pytest.raises(RunStoreError, match="not written by this sandbox"):
        load_run(path)
    (path / "config.json").write_text("{not json")
    with pytest.raises(RunStoreError, match="damaged"):
        load_run(path)


def test_pickled_arrays_and_state_are_refused(tmp_path):
    path = save_run(tmp_path, record(), name="r1")
    np.savez(path / "snapshots" / "step_000000030.npz", w=np.array([{"a": 1}], dtype=object))
    with pytest.raises(RunStoreError, match="npz"):
        load_run(path)
    os.remove(path / "snapshots" / "step_000000030.npz")
    torch.save({"obj": NotATensor()}, path / "state.pt")  # needs full unpickling to load
    with pytest.raises(RunStoreError, match="state.pt"):
        load_run(path)


SLOW_SAVE = """
import sys, time
import numpy as np
from sandbox.runtime import store
from sandbox.runtime.snapshot import Snapshot
from sandbox.runtime.store import RunRecord, save_run

def slow(target, snap, _write=store.write_snapshot):
    _write(target, snap)
    print("wrote", snap.step, flush=True)
    time.sleep(0.2)

store.write_snapshot = slow
snaps = [Snapshot(run_id=1, step=s, scalars={"loss": 1.0}, arrays={"w": np.zeros(1000)}) for s in range(100)]
save_run(sys.argv[1], RunRecord(study="fake", preset="", params={}, rows=[{"step": 0.0}], snapshots=snaps), name="r1")
"""


def test_a_process_killed_mid_save_leaves_no_half_written_run(tmp_path):
    """SIGKILL (no cleanup runs) while the snapshots are being written: no run appears; the old
    run of that name is intact; the next save of it works."""
    good = save_run(tmp_path, record(), name="r1")
    before = load_run(good)
    child = subprocess.Popen([sys.executable, "-c", SLOW_SAVE, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2])
    assert child.stdout.readline().startswith("wrote")      # mid-save: files are being written
    child.kill()
    child.wait(10)
    assert list_runs(tmp_path, "fake") == ["r1"]
    again = load_run(good)
    assert again.rows == before.rows and len(again.snapshots) == len(before.snapshots)
    leftovers = [p.name for p in (tmp_path / "fake").iterdir() if p.name != "r1"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".r1.")       # hidden, never listed
    save_run(tmp_path, record(), name="r1")
    assert list_runs(tmp_path, "fake") == ["r1"]


def test_every_preset_of_every_study_makes_a_run_name_the_store_accepts(tmp_path):
    """Presets are named for people ("8 gaussians", "Zipf α = 1.5"); a run's default name is a slug
    of it, which the name check takes (it refused most presets before)."""
    from sandbox.runtime.store import new_run_name
    from sandbox.studies import STUDIES

    for study in STUDIES.values():
        for preset in study.PRESETS:
            name = new_run_name(preset)
            assert run_dir(tmp_path, study.name, name).name == name
            assert not name.startswith(".") and "--" not in name, name


def test_a_run_name_keeps_what_a_person_would_recognise():
    from sandbox.runtime.store import slug

    assert slug("Zipf α = 1.5") == "Zipf-1.5"
    assert slug("three directions: directional + pairing") == "three-directions-directional-pairing"
    assert slug("dense n = 3, overloaded") == "dense-n-3-overloaded"
    assert slug("..") == "" and slug("fast") == "fast"
