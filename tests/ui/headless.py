"""A page that speaks Bokeh's websocket protocol and draws nothing: the load test's stand-in for a
browser on a machine of its own.

The browser load test runs its eight Chromium pages on the server's two cores, so what it measures
of the server's answers is mostly how the cores are shared (RELIABILITY.md). A `HeadlessPage` does
what a page does on the wire and nothing more: it fetches the app's HTML (which builds the session,
as a browser's visit does), connects, pulls the document, says it is ready, clicks buttons as Bokeh
button events, and answers the pacing signal (`sandbox/serving/pacing.py`) as soon as each number
arrives, as a browser with CPU to spare would. The server does the whole work of every session;
only the drawing is gone.

It reads the status bar from the updates it receives, so a test can follow each session's state
and step. All pages run on one asyncio loop (`HeadlessPages` gives a thread-safe handle on it).
"""
from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import threading
import time
from typing import Any

from bokeh.protocol import Protocol
from bokeh.protocol.receiver import Receiver
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

TOKEN = re.compile(r'"token":\s*"([^"]+)"')
STATE = re.compile(r"●\s*(\w+)")
STEP = re.compile(r'class="sandbox-step">(\d+)<')
PLACE = re.compile(r'class="sandbox-queue">number (\d+) in line')


def objects_in(tree: Any):
    """Every serialized Bokeh model in a document or a patch (they nest inside each other)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "object" and "id" in node:
                yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


class HeadlessPage:
    def __init__(self, url: str, app: str):
        self.url, self.app = url, app
        self.buttons: dict[str, str] = {}     # label -> model id
        self.status = ""                       # the status bar's HTML, as last sent
        self.status_changed = asyncio.Event()
        self.pacing_answers = 0
        self.complete = False                  # every part of the page has come (its loading line is gone)
        self.errors: list[str] = []
        self._status_ids: set[str] = set()
        self._loading_id = None
        self._ids = (str(n) for n in itertools.count(1))
        self._socket = None
        self._acknowledged, self._pulled = asyncio.Event(), asyncio.Event()

    # ---- what a test reads -----------------------------------------------------
    @property
    def state(self) -> str:
        found = STATE.search(self.status)
        return found.group(1) if found else ""

    @property
    def step(self) -> int:
        found = STEP.search(self.status)
        return int(found.group(1)) if found else -1

    @property
    def place_in_line(self) -> int | None:
        found = PLACE.search(self.status)
        return int(found.group(1)) if found else None

    # ---- what a browser does ---------------------------------------------------
    async def open(self, timeout: float = 300) -> None:
        """Visit the page, connect to its session, pull its document, say it is ready and wait until
        every part of it has come (after the page has loaded, one by one: sandbox/serving/filling.py)."""
        page = await AsyncHTTPClient().fetch(f"{self.url}/{self.app}", connect_timeout=timeout, request_timeout=timeout)
        token = TOKEN.search(page.body.decode()).group(1)
        host = self.url.split("//", 1)[1]
        self._socket = await websocket_connect(
            HTTPRequest(f"ws://{host}/{self.app}/ws", headers={"Origin": self.url},
                        connect_timeout=timeout, request_timeout=timeout),
            subprotocols=["bokeh", token], max_message_size=1 << 30)
        self._receiving = asyncio.ensure_future(self._receive())
        await asyncio.wait_for(self._acknowledged.wait(), timeout)   # the server reads messages from then on
        await self._send("PULL-DOC-REQ", {})
        await asyncio.wait_for(self._pulled.wait(), timeout)
        await self._send_events([self._event("document_ready", {})])
        await self.wait_for_status(lambda page: page.complete and page.state and "Start" in page.buttons, timeout)

    async def click(self, label: str) -> None:
        await self._send_events([self._event("button_click", {"model": {"id": self.buttons[label]}})])

    async def wait_for_status(self, predicate, timeout: float) -> None:
        """Until the status bar satisfies `predicate` (TimeoutError past `timeout`)."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            self.status_changed.clear()
            await asyncio.wait_for(self.status_changed.wait(), max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._receiving.cancel()

    # ---- the wire --------------------------------------------------------------
    @staticmethod
    def _event(name: str, values: dict) -> dict:
        return {"kind": "MessageSent", "msg_type": "bokeh_event",
                "msg_data": {"type": "event", "name": name, "values": values}}

    async def _send_events(self, events: list[dict]) -> None:
        await self._send("PATCH-DOC", {"events": events})

    async def _send(self, msgtype: str, content: dict) -> None:
        for part in ({"msgid": next(self._ids), "msgtype": msgtype}, {}, content):
            await self._socket.write_message(json.dumps(part))

    async def _receive(self) -> None:
        try:
            await self._read_messages()
        except Exception as exc:          # noqa: BLE001 - a test reads `errors`; a lost task would say nothing
            self.errors.append(f"receiving: {type(exc).__name__}: {exc}")
            self._acknowledged.set()
            self._pulled.set()

    async def _read_messages(self) -> None:
        receiver = Receiver(Protocol())
        while (fragment := await self._socket.read_message()) is not None:
            message = await receiver.consume(fragment)
            if message is None:
                continue
            if message.msgtype == "ACK":
                self._acknowledged.set()
            elif message.msgtype == "PULL-DOC-REPLY":
                self._learn(objects_in(message.content))
                self._pulled.set()
            elif message.msgtype == "PATCH-DOC":
                await self._read_patch(message.content)
            elif message.msgtype == "ERROR":
                self.errors.append(str(message.content))

    async def _read_patch(self, patch: dict) -> None:
        answers = []
        for event in patch.get("events", []):
            if event.get("kind") == "RootAdded":
                self._learn(objects_in(event))
            if event.get("kind") != "ModelChanged":
                continue
            self._learn(objects_in(event.get("new")))
            model, attr, new = event["model"]["id"], event["attr"], event.get("new")
            if attr == "sent":                 # the pacing signal: "drawn" at once
                answers.append({"kind": "ModelChanged", "model": {"id": model}, "attr": "drawn", "new": new})
            elif attr == "text" and model in self._status_ids:
                self._show_status(new)
            elif attr == "visible" and model == self._loading_id and new is False:
                self.complete = True
                self.status_changed.set()
        if answers:
            self.pacing_answers += len(answers)
            await self._send_events(answers)

    def _learn(self, models) -> None:
        """Remember the buttons and the status bar among newly sent models."""
        for model in models:
            attributes = model.get("attributes", {})
            if "Button" in model.get("name", "") and isinstance(attributes.get("label"), str):
                self.buttons[attributes["label"]] = model["id"]
            if "sandbox-loading" in (attributes.get("css_classes") or []):
                self._loading_id = model["id"]
            text = attributes.get("text")
            if isinstance(text, str) and "sandbox-status" in text:
                self._status_ids.add(model["id"])
                self._show_status(text)

    def _show_status(self, text: str) -> None:
        self.status = html.unescape(text)
        self.status_changed.set()


class HeadlessPages:
    """`n` headless pages on an asyncio loop of their own thread; each method waits for its result."""

    def __init__(self, url: str, app: str, n: int):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.pages = [HeadlessPage(url, app) for _ in range(n)]   # their asyncio events bind to the loop on first use

    def run(self, coroutine, timeout: float = 600):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def open_all(self) -> None:
        """All at once, as eight tabs opened together."""
        async def every_page():
            await asyncio.gather(*(page.open() for page in self.pages))
        self.run(every_page())

    def click(self, page: HeadlessPage, label: str) -> None:
        self.run(page.click(label))

    def wait_for_status(self, page: HeadlessPage, predicate, timeout: float = 60) -> None:
        self.run(page.wait_for_status(predicate, timeout), timeout + 5)

    def close(self) -> None:
        async def close_all():
            for page in self.pages:
                page.close()
        self.run(close_all())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
