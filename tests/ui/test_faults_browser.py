"""A fault inside training, in the served app (test hook SANDBOX_INJECT_FAULT): the page says what
happened, the server keeps serving, Reset recovers. Run: pytest -m ui tests/ui/test_faults_browser.py"""
import time
import urllib.request

import pytest

from tests.ui.conftest import serving, wait_until_built
from tests.ui.test_grokking_browser import state_text, wait_for_step

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serving(tmp_path_factory, "faulty", env={"SANDBOX_INJECT_FAULT": "exception@20"})


@pytest.fixture(scope="module")
def nan_server(tmp_path_factory):
    yield from serving(tmp_path_factory, "faulty", env={"SANDBOX_INJECT_FAULT": "nan@20"})


def started_grokking(server, page):
    page.goto(server.url + "/grokking")
    wait_until_built(page, 60_000)
    page.get_by_role("button", name="Start", exact=True).click()


def reset_and_train_past_the_fault(page):
    page.get_by_role("button", name="Reset", exact=True).click()
    wait_for_step(page, lambda s: s == 0)
    page.get_by_role("button", name="Start", exact=True).click()
    wait_for_step(page, lambda s: s > 40)                 # past the faulty step: the fault fired once
    assert "running" in state_text(page)


def test_an_exception_in_a_step_is_shown_the_server_serves_on_and_reset_recovers(server, page):
    started_grokking(server, page)
    page.get_by_text("injected fault at step 20").wait_for(timeout=60_000)
    assert "error" in state_text(page)
    started = time.monotonic()
    with urllib.request.urlopen(server.url + "/hopfield", timeout=10) as answer:   # another app still served
        assert answer.status == 200
    assert time.monotonic() - started < 5
    reset_and_train_past_the_fault(page)
    assert page.get_by_text("injected fault").count() == 0
    assert page.errors == []
    assert server.python_errors() == []


def test_a_nan_loss_pauses_the_run_with_a_message_and_reset_recovers(nan_server, page):
    started_grokking(nan_server, page)
    page.get_by_text("Loss became nan at step 20").wait_for(timeout=60_000)
    assert "paused" in state_text(page)
    assert page.get_by_text("Lower the learning rate").count() == 1      # what to do about it
    reset_and_train_past_the_fault(page)
    assert page.get_by_text("Loss became nan").count() == 0
    assert page.errors == []
    assert nan_server.python_errors() == []
