"""Many users on one server: 8 browser sessions start training on one app. The server-wide cap
lets 2 train (SANDBOX_MAX_TRAINERS) and queues the rest with a message; every session keeps
updating, the server keeps answering, and a paused session hands its slot on.
Closing the tabs gives back every thread the sessions started.
Run: pytest -m ui tests/ui/test_load_browser.py"""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import wait_until
from tests.ui.conftest import LOAD_CAP, LOAD_SESSIONS, record_errors, wait_until_built
from tests.ui.headless import HeadlessPages
from tests.ui.latency import LatencyProbe
from tests.ui.serving import ROOT
from tests.ui.test_grokking_browser import state_text, step_counter

pytestmark = pytest.mark.ui

SESSIONS, CAP = LOAD_SESSIONS, LOAD_CAP
APP = "/associative_memory"


def wait_for(predicate, what: str, timeout: float = 60.0, pages=()):
    """Each look reads every page, so look five times a second, not more. On a timeout the failure
    shows what `pages` said then."""
    try:
        wait_until(predicate, timeout=timeout, interval=0.2, what=what)
    except AssertionError as timed_out:
        seen = "\n".join(f"  page {i}: {state_text(p)!r}, step {step_counter(p)}" for i, p in enumerate(pages))
        raise AssertionError(f"{timed_out}\n{seen}") from None


def click(page, button: str):
    """A real click on the button, without Playwright's wait for two steady animation frames: eight
    pages and the server share this machine's cores, so a page's frames come slowly; what counts
    here is that the server acts on the click, which the test checks next."""
    page.get_by_role("button", name=button, exact=True).click(force=True, no_wait_after=True)


def states(pages) -> list[str]:
    return [state_text(p).split("·")[0].strip("● \n") for p in pages]


def open_sessions(browser, server, n):
    contexts, pages = [], []
    for _ in range(n):
        context = browser.new_context(viewport={"width": 1500, "height": 1800})
        page = record_errors(context.new_page())
        page.on("requestfailed", lambda r, pg=page: pg.errors.append(f"request failed: {r.url} {r.failure}"))
        page.goto(server.url + APP, wait_until="commit")     # all eight load at once
        contexts.append(context)
        pages.append(page)
    for page in pages:
        wait_until_built(page)
    return contexts, pages


def threads_without_sessions(server) -> int:
    """The server's thread count once one page has been shown and its session has ended: the first
    3-D view starts threads the process keeps (the renderer's, one per core), and a count taken
    before it depends on how far the server's own start-up has got (measured: 4, then 9). A page's
    parts (its 3-D view among them) are made once it has loaded, so this page is opened by a client
    that loads it (and draws nothing)."""
    page = HeadlessPages(server.url, APP.strip("/"), 1)
    page.open_all()
    peak = [server.threads()]
    page.close()

    def ended():
        now = server.threads()
        peak[0] = max(peak[0], now)
        return now <= peak[0] - 3                # its runner, observer and landscape threads are gone

    wait_for(ended, "the unconnected session ends", timeout=90)
    return server.threads()


