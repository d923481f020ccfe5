"""Regenerate the README screenshots and gallery thumbnails from a served app.

Run: python scripts/screenshots.py [name …]   (all: several minutes; the grokking sweep alone ~2-3 min)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ui.landscape import assert_landscape_drawn  # noqa: E402
from tests.ui.serving import served_page  # noqa: E402


def train_and_capture(page, url: str, steps: int, name: str, thumbnail_clip: dict, start: str = "Start",
                      pause: str = "Pause") -> None:
    """Start the app at `url`, pause past `steps`, save its screenshot and gallery thumbnail."""
    page.goto(url)
    page.get_by_role("button", name=start, exact=True).click()
    deadline = time.monotonic() + 300
    shown = lambda: int(page.locator(".sandbox-step").first.inner_text() or 0)  # noqa: E731 - empty while loading
    while shown() < steps and time.monotonic() < deadline:
        if "paused" in page.locator(".sandbox-status").first.inner_text():
            break                               # a run that stopped by itself (its work is done)
        page.wait_for_timeout(250)
    page.get_by_role("button", name=pause, exact=True).click()
    page.get_by_text("paused").first.wait_for()
    page.wait_for_timeout(1500)
    page.screenshot(path=str(ROOT / "assets" / "screenshots" / f"{name}.png"))
    page.screenshot(path=str(ROOT / "assets" / "thumbnails" / f"{name}.png"), clip=thumbnail_clip)
    if name in LANDSCAPES:
        capture_landscape(page, name)


def capture_landscape(page, name: str) -> None:
    """The landscape section (3-D surface, map, sharpness, line from init), refined for the paused run."""
    assert_landscape_drawn(page)
    page.wait_for_timeout(6000)          # the 3-D scene is sent at most every 5 s
    title = page.get_by_text("Loss landscape:").first
    # Scrolled to the top of the viewport (the template's main area may scroll on its own).
    top = title.evaluate("el => { el.scrollIntoView({block: 'start'}); return el.getBoundingClientRect().top; }")
    page.wait_for_timeout(1000)
    page.screenshot(path=str(ROOT / "assets" / "screenshots" / f"landscape_{name}.png"),
                    clip={"x": 345, "y": max(top - 10, 0), "width": 1150, "height": 1060})


# Each app: steps to train before the shot, the thumbnail's clip (the app's signature view),
# the buttons to press, and optionally the link's query (a preset).
SHOTS = {
    "grokking": (1200, {"x": 345, "y": 175, "width": 1150, "height": 300}, {}),
    "clustering_heads": (5000, {"x": 345, "y": 880, "width": 1150, "height": 320}, {}),
    "flow_matching": (2000, {"x": 345, "y": 190, "width": 1150, "height": 330}, {}),
    "flow_compare": (1500, {"x": 345, "y": 130, "width": 1150, "height": 560},
                     dict(start="Start both", pause="Pause both")),
    "hopfield": (1000, {"x": 345, "y": 190, "width": 1150, "height": 520}, {},
                 "?preset=digits%2C+dense+exp"),
    "associative_memory": (2000, {"x": 345, "y": 150, "width": 1150, "height": 560}, {}),
}


LANDSCAPES = ("grokking", "clustering_heads", "flow_matching", "associative_memory")

# The phase-diagram panels: app, the axes typed, the steps per point (None: the panel's default).
SWEEPS = {
    "sweep_grokking": ("grokking", "weight_decay=0,0.5,1", "train_fraction=0.2,0.3,0.5", 2000),
    "sweep_hopfield": ("hopfield", "load=0.02:0.3:8", "noise=0:0.4:5", None),
}


def capture_sweep(page, url: str, name: str) -> None:
    """Run the panel's sweep from the app's default settings and shoot the panel when it is done."""
    app, x_axis, y_axis, steps = SWEEPS[name]
    page.goto(f"{url}/{app}")
    page.get_by_role("button", name="Run sweep").wait_for(timeout=60_000)
    fields = [("x axis (name=values or start:stop:count)", x_axis), ("y axis (empty: one row)", y_axis)]
    if steps is not None:
        fields.append(("most steps per point", str(steps)))
    for label, value in fields:
        field = page.get_by_label(label)
        field.fill(value)
        field.press("Enter")
    page.get_by_role("button", name="Run sweep").click()
    page.get_by_text("done ·").first.wait_for(timeout=600_000)
    page.wait_for_timeout(1500)                 # the last redraw reaches the page
    title = page.get_by_text("Phase diagram (a sweep on Dask)").first
    top = title.evaluate("el => { el.scrollIntoView({block: 'start'}); return el.getBoundingClientRect().top; }")
    page.wait_for_timeout(500)
    page.screenshot(path=str(ROOT / "assets" / "screenshots" / f"{name}.png"),
                    clip={"x": 345, "y": max(top - 10, 0), "width": 1150, "height": 420})


def main(names: list[str]) -> None:
    """`python scripts/screenshots.py [name …]`: the named apps and sweeps (all by default) and the gallery."""
    unknown = set(names) - set(SHOTS) - set(SWEEPS)
    if unknown:
        raise SystemExit(f"unknown name(s) {sorted(unknown)}; choose from {sorted(SHOTS) + sorted(SWEEPS)}")
    with served_page() as (server, page):
        for name in names or [*SHOTS, *SWEEPS]:
            if name in SWEEPS:
                capture_sweep(page, server.url, name)
                continue
            steps, clip, buttons, *query = SHOTS[name]
            train_and_capture(page, f"{server.url}/{name}{''.join(query)}", steps, name, clip, **buttons)
        page.goto(server.url + "/")
        page.locator("a[href='./grokking']").wait_for()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ROOT / "assets" / "screenshots" / "index.png"),
                        clip={"x": 0, "y": 0, "width": 1500, "height": 560})


if __name__ == "__main__":
    main(sys.argv[1:])
