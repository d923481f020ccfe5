"""Headless command line: `python -m sandbox run grokking --preset fast --steps 3000 --out runs/`,
`python -m sandbox sweep grokking --grid weight_decay=0,1 train_fraction=0.2,0.4` (Dask).

Flags for a study's parameters are generated from its Config class, so the CLI, the
widgets and the URL all accept the same names with the same bounds.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import param

from .runtime.device import configure_cpu_threads
from .runtime.history import MIN_RING_CAPACITY
from .runtime.runner import Runner, RunnerState
from .runtime.store import RunStoreError, new_run_name, run_dir, save_run
from .runtime.sweep import Sweep, make_spec
from .studies import STUDIES, get_study
from .studies.settings_text import parse_setting


def _setting_type(p: param.Parameter):
    def read(text: str):
        try:
            return parse_setting(p, text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    read.__name__ = type(p).__name__.lower()    # what argparse names in "invalid <type> value"
    return read


def _add_config_flags(parser: argparse.ArgumentParser, config_cls) -> None:
    group = parser.add_argument_group("study parameters (override the preset)")
    for name, p in config_cls.param.objects("existing").items():
        if name == "name":
            continue
        choices = list(p.objects) if isinstance(p, param.Selector) else None
        shown = " (JSON list)" if isinstance(p, param.List) else ""
        group.add_argument(f"--{name.replace('_', '-')}", dest=f"param_{name}", type=_setting_type(p),
                           choices=choices, default=None, help=(p.doc or "").replace("%", "%%") + shown)  # argparse formats help with %


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list studies and their presets")
    run = commands.add_parser("run", help="train a study headless and save the run")
    studies = run.add_subparsers(dest="study", required=True)
    for name, study in sorted(STUDIES.items()):
        sub = studies.add_parser(name, help=study.title)
        sub.add_argument("--preset", default=study.DEFAULT_PRESET, choices=list(study.PRESETS))
        sub.add_argument("--steps", type=int, default=1000, help="optimisation steps to run")
        sub.add_argument("--out", default="runs", help="run store root (a run directory is created inside)")
        sub.add_argument("--name", default=None, help="run directory name (default: time stamp + preset)")
        sub.add_argument("--snapshot-every", type=int, default=50, help="steps between recorded snapshots")
        sub.add_argument("--keep", type=int, default=60, help="most snapshots kept in the run")
        _add_config_flags(sub, study.Config)
    sweep = commands.add_parser("sweep", help="measure a grid of settings on Dask (a phase diagram)",
                                description="e.g. python -m sandbox sweep grokking --grid weight_decay=0,0.5,1 "
                                            "train_fraction=0.2:0.6:3")
    sweep.add_argument("study", choices=sorted(n for n, s in STUDIES.items() if s.SWEEP is not None))
    sweep.add_argument("--grid", nargs="+", required=True, metavar="NAME=VALUES",
                       help="one or two axes: name=v1,v2,... or name=start:stop:count")
    sweep.add_argument("--preset", default=None, help="the study's preset the grid changes (default: its default)")
    sweep.add_argument("--steps", type=int, default=None, help="most steps per point (grokking: 3000)")
    sweep.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                       help="a running Dask scheduler (default: a LocalCluster on this machine)")
    sweep.add_argument("--workers", type=int, default=None, help="LocalCluster workers (default: one per core)")
    sweep.add_argument("--out", default="runs", help="run store root (the sweep goes to <out>/sweeps/<name>)")
    sweep.add_argument("--name", default=None, help="sweep directory name (default: time stamp + study)")
    return parser


def _sweep(args) -> int:
    try:
        spec = make_spec(get_study(args.study), args.grid, args.preset, args.steps)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    names = list(spec.axes)

    def report(index, result) -> None:
        shown = ", ".join(f"{n}={spec.axes[n][i]}" for n, i in zip(names, index))
        value = result.get(sweep.measure.outcome, result.get("error"))
        print(f"[{sweep.finished:>3}/{sweep.total}] {shown}: {sweep.measure.outcome} = {value}", flush=True)

    try:
        sweep = Sweep(spec, scheduler=args.scheduler, n_workers=args.workers, runs_root=args.out, name=args.name,
                      on_result=report)
    except ValueError as exc:       # a bad name or worker count: said before anything starts
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{sweep.total} points of {args.study} ({spec.preset}); {sweep.measure.outcome}: {sweep.measure.label}")
    sweep.start()
    try:
        while not sweep.wait(0.5):
            pass
    except KeyboardInterrupt:
        sweep.cancel()
        sweep.wait(30)
    print(sweep.message)
    print(f"saved {sweep.path}")
    return 0 if sweep.state == "done" and not sweep.errors else 1


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "sweep":
        return _sweep(args)
    if args.command == "list":
        for name, study in sorted(STUDIES.items()):
            print(f"{name}: {study.title}\n  presets: {', '.join(study.PRESETS)}")
        return 0
    overrides = {k[len("param_"):]: v for k, v in vars(args).items() if k.startswith("param_") and v is not None}
    try:
        target = _checked_target(args)
        study = get_study(args.study)(preset=args.preset, **overrides)
    except ValueError as exc:       # RunStoreError too: every flag is checked before a step is trained
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_cpu_threads()
    runner = Runner(study, snapshot_every=args.snapshot_every, ring_capacity=args.keep)
    runner.run_headless(0)  # build before the clock starts
    started = time.perf_counter()
    chunk = max(1, args.steps // 20)
    while runner.step < args.steps and runner.state != RunnerState.ERROR and not runner.message:
        last = runner.step + chunk >= args.steps
        runner.run_headless(min(chunk, args.steps - runner.step), publish_last=last)
        row = runner.history.since(len(runner.history) - 1)[0]
        shown = "  ".join(f"{k}={v:.4g}" for k, v in row.items() if k.startswith(("loss.", "acc.")))
        rate = runner.step / max(time.perf_counter() - started, 1e-9)
        print(f"step {runner.step:>7}  {rate:7.1f} steps/s  (recorded at {int(row['step'])}: {shown})", flush=True)
    path = save_run(args.out, runner.record(), target.name)
    if runner.message:
        print(runner.message, file=sys.stderr)
    print(f"saved {path}")
    return 1 if runner.state == RunnerState.ERROR else 0


def _checked_target(args) -> Path:
    """The run directory the run will be saved to, checked before training so that a finished run
    is never thrown away for a bad flag; ValueError says which."""
    for flag, value, least in (("--steps", args.steps, 1), ("--snapshot-every", args.snapshot_every, 1),
                               ("--keep", args.keep, MIN_RING_CAPACITY)):
        if value < least:
            raise ValueError(f"{flag} must be at least {least}")
    target = run_dir(args.out, args.study, args.name or new_run_name(args.preset))
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise RunStoreError(f"--out {args.out} is not a directory")
    existing = next(p for p in (target.parent, out, *out.absolute().parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise RunStoreError(f"--out {args.out}: cannot write in {existing}")
    return target
