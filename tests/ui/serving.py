"""Serve the apps with `panel serve` on a free localhost port and open them in headless Chromium.

Shared by the ui tests, benchmarks/ and scripts/screenshots.py.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

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
    def __init__(self, tmp_path: Path, env: dict[str, str] | None = None, args: tuple[str, ...] = ()):
        """`env`: extra environment of the server (e.g. a test hook); `args`: extra `panel serve` options."""
        self.port = free_port()
        self.log_path = tmp_path / "server.log"
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "panel", "serve", *sorted(f"apps/{f.name}" for f in (ROOT / "apps").glob("*.py")),
             "--index", "index",
             "--address", "127.0.0.1", "--port", str(self.port),
             "--allow-websocket-origin", f"127.0.0.1:{self.port}", "--setup", str(ROOT / "sandbox" / "serving" / "serve_setup.py"), *args],
            cwd=tmp_path, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"panel serve exited:\n{self.output()}")
            try:
                urllib.request.urlopen(self.url + "/grokking", timeout=30)   # a cold first build takes seconds
                return
            except OSError:
                time.sleep(0.2)  # polling the port until the server answers
        output = self.output()
        self.close()             # never leave a server behind
        raise RuntimeError(f"panel serve did not answer within 60 s:\n{output}")

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text()

    def threads(self) -> int:
        """The server process's thread count now (Linux)."""
        return int(self._proc_status("Threads"))

    def rss_mb(self) -> float:
        return int(self._proc_status("VmRSS").split()[0]) / 1024

    def _proc_status(self, field: str) -> str:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return line.split(":", 1)[1].strip()
        raise KeyError(field)

    def python_errors(self) -> list[str]:
        return [line for line in self.output().splitlines() if "Traceback" in line or " ERROR" in line]

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()




@contextmanager
def served_page(viewport=(1500, 1800)):
    """Yield (server, page): the apps served from a scratch directory, one Chromium page."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "apps").symlink_to(ROOT / "apps")
        server = Server(Path(tmp))
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
                page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
                yield server, page
                browser.close()
        finally:
            server.close()
