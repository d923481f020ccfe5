"""Fixtures for the ui tier: a served app and a Chromium page that records errors.

Run: pytest -m ui tests/ui
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .serving import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, ROOT, Server  # noqa: F401  (re-exported)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("served")
    (tmp / "apps").symlink_to(ROOT / "apps")
    srv = Server(tmp)
    yield srv
    srv.close()


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


# Longest column of any Bokeh ColumnDataSource holding `name` (data is a Map in newer Bokeh).
# [sent, drawn] of each page-pacing signal (sandbox/ui/pacing.py) in the page.
PACING_JS = """() => {
  const out = [];
  for (const doc of (window.Bokeh?.documents ?? []))
    for (const m of doc.all_models)
      if (m.data?.sent !== undefined && m.data?.drawn !== undefined) out.push([m.data.sent, m.data.drawn]);
  return out;
}"""

SOURCE_LENGTH_JS = """(name) => {
  let n = 0;
  for (const doc of (window.Bokeh?.documents ?? [])) {
    for (const m of doc.all_models) {
      const d = m.data;
      if (!d) continue;
      const col = d instanceof Map ? d.get(name) : d[name];
      if (col) n = Math.max(n, col.length);
    }
  }
  return n;
}"""
