"""Helpers shared by the app's pages: settings, the cached Assistant, errors, highlighting, links.

Pages import from here; nothing in here runs at import time. The pure helpers (``highlight_html``,
``conversation_markdown``, ``section_context`` …) do not touch Streamlit state and are unit-testable.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from policy_assistant.app_pages.text import (  # noqa: F401 - re-exported for the pages
    anchor_id,
    citation_links,
    citation_numbers,
    conversation_markdown,
    escape_html,
    group_citations,
    highlight_html,
    html_text,
    md_text,
    section_context,
    visible_citations,
)
from policy_assistant.core.config import Settings, load_settings
from policy_assistant.core.errors import IndexMissingError, PolicyAssistantError

APP_TITLE = "政策助手"
APP_ICON = "🌿"  # favicon
APP_AVATAR = ":material/eco:"  # assistant avatar and title icon (material icons render without emoji fonts)
PAGES_DIR = Path(__file__).resolve().parent

# Pages, as absolute paths inside the installed package (st.Page, st.page_link and st.switch_page
# all take the same string).
CHAT_PAGE = str(PAGES_DIR / "chat.py")
READER_PAGE = str(PAGES_DIR / "reader.py")
QUIZ_PAGE = str(PAGES_DIR / "quiz.py")
MANAGE_PAGE = str(PAGES_DIR / "manage.py")

# Session-state key another page (e.g. the reader's "ask about this section") sets to have the chat ask it.
PENDING_QUESTION_KEY = "pending_question"
# A note for the chat page to show once (e.g. "the search scope is now 《X》" from the reader).
SCOPE_NOTICE_KEY = "scope_notice"

WARM_UP_QUESTION = "PM2.5年均浓度目标是多少?"

STATUS_BADGES = {
    "answered": ("已找到", "green", ":material/check_circle:"),
    "not_specified": ("文件未明确", "orange", ":material/help:"),
    "not_found": ("未找到相关内容", "gray", ":material/search_off:"),
}


# --------------------------------------------------------------------------- settings, errors


def show_error(exc: PolicyAssistantError | str, fix: str | None = None) -> None:
    """One readable error box: what is wrong and what to do. Never a traceback."""
    if isinstance(exc, PolicyAssistantError):
        message, fix = exc.message, exc.fix
    else:
        message = str(exc)
    text = f"**{md_text(message)}**"  # messages may quote a question, a file name or a link parameter
    if fix:
        text += f"\n\n解决办法 / fix: {md_text(fix)}"
    st.error(text, icon=":material/error:")


def get_settings() -> Settings:
    """Settings from policy-assistant.toml and POLICY_ASSISTANT_* variables; stops the page on a bad config."""
    try:
        return load_settings()
    except PolicyAssistantError as exc:
        show_error(exc)
        st.stop()
        raise  # unreachable; keeps type checkers calm


# --------------------------------------------------------------------------- the Assistant


def _index_stamp(settings: Settings) -> str:
    """Changes whenever a build publishes a new index version (files or Milvus), so a cached Assistant is
    not used after it."""
    from policy_assistant.index.milvus_store import index_stamp

    return index_stamp(settings) or "missing"


def _cache_key(settings: Settings) -> str:
    fields = {
        "index_dir": str(settings.index_dir),
        "embedder": settings.embedder,
        "answerer": settings.answerer,
        "llm": [settings.llm_base_url, settings.llm_model],
        "retrieval": [settings.top_k, settings.candidate_k, settings.rrf_k, settings.dense_weight,
                      settings.bm25_weight],
        "store": [settings.store, settings.milvus_uri, settings.milvus_collection],
        "stamp": _index_stamp(settings),
    }
    return json.dumps(fields, sort_keys=True)


def make_assistant(settings: Settings):
    """The Assistant the pages use: index and models loaded from ``settings``.

    A module-level factory, looked up on every load, so tests can put a stand-in with the same ``ask`` /
    ``rewrite_followup`` / ``retriever`` API in its place and check the UI contract without an index.
    """
    from policy_assistant.answer.engine import Assistant

    return Assistant.from_settings(settings)


@st.cache_resource(show_spinner=False, max_entries=4)
def _load_assistant(cache_key: str, _settings: Settings):
    started = time.perf_counter()
    assistant = make_assistant(_settings)
    try:  # pay the first-call costs (tokenizer dictionary, query encoder) now, not on the first question
        assistant.ask(WARM_UP_QUESTION)
    except Exception:  # noqa: BLE001 - warm-up is best effort; a real question reports real errors
        pass
    assistant._app_load_seconds = time.perf_counter() - started  # shown in the sidebar
    return assistant


@st.cache_resource(show_spinner=False, max_entries=4)
def _scoped_assistant(cache_key: str, statuses: tuple[str, ...], _base):
    from policy_assistant.answer.engine import Assistant

    return Assistant(_base.retriever.scoped(statuses), getattr(_base, "settings", None))


def assistant_in_scope(assistant, *, include_superseded: bool = False):
    """The assistant over the same loaded index, answering from active documents plus superseded ones
    (已废止/旧版) when asked; cached per index version."""
    if not include_superseded:
        return assistant
    r = retriever_of(assistant)
    if not hasattr(r, "scoped"):
        return assistant
    return _scoped_assistant(f"{id(r)}|{getattr(r, 'manifest', {}).get('built_at', '')}", ("active", "superseded"),
                             assistant)


def preload_assistant(settings: Settings) -> float:
    """Load the Assistant into the page's cache outside a page run (``policy-assistant app`` does this at
    server start); returns the seconds it took. Raises what loading raises."""
    import warnings

    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _load_assistant(_cache_key(settings), settings)
    return time.perf_counter() - started


def build_index_with_progress(settings: Settings, *, full: bool = False) -> None:
    """Build (or update) the index, drawing an ``st.progress`` bar fed by the builder's callback."""
    from policy_assistant.index.build import build_index

    slot = st.empty()
    with slot.container():
        st.info("首次启动：正在从文件建立检索索引，完成后自动进入问答。", icon=":material/construction:")
        bar = st.progress(0.0, text="正在建立索引…")
    bar_update = progress_adapter(lambda frac, text: bar.progress(frac, text=f"正在建立索引：{text}"))
    # another session may be building the same index right now: wait for it instead of failing
    build_index(settings, progress=bar_update, full=full, lock_wait=600)
    slot.empty()


