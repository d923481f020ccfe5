"""The served flow-matching app in headless Chromium: Start, views fill, Pause, scrub t, no errors.
Run: pytest -m ui tests/ui/test_flow_browser.py  (screenshot: tests/artifacts/flow_matching.png)"""
import pytest

from tests.ui.conftest import ARTIFACTS, SOURCE_LENGTH_JS, wait_until_built
from tests.ui.landscape import assert_landscape_drawn
from tests.ui.test_grokking_browser import state_text, step_counter, wait_for_points, wait_for_step

pytestmark = pytest.mark.ui

# The first three x positions of the particles drawn at time t (the source with a colour column
# and no hover labels: the linked planes have labels).
PARTICLES_JS = """() => {
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    const d = m.data;
    if (!d) continue;
    const get = (k) => d instanceof Map ? d.get(k) : d[k];
    if (get('c') && get('x') && get('x').length > 100 && !get('label')) return Array.from(get('x').slice(0, 3));
  }
  return null;
}"""


def test_start_pause_and_scrub_the_flow_time_in_the_browser(server, page):
    page.goto(server.url + "/flow_matching")
    wait_until_built(page, 60_000)
    page.get_by_role("button", name="Start", exact=True).click()
    wait_for_step(page, lambda s: s > 300)
    wait_for_points(page, "quality_energy", lambda n: n > 3)      # the quality curves stream
    wait_for_points(page, "xs", lambda n: n >= 512)               # 512 trajectories in the linked pair
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_text("paused").first.wait_for(timeout=15_000)
    paused_at = step_counter(page)
    page.wait_for_timeout(1000)  # an observation window: the counter must not move during it
    assert step_counter(page) == paused_at and "paused" in state_text(page)
    generated = page.evaluate(PARTICLES_JS)
    page.locator(".sandbox-flow-t input").fill("0")                # scrub to t = 0: the source
    page.locator(".sandbox-flow-t-label").get_by_text("t = 0.00").wait_for(timeout=10_000)
    page.wait_for_function(f"(before) => JSON.stringify(({PARTICLES_JS})()) !== JSON.stringify(before)",
                           arg=generated, timeout=10_000)
    source = page.evaluate(PARTICLES_JS)
    assert source is not None and source != generated
    assert_landscape_drawn(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "flow_matching.png"), full_page=True)
    assert page.evaluate(SOURCE_LENGTH_JS, "paths_straightness") > 3
    assert page.errors == []
    assert server.python_errors() == []
