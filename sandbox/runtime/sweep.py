"""Hyperparameter sweeps on Dask: a grid of points, each measured by a task on a worker, results
handed back as they finish (a phase diagram fills in point by point).

    python -m sandbox sweep grokking --grid weight_decay=0,0.5,1 train_fraction=0.2:0.6:3
    python -m sandbox sweep hopfield --grid load=0.05:0.3:6 noise=0,0.1,0.2,0.3

`LocalCluster` by default (one worker process per core, one torch thread each); pass
`scheduler="tcp://host:port"` to use a running cluster. Whoever passes it trusts that cluster with
the server: Dask's protocol lets a scheduler make its client unpickle what it sends. So the address
comes from whoever starts the process (the CLI's flag, or `SANDBOX_DASK_SCHEDULER` for the served
apps), never from a page. A point's task is a plain function of plain values (no sandbox object
crosses the wire) and returns plain floats, which come back as msgpack: the client refuses pickled
results. The sweep is saved, as it fills, to `<runs>/sweeps/<name>/sweep.json` (written atomically).
"""
from __future__ import annotations

import itertools
import json
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Callable

import numpy as np

from .store import RunStoreError, checked_name

MAX_POINTS = 400
SWEEP_FORMAT = "sandbox-sweep/1"
SCHEDULER_ENV = "SANDBOX_DASK_SCHEDULER"
# What the client decodes. A point's result is a dict of floats, which msgpack carries; "error" is
# Dask's note that a worker could not encode a result (a text, raised as TypeError). Leaving out
# "pickle" and "dask" (whose header is a pickled type) keeps a result from running code here.
RESULT_DESERIALIZERS = ("msgpack", "error")


def server_scheduler() -> str | None:
    """The scheduler for the served apps' sweeps, set by whoever starts the server (None: a
    LocalCluster on this machine). Read from the environment so that no page can choose it."""
    return os.environ.get(SCHEDULER_ENV, "").strip() or None


# ---- what one point measures -------------------------------------------------------------
@dataclass(frozen=True)
class Measure:
    """What a study's sweep measures at one point (a study's `SWEEP`): `point` runs on a worker."""
    point: Callable[..., dict]    # (preset, values, steps) -> {name: float}; floats only (see RESULT_DESERIALIZERS)
    outcome: str                  # the result the heatmap shows
    label: str
    extra_axes: dict[str, tuple[float, float]] = field(default_factory=dict)  # axes that are not config values
    default_steps: int = 0


# ---- the grid ------------------------------------------------------------------------------
def cell(index: tuple[int, ...]) -> tuple[int, int]:
    """(row, column) of a point's index in the heatmap: the first axis runs along x, the second along y."""
    return (index[1] if len(index) > 1 else 0), index[0]


class TooManyValues(ValueError):
    """An axis or a grid larger than MAX_POINTS, found before its values were made."""


def parse_axis(text: str) -> tuple[str, list]:
    """`name=v1,v2,...` or `name=start:stop:count` (evenly spaced, both ends included; whole numbers
    when both ends are whole and so is the spacing, as integer settings need).

    The sizes are checked before any value is made: the text comes from a page, and parsing runs on
    the server's one event loop (`0:1:100000000` once held it for minutes and gigabytes)."""
    name, sep, spec = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name or not spec.strip():
        raise ValueError(f"a grid axis reads name=v1,v2,... or name=start:stop:count, not {text!r}")
    try:
        values = _range(name, spec) if ":" in spec else _listed(name, spec)
    except TooManyValues:
        raise
    except ValueError:
        raise ValueError(f"cannot read the values of {name!r} in {text!r}") from None
    if not values:
        raise ValueError(f"the axis {name!r} has no values")
    return name, values


