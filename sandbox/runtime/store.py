"""The run store: a run as plain files, written atomically, read back without pickle.

    <root>/<study>/<run>/config.json         study, preset, parameters, format tag
                        metrics.csv          one row per recorded step
                        snapshots/step_<n>.npz   arrays + scalars of recorded snapshots
                        state.pt             model (and optimiser) tensors, weights_only

A run directory is first written under a temporary name and renamed when complete, so a
crash mid-save never leaves a half-written run where a reader would find it.

A run may come from anyone (a file handed over, a directory copied in), so reading one checks
before it allocates: file sizes, the sizes an npz's zip directory and .npy headers declare, row
and snapshot counts. Nothing in `runs/` is followed through a symlink, for reading or writing.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import stat
import tempfile
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import torch

from .snapshot import Snapshot

FORMAT = "sandbox-run/1"
_SCALAR = "scalar:"
_NAME_OK = re.compile(r"^[A-Za-z0-9_.-]+$")
_SNAPSHOT_NAME = re.compile(r"^step_(\d{1,12})\.npz$")

# Limits on what a loaded run may hold, checked before anything is read into memory. Each is far
# above what this sandbox saves, so only a damaged or hostile file meets one.
MAX_CONFIG_BYTES = 1 << 20          # a config is a few kB; json's parser has no limit of its own
MAX_METRICS_BYTES = 32 << 20        # the History keeps 20,000 rows: ~12 MB of CSV with 30 metrics
MAX_ROWS = 50_000                   # 2.5x the History's rows; more would be dropped on load anyway
MAX_SNAPSHOTS = 1_000               # the app's ring keeps 120, the CLI's --keep 60 by default
MAX_ARRAYS_PER_SNAPSHOT = 256       # a snapshot has a few dozen keys
MAX_STATE_BYTES = 256 << 20         # weights + optimiser of the largest preset are a few MB
MAX_RUN_BYTES = 384 << 20           # everything a run expands to in memory; a full ring is < 100 MB
MAX_PARAM_ITEMS = 10_000            # list settings (drawn blobs, flipped units) hold a few dozen


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


def checked_name(name: str, what: str) -> str:
    """`name` if it is safe as one path component (study, run or sweep name); RunStoreError otherwise,
    naming it as `what`."""
    if not _NAME_OK.match(name) or name in (".", ".."):
        raise RunStoreError(f"{what} {name!r} may only hold letters, digits, '.', '_' and '-'")
    return name


def run_dir(root: str | Path, study: str, name: str) -> Path:
    """The directory of a run; names can never climb out of `root`, nor can a symlink placed in it
    (a study folder or run directory that is a link is refused, for reading and writing alike)."""
    folder = Path(root) / checked_name(study, "study name")
    path = folder / checked_name(name, "run name")
    for part in (folder, path):
        if part.is_symlink():
            raise RunStoreError(f"{part} is a symlink; runs are only read and written inside {root}")
    if path.exists() and not path.resolve().is_relative_to(Path(root).resolve()):
        raise RunStoreError(f"{path} lies outside {root}")
    return path


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
    folder = Path(root) / checked_name(study, "study name")
    if folder.is_symlink() or not folder.is_dir():
        return []
    names = [p.name for p in folder.iterdir() if not p.name.startswith(".") and _is_plain(p, stat.S_ISDIR)
             and _NAME_OK.match(p.name) and _is_plain(p / "config.json", stat.S_ISREG)]
    return sorted(names, reverse=True)


def _is_plain(path: Path, kind) -> bool:
    """`path` exists, is not a symlink, and is of `kind` (stat.S_ISDIR, stat.S_ISREG)."""
    try:
        return kind(os.lstat(path).st_mode)
    except OSError:
        return False


def _open_plain(path: Path, limit: int, budget: list[int] | None = None) -> IO[bytes]:
    """`path` opened for reading if it is a regular file (never through a symlink: O_NOFOLLOW) of at
    most `limit` bytes; its size is taken from `budget` (the bytes the run may still use)."""
    try:
        # O_NONBLOCK: a FIFO in place of a file would otherwise block the open until someone writes to it.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise RunStoreError(f"{path} is missing") from None
    except OSError as exc:   # ELOOP: the last part is a symlink
        raise RunStoreError(f"{path} is a symlink or cannot be opened ({exc.strerror}); "
                            "runs are read only from plain files") from None
    handle = os.fdopen(fd, "rb")
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        handle.close()
        raise RunStoreError(f"{path} is not a plain file")
    if info.st_size > limit:
        handle.close()
        raise RunStoreError(f"{path} is too large to load ({_mb(info.st_size)}; the limit is {_mb(limit)})")
    _spend(budget, info.st_size, path)
    return handle


def _spend(budget: list[int] | None, size: int, path: Path) -> None:
    if budget is None:
        return
    budget[0] -= size
    if budget[0] < 0:
        raise RunStoreError(f"{path} takes the run past {_mb(MAX_RUN_BYTES)} in memory, the most a run may use")


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def load_run(path: str | Path, expect_study: str | None = None) -> RunRecord:
    """A saved run, read whole and checked before it is returned: a RunStoreError naming the file
    and what is wrong with it otherwise. It does not check the settings against a study (that is
    `run_checks.check_fits`, which knows the study class)."""
    path = Path(path)
    config_path = path / "config.json"
    if path.is_symlink():
        raise RunStoreError(f"{path} is a symlink; runs are only read inside the runs folder")
    if not config_path.exists() and not config_path.is_symlink():
        raise RunStoreError(f"{path} is not a saved run (no config.json)")
    budget = [MAX_RUN_BYTES]            # bytes the run may still take in memory, spent as files are checked
    config = _read_config(config_path, budget)
    study = config["study"]
    if expect_study is not None and study != expect_study:
        raise RunStoreError(f"{path} is a {study!r} run, not a {expect_study!r} run")
    rows = _read_metrics(path / "metrics.csv", budget)
    snapshots = _read_snapshots(path / "snapshots", budget)
    state = _read_state(path / "state.pt", budget)
    return RunRecord(study=study, preset=config["preset"], params=config["params"],
                     rows=rows, snapshots=snapshots, state=state, path=path)


def _read_config(path: Path, budget: list[int]) -> dict:
    with _open_plain(path, MAX_CONFIG_BYTES, budget) as handle:
        text = handle.read()
    try:
        config = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:  # deep nesting: RecursionError
        raise RunStoreError(f"{path} is damaged: {str(exc)[:200]}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        found = config.get("format") if isinstance(config, dict) else None
        raise RunStoreError(f"{path.parent} was not written by this sandbox (format {str(found)[:40]!r})")
    study, preset, params = config.get("study"), config.get("preset", ""), config.get("params", {})
    if not isinstance(study, str) or not isinstance(preset, str):
        raise RunStoreError(f"{path} is damaged: 'study' and 'preset' must be text")
    if not isinstance(params, dict):
        raise RunStoreError(f"{path} is damaged: 'params' must map setting names to values, "
                            f"not be a {type(params).__name__}")
    items = 0
    for name, value in params.items():
        items += _plain_items(value, path, name)
        if items > MAX_PARAM_ITEMS:
            raise RunStoreError(f"{path} is damaged: its settings hold more than {MAX_PARAM_ITEMS} values")
    return {"study": study, "preset": preset, "params": dict(params)}


def _plain_items(value, path: Path, name: str, depth: int = 0) -> int:
    """How many values a setting holds; a setting is a number, text, a bool, null, or a list of
    them (lists of lists at most: a drawn blob is [x, y, σ]). Mappings are no setting's value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return 1
    if isinstance(value, list) and depth < 2:
        return sum(_plain_items(item, path, name, depth + 1) for item in value)
    kind = "a nested list" if isinstance(value, list) else f"a {type(value).__name__}"
    raise RunStoreError(f"{path} is damaged: setting {name!r} is {kind}, which no setting takes")


