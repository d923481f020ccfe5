"""Steps/s of the grokking "fast" preset: bare loop vs Runner (headless) vs served app in Chromium.

Run: python -m benchmarks.grokking_speed [--seconds 20] [--quick]
Reported figures, not a test: timings depend on the machine (record it with the numbers).
"""
from __future__ import annotations

import argparse
import platform
import time

import torch

from sandbox.runtime import Runner
from sandbox.runtime.device import configure_cpu_threads
from sandbox.studies.grokking import GrokkingStudy


def bare_loop(seconds: float) -> float:
    study = GrokkingStudy(preset="fast")
    study.build()
    for _ in range(5):
        study.step()
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        study.step()
        steps += 1
    return steps / (time.perf_counter() - start)


def runner_headless(seconds: float) -> tuple[float, int]:
    runner = Runner(GrokkingStudy(preset="fast"), snapshot_every=10)
    runner.step_n(5)
    while runner.step < 5:
        time.sleep(0.01)
    runner.start()
    s0, t0 = runner.step, time.perf_counter()
    time.sleep(seconds)  # the measurement window
    rate = (runner.step - s0) / (time.perf_counter() - t0)
    snapshots = len(runner.history)
    runner.stop()
    return rate, snapshots


def in_browser(seconds: float) -> float:
    from tests.ui.conftest import CHROMIUM, CHROMIUM_FLAGS, Server
    import tempfile
    from pathlib import Path
    from playwright.sync_api import sync_playwright

    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "apps").symlink_to(root / "apps")
        server = Server(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": 1500, "height": 1800})
                page.goto(server.url + "/grokking")
                page.get_by_role("button", name="Start").click()
                page.wait_for_function("() => Number(document.querySelector('.sandbox-step')?.innerText) > 20",
                                       timeout=60_000)
                read = lambda: int(page.locator(".sandbox-step").inner_text())  # noqa: E731
                s0, t0 = read(), time.perf_counter()
                page.wait_for_timeout(seconds * 1000)
                rate = (read() - s0) / (time.perf_counter() - t0)
                browser.close()
        finally:
            server.close()
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="2-second windows, to check the script works")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else args.seconds
    threads = configure_cpu_threads()
    bare = bare_loop(seconds)
    headless, snaps = runner_headless(seconds)
    browser = in_browser(seconds)
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{threads} torch thread(s), window {seconds:.0f} s")
    print("| mode | steps/s | ratio to bare |")
    print("|---|---|---|")
    for name, rate in (("bare loop", bare), ("Runner, headless", headless), ("served app + Chromium", browser)):
        print(f"| {name} | {rate:.1f} | {rate / bare:.2f} |")
    print(f"(Runner recorded {snaps} snapshots in {seconds:.0f} s)")


if __name__ == "__main__":
    main()
