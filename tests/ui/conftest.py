"""Fixtures for the ui tier: a served app and a Chromium page that records errors.

Run: pytest -m ui tests/ui
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .serving import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, ROOT, Server  # noqa: F401  (re-exported)


def serving(tmp_path_factory, name: str, **options):
    """The apps served from a scratch directory of their own (saved runs land there), closed afterwards:
    `yield from` it in a fixture. `options` go to `Server` (env, args)."""
    tmp = tmp_path_factory.mktemp(name)
    (tmp / "apps").symlink_to(ROOT / "apps")
    srv = Server(tmp, **options)
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serving(tmp_path_factory, "served")


# The load tests: 8 sessions on one app, at most 2 training at once (the others queue).
# /liveness answers without touching any session: what a probe times is the event loop itself.
# (Bokeh's unused-session lifetime is left at its default: with a lifetime of 1 s, Panel's cleanup of
# one session made the live sessions' later updates ask cdn.holoviz.org for their stylesheets.)
LOAD_SESSIONS, LOAD_CAP = 8, 2


@pytest.fixture(scope="module")
def capped_server(tmp_path_factory):
    yield from serving(tmp_path_factory, "load", env={"SANDBOX_MAX_TRAINERS": str(LOAD_CAP)}, args=("--liveness",))


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}; install Debian's chromium (.ci/run does)")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1800})
    pg = context.new_page()
    record_errors(pg)
    yield pg
    context.close()


def record_errors(page):
    """`page.errors` collects the page's console errors and uncaught exceptions from now on."""
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    return page


def wait_until_built(page, timeout_ms: int = 120_000) -> None:
    """Until every part of an app's page has come (they come one by one once the page has loaded,
    sandbox/serving/filling.py): its controls are there and its loading line is gone."""
    page.get_by_role("button", name="Start", exact=True).wait_for(timeout=timeout_ms)
    page.locator(".sandbox-loading").wait_for(state="hidden", timeout=timeout_ms)


def over_bokeh_data(start: str, each: str) -> str:
    """A JS function of `name` for `page.evaluate`: `start` declares `out`, then `each` runs for every
    model holding data in the page's Bokeh documents, with `get(key)` reading that data (a Map for a
    source in newer Bokeh, an object for a ReactiveHTML's); it returns `out`."""
    return f"""(name) => {{
  {start}
  for (const doc of (window.Bokeh?.documents ?? []))
    for (const m of doc.all_models) {{
      const d = m.data;
      if (!d) continue;
      const get = (key) => d instanceof Map ? d.get(key) : d[key];
      {each}
    }}
  return out;
}}"""


# Longest column of any Bokeh ColumnDataSource holding `name`.
SOURCE_LENGTH_JS = over_bokeh_data("let out = 0;", "const col = get(name); if (col) out = Math.max(out, col.length);")
# The last step plotted by the source holding `name` (-1 when none holds a point).
LAST_STEP_JS = over_bokeh_data(
    "let out = -1;", 'const col = get(name), steps = get("step"); if (col && steps) for (const s of steps) out = Math.max(out, s);')
# [sent, drawn] of each page-pacing signal (sandbox/serving/pacing.py) in the page.
PACING_JS = over_bokeh_data(
    "const out = [];", 'if (get("sent") !== undefined && get("drawn") !== undefined) out.push([get("sent"), get("drawn")]);')