def _read_metrics(path: Path, budget: list[int]) -> list[dict[str, float]]:
    """Every row a number per column, with a finite whole `step` (the Runner resumes from the last)."""
    rows: list[dict[str, float]] = []
    with _open_plain(path, MAX_METRICS_BYTES, budget) as handle:
        try:
            reader = csv.DictReader(io.TextIOWrapper(handle, encoding="utf-8", newline=""))
            if reader.fieldnames is not None and "step" not in reader.fieldnames:
                raise RunStoreError(f"{path} is damaged: it has no 'step' column")
            for line, row in enumerate(reader, start=2):
                if len(rows) == MAX_ROWS:
                    raise RunStoreError(f"{path} has more than {MAX_ROWS} rows, the most a run may load")
                if None in row:   # DictReader files a row's extra fields under None
                    raise RunStoreError(f"{path} is damaged: line {line} has more fields than the header")
                values = {k: float(v) for k, v in row.items() if v not in ("", None)}
                step = values.get("step")
                if step is None or not (math.isfinite(step) and step.is_integer() and 0 <= step < 2**53):
                    raise RunStoreError(f"{path} is damaged: line {line} has no whole, finite step ({row.get('step')!r})")
                rows.append(values)
        except (ValueError, csv.Error, UnicodeDecodeError) as exc:
            if isinstance(exc, RunStoreError):
                raise
            raise RunStoreError(f"{path} is damaged: {str(exc)[:200]}") from None
    return rows


