"""Serving a classroom: a server started with Panel's basic auth gives a page without credentials no
session, and the sandbox's HTTP guard refuses other hosts and forbids framing.
Run: pytest -m ui tests/ui/test_serving_gates.py"""
import http.cookiejar
import urllib.error
import urllib.parse
import urllib.request

import pytest

from .conftest import serving

pytestmark = pytest.mark.ui
PASSWORD = "class-of-2026"
SESSION_MARKS = ("bokeh-session-id", "docs_json", "session_id")


@pytest.fixture(scope="module")
def gated_server(tmp_path_factory):
    yield from serving(tmp_path_factory, "gated", args=("--basic-auth", PASSWORD, "--cookie-secret", "x" * 32))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(url, opener=None, headers=None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with (opener or urllib.request.build_opener(NoRedirect)).open(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read().decode()


def test_a_page_without_credentials_gets_the_login_form_and_no_session(gated_server):
    status, headers, body = get(gated_server.url + "/grokking")
    assert status == 302 and "login" in headers["Location"]
    assert not any(mark in body for mark in SESSION_MARKS)
    status, _, form = get(gated_server.url + "/login")
    assert status == 200 and 'type="password"' in form and not any(mark in form for mark in SESSION_MARKS)


def test_the_password_opens_the_page_and_a_wrong_one_does_not(gated_server):
    for password, opens in (("wrong", False), (PASSWORD, True)):
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login = urllib.parse.urlencode({"username": "student", "password": password}).encode()
        opener.open(urllib.request.Request(gated_server.url + "/login", data=login), timeout=30).read()
        status, _, body = get(gated_server.url + "/grokking", opener=urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), NoRedirect))
        assert (status == 200 and any(mark in body for mark in SESSION_MARKS)) is opens, (password, status)


def test_another_host_is_refused_and_no_page_may_be_framed(gated_server):
    status, _, body = get(gated_server.url + "/grokking", headers={"Host": "rebound.example"})
    assert status == 403 and not any(mark in body for mark in SESSION_MARKS)
    for path in ("/login", "/grokking", "/liveness-missing"):
        _, headers, _ = get(gated_server.url + path)
        assert headers["X-Frame-Options"] == "SAMEORIGIN", path
        assert headers["Content-Security-Policy"] == "frame-ancestors 'self'", path
    assert not gated_server.python_errors()
