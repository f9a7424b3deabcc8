"""Issue 10, security, against a real server process (``policy-assistant app`` on 127.0.0.1):

* "Markdown injection through reader deep links", in a real Chromium: ``/reader?doc=![x](http://127.0.0.1:
  PORT/img.png)`` must not make the browser fetch from a small HTTP server the test runs on PORT, and no
  ``<a>``/``<img>`` pointing at it may be in the DOM (same for a phishing link);
* ``/_stcore/metrics`` is not readable: 404 with or without a password (Streamlit has no option to turn it
  off; ``policy-assistant app`` serves the app through ``app_pages/server.py``, an ``st.App`` with a
  middleware that refuses the route).

The pages used here need only the corpus, so the server runs without an index (``--no-build``).
"""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from app_browser import browser_missing_reason, running_app, wait_for
from conftest import make_settings

pytestmark = [pytest.mark.slow]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _env(tmp_path, password: str = "") -> dict:
    return {"POLICY_ASSISTANT_FEEDBACK_DB": str(tmp_path / "feedback.sqlite3"),
            "POLICY_ASSISTANT_APP_PASSWORD": password}


@pytest.mark.parametrize("password", ["", "s3cret-口令"], ids=["no-password", "password"])
def test_metrics_endpoint_is_not_served(tmp_path, password):
    """/_stcore/metrics is readable without login: refused by ``policy-assistant app`` (200 before)."""
    settings = make_settings(tmp_path)
    with running_app(settings, tmp_path / "server.log", extra_env=_env(tmp_path, password), via_cli=True) as url:
        status, body = _get(url + "_stcore/metrics")
        assert status in (401, 403, 404), (status, body[:200])
        assert b"session" not in body.lower() and b"cache" not in body.lower()
        for variant in ("_stcore/metrics/", "_stcore//metrics", "_stcore/metrics?families=session_events"):
            status, body = _get(url + variant)
            assert b"# TYPE" not in body and b"session_events" not in body, variant
        assert _get(url + "_stcore/health") == (200, b"ok")  # the rest of the server still answers
        status, page = _get(url)
        assert status == 200 and b"<html" in page.lower()


# --------------------------------------------------------------------------- a real browser


class _Canary(BaseHTTPRequestHandler):
    """Records every request the browser makes to it."""

    seen: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).seen.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def canary():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Canary)
    _Canary.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], _Canary.seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
def test_reader_deep_link_markdown_fetches_nothing_in_a_real_browser(tmp_path, canary, request):
    """Markdown injection through reader deep links (image and phishing link), in Chromium."""
    missing = browser_missing_reason()
    if missing:
        pytest.skip(f"browser test skipped: {missing}")
    browser = request.getfixturevalue("browser")
    port, seen = canary
    host = f"127.0.0.1:{port}"
    settings = make_settings(tmp_path)
    alerts, links = [], []
    with running_app(settings, tmp_path / "server.log", extra_env=_env(tmp_path), via_cli=True) as url:
        for value in (f"![x](http://{host}/img.png)", f"[会话已过期，请点此重新登录](http://{host}/phish)"):
            browser.get(url + "reader?doc=" + quote(value))
            alerts.append(wait_for(browser, lambda d: d.execute_script(
                "const a = document.querySelector('[data-testid=\"stAlert\"]'); return a ? a.innerText : null;"),
                timeout=90, what="the link warning"))
            wait_for(browser, lambda d: d.execute_script(
                "return !!document.querySelector('.pa-reader');"), what="the reader to finish drawing")
            time.sleep(1.0)  # give a fetch the page might trigger time to arrive
            links += browser.execute_script(
                "return Array.from(document.querySelectorAll('a[href], img[src], [srcset]'))"
                ".map(e => e.outerHTML).filter(h => h.includes(arguments[0]));", host)
        browser.save_screenshot(str(tmp_path / "reader_hostile_link.png"))
    assert seen == [], f"the browser fetched {seen} from the test's server"
    assert links == [], links
    # the values are still shown, as text
    assert "img.png" in alerts[0] and "会话已过期" in alerts[1] and all("不存在" in a for a in alerts), alerts