def _read_snapshots(folder: Path, budget: list[int]) -> list[Snapshot]:
    """Snapshots in step order; each file named step_<n>.npz (other files are left alone)."""
    if folder.is_symlink() or folder.exists() and not folder.is_dir():
        raise RunStoreError(f"{folder} is a symlink or not a folder; snapshots are read only from a plain folder")
    if not folder.exists():
        return []
    steps = {}
    for entry in folder.iterdir():
        if entry.name.startswith("step_") and entry.name.endswith(".npz"):
            match = _SNAPSHOT_NAME.match(entry.name)
            if match is None:
                raise RunStoreError(f"{entry} is not named step_<number>.npz")
            steps[entry] = int(match.group(1))
            if len(steps) > MAX_SNAPSHOTS:
                raise RunStoreError(f"{folder} holds more than {MAX_SNAPSHOTS} snapshots, the most a run may load")
    return [_read_snapshot(entry, step, budget) for entry, step in sorted(steps.items(), key=lambda item: item[1])]


def _read_snapshot(path: Path, step: int, budget: list[int] | None = None) -> Snapshot:
    with _open_plain(path, MAX_RUN_BYTES) as handle:   # the file's size is not its size in memory: checked below
        _check_npz(handle, path, budget)
        handle.seek(0)
        try:
            with np.load(handle, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files if not k.startswith(_SCALAR)}
                scalars = {k[len(_SCALAR):]: float(data[k]) for k in data.files if k.startswith(_SCALAR)}
        except Exception as exc:  # noqa: BLE001 - zip, pickle and format errors alike
            raise RunStoreError(f"{path} is damaged or not a plain npz: {str(exc)[:200]}") from None
    return Snapshot(run_id=0, step=step, scalars=scalars, arrays=arrays)


def _check_npz(handle: IO[bytes], path: Path, budget: list[int] | None) -> None:
    """What the npz would take in memory, from its zip directory and each array's .npy header
    (read without the data): a few kB of deflate can declare gigabytes of zeros."""
    try:
        with zipfile.ZipFile(handle) as archive:
            members = archive.infolist()
            if len(members) > MAX_ARRAYS_PER_SNAPSHOT:
                raise RunStoreError(f"{path} holds {len(members)} arrays; at most {MAX_ARRAYS_PER_SNAPSHOT} load")
            for info in members:
                if not info.filename.endswith(".npy"):
                    raise RunStoreError(f"{path} is not a plain npz: it holds {info.filename[:60]!r}")
                with archive.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                                   (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                    if read_header is None:
                        raise RunStoreError(f"{path} is not a plain npz: .npy version {version}")
                    shape, _, dtype = read_header(member)
                if dtype.hasobject:
                    raise RunStoreError(f"{path} is not a plain npz: {info.filename} holds Python objects (a pickle)")
                if any(n < 0 for n in shape):
                    raise RunStoreError(f"{path} is damaged: {info.filename} has shape {shape}")
                _spend(budget if budget is not None else [MAX_RUN_BYTES], math.prod(shape) * dtype.itemsize, path)
    except RunStoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - not a zip, a bad header: a damaged file either way
        raise RunStoreError(f"{path} is damaged or not a plain npz: {str(exc)[:200]}") from None


def _read_state(path: Path, budget: list[int]) -> dict:
    """Tensors only (weights_only: nothing is unpickled), at most MAX_STATE_BYTES once unpacked."""
    if not path.exists() and not path.is_symlink():
        return {}
    with _open_plain(path, MAX_STATE_BYTES) as handle:
        size = os.fstat(handle.fileno()).st_size
        if zipfile.is_zipfile(handle):   # torch.save's format; a crafted one may compress
            try:
                with zipfile.ZipFile(handle) as archive:
                    size = sum(info.file_size for info in archive.infolist())
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                raise RunStoreError(f"{path} is damaged: {exc}") from None
        if size > MAX_STATE_BYTES:
            raise RunStoreError(f"{path} is too large to load ({_mb(size)} unpacked; the limit is {_mb(MAX_STATE_BYTES)})")
        _spend(budget, size, path)
        handle.seek(0)
        try:
            state = torch.load(handle, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a damaged run
            raise RunStoreError(f"{path} is damaged or not plain tensors: {str(exc)[:300]}") from None
    if not isinstance(state, dict):
        raise RunStoreError(f"{path} is damaged: it holds a {type(state).__name__}, not named tensors")
    return state