STAGE_LABELS = {"embed": "计算段落向量", "bm25": "建立关键词索引", "write": "写入索引文件", "read": "读取文件",
                "commit": "切换到新索引"}


def progress_adapter(draw: Callable[[float, str], None]) -> Callable:
    """Turn whatever the index builder reports into ``draw(fraction 0..1, text)``.

    Accepts ``(stage, done, total)``, ``(done, total)``, ``(fraction,)``, ``(stage, fraction)``,
    ``(message,)`` or an object/dict with ``stage``/``done``/``total``.
    """
    state = {"frac": 0.0, "text": ""}

    def callback(*args, **kwargs):
        stage = kwargs.get("stage") or kwargs.get("message") or ""
        done = kwargs.get("done", kwargs.get("current"))
        total = kwargs.get("total")
        nums = [a for a in args if isinstance(a, int | float) and not isinstance(a, bool)]
        texts = [a for a in args if isinstance(a, str)]
        for a in args:
            if isinstance(a, dict):
                stage = a.get("stage", stage)
                done, total = a.get("done", done), a.get("total", total)
            elif hasattr(a, "stage") and not isinstance(a, str):
                stage = getattr(a, "stage", stage)
                done, total = getattr(a, "done", done), getattr(a, "total", total)
        if texts:
            stage = texts[0]
        stage = STAGE_LABELS.get(str(stage), stage)
        if done is None and len(nums) >= 2:
            done, total = nums[0], nums[1]
        elif done is None and len(nums) == 1:
            done, total = nums[0], 1.0
        if done is not None and total:
            state["frac"] = max(0.0, min(1.0, float(done) / float(total)))
            label = f"{stage} {int(done)}/{int(total)}" if float(total) > 1 else str(stage)
        else:
            label = str(stage)
        state["text"] = label.strip() or state["text"]
        draw(state["frac"], state["text"])

    return callback


def get_assistant(settings: Settings):
    """The Assistant for these settings, loaded once per process; builds a missing index with progress.

    On any domain error the page shows the message and its fix, offers a rebuild when the index is
    damaged, and stops.
    """
    try:
        with st.spinner("正在加载索引和模型…"):
            return _load_assistant(_cache_key(settings), settings)
    except IndexMissingError:
        pass  # first start: build it below
    except PolicyAssistantError as exc:
        show_error(exc)
        _offer_rebuild(settings)
        st.stop()
    except Exception as exc:  # noqa: BLE001 - never a traceback in the browser; details go to the log
        logging.getLogger("policy_assistant.app").exception("loading the assistant failed")
        show_error(f"加载索引或模型时出现内部错误（{type(exc).__name__}: {exc}）",
                   "查看服务器日志；可以用 `policy-assistant index build --full` 重建索引后再启动")
        _offer_rebuild(settings)
        st.stop()
    try:
        build_index_with_progress(settings)
        with st.spinner("正在加载索引和模型…"):
            return _load_assistant(_cache_key(settings), settings)
    except PolicyAssistantError as exc:
        show_error(exc)
        st.stop()


