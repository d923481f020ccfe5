"""The served clustering-heads app in headless Chromium: Start, views fill, Pause, no errors.
Run: pytest -m ui tests/ui/test_clustering_browser.py  (screenshot: tests/artifacts/clustering_heads.png)"""
import pytest

from tests.ui.conftest import ARTIFACTS, SOURCE_LENGTH_JS
from tests.ui.test_grokking_browser import state_text, step_counter, wait_for_points, wait_for_step

pytestmark = pytest.mark.ui


def test_start_fill_pause_in_the_browser(server, page):
    page.goto(server.url + "/clustering_heads")
    page.get_by_role("button", name="Start", exact=True).wait_for(timeout=30_000)
    page.locator(".sandbox-status").wait_for(timeout=30_000)
    page.get_by_role("button", name="Start", exact=True).click()
    wait_for_step(page, lambda s: s > 500)
    wait_for_points(page, "grad_norm", lambda n: n > 3)          # the loss / gradient-norm curve streams
    wait_for_points(page, "label", lambda n: n >= 512)           # read-out scatter: one point per sequence
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_text("paused").first.wait_for(timeout=15_000)
    paused_at = step_counter(page)
    page.wait_for_timeout(1000)  # an observation window: the counter must not move during it
    assert step_counter(page) == paused_at and "paused" in state_text(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "clustering_heads.png"), full_page=True)
    assert page.evaluate(SOURCE_LENGTH_JS, "acc_test") > 3
    assert page.errors == []
    assert server.python_errors() == []
