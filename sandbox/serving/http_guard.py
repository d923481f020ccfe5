"""What the server answers before any app runs: a request for another host is refused, and every
answer says it may not be framed by another site.

Bokeh builds a session (a model, a snapshot) on a plain GET of a page, before any websocket origin
check: a site that points its own name at 127.0.0.1 (DNS rebinding) could make a visitor's browser
build pages on a server bound to localhost. So a request whose Host is not one the server was told
to serve gets 403 before a handler runs. The hosts: those of `--allow-websocket-origin` (read from
the command line, as `panel serve` got them), localhost's names, and `SANDBOX_ALLOWED_HOSTS`
(comma-separated) for a proxy's name.

The adapter (the one place that reaches into Tornado, through its public API): `install()` wraps
`tornado.web.Application.find_handler` (which routes every request, websocket upgrades included)
and adds an `OutputTransform` for the headers. `tests/test_http_guard.py` fails loudly if an
upgrade removes either.
"""
from __future__ import annotations

import argparse
import functools
import os
import sys

import tornado.web

LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
# A full script CSP is not possible: Bokeh and Panel pages run inline scripts. frame-ancestors is
# the part that stops another site from framing a page (clickjacking); X-Frame-Options for old browsers.
HEADERS = {"X-Frame-Options": "SAMEORIGIN", "Content-Security-Policy": "frame-ancestors 'self'",
           "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}


def allowed_hosts(argv: list[str] | None = None, environ=None) -> frozenset[str]:
    """Host names (no ports) the server answers for."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--allow-websocket-origin", action="append", default=[])
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    extra = (os.environ if environ is None else environ).get("SANDBOX_ALLOWED_HOSTS", "")
    names = [_host_name(origin) for origin in known.allow_websocket_origin]
    names += [name.strip().lower() for name in extra.split(",") if name.strip()]
    return LOCAL_NAMES | frozenset(names)


def _host_name(origin: str) -> str:
    """`host[:port]` → host, lower case (an IPv6 literal keeps its brackets)."""
    origin = origin.strip().lower()
    if origin.startswith("["):
        return origin[:origin.index("]") + 1]
    return origin.rsplit(":", 1)[0] if origin.count(":") == 1 else origin


class SecurityHeaders(tornado.web.OutputTransform):
    def transform_first_chunk(self, status_code, headers, chunk, finishing):
        for name, value in HEADERS.items():
            headers.setdefault(name, value)
        return status_code, headers, chunk


def guarded(find_handler, hosts: frozenset[str]):
    @functools.wraps(find_handler)
    def find(self, request, **kwargs):
        if SecurityHeaders not in self.transforms:
            self.add_transform(SecurityHeaders)
        if _host_name(request.host or "") not in hosts:
            return self.get_handler_delegate(request, tornado.web.ErrorHandler, {"status_code": 403})
        return find_handler(self, request, **kwargs)

    find.sandbox_guard = True
    return find


def install(hosts: frozenset[str] | None = None) -> None:
    """Guard every Tornado application of this process (the server's one), once."""
    app = tornado.web.Application
    if not getattr(app.find_handler, "sandbox_guard", False):
        app.find_handler = guarded(app.find_handler, allowed_hosts() if hosts is None else hosts)
