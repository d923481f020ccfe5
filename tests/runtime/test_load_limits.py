"""What a run handed over may not do to the reader: expand past the limits, hide tracebacks in odd
files, or lead it out of runs/ through a symlink. Run: pytest tests/runtime/test_load_limits.py"""
import json
import os
import tracemalloc
import zipfile

import numpy as np
import pytest
import torch

from sandbox.runtime import Snapshot, store
from sandbox.runtime.store import RunRecord, RunStoreError, list_runs, load_run, run_dir, save_run


def a_run(root, name="r1", study="fake"):
    snaps = [Snapshot(run_id=1, step=s, scalars={"loss": 1.0}, arrays={"w": np.ones(3)}) for s in (0, 10)]
    return save_run(root, RunRecord(study=study, preset="", params={"lr": 0.1}, rows=[{"step": 0.0}, {"step": 10.0}],
                                    snapshots=snaps, state={"w": torch.zeros(2)}), name=name)


def bomb(path, gigabytes=0.4):
    """A small npz whose one array declares `gigabytes` of zeros (deflate packs them ~1000:1): the
    .npy header is written by hand, the zeros streamed, so making it never holds them either."""
    n = int(gigabytes * 2**30)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("w.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, {"descr": "|u1", "fortran_order": False, "shape": (n,)})
            chunk = bytes(2**24)
            for _ in range(n // len(chunk)):
                member.write(chunk)


@pytest.fixture(scope="module")
def bomb_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("bomb") / "step_000000020.npz"
    bomb(path)
    return path


def test_an_npz_bomb_is_refused_from_its_headers_before_any_array_is_read(tmp_path, bomb_file, monkeypatch):
    path = a_run(tmp_path)
    for plain in (path / "snapshots").iterdir():    # the bomb alone: no array at all may be read
        plain.unlink()
    os.link(bomb_file, path / "snapshots" / bomb_file.name)
    assert (path / "snapshots" / bomb_file.name).stat().st_size < 2**20   # 0.4 GB in under 1 MB
    read = []      # np.load's array reader: the check must refuse the file before it is ever called
    real = np.lib.format.read_array
    monkeypatch.setattr(np.lib.format, "read_array", lambda *a, **k: read.append(1) or real(*a, **k))
    tracemalloc.start()
    try:
        with pytest.raises(RunStoreError, match=r"step_000000020.npz takes the run past .* MB"):
            load_run(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert read == [] and peak < 50 * 2**20


def test_a_too_large_metrics_file_is_refused_unread(tmp_path, monkeypatch):
    path = a_run(tmp_path)
    with open(path / "metrics.csv", "r+b") as handle:     # sparse: the size is there, the bytes never written
        handle.truncate(store.MAX_METRICS_BYTES + 1)
    monkeypatch.setattr(store.csv, "DictReader", lambda *a, **k: pytest.fail("read the file"))
    with pytest.raises(RunStoreError, match=r"metrics.csv is too large to load .* the limit is 32.0 MB"):
        load_run(path)


def test_too_many_rows_or_snapshots_are_refused(tmp_path, monkeypatch):
    path = a_run(tmp_path)
    monkeypatch.setattr(store, "MAX_ROWS", 1)
    with pytest.raises(RunStoreError, match="more than 1 rows"):
        load_run(path)
    monkeypatch.setattr(store, "MAX_ROWS", 10)
    monkeypatch.setattr(store, "MAX_SNAPSHOTS", 1)
    with pytest.raises(RunStoreError, match="more than 1 snapshots"):
        load_run(path)


@pytest.mark.parametrize("metrics, words", [
    ("loss\n0.5\n", "no 'step' column"),
    ("step,loss\n0,0.5\n,0.4\n", "line 3 has no whole, finite step"),
    ("step,loss\nnan,0.5\n", "line 2 has no whole, finite step"),
    ("step,loss\ninf,0.5\n", "finite step"),
    ("step,loss\n0,0.5,9\n", "more fields than the header"),
    ("step,loss\n0,abc\n", "damaged"),
])
def test_metrics_without_a_finite_step_on_every_row_are_refused(tmp_path, metrics, words):
    path = a_run(tmp_path)
    (path / "metrics.csv").write_text(metrics)
    with pytest.raises(RunStoreError, match=words):
        load_run(path)


@pytest.mark.parametrize("config, words", [
    ({"params": [1, 2]}, "'params' must map setting names to values, not be a list"),
    ({"params": {"lr": {"deep": 1}}}, "setting 'lr' is a dict"),
    ({"params": {"blobs": [[[1]]]}}, "setting 'blobs' is a nested list"),
    ({"study": ["fake"]}, "'study' and 'preset' must be text"),
])
def test_a_config_of_the_wrong_shape_is_refused_with_a_message(tmp_path, config, words):
    path = a_run(tmp_path)
    (path / "config.json").write_text(json.dumps({"format": store.FORMAT, "study": "fake", "preset": "", **config}))
    with pytest.raises(RunStoreError, match=words):
        load_run(path)


def test_deeply_nested_json_is_a_damaged_file_not_a_recursion_error(tmp_path):
    path = a_run(tmp_path)
    (path / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(RunStoreError, match="config.json is damaged"):
        load_run(path)


def test_a_snapshot_whose_name_is_not_a_step_is_refused(tmp_path):
    path = a_run(tmp_path)
    os.replace(path / "snapshots" / "step_000000010.npz", path / "snapshots" / "step_abc.npz")
    with pytest.raises(RunStoreError, match=r"step_abc.npz is not named step_<number>.npz"):
        load_run(path)


def test_a_state_that_is_not_a_mapping_of_tensors_is_refused(tmp_path):
    path = a_run(tmp_path)
    torch.save(torch.zeros(3), path / "state.pt")
    with pytest.raises(RunStoreError, match="holds a Tensor, not named tensors"):
        load_run(path)


def test_a_symlinked_run_elsewhere_is_neither_listed_nor_loaded(tmp_path):
    root, elsewhere = tmp_path / "runs", tmp_path / "elsewhere"
    a_run(root, "mine")
    outside = a_run(elsewhere, "secret")
    (root / "fake" / "linked").symlink_to(outside, target_is_directory=True)
    assert list_runs(root, "fake") == ["mine"]
    with pytest.raises(RunStoreError, match="symlink"):
        load_run(run_dir(root, "fake", "linked"))
    with pytest.raises(RunStoreError, match="symlink"):
        load_run(root / "fake" / "linked")


@pytest.mark.parametrize("part", ["config.json", "metrics.csv", "snapshots", "state.pt",
                                  "snapshots/step_000000010.npz"])
def test_a_symlinked_file_inside_a_run_is_refused(tmp_path, part):
    path, other = a_run(tmp_path / "runs"), a_run(tmp_path / "elsewhere")
    os.replace(path / part, tmp_path / "moved")
    (path / part).symlink_to(other / part)
    with pytest.raises(RunStoreError, match="symlink"):
        load_run(path)
    if part == "config.json":
        assert list_runs(tmp_path / "runs", "fake") == []


def test_a_fifo_in_place_of_a_file_is_refused_without_waiting_for_a_writer(tmp_path):
    path = a_run(tmp_path)
    os.remove(path / "metrics.csv")
    os.mkfifo(path / "metrics.csv")
    with pytest.raises(RunStoreError, match="metrics.csv is not a plain file"):
        load_run(path)


def test_saving_never_writes_through_a_symlink_in_runs(tmp_path):
    root, elsewhere = tmp_path / "runs", tmp_path / "elsewhere"
    elsewhere.mkdir()
    root.mkdir()
    (root / "fake").symlink_to(elsewhere, target_is_directory=True)       # a study folder leading out
    with pytest.raises(RunStoreError, match="symlink"):
        a_run(root)
    assert os.listdir(elsewhere) == []
    (root / "fake").unlink()
    a_run(root, "kept")
    (elsewhere / "r9").mkdir()
    (root / "fake" / "r9").symlink_to(elsewhere / "r9", target_is_directory=True)   # a run directory leading out
    with pytest.raises(RunStoreError, match="symlink"):
        a_run(root, "r9")
    assert os.listdir(elsewhere / "r9") == [] and (root / "fake" / "r9").is_symlink()


def test_a_run_within_the_limits_still_round_trips(tmp_path):
    path = a_run(tmp_path)
    loaded = load_run(path)
    assert [s.step for s in loaded.snapshots] == [0, 10] and loaded.rows[-1] == {"step": 10.0}
