"""Errors at the HTTP edge: every failure is a JSON ``{"error": {"message", "fix", "type", "code"}}`` with
one line naming the problem and one naming the fix — never a traceback. Also the API key check and the
request body size limit (both before any handler runs).
"""

from __future__ import annotations

import hmac
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from policy_assistant.core.errors import (
    ConfigError,
    CorpusError,
    EmbedderError,
    IndexCorruptError,
    IndexFolderError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
    PolicyAssistantError,
    QuestionError,
    StorageError,
)

log = logging.getLogger("policy_assistant.api")

DOCS_FIX = "see the API description at /docs"


class AuthError(PolicyAssistantError):
    """The request lacks the API key, or carries a wrong one."""


class BodyTooLargeError(PolicyAssistantError):
    """The request body is larger than ``api_max_body_bytes``."""


# Most specific first. The index not being ready is the server's state, not the client's mistake: 503.
STATUS_CODES: list[tuple[type[PolicyAssistantError], int]] = [
    (AuthError, 401),
    (BodyTooLargeError, 413),
    (QuestionError, 422),
    (CorpusError, 404),
    (ConfigError, 500),
    (IndexMissingError, 503), (IndexCorruptError, 503), (IndexMismatchError, 503), (IndexFolderError, 503),
    (IndexLockedError, 503), (EmbedderError, 503), (StorageError, 503),
]


def status_code(exc: PolicyAssistantError) -> int:
    return next((code for cls, code in STATUS_CODES if isinstance(exc, cls)), 400)


def error_body(message: str, fix: str | None, kind: str, code: int) -> dict:
    """``message`` is the whole one-line text (problem — fix, as the CLI prints it), since many clients
    (the openai library among them) show only that; ``fix`` repeats the fix for clients that want it apart."""
    line = " ".join(str(message).split())
    return {"error": {"message": f"{line} — {fix}" if fix else line, "fix": fix, "type": kind, "code": code}}


def error_response(exc: PolicyAssistantError, code: int | None = None) -> JSONResponse:
    code = code or status_code(exc)
    headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
    return JSONResponse(error_body(exc.message, exc.fix, type(exc).__name__, code), status_code=code,
                        headers=headers)


def _validation_message(exc: RequestValidationError) -> tuple[str, str]:
    errors = exc.errors()
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return ("the request body is not valid JSON", 'send a JSON object, e.g. {"question": "…"}')
    where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "body"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return (f"invalid request: {where}: {first.get('msg', 'invalid value')}{more}", DOCS_FIX)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into the JSON error shape."""

    @app.exception_handler(PolicyAssistantError)
    async def domain_error(request: Request, exc: PolicyAssistantError):
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        message, fix = _validation_message(exc)
        return JSONResponse(error_body(message, fix, "InvalidRequest", 422), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            message = f"no such endpoint: {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
        else:
            message = str(exc.detail)
        return JSONResponse(error_body(message, DOCS_FIX, "HTTPError", exc.status_code),
                            status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
        return JSONResponse(error_body("internal error while handling the request",
                                       "try again; if it persists, the server log has the details",
                                       "InternalError", 500), status_code=500)


def check_key_setting(key: str) -> None:
    """Refuse an api_key no client can send: HTTP header values are ASCII."""
    if key and not (key.isascii() and key.isprintable() and key.strip() == key and " " not in key):
        raise ConfigError("api_key must be printable ASCII without spaces (HTTP headers carry only ASCII)",
                          "set api_key (POLICY_ASSISTANT_API_KEY) to e.g. the output of "
                          "`python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`")


def key_matches(header: str | None, key: str) -> bool:
    """Constant-time check of an ``Authorization: Bearer <key>`` header."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        token = ""
    return hmac.compare_digest(token.strip().encode("utf-8"), key.encode("utf-8"))


def check_key(header: str | None, key: str) -> None:
    """Raise AuthError unless the header carries ``key`` (no key configured: every request passes)."""
    if not key:
        return
    if not header:
        raise AuthError("this server needs an API key", "send the header Authorization: Bearer <key>")
    if not key_matches(header, key):
        raise AuthError("the API key is wrong", "send the key configured as api_key (POLICY_ASSISTANT_API_KEY)")


class BodyLimit:
    """Pure ASGI middleware: 413 for a request body over ``max_bytes`` — by its Content-Length, or, for a
    chunked body, as soon as the bytes received pass the limit (the body is then replayed to the app)."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = int(max_bytes)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self.max_bytes <= 0:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                await _send_json(send, 400, error_body("the Content-Length header is not a number",
                                                       "send a valid Content-Length", "InvalidRequest", 400))
                return
            if too_large:
                await self._refuse(send, int(declared))
                return
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await self._refuse(send, len(body), at_least=True)
                return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send, size: int, at_least: bool = False) -> None:
        exc = BodyTooLargeError(f"the request body is too large ({'over ' if at_least else ''}{size} bytes; "
                                f"at most {self.max_bytes})",
                                "send a shorter question or fewer history turns (the server's limit is "
                                "api_max_body_bytes)")
        await _send_json(send, 413, error_body(exc.message, exc.fix, type(exc).__name__, 413))


async def _send_json(send, status: int, body: dict) -> None:
    import json

    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": data})
