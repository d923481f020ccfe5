"""The served Hopfield app in headless Chromium: Start, the retrieval and curves fill, Pause,
click a stored pattern to query it, no errors. Run: pytest -m ui tests/ui/test_hopfield_browser.py
(screenshot: tests/artifacts/hopfield.png)"""
import time

import pytest

from tests.ui.conftest import ARTIFACTS, wait_until_built
from tests.ui.landscape import look_at_scene
from tests.ui.test_grokking_browser import state_text, step_counter, wait_for_points, wait_for_step

pytestmark = pytest.mark.ui

# Screen position of data point (x, y) in the Bokeh figure whose title starts with `title`.
DATA_TO_SCREEN_JS = """([title, x, y]) => {
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    if (m.title?.text?.startsWith?.(title)) {
      const view = Bokeh.index.find_one(m);
      if (!view) return null;
      const r = view.canvas_view.el.getBoundingClientRect();
      return [r.x + view.frame.x_scale.compute(x), r.y + view.frame.y_scale.compute(y)];
    }
  }
  return null;
}"""

# The left edge of the orange frame around the queried stored pattern.
FRAME_LEFT_JS = """() => {
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    const d = m.data;
    if (!d) continue;
    const left = d instanceof Map ? d.get('left') : d.left;
    if (left && left.length === 1) return left[0];
  }
  return null;
}"""


def test_start_pause_and_query_a_clicked_pattern_in_the_browser(server, page):
    page.goto(server.url + "/hopfield?capacity_units=100")      # a quicker capacity curve
    wait_until_built(page, 60_000)
    page.get_by_role("button", name="Start", exact=True).click()
    wait_for_step(page, lambda s: s >= 8)
    wait_for_points(page, "overlap_target", lambda n: n >= 8)     # the overlap curve streams
    wait_for_points(page, "energy", lambda n: n >= 8)
    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_text("paused").first.wait_for(timeout=15_000)
    paused_at = step_counter(page)
    page.wait_for_timeout(1000)  # an observation window: the counter must not move during it
    assert step_counter(page) == paused_at and "paused" in state_text(page)
    assert page.evaluate(FRAME_LEFT_JS) == pytest.approx(-0.3)    # pattern 0 is queried
    # Click the middle of the fourth stored pattern (10 × 10 tiles, 1-cell gaps): it is queried.
    x, y = page.evaluate(DATA_TO_SCREEN_JS, ["Stored patterns", 3 * 11 + 5, 5])
    page.mouse.click(x, y)
    page.wait_for_function(f"() => ({FRAME_LEFT_JS})() === {3 * 11 - 0.3}", timeout=15_000)
    wait_for_step(page, lambda s: s == 0)                          # the retrieval starts over
    page.get_by_role("button", name="Start", exact=True).click()
    wait_for_step(page, lambda s: s > 0)
    # It pauses by itself once the retrieval has converged and both curves are measured.
    deadline = time.monotonic() + 120
    while "paused" not in state_text(page) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert "paused" in state_text(page) and step_counter(page) > 0
    page.get_by_text("Retrieval converged").first.wait_for(timeout=5_000)
    # The 3-D energy surface is drawn by vtk.js (WebGL through SwiftShader): a coloured surface,
    # not a blank canvas with axes only.
    page.locator(".sandbox-surface3d canvas").first.wait_for(timeout=15_000)
    share, _, problems = look_at_scene(page, timeout=15, min_hues=1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hopfield.png"), full_page=True)
    assert share > 0.05, (share, problems[-3:])
    assert "paused" in state_text(page)
    assert page.errors == []
    assert server.python_errors() == []


# Cells of the sweep heatmap that carry a measured value (text) in the page's Bokeh models.
SWEEP_CELLS_JS = """() => {
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    const d = m.data;
    if (!d) continue;
    const ink = d instanceof Map ? d.get('ink') : d.ink;
    const text = d instanceof Map ? d.get('text') : d.text;
    if (ink && text) return Array.from(text).filter(t => t !== '').length;
  }
  return -1;
}"""


def test_a_sweep_fills_the_phase_diagram_in_the_browser(server, page):
    page.goto(server.url + "/hopfield")
    page.get_by_role("button", name="Run sweep").wait_for(timeout=30_000)
    for label, value in (("x axis (name=values or start:stop:count)", "load=0.05,0.15,0.6"),
                         ("y axis (empty: one row)", "noise=0,0.3")):
        field = page.get_by_label(label)
        field.fill(value)
        field.press("Enter")
    page.get_by_role("button", name="Run sweep").click()
    page.get_by_text("done · 6 of 6 points").wait_for(timeout=120_000)
    deadline = time.monotonic() + 10
    while page.evaluate(SWEEP_CELLS_JS) < 6 and time.monotonic() < deadline:
        page.wait_for_timeout(200)    # the last redraw reaches the page
    assert page.evaluate(SWEEP_CELLS_JS) == 6
    page.get_by_text("Phase diagram (a sweep on Dask)").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "hopfield_sweep.png"))
    assert page.errors == []
    assert server.python_errors() == [], server.output()[-3000:]
