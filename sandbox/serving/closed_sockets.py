"""A tab closed while an update is on its way is not an error.

Panel writes a page's updates from tasks nobody awaits (`panel.io.document._dispatch_msgs`, and
Tornado's `write_message` wrapper under it); when the tab closes mid-write each such task ends in
WebSocketClosedError, and asyncio logs "Task exception was never retrieved" with two tracebacks.
Bokeh itself treats a closed socket as routine ("Failed sending message as connection was
closed"). The handler here drops exactly those, from tasks, and hands everything else to asyncio's
default handler, so a real error still reaches the log.
"""
from __future__ import annotations

import asyncio

from tornado.iostream import StreamClosedError
from tornado.websocket import WebSocketClosedError

CLOSED = (WebSocketClosedError, StreamClosedError)


def handle(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    if isinstance(context.get("exception"), CLOSED) and isinstance(context.get("future"), asyncio.Future):
        return
    loop.default_exception_handler(context)


def install() -> None:
    """Set the handler on the server's loop once it runs (call from the serve setup)."""
    from tornado.ioloop import IOLoop

    def on_running_loop() -> None:
        asyncio.get_running_loop().set_exception_handler(handle)
    IOLoop.current().add_callback(on_running_loop)
