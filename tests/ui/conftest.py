"""Serve apps with `panel serve` on a free localhost port and drive them in headless Chromium.

Run: pytest -m ui tests/ui
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("SANDBOX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync", "--use-gl=swiftshader", "--enable-unsafe-swiftshader"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.log_path = tmp_path / "server.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "panel", "serve", "apps/index.py", "apps/grokking.py", "--index", "index",
             "--address", "127.0.0.1", "--port", str(self.port),
             "--allow-websocket-origin", f"127.0.0.1:{self.port}"],
            cwd=tmp_path, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"panel serve exited:\n{self.output()}")
            try:
                urllib.request.urlopen(self.url + "/grokking", timeout=5)
                return
            except OSError:
                time.sleep(0.2)  # polling the port until the server answers
        raise RuntimeError(f"panel serve did not answer within 60 s:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text()

    def python_errors(self) -> list[str]:
        return [line for line in self.output().splitlines() if "Traceback" in line or " ERROR" in line]

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


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
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    context.close()


# Longest column of any Bokeh ColumnDataSource holding `name` (data is a Map in newer Bokeh).
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
