"""The served clustering-heads app in headless Chromium: Start, views fill, Pause, no errors.
Run: pytest -m ui tests/ui/test_clustering_browser.py  (screenshot: tests/artifacts/clustering_heads.png)"""
import pytest

from tests.ui.conftest import ARTIFACTS, SOURCE_LENGTH_JS, wait_until_built
from tests.ui.landscape import assert_landscape_drawn
from tests.ui.test_grokking_browser import state_text, step_counter, wait_for_points, wait_for_step

pytestmark = pytest.mark.ui

# Screen box [x, y, w, h] of the Bokeh figure whose title starts with the given text.
FIGURE_BOX_JS = """(title) => {
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    if (m.title?.text?.startsWith?.(title)) {
      const view = Bokeh.index.find_one(m);
      if (!view) return null;
      view.el.scrollIntoView({block: "center"});
      const r = view.el.getBoundingClientRect();
      return [r.x, r.y, r.width, r.height];
    }
  }
  return null;
}"""

# How many items are selected in the source holding column `name`.
SELECTED_JS = """(name) => {
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    const d = m.data;
    if (d && (d instanceof Map ? d.has(name) : name in d)) return m.selected.indices.length;
  }
  return 0;
}"""


def test_start_fill_pause_in_the_browser(server, page):
    page.goto(server.url + "/clustering_heads")
    wait_until_built(page, 60_000)
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
    # The paused run's refined landscape first: its 3-D scene redraws in software WebGL, which holds
    # the page's main thread for up to a second, and a drag made meanwhile was lost (1 run in 5, CI
    # included: nothing selected).
    assert_landscape_drawn(page)
    # Box-select in the middle plane: the shared source's selection is what lights up all three.
    box = page.evaluate(FIGURE_BOX_JS, "Read-out z, coloured")
    assert box is not None, "the read-out plane was not rendered"
    x, y, w, h = box
    page.mouse.move(x + 0.3 * w, y + 0.3 * h)   # inside the plot frame, below the title
    page.mouse.down()
    page.mouse.move(x + 0.5 * w, y + 0.5 * h, steps=5)
    page.mouse.move(x + 0.97 * w, y + 0.9 * h, steps=5)
    page.mouse.up()
    page.wait_for_function(SELECTED_JS, arg="x2", timeout=10_000)
    assert 0 < page.evaluate(SELECTED_JS, "x2") < 512
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "clustering_heads.png"), full_page=True)
    assert page.evaluate(SOURCE_LENGTH_JS, "acc_test") > 3
    assert page.errors == []
    assert server.python_errors() == []
