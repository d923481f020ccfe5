"""The server's answers within a second while 8 pages open together and then train, measured without
browsers on its cores.

The browser load test (test_load_browser.py) runs eight Chromium pages on the server's two cores;
what it measures of the answer time is mostly how those cores are shared. Here the eight pages are
`HeadlessPage`s: each opens its session as a browser does, clicks Start and Pause as button events,
and answers the pacing signal at once, as a browser on a machine of its own would. The server does
the full work of every session (documents, updates, 3-D scenes, pacing), so the figures are the
server's own.
Run: pytest -m ui tests/ui/test_load_headless.py"""
from __future__ import annotations

import time

import pytest

from tests.ui.conftest import LOAD_CAP, LOAD_SESSIONS
from tests.ui.headless import HeadlessPages
from tests.ui.latency import LatencyProbe

pytestmark = pytest.mark.ui

SESSIONS, CAP = LOAD_SESSIONS, LOAD_CAP
APP = "associative_memory"
TRAINING_S = 30


def test_eight_training_sessions_get_every_answer_within_a_second(capped_server):
    opening = LatencyProbe(capped_server.url + "/liveness")
    started = time.monotonic()
    pages = HeadlessPages(capped_server.url, APP, SESSIONS)
    try:
        pages.open_all()
        opened_s, opening = time.monotonic() - started, opening.stop()
        print(f"8 pages opened together in {opened_s:.1f} s; liveness meanwhile: {opening}")
        # Opened together, until every part of every page has come. Their first turns (scripts) are run
        # one at a time (sandbox/serving/build_queue.py), their parts made and put in piece by piece, a view
        # per step, with passes of the loop between steps to answer others (sandbox/serving/filling.py,
        # turns.py): measured max 0.22-0.35 s here, 0.25 s with a core kept busy beside the server
        # (built back to back in one turn each: 8.4-9.1 s; one build at a time: 2.0-2.2 s; parts whole,
        # one per step: 0.41-0.58 s, once 1.05 s in CI).
        assert opening.worst < 1.0, str(opening)

        probe = LatencyProbe(capped_server.url + "/liveness")
        for page in pages.pages:
            pages.click(page, "Start")
        for page in pages.pages:
            pages.wait_for_status(page, lambda p: p.state in ("running", "queued"))
        assert sorted(p.state for p in pages.pages) == ["queued"] * (SESSIONS - CAP) + ["running"] * CAP
        running = [p for p in pages.pages if p.state == "running"]
        queued = sorted((p for p in pages.pages if p.state == "queued"), key=lambda p: p.place_in_line)
        assert [p.place_in_line for p in queued] == list(range(1, SESSIONS - CAP + 1))

        time.sleep(TRAINING_S / 2)                  # training: the figures are taken over this span
        for page in running:                        # each training page is updated, and paced by its answers
            assert page.step > 100 and page.pacing_answers > 10
        assert all(p.step == 0 for p in queued)

        clicked = time.monotonic()
        pages.click(running[0], "Pause")
        pages.wait_for_status(running[0], lambda p: p.state == "paused", timeout=30)
        pause_s = time.monotonic() - clicked
        pages.wait_for_status(queued[0], lambda p: p.state == "running", timeout=30)
        handed_on_s = time.monotonic() - clicked
        time.sleep(TRAINING_S / 2)
        assert queued[0].step > 100
        latencies = probe.stop()
        print(f"while training: {latencies}; Pause shown after {pause_s:.3f} s, "
              f"the slot handed on after {handed_on_s:.3f} s")

        assert len(latencies.sorted_seconds) > 60
        # The goal: every answer within a second (measured here: max 0.2-0.5 s, see RELIABILITY.md).
        assert latencies.worst < 1.0, str(latencies)
        assert pause_s < 1.0 and handed_on_s < 2.0
        for page in pages.pages:
            assert page.errors == []
        assert capped_server.python_errors() == []
    finally:
        pages.close()