def test_eight_sessions_train_two_at_a_time_and_the_server_stays_responsive(capped_server, browser):
    baseline_threads = threads_without_sessions(capped_server)
    contexts, pages = open_sessions(browser, capped_server, SESSIONS)
    # Measured from here on: while the pages are being built the server stalls for seconds at a time
    # (building a session's document holds the event loop; recorded in RELIABILITY.md).
    probe = LatencyProbe(capped_server.url + "/liveness")
    try:
        for page in pages:
            click(page, "Start")
        wait_for(lambda: sorted(states(pages)) == ["queued"] * (SESSIONS - CAP) + ["running"] * CAP,
                 "2 running and 6 queued", pages=pages)
        # The buttons stay put whatever the status says: a queued page's longer status and its message
        # once pushed them down, and a click aimed at Pause during such a change hit nothing.
        tops = {round(p.get_by_role("button", name="Pause", exact=True).bounding_box()["y"]) for p in pages}
        assert len(tops) == 1, f"Pause sits at different heights: {sorted(tops)}"
        running = [p for p, s in zip(pages, states(pages)) if s == "running"]
        queued = [p for p, s in zip(pages, states(pages)) if s == "queued"]
        before = [step_counter(p) for p in running]
        wait_for(lambda: all(step_counter(p) > b for p, b in zip(running, before)), "every running session advances", pages=pages)
        for page in queued:                          # told why, and where it stands
            assert page.get_by_text(f"Queued: every trainer of this server is busy ({CAP} at a time)").count() == 1
            assert step_counter(page) == 0
        assert sorted(int(p.locator(".sandbox-queue").inner_text().split()[1]) for p in queued) == list(
            range(1, SESSIONS - CAP + 1))
        # One pauses: the first in line starts by itself, and trains; the line moves up.
        first = next(p for p in queued if "number 1 in line" in state_text(p))
        click(running[0], "Pause")
        wait_for(lambda: states([running[0]]) == ["paused"], "the session paused", pages=pages)
        wait_for(lambda: states([first]) == ["running"], "the first in line starts", pages=pages)
        wait_for(lambda: step_counter(first) > 0, "the session that got the slot trains", pages=pages)
        assert first.get_by_text("Queued:").count() == 0
        wait_for(lambda: sorted(int(p.locator(".sandbox-queue").inner_text().split()[1]) for p in queued
                                if p is not first) == list(range(1, SESSIONS - CAP)), "the line moves up", pages=pages)
        # Every page is still live: a paused page still answers its buttons.
        click(running[0], "Step ×N")
        wait_for(lambda: states([running[0]]) == ["queued"], "Step ×N on a paused page joins the line", pages=pages)
        latencies = probe.stop()
        median, p90, worst = latencies.median, latencies.share_within(0.9), latencies.worst
        print(f"liveness: {latencies}")
        assert len(latencies.sorted_seconds) > 20
        # The goal: answers within a second. Measured here (two cores shared with eight Chromium pages
        # drawing WebGL in software): 90% within 0.13-0.34 s, the slowest 0.6-1.1 s. What is asserted
        # leaves a margin for a slower machine: 9 in 10 within the second, none past 5 s. The server's
        # own figure, every answer within the second, is asserted by test_load_headless.py, whose eight
        # clients draw nothing and so leave the two cores to the capped_server.
        assert median < 0.25 and p90 < 1.0 and worst < 5, f"median {median:.2f} s, 90% within {p90:.2f} s, max {worst:.2f} s"
        for page in pages:
            assert page.errors == []
        assert capped_server.python_errors() == []
        loaded_threads = capped_server.threads()
    finally:
        probe.stop()
        for context in contexts:
            context.close()
    # Closed tabs: their sessions end (after Bokeh's unused-session lifetime, 15 s checked every 17 s)
    # and take their threads along.
    wait_for(lambda: capped_server.threads() <= baseline_threads, f"threads back to {baseline_threads}", timeout=90)
    assert loaded_threads > baseline_threads + SESSIONS     # the sessions did start threads of their own
    # Tabs closed while two of them trained: updates on their way met closed sockets, which Panel's
    # unawaited writes logged as "Task exception was never retrieved" (sandbox/serving/closed_sockets.py).
    assert capped_server.python_errors() == [], capped_server.output()[-3000:]


def test_the_soak_script_samples_and_reports_the_closed_tab():
    """`make soak` with 15 seconds instead of ten minutes: it runs and reports (figures not asserted)."""
    done = subprocess.run([sys.executable, "-m", "benchmarks.soak", "--minutes", "0.25", "--every", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-2000:]
    samples = [line for line in done.stdout.splitlines() if " step " in line and "RSS" in line]
    assert len(samples) >= 3
    assert "tab closed: threads" in done.stdout and "page errors: 0" in done.stdout