def _range(name: str, spec: str) -> list:
    start_text, stop_text, count_text = spec.split(":")
    count = int(count_text)
    if count < 1:
        raise ValueError
    if count > MAX_POINTS:
        raise TooManyValues(f"{name!r} has {count} values; a sweep has at most {MAX_POINTS} points")
    start, stop = _number(start_text), _number(stop_text)
    if not all(isinstance(v, (int, float)) for v in (start, stop)):
        raise ValueError
    if isinstance(start, int) and isinstance(stop, int) and (count == 1 or (stop - start) % (count - 1) == 0):
        spacing = (stop - start) // (count - 1) if count > 1 else 0
        return [start + i * spacing for i in range(count)]
    return [float(v) for v in np.linspace(float(start), float(stop), count)]


def _listed(name: str, spec: str) -> list:
    # Read lazily, and stop one past the limit: a list's size is known only by reading it.
    items = itertools.islice((m.group() for m in re.finditer(r"[^,]+", spec) if m.group().strip()), MAX_POINTS + 1)
    values = [_number(v) for v in items]
    if len(values) > MAX_POINTS:
        raise TooManyValues(f"{name!r} has more than {MAX_POINTS} values; a sweep has at most {MAX_POINTS} points")
    return values


def _number(text: str):
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text       # a choice, e.g. network=classical


