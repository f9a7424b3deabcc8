"""What ``policy-assistant app`` serves: the Streamlit app (``main.py``) as an ``st.App`` whose middleware
answers 404 for Streamlit's unauthenticated metrics endpoint.

Why: Streamlit serves ``/_stcore/metrics`` (OpenMetrics: sessions, script runs, cache sizes, the names of
our cached functions) to anyone, password or not, and has no option to turn it off — the route is added
unconditionally by ``create_metrics_routes`` in ``streamlit/web/server/starlette/starlette_routes.py``.
How: ``streamlit run`` looks for an ``App`` assigned in the script (``streamlit/web/server/app_discovery.py``)
and then serves it with uvicorn, applying the usual ``--server.*`` flags; user middleware of an ``App``
runs before Streamlit's routes. Plain ``streamlit run app.py`` (development, AppTest) does not pass here.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from starlette.middleware import Middleware
from streamlit.starlette import App

from policy_assistant.app_pages.conversations import BROWSER_COOKIE  # lists a browser's conversations

BLOCKED_PATHS = ("/_stcore/metrics",)
_SLASHES = re.compile(r"/{2,}")


def blocked(path: str, paths: tuple[str, ...] = BLOCKED_PATHS) -> bool:
    """True for a request path that ends in a blocked route (any ``server.baseUrlPath`` prefix, doubled
    or trailing slashes)."""
    path = _SLASHES.sub("/", path or "/").rstrip("/")
    return any(path == p or path.endswith(p) for p in paths)


class BlockRoutes:
    """Pure ASGI middleware: 404 for :data:`BLOCKED_PATHS`, everything else passes through."""

    def __init__(self, app, paths: tuple[str, ...] = BLOCKED_PATHS):
        self.app = app
        self.paths = paths

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and blocked(scope.get("path", ""), self.paths):
            await send({"type": "http.response.start", "status": 404,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-store")]})
            await send({"type": "http.response.body", "body": b"404: Not Found"})
            return
        await self.app(scope, receive, send)


COOKIE_MAX_AGE = 365 * 24 * 3600


class BrowserCookie:
    """Pure ASGI middleware: an HTTP response to a browser without a ``pa_browser`` cookie sets one (a
    random token, HttpOnly, SameSite=Lax), so the chat can list this browser's earlier conversations."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or _has_cookie(scope):
            await self.app(scope, receive, send)
            return
        cookie = (f"{BROWSER_COOKIE}={secrets.token_hex(16)}; Path=/; Max-Age={COOKIE_MAX_AGE}; HttpOnly; "
                  "SameSite=Lax").encode()

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _has_cookie(scope) -> bool:
    for name, value in scope.get("headers") or []:
        if name == b"cookie" and re.search(rb"(?:^|;\s*)" + BROWSER_COOKIE.encode() + rb"=[0-9a-f]{32}(?:;|$)", value):
            return True
    return False


app = App(str(Path(__file__).with_name("main.py")), middleware=[Middleware(BlockRoutes), Middleware(BrowserCookie)])
