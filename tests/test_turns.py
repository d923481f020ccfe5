"""Work that can wait is handed to the pages one item at a time, with passes of the event loop
between two items in which the loop answers other requests (sandbox/serving/turns.py)."""
from __future__ import annotations

import asyncio
import time

from sandbox.serving import turns
from sandbox.serving.turns import GAP_PASSES, TurnQueue


class Doc:
    """Stands in for a Bokeh document: a next-tick callback runs in a later pass of the loop."""

    def __init__(self, gone: bool = False):
        self.gone = gone

    def add_next_tick_callback(self, fn):
        if self.gone:
            raise RuntimeError("this page's session is destroyed")
        asyncio.get_running_loop().call_soon(fn)


def test_items_added_together_run_one_at_a_time_with_other_work_answered_between():
    queue, ran, answered = TurnQueue(), [], []

    def item(n):
        ran.append((n, time.monotonic()))
        time.sleep(0.03)                         # a part being made: one turn that never yields

    async def answer_meanwhile():               # another page's requests, arriving all along
        while len(ran) < 4:
            await asyncio.sleep(0.002)           # one arrives (during an item, mostly) ...
            for _ in range(3):                   # ... and takes a few passes of the loop to answer
                await asyncio.sleep(0)
            answered.append(time.monotonic())

    async def main():
        page, gone = Doc(), Doc(gone=True)
        queue.add(page, lambda: item(0))
        queue.add(gone, lambda: item("never"))   # a page closed meanwhile: dropped, the rest goes on
        for n in (1, 2, 3):
            queue.add(page, lambda n=n: item(n))
        await answer_meanwhile()

    asyncio.run(main())
    assert [n for n, _ in ran] == [0, 1, 2, 3] and len(queue) == 0
    for (_, before), (_, after) in zip(ran, ran[1:]):
        assert after - before >= 0.03                                # one at a time
        assert any(before + 0.03 <= t <= after for t in answered)   # and between two the loop answered others


def test_the_next_item_comes_some_passes_of_the_loop_after_the_last_not_some_time():
    queue, passes_between = TurnQueue(), []

    async def main():
        page, counting = Doc(), {"passes": 0, "on": True}

        def count():
            counting["passes"] += 1
            if counting["on"]:
                asyncio.get_running_loop().call_soon(count)

        def first():
            counting["passes"] = 0

        def second():
            passes_between.append(counting["passes"])
            counting["on"] = False

        count()
        started = time.monotonic()
        queue.add(page, first)
        queue.add(page, second)
        while counting["on"]:
            await asyncio.sleep(0)
        return time.monotonic() - started

    took = asyncio.run(main())
    assert passes_between[0] >= GAP_PASSES           # the loop went round that often between the two
    assert took < 0.05                                # and on an idle loop that is no wait at all


def test_unserved_work_runs_at_once():
    ran = []
    turns.later(ran.append, "now")
    assert ran == ["now"]


class Closed(Doc):
    """A page closed after its item was handed over: Bokeh drops the callback, it never runs."""

    def add_next_tick_callback(self, fn):
        pass


def test_an_item_that_never_runs_holds_the_queue_only_for_a_while(monkeypatch):
    monkeypatch.setattr(turns, "STALL_S", 0.1)
    queue, ran = TurnQueue(), []

    async def main():
        queue.add(Closed(), lambda: ran.append("never"))
        queue.add(Doc(), lambda: ran.append("next page"))
        started = time.monotonic()
        while not ran and time.monotonic() - started < 5:
            await asyncio.sleep(0.01)
        return time.monotonic() - started

    waited = asyncio.run(main())
    assert ran == ["next page"] and 0.1 <= waited < 1.0


def test_a_block_takes_its_turn_between_items():
    """A page's first turn (built by Bokeh inside a request) waits for the parts queued before it,
    and the parts queued after it wait for it and the gap."""
    queue, ran = TurnQueue(), []

    async def build():
        async with queue.turn():
            ran.append(("build", time.monotonic()))
            time.sleep(0.03)
            ran.append(("built", time.monotonic()))

    async def main():
        page = Doc()
        queue.add(page, lambda: ran.append(("part 1", time.monotonic())))
        building = asyncio.ensure_future(build())
        await asyncio.sleep(0)
        queue.add(page, lambda: ran.append(("part 2", time.monotonic())))
        await building
        while len(ran) < 4:
            await asyncio.sleep(0.005)

    asyncio.run(main())
    assert [name for name, _ in ran] == ["part 1", "build", "built", "part 2"]
    assert len(queue) == 0
