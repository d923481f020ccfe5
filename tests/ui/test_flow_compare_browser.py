"""Two flow runs side by side in headless Chromium: Start both, both advance, Pause both, no errors.
Run: pytest -m ui tests/ui/test_flow_compare_browser.py  (screenshot: tests/artifacts/flow_compare.png)"""
import pytest

from tests.ui.conftest import ARTIFACTS

pytestmark = pytest.mark.ui


def steps(page) -> list[int]:
    """Every step counter on the page: each run's status shows in its card and above its column."""
    counters = page.locator(".sandbox-step")
    return [int(counters.nth(i).inner_text()) for i in range(counters.count())]


def test_both_runs_train_and_pause_together(server, page):
    page.goto(server.url + "/flow_compare")
    page.get_by_role("button", name="Start both", exact=True).wait_for(timeout=30_000)
    page.locator(".sandbox-status").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Start both", exact=True).click()
    deadline_ms = 60_000
    waited = 0
    while waited < deadline_ms and not (len(steps(page)) >= 4 and min(steps(page)) > 200):
        page.wait_for_timeout(250)
        waited += 250
    assert len(steps(page)) >= 4 and min(steps(page)) > 200, f"both runs should advance, saw {steps(page)}"
    page.get_by_role("button", name="Pause both", exact=True).click()
    page.get_by_text("paused").nth(3).wait_for(timeout=15_000)
    before = steps(page)
    page.wait_for_timeout(1000)  # an observation window: neither counter may move during it
    assert steps(page) == before
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "flow_compare.png"), full_page=True)
    assert page.errors == []
    assert server.python_errors() == []
