"""The served grokking app in headless Chromium: Start, Pause, Step ×N, Reset, no errors.
Run: pytest -m ui tests/ui/test_grokking_browser.py  (screenshots go to tests/artifacts/)"""
import time

import pytest

from tests.conftest import wait_until
from tests.ui.conftest import ARTIFACTS, LAST_STEP_JS, SOURCE_LENGTH_JS, wait_until_built
from tests.ui.landscape import assert_landscape_drawn

pytestmark = pytest.mark.ui


def step_counter(page) -> int:
    return int(page.locator(".sandbox-step").inner_text())


def state_text(page) -> str:
    return page.locator(".sandbox-status").inner_text()


def wait_for_step(page, predicate, timeout: float = 60.0) -> int:
    """Poll the status bar (it lives in shadow DOM, which Playwright locators pierce)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        step = step_counter(page)
        if predicate(step):
            return step
        page.wait_for_timeout(100)
    raise AssertionError(f"step counter stuck at {step_counter(page)}; status: {state_text(page)}")


def wait_for_points(page, column: str, predicate, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = page.evaluate(SOURCE_LENGTH_JS, column)
        if predicate(n):
            return n
        page.wait_for_timeout(100)
    raise AssertionError(f"{column} has {page.evaluate(SOURCE_LENGTH_JS, column)} points")


# [α, β] of the landscape map's marker: the source with exactly the columns alpha and beta.
CURRENT_POINT_JS = """() => {
  for (const doc of Bokeh.documents) for (const m of doc.all_models) {
    const d = m.data;
    if (!d) continue;
    const keys = d instanceof Map ? Array.from(d.keys()) : Object.keys(d);
    if (keys.length === 2 && keys.includes('alpha') && keys.includes('beta')) {
      const get = (k) => d instanceof Map ? d.get(k) : d[k];
      return [Array.from(get('alpha')), Array.from(get('beta'))];
    }
  }
  return null;
}"""


def test_gallery_links_to_the_grokking_app(server, page):
    page.goto(server.url + "/")
    link = page.locator("a[href='./grokking']")
    link.wait_for(timeout=30_000)
    assert "Grokking" in link.inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "index.png"), full_page=True)
    assert page.errors == []


def test_start_pause_step_reset_in_the_browser(server, page):
    page.goto(server.url + "/grokking")
    wait_until_built(page, 60_000)
    page.locator(".sandbox-status").wait_for(timeout=30_000)
    assert step_counter(page) == 0 and "idle" in state_text(page)

    page.get_by_role("button", name="Start", exact=True).click()
    wait_for_step(page, lambda s: s > 60)
    loss_points = wait_for_points(page, "loss_train", lambda n: n > 3)
    wait_for_points(page, "loss_train", lambda n: n > loss_points)  # the loss curve keeps growing

    page.get_by_role("button", name="Pause", exact=True).click()
    page.get_by_text("paused").first.wait_for(timeout=15_000)
    paused_at = step_counter(page)
    page.wait_for_timeout(1500)  # an observation window: the counter must not move during it
    assert step_counter(page) == paused_at

    page.locator(".sandbox-step-count input").fill("25")
    page.locator(".sandbox-step-count input").press("Enter")
    page.get_by_role("button", name="Step ×N").click()
    wait_for_step(page, lambda s: s == paused_at + 25)
    assert_landscape_drawn(page, step=paused_at + 25)     # refined around the paused run's weights

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "grokking.png"), full_page=True)

    # Linked: a click on the accuracy curve shows every view at the nearest recorded step, and the
    # landscape's marker (the map's orange point) moves back along the path to it.
    marker = page.evaluate(CURRENT_POINT_JS)
    figure = page.locator(".bk-Figure").first
    figure.scroll_into_view_if_needed()
    box = figure.bounding_box()
    figure.click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.6})
    page.get_by_text("showing step").wait_for(timeout=15_000)
    picked = int(page.locator(".sandbox-status b", has_text="showing step").inner_text().split()[-1])
    assert 0 < picked < paused_at
    page.wait_for_function(f"(before) => JSON.stringify(({CURRENT_POINT_JS})()) !== JSON.stringify(before)",
                           arg=marker, timeout=15_000)
    page.get_by_role("button", name="Follow live").click()
    page.get_by_text("showing step").wait_for(state="detached", timeout=15_000)

    # Scrub: click a third of the way along the time slider; every view shows that step.
    track = page.locator(".sandbox-time .noUi-target")
    box = track.bounding_box()
    track.click(position={"x": box["width"] * 0.3, "y": box["height"] / 2})
    page.get_by_text("showing step").wait_for(timeout=15_000)
    shown = int(page.locator(".sandbox-status b", has_text="showing step").inner_text().split()[-1])
    assert 0 < shown < paused_at
    page.get_by_role("button", name="Follow live").click()
    page.get_by_text("showing step").wait_for(state="detached", timeout=15_000)

    page.get_by_role("button", name="Reset", exact=True).click()
    wait_for_step(page, lambda s: s == 0)
    # The old run's points are gone; the new run may already show its own step 0 (a Reset records
    # it), so the curve holds no point past step 0.
    wait_until(lambda: page.evaluate(LAST_STEP_JS, "loss_train") <= 0, timeout=30, interval=0.1,
               what="no point past step 0 on the loss curve")
    assert wait_for_points(page, "loss_train", lambda n: n <= 1) <= 1
    assert page.errors == []
    assert server.python_errors() == []


def test_bad_setting_shows_a_message_and_keeps_the_page_alive(server, page):
    page.goto(server.url + "/grokking")
    wait_until_built(page, 60_000)
    page.get_by_text("Settings (apply on Reset)").click()
    p_input = page.locator(".sandbox-param-p input")
    p_input.fill("100")
    p_input.press("Enter")
    page.get_by_role("button", name="Reset", exact=True).click()
    page.get_by_text("p = 100 is not prime").wait_for(timeout=15_000)
    page.get_by_role("button", name="Step ×N").click()
    wait_for_step(page, lambda s: s == 10)
    assert page.errors == []


TITLES_JS = r"""() => {
  const out = [];
  for (const doc of (window.Bokeh?.documents ?? []))
    for (const m of doc.all_models) if (typeof m.text === "string" && /^Neuron \d+:/.test(m.text)) out.push(m.text);
  return out;
}"""


def test_clicking_the_neuron_map_selects_a_neuron(server, page):
    page.goto(server.url + "/grokking")
    wait_until_built(page, 60_000)
    deadline = time.monotonic() + 30
    while not any(t.startswith("Neuron 0:") for t in page.evaluate(TITLES_JS)):
        assert time.monotonic() < deadline, page.evaluate(TITLES_JS)
        page.wait_for_timeout(100)
    # The neuron map is the seventh figure on the page (apps/grokking.py rows); click near its top.
    canvas = page.locator(".bk-Figure").nth(6)
    box = canvas.bounding_box()
    canvas.click(position={"x": box["width"] * 0.5, "y": box["height"] * 0.2})
    while not [t for t in page.evaluate(TITLES_JS) if not t.startswith("Neuron 0:")]:
        assert time.monotonic() < deadline + 30, page.evaluate(TITLES_JS)
        page.wait_for_timeout(100)
    assert page.errors == []


def test_a_link_reproduces_settings_and_a_bad_link_says_why(server, page):
    page.goto(server.url + "/grokking?preset=no_weight_decay&seed=3")
    page.locator(".sandbox-param-weight_decay input").wait_for(timeout=30_000)
    deadline = time.monotonic() + 15
    while page.locator(".sandbox-param-weight_decay input").input_value() not in ("0", "0.0"):
        assert time.monotonic() < deadline, page.locator(".sandbox-param-weight_decay input").input_value()
        page.wait_for_timeout(100)
    wd = page.locator(".sandbox-param-weight_decay input")
    wd.fill("0.25")
    wd.press("Enter")
    while "weight_decay=0.25" not in page.url:
        assert time.monotonic() < deadline + 15, page.url
        page.wait_for_timeout(100)
    assert "preset=no_weight_decay" in page.url and "seed=3" in page.url

    page.goto(server.url + "/grokking?p=100")
    page.get_by_text("Ignored the link's settings").wait_for(timeout=30_000)
    assert "not prime" in page.get_by_text("Ignored the link's settings").inner_text()
    assert page.errors == []
