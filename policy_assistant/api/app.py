"""The FastAPI application: routes that parse a request, call the Assistant (or its retriever) and
render JSON. ``create_app(settings)`` builds it; ``policy-assistant serve`` runs it under uvicorn.

Handlers are plain functions, so FastAPI runs them in its thread pool: requests are answered
concurrently (see api/service.py for what is shared and what is locked).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import Depends, FastAPI, Request, Security
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

import policy_assistant
from policy_assistant.api import chat, errors
from policy_assistant.api.schemas import (
    AnswerOut,
    AskRequest,
    ChatRequest,
    DocumentsOut,
    ErrorOut,
    HealthOut,
    SearchOut,
    SearchRequest,
)
from policy_assistant.api.service import (
    AssistantHolder,
    Loaded,
    check_question,
    documents,
    history_answers,
    resolve_docs,
)
from policy_assistant.core.errors import PolicyAssistantError

VERSION_HEADER = "X-Index-Version"
DOCS_ASSETS = "/docs-assets"
# declares the key for the docs' Authorize button; the check itself is errors.check_key
BEARER = HTTPBearer(auto_error=False, description="the server's api_key (only when one is configured)")
ERRORS = {code: {"model": ErrorOut} for code in (401, 404, 413, 422, 503)}

DESCRIPTION = """\
Answers Chinese environmental-policy questions from the indexed documents, **with cited passages**.

* `POST /v1/ask` — the `policy-assistant ask --json` contract (status, answer, citations, timings).
* `POST /v1/chat/completions` — OpenAI-compatible (also `stream: true`); the reply carries the citations.
* `POST /v1/search` — ranked passages without an answer; `GET /v1/documents` — what is indexed.

When the server has an API key, send `Authorization: Bearer <key>`. Errors are
`{"error": {"message", "fix", "type", "code"}}`. The API keeps no conversation state: send `history`.
"""


def create_app(settings, holder: AssistantHolder | None = None) -> FastAPI:
    """The API over ``settings.index_dir`` (the Assistant is loaded at startup and after index swaps)."""
    errors.check_key_setting(settings.api_key)
    holder = holder or AssistantHolder(settings)
    limit = int(settings.api_max_question_chars)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await anyio.to_thread.run_sync(holder.preload)
        yield

    app = FastAPI(title="政策助手 API", version=policy_assistant.__version__, description=DESCRIPTION,
                  lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.holder = holder
    app.add_middleware(errors.BodyLimit, max_bytes=settings.api_max_body_bytes)
    errors.install(app)
    _install_docs(app)

    def require_key(request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]) -> None:
        errors.check_key(request.headers.get("authorization"), settings.api_key)

    guarded = {"dependencies": [Depends(require_key)]}

    def described(model) -> dict:
        return {200: {"model": model}, **ERRORS}

    def reply(body: dict, loaded: Loaded) -> JSONResponse:
        return JSONResponse(body, headers={VERSION_HEADER: loaded.version})

    @app.get("/healthz", response_model=HealthOut, responses={503: {"model": HealthOut}}, tags=["server"])
    def healthz():
        """Whether this process can answer, and from which index version (no API key needed)."""
        try:
            loaded = holder.get()
        except PolicyAssistantError as exc:
            body = {"status": "unavailable", "index_version": holder.version_on_disk(),
                    **errors.error_body(exc.message, exc.fix, type(exc).__name__, 503)}
            return JSONResponse(body, status_code=503)
        r = loaded.assistant.retriever
        return reply({"status": "ok", "index_version": loaded.version, "n_documents": len(r.documents),
                      "n_chunks": len(r.chunks), "stale": holder.stale(loaded)}, loaded)

    @app.post("/v1/ask", responses=described(AnswerOut), tags=["answers"], **guarded)
    def ask(body: AskRequest):
        """Answer one question with cited passages (the ``policy-assistant ask --json`` object)."""
        question = check_question(body.question, limit)
        loaded = holder.get()
        a = loaded.assistant
        history = history_answers(a, [t.model_dump() for t in body.history or []])
        ans = a.ask(question, doc_ids=resolve_docs(a.retriever, body.doc_ids), doc_types=body.doc_types,
                    top_k=body.top_k, history=history or None)
        return reply(ans.to_dict(), loaded)

    @app.post("/v1/search", responses=described(SearchOut), tags=["answers"], **guarded)
    def search(body: SearchRequest):
        """Ranked passages for a query, with breadcrumbs and the dense/BM25 scores (no answer)."""
        query = check_question(body.query, limit, "query")
        loaded = holder.get()
        hits = loaded.assistant.retriever.search(query, k=body.k, doc_ids=body.doc_ids,
                                                 doc_types=body.doc_types, mode=body.mode)
        return reply({"query": query, "mode": body.mode, "hits": [h.to_dict() for h in hits]}, loaded)

    @app.get("/v1/documents", responses=described(DocumentsOut), tags=["answers"], **guarded)
    def list_documents():
        """The indexed documents (ids and titles usable in ``doc_ids``)."""
        loaded = holder.get()
        return reply({"index_version": loaded.version, "documents": documents(loaded.assistant.retriever)},
                     loaded)

    @app.get("/v1/models", tags=["openai"], responses=ERRORS, **guarded)
    def models():
        """The one model name this server answers as (OpenAI clients list it)."""
        return {"object": "list", "data": [{"id": settings.api_model, "object": "model", "created": 0,
                                            "owned_by": "policy-assistant"}]}

    @app.post("/v1/chat/completions", tags=["openai"], responses=ERRORS, **guarded)
    def chat_completions(body: ChatRequest):
        """OpenAI-compatible chat completion: the last user message is the question, earlier turns the
        history. The content ends with a "来源:" block; ``citations`` and ``policy_assistant`` (the
        ``ask --json`` object) are extra fields, also on the final chunk of a stream."""
        question, turns = chat.conversation(body.messages)
        question = check_question(question, limit)
        loaded = holder.get()
        a = loaded.assistant
        ans = a.ask(question, doc_ids=resolve_docs(a.retriever, body.doc_ids), doc_types=body.doc_types,
                    history=history_answers(a, turns) or None)
        if body.stream:
            include_usage = bool((body.stream_options or {}).get("include_usage"))
            return StreamingResponse(chat.stream(ans, settings.api_model, include_usage),
                                     media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no",
                                              VERSION_HEADER: loaded.version})
        return reply(chat.completion(ans, settings.api_model), loaded)

    return app


def _install_docs(app: FastAPI) -> None:
    """Swagger UI at /docs from the files the swagger-ui-bundle package ships (works offline)."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:  # pragma: no cover - a dependency; without it the docs load from a CDN
        swagger_ui_path = None
    if swagger_ui_path and Path(swagger_ui_path, "swagger-ui-bundle.js").is_file():
        app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")
        assets = {"swagger_js_url": f"{DOCS_ASSETS}/swagger-ui-bundle.js",
                  "swagger_css_url": f"{DOCS_ASSETS}/swagger-ui.css",
                  "swagger_favicon_url": f"{DOCS_ASSETS}/favicon-32x32.png"}
    else:  # pragma: no cover
        assets = {}

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url, title=f"{app.title} — docs", **assets)


def log_to_stderr() -> None:
    """Show the API's own log lines (index loads, skipped versions) beside uvicorn's, once per process."""
    import logging

    logger = logging.getLogger("policy_assistant")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def app_from_environment() -> FastAPI:
    """Factory for ``uvicorn --factory`` (``serve --workers N``): settings from the config and environment."""
    from policy_assistant.core.config import load_settings

    log_to_stderr()
    return create_app(load_settings())