@dataclass
class SweepSpec:
    study: str
    preset: str
    axes: dict[str, list]         # one or two axes: the first is x, the second y
    steps: int = 0
    fixed: dict = field(default_factory=dict)
    measure: Measure | None = field(default=None, compare=False, repr=False)   # the study's SWEEP; not saved

    def record(self) -> dict:
        """The spec as sweep.json holds it (the measure is the study's, named by `study`)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "measure"}

    def points(self) -> list[tuple[tuple[int, ...], dict]]:
        names = list(self.axes)
        return [(index, {**self.fixed, **{n: self.axes[n][i] for n, i in zip(names, index)}})
                for index in itertools.product(*(range(len(v)) for v in self.axes.values()))]

    def shape(self) -> tuple[int, int]:
        sizes = [len(v) for v in self.axes.values()]
        return (sizes[1] if len(sizes) > 1 else 1, sizes[0])    # (rows = y, columns = x)


def make_spec(cls, grid: list[str] | dict, preset: str | None = None, steps: int | None = None,
              fixed: dict | None = None) -> SweepSpec:
    """A checked sweep of the study class `cls` (its `SWEEP` says what a point measures): every
    point's values pass the study's own validation before any task runs."""
    study, measure = cls.name, getattr(cls, "SWEEP", None)
    if measure is None:
        raise ValueError(f"no sweep is defined for {study!r}")
    if not 1 <= len(grid) <= 2:
        raise ValueError("a sweep has one or two axes (the heatmap's x and y)")
    named = [parse_axis(a) for a in grid] if isinstance(grid, list) else [(k, list(v)) for k, v in grid.items()]
    axes = dict(named)
    if len(axes) < len(named):                   # a dict would keep the last silently
        twice = next(n for n, _ in named if sum(m == n for m, _ in named) > 1)
        raise ValueError(f"the axis {twice!r} is given twice; give each setting once")
    size = math.prod(len(v) for v in axes.values())
    if size > MAX_POINTS:          # counted, not built: the points are made only for a grid that fits
        raise TooManyValues(f"{size} points is more than {MAX_POINTS}; use fewer values")
    # Values the axes vary are not fixed ones (a sweep's record would otherwise name them twice).
    fixed = {k: v for k, v in (fixed or {}).items() if k not in axes}
    spec = SweepSpec(study, preset or cls.DEFAULT_PRESET, axes, steps or measure.default_steps, fixed, measure)
    if measure.default_steps and spec.steps < 1:
        raise ValueError("steps must be at least 1")
    for name, values in axes.items():
        if name in measure.extra_axes:
            low, high = measure.extra_axes[name]
            bad = [v for v in values if not isinstance(v, (int, float)) or not low <= v <= high]
            if bad:
                raise ValueError(f"{name} must lie in [{low}, {high}]; got {bad}")
        elif name not in cls.Config.param or name == "name":
            known = [n for n in cls.Config.param if n != "name"] + list(measure.extra_axes)
            raise ValueError(f"{name!r} is not a setting of {study}; choose from {', '.join(known)}")
    preset_values = cls.preset_values(spec.preset)
    for _, values in spec.points():
        config_values = {k: v for k, v in values.items() if k not in measure.extra_axes}
        cls.validated({**preset_values, **config_values})      # raises ValueError with the study's message
    return spec


# ---- running it ----------------------------------------------------------------------------
class Sweep:
    """Runs a spec's points as Dask tasks. A thread collects results as they finish into `outcome`
    ((rows, columns) of the measure's outcome; NaN until known) and `results`; `on_result` is called
    for each and `on_finish` once at the end (on the sweep's thread). `cancel()` drops the tasks not yet
    finished. Refuses (ValueError) a name that would leave the run store and fewer than one worker."""

    def __init__(self, spec: SweepSpec, scheduler: str | None = None, n_workers: int | None = None,
                 runs_root: str | Path | None = None, name: str | None = None,
                 on_result: Callable[[tuple, dict], None] | None = None,
                 on_finish: Callable[[], None] | None = None):
        if spec.measure is None:
            raise ValueError(f"the sweep of {spec.study!r} has no measure (make it with make_spec)")
        self.spec, self.measure = spec, spec.measure
        self.on_finish = on_finish
        if n_workers is not None and n_workers < 1:      # a LocalCluster of none would wait for ever
            raise ValueError(f"the number of workers must be at least 1, not {n_workers}")
        self.scheduler, self.n_workers = scheduler, n_workers
        self.on_result = on_result
        self.outcome = np.full(spec.shape(), np.nan)
        self.results: dict[tuple, dict] = {}
        self.errors: list[str] = []
        self.state = "idle"            # idle → running → done | cancelled | failed
        self.message = ""
        self.total = len(spec.points())
        self.name = name or time.strftime("%Y%m%d-%H%M%S") + f"-{spec.study}"
        self.path = (Path(runs_root) / "sweeps" / checked_name(self.name, "sweep name")) if runs_root else None
        self._client = self._cluster = None
        self._scratch: Path | None = None
        self._futures = {}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def finished(self) -> int:
        return len(self.results)

    def start(self) -> "Sweep":
        self.state = "running"
        self._thread = threading.Thread(target=self._collect, name="sandbox-sweep", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()

    def cancel(self) -> None:
        with self._lock:
            if self.state != "running":
                return
            self.state = "cancelled"
            pending = [f for f in self._futures if not f.done()]
        if pending and self._client is not None:
            self._client.cancel(pending)
        self.message = f"Cancelled: {self.finished} of {self.total} points were measured."

    def _connect(self):
        from dask.distributed import Client, LocalCluster

        # LocalCluster's silence_logs holds only while it starts; in a served app (logging at INFO) its
        # shutdown then logs the workers' closed connections as tracebacks. Task errors reach the sweep
        # through their futures, so Dask's own log is kept to the critical.
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        if self.scheduler:
            return Client(self.scheduler, timeout="10s", deserializers=RESULT_DESERIALIZERS), None
        workers = self.n_workers or max(1, min(self.total, os.cpu_count() or 1))
        # Workers' scratch space (Dask's default: <tmp>/dask-scratch-space, shared and never removed)
        # in a directory of this sweep's own, removed with the cluster.
        if self.path is not None:
            self.path.mkdir(parents=True, exist_ok=True)
        self._scratch = Path(tempfile.mkdtemp(prefix=".dask-" if self.path else "sandbox-sweep-", dir=self.path))
        # No dashboard, and the scheduler's own HTTP port (health checks; it opens one even without a
        # dashboard) on a free localhost port instead of 8787, which a user's own Dask may hold.
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0",
                                                 "local_directory": str(self._scratch)},   # it makes one too
                               silence_logs=logging.CRITICAL, local_directory=str(self._scratch))
        return Client(cluster, deserializers=RESULT_DESERIALIZERS), cluster

    def _collect(self) -> None:
        from dask.distributed import as_completed

        try:
            self._client, self._cluster = self._connect()
            with self._lock:
                if self.state == "cancelled":
                    return
                for index, values in self.spec.points():
                    future = self._client.submit(self.measure.point, self.spec.preset, values, self.spec.steps,
                                                 key=f"{self.name}-{'-'.join(map(str, index))}", pure=False)
                    self._futures[future] = (index, values)
            self.message = f"Running {self.total} points on {self._workers()} worker(s)."
            self._save()
            for future in as_completed(list(self._futures)):
                if self.state == "cancelled":
                    break
                index, values = self._futures[future]
                if future.status == "error":
                    self.errors.append(f"{values}: {future.exception()}")
                    result = {"error": str(future.exception())}
                elif future.status == "cancelled":
                    continue
                else:
                    try:
                        result = future.result()
                    except Exception as exc:  # noqa: BLE001 - e.g. a result that was not plain floats
                        self.errors.append(f"{values}: {_first_line(exc)}")
                        result = {"error": _first_line(exc)}
                self._record(index, values, result)
            if self.state == "running":
                self.state = "done"
                self.message = (f"Done: {self.finished} points" +
                                (f", {len(self.errors)} failed (first: {self.errors[0]})" if self.errors else "") + ".")
        except Exception as exc:  # noqa: BLE001 - a sweep that cannot run says why; the app goes on
            self.state, self.message = "failed", f"The sweep could not run: {type(exc).__name__}: {exc}"
        finally:
            self._save()
            self._shutdown()
            if self.on_finish is not None:
                self.on_finish()

    def _workers(self) -> int:
        try:
            return len(self._client.scheduler_info().get("workers", {}))
        except Exception:  # noqa: BLE001 - only for the message
            return 0

    def _record(self, index: tuple, values: dict, result: dict) -> None:
        self.results[index] = {"values": values, **result}
        self.outcome[cell(index)] = result.get(self.measure.outcome, math.nan)
        self._save()
        if self.on_result is not None:
            self.on_result(index, result)

    def _shutdown(self) -> None:
        for closable in (self._client, self._cluster):
            if closable is not None:
                try:
                    closable.close()
                except Exception:  # noqa: BLE001 - closing a cluster that is already gone
                    pass
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    # ---- the record ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"format": SWEEP_FORMAT, "spec": self.spec.record(), "outcome": self.measure.outcome,
                "label": self.measure.label, "state": self.state, "message": self.message,
                "points": [{"index": list(i), **r} for i, r in sorted(self.results.items())]}

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=self.path, prefix=".sweep.", suffix=".tmp")
        with os.fdopen(handle, "w") as out:
            json.dump(self.to_dict(), out, indent=1, default=_plain)
        os.replace(tmp, self.path / "sweep.json")      # a reader never sees half a file


def _first_line(exc: BaseException) -> str:
    # Dask's "could not serialize" error carries the worker's whole traceback after its first line.
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


def _plain(value):
    return value.item() if hasattr(value, "item") else str(value)


def load_sweep(path: str | Path) -> dict:
    """A saved sweep (sweep.json) as a dict, with `outcome_grid` rebuilt; RunStoreError if it is not one."""
    path = Path(path)
    file = path / "sweep.json" if path.is_dir() else path
    try:
        record = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RunStoreError(f"{file} is not a readable sweep: {exc}") from None
    if not isinstance(record, dict) or record.get("format") != SWEEP_FORMAT:
        raise RunStoreError(f"{file} was not written by a sandbox sweep")
    spec = SweepSpec(**record["spec"])
    grid = np.full(spec.shape(), np.nan)
    for point in record["points"]:
        grid[cell(tuple(point["index"]))] = point.get(record["outcome"], math.nan)
    record["outcome_grid"] = grid
    return record
