"""The served associative-memory app in headless Chromium: Start, curves and the recall map
fill, Pause holds, no errors. Run: pytest -m ui tests/ui/test_associative_memory_browser.py
(screenshot: tests/artifacts/associative_memory.png)"""
import pytest

from tests.conftest import wait_until
from tests.ui.conftest import ARTIFACTS, PACING_JS, wait_until_built
from tests.ui.landscape import assert_landscape_drawn
from tests.ui.test_grokking_browser import state_text, step_counter, wait_for_points, wait_for_step

pytestmark = pytest.mark.ui


def test_start_and_pause_the_memories_in_the_browser(server, page):
    page.goto(server.url + "/associative_memory")
    wait_until_built(page, 60_000)
    page.get_by_role("button", name="Start", exact=True).click()
    wait_for_step(page, lambda s: s > 300)
    wait_for_points(page, "error_d64", lambda n: n > 5)           # every size's error curve streams
    wait_for_points(page, "error_d4", lambda n: n > 5)
    # The page answers each update once it has drawn it (sandbox/serving/pacing.py), so updates keep coming.
    [(sent, _)] = page.evaluate(PACING_JS)          # one controller, one signal
    wait_until(lambda: page.evaluate(PACING_JS)[0][1] >= sent + 5, timeout=30, interval=0.2,
               what="the page draws 5 more updates")
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_text("paused").first.wait_for(timeout=15_000)
    paused_at = step_counter(page)
    page.wait_for_timeout(1000)  # an observation window: the counter must not move during it
    assert step_counter(page) == paused_at and "paused" in state_text(page)
    assert_landscape_drawn(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "associative_memory.png"), full_page=True)
    assert page.errors == []
    assert server.python_errors() == []
