"""Steps/s of the grokking "fast" preset: bare loop vs Runner (headless) vs served app in Chromium,
with the CPU the server and Chromium take, and the wall time until the page shows grokking.
(The per-study table, the same bare loop and Runner for every study: benchmarks/study_speed.py.)

Run: python -m benchmarks.grokking_speed [--seconds 20] [--quick]
Reported figures, not a test: timings depend on the machine (record it with the numbers).
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import time

import torch

from benchmarks.study_speed import SPECS, bare_loop, through_runner
from sandbox.runtime.device import configure_cpu_threads
from tests.ui.serving import served_page


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of processes, from /proc (Linux)."""
    total = 0.0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def in_browser(seconds: float) -> tuple[float, float, float]:
    """steps/s with Chromium attached, and the CPU share (in cores) of server and browser."""
    with served_page() as (server, page):
        page.goto(server.url + "/grokking")
        page.get_by_role("button", name="Start", exact=True).click()
        read = lambda: int(page.locator(".sandbox-step").inner_text())  # noqa: E731
        while read() < 20:  # warm-up: build and first steps
            page.wait_for_timeout(100)
        chromium = [int(pid) for pid in subprocess.run(["pgrep", "-f", "chromium"], capture_output=True,
                                                         text=True).stdout.split()]
        cpu0 = (_cpu_seconds([server.process.pid]), _cpu_seconds(chromium))
        s0, t0 = read(), time.perf_counter()
        page.wait_for_timeout(seconds * 1000)
        elapsed = time.perf_counter() - t0
        rate = (read() - s0) / elapsed
        server_cores = (_cpu_seconds([server.process.pid]) - cpu0[0]) / elapsed
        browser_cores = (_cpu_seconds(chromium) - cpu0[1]) / elapsed
    return rate, server_cores, browser_cores


def time_to_grok_in_browser(limit_s: float = 300.0) -> tuple[float, int, int]:
    """Wall seconds from Start until the status bar shows test accuracy ≥ 0.95, the step then,
    and the step at which train accuracy first showed ≥ 0.99 (as the page reported them)."""
    with served_page() as (server, page):
        page.goto(server.url + "/grokking")
        page.locator(".sandbox-acc-test").wait_for(timeout=60_000)
        page.get_by_role("button", name="Start", exact=True).click()
        t0, memorised = time.perf_counter(), None
        while time.perf_counter() - t0 < limit_s:
            step = int(page.locator(".sandbox-step").inner_text())
            if memorised is None and float(page.locator(".sandbox-acc-train").inner_text()) >= 0.99:
                memorised = step
            if float(page.locator(".sandbox-acc-test").inner_text()) >= 0.95:
                break
            page.wait_for_timeout(100)
        elapsed = time.perf_counter() - t0
    return elapsed, step, memorised or -1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--quick", action="store_true", help="2-second windows, to check the script works")
    args = parser.parse_args()
    seconds = 2.0 if args.quick else args.seconds
    threads = configure_cpu_threads()
    grokking = next(spec for spec in SPECS if spec.study == "grokking")
    bare = bare_loop(grokking, "auto", seconds)
    headless = through_runner(grokking, "auto", seconds, landscape=False)
    browser, server_cores, browser_cores = in_browser(seconds)
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"{threads} torch thread(s), window {seconds:.0f} s")
    print("| mode | steps/s | ratio to bare |")
    print("|---|---|---|")
    for name, rate in (("bare loop", bare), ("Runner, headless", headless), ("served app + Chromium", browser)):
        print(f"| {name} | {rate:.1f} | {rate / bare:.2f} |")
    if not args.quick:
        seconds_to_grok, grok_step, memorised = time_to_grok_in_browser()
        print(f"In the browser: train acc ≥ 0.99 shown at step {memorised}; test acc ≥ 0.95 shown at step "
              f"{grok_step}, {seconds_to_grok:.0f} s after Start.")
    print(f"(With the browser attached the server used {server_cores:.2f} cores and Chromium "
          f"{browser_cores:.2f} of {os.cpu_count()})")


if __name__ == "__main__":
    main()
