"""Sessions are built one at a time, in turns of the server's queue of page work, with passes of the
event loop between two builds (sandbox/serving/build_queue.py, sandbox/serving/turns.py)."""
from __future__ import annotations

import asyncio
import time

from sandbox.serving.build_queue import install, one_build_at_a_time
from sandbox.serving.turns import TurnQueue


class Context:
    """Stands in for Bokeh's ApplicationContext: a build holds the loop for 0.1 s, as a page's does."""

    def __init__(self):
        self._sessions, self._pending_sessions, self.builds = {}, {}, []

    async def create_session_if_needed(self, session_id, request=None, token=None):
        if session_id not in self._sessions:
            started = time.monotonic()
            time.sleep(0.1)                    # a build: one turn that never yields
            self._sessions[session_id] = object()
            self.builds.append((started, time.monotonic()))
        return self._sessions[session_id]


def test_builds_run_one_after_another_and_the_loop_answers_between_them():
    context = Context()
    spaced = one_build_at_a_time(Context.create_session_if_needed, TurnQueue())
    answered = []

    async def answer_meanwhile():                # another page's requests, arriving all along
        while len(context.builds) < 4:
            await asyncio.sleep(0.005)           # one arrives (during a build, mostly) ...
            for _ in range(3):                   # ... and takes a few passes of the loop to answer
                await asyncio.sleep(0)
            answered.append(time.monotonic())

    async def main():
        await asyncio.gather(*(spaced(context, f"s{i}") for i in range(4)), answer_meanwhile())
        again = await spaced(context, "s0")      # a session that exists: passed straight through
        assert again is context._sessions["s0"]

    asyncio.run(main())
    assert len(context.builds) == 4
    for (_, ended), (started, _) in zip(context.builds, context.builds[1:]):
        assert any(ended <= t <= started for t in answered)   # between two builds the loop answered others


def test_a_bokeh_without_the_wrapped_method_still_serves_and_says_so(caplog):
    class Renamed:                               # a Bokeh whose context builds sessions under another name
        async def make_session(self, session_id):
            return session_id

    with caplog.at_level("WARNING", logger="sandbox.serving.build_queue"):
        assert install(Renamed) is False
    assert "built back to back" in caplog.text
    assert not hasattr(Renamed, "create_session_if_needed")


def test_installing_twice_wraps_once():
    class Fresh(Context):
        pass

    assert install(Fresh) and install(Fresh)
    wrapped = Fresh.create_session_if_needed
    assert wrapped.builds_one_at_a_time and wrapped.__wrapped__ is Context.create_session_if_needed
