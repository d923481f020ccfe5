"""The HTTP guard (sandbox/serving/http_guard.py): another host's request is refused before any handler
runs, every answer carries the anti-framing headers, and the Tornado API it adapts is still there.
Run: pytest tests/test_http_guard.py"""
import inspect

import pytest
import tornado.testing
import tornado.web

from sandbox.serving import http_guard


class Counted(tornado.web.RequestHandler):
    calls = 0

    def get(self):
        Counted.calls += 1          # stands for Bokeh building a session
        self.write("page")


class GuardedApp(tornado.web.Application):
    find_handler = http_guard.guarded(tornado.web.Application.find_handler, frozenset({"localhost", "127.0.0.1"}))


class TestGuardedServer(tornado.testing.AsyncHTTPTestCase):
    def get_app(self):
        return GuardedApp([("/page", Counted)])

    def test_a_request_for_another_host_is_refused_before_the_page_is_built(self):
        Counted.calls = 0
        refused = self.fetch("/page", headers={"Host": "rebound.example:5006"})
        assert refused.code == 403 and Counted.calls == 0

    def test_the_servers_own_hosts_are_answered_with_the_anti_framing_headers(self):
        Counted.calls = 0
        for host in ("localhost:5006", "127.0.0.1", "LOCALHOST"):
            answer = self.fetch("/page", headers={"Host": host})
            assert answer.code == 200 and answer.body == b"page"
            assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
            assert answer.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
        assert Counted.calls == 3
        assert self.fetch("/nowhere").headers["X-Frame-Options"] == "SAMEORIGIN"   # errors too


@pytest.mark.parametrize("argv,environ,expected", [
    ([], {}, set()),
    (["--allow-websocket-origin", "class.example.org:5006", "--allow-websocket-origin=Lab.Example:80"], {},
     {"class.example.org", "lab.example"}),
    (["--port", "5006"], {"SANDBOX_ALLOWED_HOSTS": "proxy.example, other.example"}, {"proxy.example", "other.example"}),
    (["--allow-websocket-origin", "[::1]:5006"], {}, {"[::1]"}),
])
def test_the_hosts_are_those_the_server_was_started_for(argv, environ, expected):
    assert http_guard.allowed_hosts(argv, environ) == http_guard.LOCAL_NAMES | expected


def test_the_tornado_api_the_guard_adapts_is_still_there():
    """Fails loudly when a Tornado upgrade changes what `install` wraps (requests would go unguarded)."""
    app = tornado.web.Application
    assert list(inspect.signature(app.find_handler).parameters)[:2] == ["self", "request"]
    assert list(inspect.signature(app.get_handler_delegate).parameters)[:4] == [
        "self", "request", "target_class", "target_kwargs"]
    assert callable(app.add_transform) and "transforms" in vars(app([]))
    assert list(inspect.signature(tornado.web.OutputTransform.transform_first_chunk).parameters) == [
        "self", "status_code", "headers", "chunk", "finishing"]
    assert inspect.signature(tornado.web.ErrorHandler.initialize).parameters.keys() >= {"status_code"}
