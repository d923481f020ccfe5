"""Background threads yield the CPU to the server's event loop. Run: pytest tests/runtime/test_thread_priority.py"""
import os
import sys
import threading

import pytest

from sandbox.runtime import Runner
from sandbox.runtime.device import BACKGROUND_NICENESS, lower_thread_priority
from tests.conftest import FakeStudy, wait_until

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")


def nice_of(thread: threading.Thread) -> int:
    return os.getpriority(os.PRIO_PROCESS, thread.native_id)


@linux_only
def test_only_the_calling_thread_is_lowered():
    before, seen = os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), {}

    def lower():
        seen["lowered"] = lower_thread_priority()
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    worker = threading.Thread(target=lower)
    worker.start()
    worker.join()
    assert seen == {"lowered": True, "nice": min(19, before + BACKGROUND_NICENESS)}
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before   # the caller's own is untouched


@linux_only
def test_the_training_and_observing_threads_run_behind_the_event_loop():
    runner = Runner(FakeStudy(), snapshot_every=5)
    try:
        runner.start()
        wait_until(lambda: runner.step > 10)
        threads = {t.name: t for t in threading.enumerate()}
        main = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        assert nice_of(threads["sandbox-runner"]) == min(19, main + BACKGROUND_NICENESS)
        assert nice_of(threads["sandbox-observer"]) == min(19, main + BACKGROUND_NICENESS)
    finally:
        runner.stop()


def test_elsewhere_it_is_a_no_op(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert lower_thread_priority() is False