def _offer_rebuild(settings: Settings) -> None:
    _rebuild_button(settings, "重新建立索引", "rebuild_index", full=True)


def _rebuild_button(settings: Settings, label: str, key: str, *, full: bool) -> None:
    if st.button(label, icon=":material/build:", key=key):
        try:
            build_index_with_progress(settings, full=full)
        except PolicyAssistantError as exc:
            show_error(exc)
            return
        _load_assistant.clear()
        st.rerun()


@st.cache_resource(show_spinner=False, max_entries=4)
def _freshness_checker(cache_key: str, corpus_dirs: tuple[str, ...], _manifest: dict, documents_db: str):
    from policy_assistant.index.freshness import FreshnessChecker

    return FreshnessChecker(_manifest, corpus_dirs, documents_db=documents_db)


@st.cache_resource(show_spinner=False)
def update_runner():
    """The one background updater of document changes in this server process (文件管理; all sessions)."""
    from policy_assistant.index.updates import UpdateRunner

    return UpdateRunner()


def stale_index_notice(settings: Settings, assistant) -> None:
    """A visible notice when documents were added, changed or removed since the index was built.

    The check is one ``stat()`` per corpus file (hashing only files whose size/mtime changed) and its
    result is reused for two seconds, so it runs on every page run without slowing answers down. While
    an administrator's change is being indexed, a short note says so instead (answers come from the
    last good index until the new one is ready).
    """
    job = update_runner().job
    if job is not None and job.running:
        st.caption(f":material/sync: 文件正在更新（{md_text(job.who)}：{job.label}），完成后自动使用新索引。")
        return
    from policy_assistant.corpus.uploads import source_dirs

    manifest = getattr(retriever_of(assistant), "manifest", None) or {}
    checker = _freshness_checker(_cache_key(settings), tuple(str(d) for d in source_dirs(settings)), manifest,
                                 str(settings.documents_db))
    result = checker.check()
    if not result.stale:
        return
    kinds = (("新增", result.added), ("已修改", result.changed), ("已删除", result.removed))
    what = "；".join(f"{label} {len(names)} 份：{'、'.join(names[:5])}{' …' if len(names) > 5 else ''}"
                    for label, names in kinds if names)
    st.warning(f"**索引已过期**：建立索引后文件夹中的文件有变化（{html_text(what)}）。回答可能引用已删除或旧版本的内容。"
               "\n\n解决办法 / fix: 运行 `policy-assistant index build`，或点击“更新索引”。", icon=":material/update:")
    _rebuild_button(settings, "更新索引", "refresh_index", full=False)


def retriever_of(assistant):
    """The assistant's HybridRetriever (documents, chunks, manifest, search)."""
    return getattr(assistant, "retriever", None)


def index_info(assistant) -> dict:
    """Documents, chunks, build time and embedder of the loaded index, for the sidebar."""
    r = retriever_of(assistant)
    manifest = dict(getattr(r, "manifest", None) or {})
    documents = list(getattr(r, "documents", None) or [])
    chunks = getattr(r, "chunks", None) or []
    built = manifest.get("built_at") or manifest.get("created_at") or manifest.get("build_time") or ""
    embedder = manifest.get("embedder") or getattr(getattr(r, "embedder", None), "name", "") or ""
    if isinstance(embedder, dict):
        embedder = embedder.get("name") or embedder.get("model") or json.dumps(embedder, ensure_ascii=False)
    return {
        "documents": len(documents),
        "chunks": len(chunks),
        "built_at": str(built),
        "embedder": str(embedder),
        "load_seconds": getattr(assistant, "_app_load_seconds", None),
    }


def document_choices(assistant) -> list[dict]:
    """``[{doc_id, title, doc_type}]`` sorted with the work points first, then by title."""
    r = retriever_of(assistant)
    docs = []
    for d in getattr(r, "documents", None) or []:
        d = d if isinstance(d, dict) else getattr(d, "to_meta", lambda d=d: vars(d))()
        docs.append({"doc_id": d.get("doc_id", ""), "title": d.get("title", ""), "doc_type": d.get("doc_type", ""),
                     "status": d.get("status", "active")})
    docs.sort(key=lambda d: (d["doc_type"] != "工作要点", d["title"]))
    return docs

