"""Browser checks shared by every study with a loss landscape."""
from __future__ import annotations

import re
import time

from playwright.sync_api import Error as PlaywrightError

from tests.ui.pixels import coloured_share, hue_count

SURFACE_STATUS = re.compile(r"Step \d+ · \d+ × \d+ points")


def assert_landscape_drawn(page, refined: bool = True, step: int | None = None, timeout: float = 90.0) -> str:
    """The run's loss landscape was computed (its status line names the plane) and the 3-D view
    draws it (WebGL through SwiftShader): a surface coloured by loss in more than one hue, not a
    blank canvas or the empty scene's single colour. `refined`: wait for the 41 × 41 surface of a paused run; `step`: for
    the surface around that step's weights. Returns the status line."""
    wanted = lambda text: ((not refined or "(refined)" in text)  # noqa: E731
                           and (step is None or text.startswith(f"Step {step} ")))
    status = page.get_by_text(SURFACE_STATUS).first
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if status.count() and wanted(status.inner_text()):
            break
        page.wait_for_timeout(250)
    text = status.inner_text()
    assert wanted(text), text
    share, hues, problems = look_at_scene(page, timeout=deadline + 15 - time.monotonic())
    assert share > 0.05 and hues >= 2, (share, hues, status.inner_text(), problems[-3:])
    return text


def look_at_scene(page, timeout: float = 15.0, min_hues: int = 2) -> tuple[float, int, list[str]]:
    """Look at the first 3-D view until it draws a coloured surface (over 5% of its pixels coloured,
    in at least `min_hues` hues) or `timeout` passes. Returns the last look's coloured share and hue
    count, and what went wrong on the way (a canvas replaced mid-look by a new scene is looked at again)."""
    surface = page.locator(".sandbox-surface3d canvas").first
    problems: list[str] = []

    def look() -> tuple[float, int]:
        try:
            surface.scroll_into_view_if_needed(timeout=5_000)
            png = surface.screenshot(timeout=5_000)
        except PlaywrightError as exc:      # the pane replaced its canvas (a new scene): look again
            problems.append(str(exc).splitlines()[0])
            return 0.0, 0
        return coloured_share(png), hue_count(png)

    # The scene reaches the browser at most every few seconds (views/surface3d.py).
    deadline = time.monotonic() + max(timeout, 0.0)
    share, hues = look()
    while not (share > 0.05 and hues >= min_hues) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        share, hues = look()
    return share, hues, problems
