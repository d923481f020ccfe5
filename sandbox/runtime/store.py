"""The run store: a run as plain files, written atomically, read back without pickle.

    <root>/<study>/<run>/config.json         study, preset, parameters, format tag
                        metrics.csv          one row per recorded step
                        snapshots/step_<n>.npz   arrays + scalars of recorded snapshots
                        state.pt             model (and optimiser) tensors, weights_only

A run directory is first written under a temporary name and renamed when complete, so a
crash mid-save never leaves a half-written run where a reader would find it.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import torch

from .snapshot import Snapshot

FORMAT = "sandbox-run/1"
_SCALAR = "scalar:"
_NAME_OK = re.compile(r"^[A-Za-z0-9_.-]+$")


class RunStoreError(ValueError):
    """A run directory is missing, damaged, or not one of ours."""


@dataclass
class RunRecord:
    study: str
    preset: str
    params: dict
    rows: list[dict[str, float]]
    snapshots: list[Snapshot]
    state: dict = field(default_factory=dict)
    path: Path | None = None


def slug(text: str) -> str:
    """`text` as a name the store takes: accents dropped, every other run of characters a '-'
    ("Zipf α = 1.5" → "Zipf-1.5"); may be empty."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9_.]+", "-", plain).strip("-.")


def new_run_name(preset: str = "") -> str:
    """A time stamp, then the preset's slug: presets are named for people, runs for the store."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    tail = slug(preset)
    return f"{stamp}-{tail}" if tail else stamp


def _check_name(name: str, what: str) -> str:
    if not _NAME_OK.match(name) or name in (".", ".."):
        raise RunStoreError(f"{what} {name!r} may only hold letters, digits, '.', '_' and '-'")
    return name


def run_dir(root: str | Path, study: str, name: str) -> Path:
    """The directory of a run; names can never climb out of `root`."""
    return Path(root) / _check_name(study, "study name") / _check_name(name, "run name")


def save_run(root: str | Path, record: RunRecord, name: str | None = None) -> Path:
    name = name or new_run_name(record.preset)
    final = run_dir(root, record.study, name)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".tmp", dir=final.parent))
    replaced = None
    try:
        (tmp / "config.json").write_text(json.dumps(
            {"format": FORMAT, "study": record.study, "preset": record.preset, "params": record.params},
            indent=2, default=str))
        with open(tmp / "metrics.csv", "w", newline="") as handle:
            write_metrics(handle, record.rows)
        (tmp / "snapshots").mkdir()
        for snap in record.snapshots:
            write_snapshot(tmp / "snapshots" / f"step_{snap.step:09d}.npz", snap)
        if record.state:
            torch.save(record.state, tmp / "state.pt")
        if final.exists():   # moved aside, not deleted first: a crash here keeps the old run (hidden)
            replaced = final.with_name(f"{tmp.name}.replaced")
            os.replace(final, replaced)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if replaced is not None and not final.exists():
            os.replace(replaced, final)     # the new run did not land: the old one comes back
        raise
    if replaced is not None:
        shutil.rmtree(replaced, ignore_errors=True)
    return final


def write_metrics(handle: IO[str], rows: list[dict[str, float]]) -> None:
    """Metric rows as CSV (a column per metric, `step` first; blank where a row lacks one)."""
    columns: dict[str, None] = {"step": None}
    for row in rows:
        columns.update(dict.fromkeys(row))
    writer = csv.DictWriter(handle, fieldnames=list(columns))
    writer.writeheader()
    writer.writerows(rows)


def write_snapshot(target: str | Path | IO[bytes], snap: Snapshot) -> None:
    """One snapshot as a compressed npz: its arrays, and its scalars under `scalar:<name>`."""
    payload = dict(snap.arrays)
    payload.update({_SCALAR + k: np.asarray(v, dtype=np.float64) for k, v in snap.scalars.items()})
    np.savez_compressed(target, **payload)


def list_runs(root: str | Path, study: str) -> list[str]:
    """Complete runs of a study, newest first (temporary directories are skipped)."""
    folder = Path(root) / _check_name(study, "study name")
    if not folder.is_dir():
        return []
    names = [p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")
             and (p / "config.json").is_file()]
    return sorted(names, reverse=True)


def load_run(path: str | Path, expect_study: str | None = None) -> RunRecord:
    path = Path(path)
    config_path = path / "config.json"
    if not config_path.is_file():
        raise RunStoreError(f"{path} is not a saved run (no config.json)")
    try:
        config = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunStoreError(f"{config_path} is damaged: {exc}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise RunStoreError(f"{path} was not written by this sandbox (format {config.get('format') if isinstance(config, dict) else None!r})")
    study = config.get("study")
    if expect_study is not None and study != expect_study:
        raise RunStoreError(f"{path} is a {study!r} run, not a {expect_study!r} run")
    rows = _read_metrics(path / "metrics.csv")
    snapshots = [_read_snapshot(f) for f in sorted((path / "snapshots").glob("step_*.npz"))]
    state = {}
    if (path / "state.pt").is_file():
        try:
            state = torch.load(path / "state.pt", map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a damaged run
            raise RunStoreError(f"{path / 'state.pt'} is damaged or not plain tensors: {exc}") from None
    return RunRecord(study=study, preset=config.get("preset", ""), params=dict(config.get("params", {})),
                     rows=rows, snapshots=snapshots, state=state, path=path)


def _read_metrics(path: Path) -> list[dict[str, float]]:
    if not path.is_file():
        raise RunStoreError(f"{path} is missing")
    try:
        with open(path, newline="") as handle:
            return [{k: float(v) for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(handle)]
    except (ValueError, csv.Error, UnicodeDecodeError) as exc:
        raise RunStoreError(f"{path} is damaged: {exc}") from None


def _read_snapshot(path: Path) -> Snapshot:
    step = int(path.stem.split("_")[1])
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files if not k.startswith(_SCALAR)}
            scalars = {k[len(_SCALAR):]: float(data[k]) for k in data.files if k.startswith(_SCALAR)}
    except Exception as exc:  # noqa: BLE001 - zip, pickle and format errors alike
        raise RunStoreError(f"{path} is damaged or not a plain npz: {exc}") from None
    return Snapshot(run_id=0, step=step, scalars=scalars, arrays=arrays)
