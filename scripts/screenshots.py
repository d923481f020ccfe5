"""Regenerate the README screenshots and gallery thumbnails from a served app.

Run: python scripts/screenshots.py   (about a minute: trains the fast preset past grokking)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ui.serving import served_page  # noqa: E402


def main(target_step: int = 1200) -> None:
    with served_page() as (server, page):
        page.goto(server.url + "/grokking")
        page.get_by_role("button", name="Start", exact=True).click()
        read = lambda: int(page.locator(".sandbox-step").inner_text())  # noqa: E731
        deadline = time.monotonic() + 300
        while read() < target_step and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        page.get_by_role("button", name="Pause", exact=True).click()
        page.get_by_text("paused").first.wait_for()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ROOT / "assets" / "screenshots" / "grokking.png"))
        # The gallery thumbnail: the accuracy and loss curves of the trained run.
        page.screenshot(path=str(ROOT / "assets" / "thumbnails" / "grokking.png"),
                        clip={"x": 345, "y": 175, "width": 1150, "height": 300})
        page.goto(server.url + "/clustering_heads")
        page.get_by_role("button", name="Start", exact=True).click()
        deadline = time.monotonic() + 300
        while read() < 5000 and time.monotonic() < deadline:
            page.wait_for_timeout(250)
        page.get_by_role("button", name="Pause", exact=True).click()
        page.get_by_text("paused").first.wait_for()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ROOT / "assets" / "screenshots" / "clustering_heads.png"))
        page.screenshot(path=str(ROOT / "assets" / "thumbnails" / "clustering_heads.png"),
                        clip={"x": 345, "y": 790, "width": 1150, "height": 300})
        page.goto(server.url + "/")
        page.locator("a[href='./grokking']").wait_for()
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ROOT / "assets" / "screenshots" / "index.png"),
                        clip={"x": 0, "y": 0, "width": 1500, "height": 560})


if __name__ == "__main__":
    main()
