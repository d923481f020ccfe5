"""One table per study: is the sandbox as fast as the bare training loop?

For each study (its app's preset and snapshot period): steps/s of the bare loop (the study's
own step() in a plain loop, same device and threads, no Runner), through the Runner headless
(training thread + observer, as in the app), the same with the loss landscape on (as the apps
run it), and in the served app with Chromium attached and every view refreshing; the cost of
one snapshot (capture + observe), what the browser receives per view update, and peak RSS.

Run: python -m benchmarks.study_speed [--seconds 10] [--device auto] [--no-browser] [--quick]
Reported figures, not a test: record the machine with them (benchmarks/RESULTS.md).
Each study is measured in a fresh child process so that its peak RSS is its own.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from dataclasses import dataclass

import torch

from sandbox.runtime import Runner, RunnerState
from sandbox.runtime.device import configure_cpu_threads, resolve_device
from sandbox.studies import get_study


@dataclass(frozen=True)
class Spec:
    study: str
    preset: str
    app: str
    snapshot_every: int   # as the app's controller sets it


SPECS = (
    Spec("grokking", "fast", "grokking", 10),
    Spec("clustering", "fast CPU", "clustering_heads", 50),
    Spec("flow", "8 gaussians", "flow_matching", 100),
    Spec("associative_memory", "Zipf α = 1.5", "associative_memory", 50),
)
WARMUP_STEPS = 20


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bare_loop(spec: Spec, device: str, seconds: float) -> float:
    study = get_study(spec.study)(preset=spec.preset, device=device)
    study.build()
    for _ in range(WARMUP_STEPS):
        study.step()
    _sync(study.device)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(10):
            study.step()
        steps += 10
    _sync(study.device)
    return steps / (time.perf_counter() - start)


def through_runner(spec: Spec, device: str, seconds: float, landscape: bool) -> float:
    runner = Runner(get_study(spec.study)(preset=spec.preset, device=device), snapshot_every=spec.snapshot_every,
                    landscape=landscape)
    try:
        runner.start()
        while runner.step < WARMUP_STEPS:
            if runner.state == RunnerState.ERROR:
                raise RuntimeError(f"{spec.study} failed in the Runner: {runner.message}")
            time.sleep(0.01)   # the thread builds the study, then steps
        s0, t0 = runner.step, time.perf_counter()
        time.sleep(seconds)    # the measurement window
        return (runner.step - s0) / (time.perf_counter() - t0)
    finally:
        runner.stop()


def snapshot_ms(spec: Spec, device: str, repeats: int = 5) -> float:
    """Mean wall time of one snapshot (weights captured on the training thread, then observed)."""
    study = get_study(spec.study)(preset=spec.preset, device=device)
    study.build()
    for _ in range(WARMUP_STEPS):
        study.step()
    study.observe(study.capture())   # first call pays for lazy set-up
    _sync(study.device)
    start = time.perf_counter()
    for _ in range(repeats):
        study.observe(study.capture())
    _sync(study.device)
    return (time.perf_counter() - start) / repeats * 1000


def measure_headless(spec: Spec, device: str, seconds: float, threads: int | None = None) -> dict:
    """Everything that needs no browser; run in a child process (its peak RSS is this study's).
    `threads`: torch's CPU threads (default: as the apps set them, all cores but one)."""
    if threads:
        torch.set_num_threads(threads)
    threads = torch.get_num_threads() if threads else configure_cpu_threads()
    bare = bare_loop(spec, device, seconds)
    runner = through_runner(spec, device, seconds, landscape=False)
    with_landscape = through_runner(spec, device, seconds, landscape=True)
    return {"bare": bare, "runner": runner, "runner_landscape": with_landscape,
            "snapshot_ms": snapshot_ms(spec, device), "threads": threads,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _peak_rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_in_browser(spec: Spec, seconds: float) -> dict:
    """The app served, Start pressed in Chromium: steps/s the page shows, and the Bokeh
    messages the page receives (one PATCH-DOC = one update: header, metadata, content, buffers)."""
    from tests.ui.serving import served_page

    received = {"bytes": 0, "updates": 0}

    def on_frame(payload) -> None:
        received["bytes"] += len(payload)
        if isinstance(payload, str) and '"msgtype":"PATCH-DOC"' in payload.replace(" ", ""):
            received["updates"] += 1

    with served_page() as (server, page):
        page.on("websocket", lambda ws: ws.on("framereceived", on_frame))
        page.goto(f"{server.url}/{spec.app}")
        page.get_by_role("button", name="Start", exact=True).click()
        shown_step = lambda: int(page.locator(".sandbox-step").inner_text())  # noqa: E731
        deadline = time.monotonic() + 120
        while shown_step() < WARMUP_STEPS and time.monotonic() < deadline:
            page.wait_for_timeout(100)   # the page builds the study, then shows its first steps
        s0, bytes0, updates0, t0 = shown_step(), received["bytes"], received["updates"], time.perf_counter()
        page.wait_for_timeout(seconds * 1000)   # the measurement window
        elapsed = time.perf_counter() - t0
        s1 = shown_step()
        updates = received["updates"] - updates0
        return {"browser": (s1 - s0) / elapsed, "updates_per_s": updates / elapsed,
                "bytes_per_update": (received["bytes"] - bytes0) / max(updates, 1),
                "server_peak_rss_mb": _peak_rss_mb(server.process.pid)}


def _child(spec_name: str, device: str, seconds: float, threads: int | None) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.study_speed", "--child", spec_name, "--device", device,
                          "--seconds", str(seconds), *(["--threads", str(threads)] if threads else [])],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(rows: list[tuple[Spec, dict]], browser: bool) -> str:
    head = ["study (preset)", "bare steps/s", "Runner", "ratio", "Runner + landscape", "ratio"]
    if browser:
        head += ["app + Chromium", "ratio", "updates/s", "KB per update", "server peak RSS MB"]
    head += ["snapshot ms", "peak RSS MB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for spec, r in rows:
        cells = [f"{spec.study} ({spec.preset})", f"{r['bare']:.0f}", f"{r['runner']:.0f}",
                 f"{r['runner'] / r['bare']:.2f}", f"{r['runner_landscape']:.0f}",
                 f"{r['runner_landscape'] / r['bare']:.2f}"]
        if browser:
            cells += [f"{r['browser']:.0f}", f"{r['browser'] / r['bare']:.2f}", f"{r['updates_per_s']:.1f}",
                      f"{r['bytes_per_update'] / 1024:.1f}", f"{r['server_peak_rss_mb']:.0f}"]
        cells += [f"{r['snapshot_ms']:.1f}", f"{r['peak_rss_mb']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine(device: str, threads: int | None = None) -> str:
    resolved = resolve_device(device).type
    gpu = f", {torch.cuda.get_device_name()}" if resolved == "cuda" else ""
    return (f"{platform.machine()} {os.cpu_count()} cores{gpu}; torch {torch.__version__}, device {resolved}, "
            f"{threads or max(1, (os.cpu_count() or 2) - 1)} torch thread(s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each measurement window")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--no-browser", action="store_true", help="skip the served app (no Chromium here)")
    parser.add_argument("--quick", action="store_true", help="1-second windows, first study only: checks it works")
    parser.add_argument("--only", default=None, help="one study by name")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: all cores but one)")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    specs = {s.study: s for s in SPECS}
    if args.child:
        print(json.dumps(measure_headless(specs[args.child], args.device, args.seconds, args.threads)))
        return
    seconds = 1.0 if args.quick else args.seconds
    chosen = [specs[args.only]] if args.only else list(SPECS[:1] if args.quick else SPECS)
    rows = []
    for spec in chosen:
        result = _child(spec.study, args.device, seconds, args.threads)
        if not args.no_browser:
            result.update(measure_in_browser(spec, seconds))
        rows.append((spec, result))
        print(f"measured {spec.study}", file=sys.stderr, flush=True)
    print(f"machine: {machine(args.device, args.threads)}; window {seconds:g} s per figure")
    print(table(rows, browser=not args.no_browser))


if __name__ == "__main__":
    main()
