"""Soak: one browser session trains for a while with every view streaming; the server's memory and
thread count are sampled over time, then the tab closes and both are sampled again.

    python -m benchmarks.soak [--minutes 10] [--app associative_memory] [--every 30]

Prints a table (time, step, RSS, threads) and the verdict: did RSS level off, and did the threads the
session started go away with it. A report, not a test (`make soak`); the thread check is a test in
tests/ui/test_load_browser.py.
"""
from __future__ import annotations

import argparse
import time

from tests.ui.serving import served_page


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--app", default="associative_memory")
    parser.add_argument("--every", type=float, default=30.0, help="seconds between samples")
    args = parser.parse_args(argv)
    rows, errors = [], []
    with served_page() as (server, page):
        baseline = (server.rss_mb(), server.threads())
        print(f"server up: RSS {baseline[0]:.0f} MB, {baseline[1]} threads", flush=True)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{server.url}/{args.app}")
        page.get_by_role("button", name="Start", exact=True).click(timeout=120_000)
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) < args.minutes * 60:
            step = page.locator(".sandbox-step").inner_text()
            rows.append((elapsed, step, server.rss_mb(), server.threads()))
            print(f"{elapsed:7.0f} s  step {step:>8}  RSS {rows[-1][2]:7.0f} MB  threads {rows[-1][3]}", flush=True)
            page.wait_for_timeout(args.every * 1000)
        page.close()                    # the tab closes; the server runs on
        closed = time.monotonic()
        while time.monotonic() - closed < 90 and server.threads() > baseline[1]:
            time.sleep(1)               # Bokeh drops a closed tab's session after 15 s, checking every 17 s
        after = (server.rss_mb(), server.threads(), time.monotonic() - closed)
    half = [r for r in rows if r[0] >= rows[-1][0] / 2] or rows
    growth = (half[-1][2] - half[0][2]) / max(1e-9, (half[-1][0] - half[0][0]) / 60)
    print(f"\nsecond half: RSS {half[0][2]:.0f} → {half[-1][2]:.0f} MB ({growth:+.1f} MB/min); "
          f"peak threads {max(r[3] for r in rows)}")
    print(f"tab closed: threads {after[1]} after {after[2]:.0f} s (baseline {baseline[1]}), RSS {after[0]:.0f} MB; "
          f"page errors: {len(errors)}")


if __name__ == "__main__":
    main()
