"""A tab closed mid-update is not logged as an error; every other task error still is.
Run: pytest tests/test_closed_sockets.py"""
import asyncio

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

from sandbox.serving import closed_sockets


class Recorder(asyncio.SelectorEventLoop):
    def __init__(self):
        super().__init__()
        self.logged = []

    def default_exception_handler(self, context):
        self.logged.append(context)


def test_only_closed_sockets_from_tasks_are_dropped():
    loop = Recorder()
    try:
        future = loop.create_future()
        for closed in (WebSocketClosedError(), StreamClosedError()):
            closed_sockets.handle(loop, {"message": "Task exception was never retrieved", "exception": closed,
                                         "future": future})
        assert loop.logged == []
        real = {"message": "Task exception was never retrieved", "exception": ValueError("bug"), "future": future}
        bare = {"message": "socket closed outside a task", "exception": WebSocketClosedError()}
        closed_sockets.handle(loop, real)
        closed_sockets.handle(loop, bare)
        assert loop.logged == [real, bare]
    finally:
        loop.close()
