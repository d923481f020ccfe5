"""A saved run checked against the study that would load it, before the run on screen is touched.

`load_run` checks the files on their own (sizes, format, plain arrays); this checks what only the
study class knows: the settings pass its own validation, and the weights fit a model built from
those settings (a scratch build on the CPU, never the live one). `read_checked` does both, and is
what the app runs on a worker thread: nothing here touches a Runner or a UI.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import torch

from .slots import NO_PERMITS
from .stopping import NeverStopped
from .store import RunRecord, RunStoreError, load_run, run_dir

# One load at a time in the process: a load may hold up to store.MAX_RUN_BYTES, and eight sessions
# loading at once must not hold eight of them. A second load waits its turn (its page says Loading …).
_loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-load")


def submit(fn, *args) -> Future:
    """Run `fn(*args)` on the loader thread (off the server's event loop)."""
    return _loader.submit(fn, *args)


def read_checked(root: str | Path, study_cls, name: str, permits=NO_PERMITS) -> RunRecord:
    """The run `name` of `study_cls` under `root`, read and checked whole; RunStoreError otherwise."""
    record = load_run(run_dir(root, study_cls.name, name), expect_study=study_cls.name)
    return check_fits(study_cls, record, permits)


def check_fits(study_cls, record: RunRecord, permits=NO_PERMITS) -> RunRecord:
    """`record` with its params made whole (every setting, as `validated` fills them in), once they
    pass the study's validation and its weights load into a scratch build of them. The scratch
    build waits for one of `permits` (a served process's pool of builds), like any session's build."""
    where = record.path if record.path is not None else Path("the run")
    unknown = sorted(set(record.params) - set(study_cls.Config.param) - {"name"})
    if unknown:
        raise RunStoreError(f"{where / 'config.json'}: {study_cls.name} has no setting {unknown[0]!r}")
    try:   # the file's settings on their own, as a run built from them would have them
        values = study_cls.validated(record.params).values()
    except (ValueError, TypeError) as exc:
        raise RunStoreError(f"{where / 'config.json'} has settings this study refuses: {exc}") from None
    if record.state:
        with permits.held(NeverStopped()):
            _check_weights(study_cls, values, record, where / "state.pt")
    return replace(record, params=values)


def _check_weights(study_cls, values: dict, record: RunRecord, where: Path) -> None:
    # On the CPU: the check needs shapes, not speed, and must not take GPU memory from the live run.
    # The scratch build seeds torch's global generator as any build does (the run it replaces did too).
    try:
        scratch = study_cls(**{**values, "device": "cpu"})
        scratch.build()
    except Exception as exc:  # noqa: BLE001 - settings that validate but do not build: say so
        raise RunStoreError(f"{where.parent / 'config.json'}: a {study_cls.name} run with these settings "
                            f"does not build ({type(exc).__name__}: {str(exc)[:200]})") from None
    try:
        hyper = _hyperparameters(scratch)
        scratch.load_state_dict(record.state)
        _check_optimizer_state(scratch, hyper)
    except Exception as exc:  # noqa: BLE001 - any way the weights fail to fit is the file's fault
        detail = str(exc).splitlines()[0][:300] if str(exc) else ""
        raise RunStoreError(f"{where}: its weights do not fit a {study_cls.name} model with its settings "
                            f"({type(exc).__name__}: {detail})") from None


def _hyperparameters(study) -> list[dict]:
    """The numeric settings of each of the optimiser's groups as built (lr, betas, eps, …)."""
    optimizer = getattr(study, "optimizer", None)
    if not isinstance(optimizer, torch.optim.Optimizer):
        return []
    return [{k: v for k, v in group.items() if _number(v) or isinstance(v, tuple) and all(map(_number, v))}
            for group in optimizer.param_groups]


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) or torch.is_tensor(value) and value.dim() == 0


def _check_optimizer_state(study, built: list[dict]) -> None:
    """An optimiser loads its state without looking at it; a wrong shape or a learning rate that is
    text would break the first step after Start. Each group's numeric settings stay numbers (tuples
    keep their length); each per-parameter tensor (momenta, running averages) has its parameter's
    shape, or is a single number (a step count)."""
    optimizer = getattr(study, "optimizer", None)
    if not isinstance(optimizer, torch.optim.Optimizer):
        return
    for group, numbers in zip(optimizer.param_groups, built):
        for key, was in numbers.items():
            value = group.get(key)
            fits = (all(map(_number, value)) and len(value) == len(was) if isinstance(was, tuple)
                    and isinstance(value, (tuple, list)) else _number(value) and not isinstance(was, tuple))
            if not fits:
                raise ValueError(f"optimizer setting {key!r} is {str(value)[:40]!r}, not a number like {was!r}")
        for p in group["params"]:
            for key, value in optimizer.state.get(p, {}).items():
                if torch.is_tensor(value) and value.dim() > 0 and value.shape != p.shape:
                    raise ValueError(f"optimizer state {key!r} has shape {tuple(value.shape)}, "
                                     f"its parameter {tuple(p.shape)}")
