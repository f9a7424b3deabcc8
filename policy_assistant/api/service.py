"""What the HTTP handlers call: the process's Assistant (reloaded when the index changes), the
conversation history as the Assistant takes it, and the input limits.

One :class:`AssistantHolder` per process. Every request asks it for the Assistant; it reads the index
pointer (``INDEX.json``, one small file) and loads the new version only when a build swapped it in, so
N server processes over one shared index folder pick up a new build on their next request, without a
restart. Requests run concurrently: the retriever is read-only and the embedder serialises its own
calls (index/embedders.py); only the (re)load itself is behind a lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from policy_assistant.core.errors import PolicyAssistantError, QuestionError

log = logging.getLogger("policy_assistant.api")

WARM_UP_QUESTION = "PM2.5年均浓度目标是多少?"
# Document metadata the API shows; the server's own file paths (source_path) stay private.
DOCUMENT_FIELDS = ("doc_id", "title", "file", "doc_type", "issuer", "dates", "n_chunks", "content_hash")


@dataclass(frozen=True)
class Loaded:
    """An Assistant and the index version it was loaded from."""

    version: str
    assistant: object
    loaded_at: float
    seconds: float


class AssistantHolder:
    """The Assistant of this process, replaced when ``index.store.current_version`` changes.

    The first load happens in the request (or at server start). After a swap, with ``background`` (the
    default), the new version loads in a thread while requests go on being answered from the old one,
    each request from one consistent version, so a build causes no pause; without it the request that
    notices the swap loads it. A version that fails to load (damaged files) is remembered: requests keep
    the Assistant they had (or get the load error when there is none) and it is not retried on every
    request. ``loader(settings)`` defaults to ``Assistant.from_settings``.
    """

    def __init__(self, settings, loader: Callable | None = None, *, background: bool = True):
        self.settings = settings
        self.background = background
        self._loader = loader
        self._lock = threading.Lock()  # held while loading
        self._start_lock = threading.Lock()  # one background load at a time
        self._loaded: Loaded | None = None
        self._failed: tuple[str, PolicyAssistantError] | None = None
        self._reloader: threading.Thread | None = None
        self._checker: tuple[str, object] | None = None
        self.loads = 0

    def version_on_disk(self) -> str:
        from policy_assistant.index.store import current_version

        return current_version(Path(self.settings.index_dir))

    def get(self) -> Loaded:
        """The Assistant for the current index version (loads it on first use and after a swap)."""
        version = self.version_on_disk()
        loaded = self._loaded
        if loaded is not None and loaded.version == version:
            return loaded
        if loaded is not None and self._known_bad(version):
            return loaded
        if loaded is not None and self.background:
            self._reload_in_background(version)
            return loaded
        with self._lock:
            loaded = self._loaded
            if loaded is not None and (loaded.version == version or self._known_bad(version)):
                return loaded
            if self._known_bad(version) and version:
                raise self._failed[1]
            return self._load(version, loaded)

    def _known_bad(self, version: str) -> bool:
        failed = self._failed
        return failed is not None and failed[0] == version

    def _reload_in_background(self, version: str) -> None:
        with self._start_lock:
            if self._reloader is not None and self._reloader.is_alive():
                return
            self._reloader = threading.Thread(target=self._background_load, args=(version,),
                                              name="reload-index", daemon=True)
            self._reloader.start()

    def _background_load(self, version: str) -> None:
        try:
            with self._lock:
                if self._loaded is None or self._loaded.version != version:
                    self._load(version, self._loaded)
        except PolicyAssistantError as exc:  # _load logged it and remembered the version
            log.debug("background load of %s failed: %s", version, exc)
        except Exception as exc:  # noqa: BLE001 - a thread must not die silently; requests go on
            log.error("loading index version %s failed", version, exc_info=exc)
            self._failed = (version, PolicyAssistantError(f"index version {version} cannot be loaded: {exc}",
                                                          "see the server log; rebuild the index"))

    def wait_for_reload(self, timeout: float = 120) -> None:
        """Block until a background load under way has finished (for tests and benchmarks)."""
        reloader = self._reloader
        if reloader is not None:
            reloader.join(timeout)

    def _load(self, version: str, previous: Loaded | None) -> Loaded:
        loader = self._loader
        if loader is None:
            from policy_assistant.answer.engine import Assistant

            loader = Assistant.from_settings
        started = time.perf_counter()
        try:
            assistant = loader(self.settings)
        except PolicyAssistantError as exc:
            self._failed = (version, exc)
            if previous is not None:
                log.warning("index version %s cannot be loaded (%s); still answering from %s",
                            version or "(none)", exc, previous.version)
                return previous
            raise
        # labelled with the version read before loading: if a build swapped again meanwhile, the next
        # request sees a newer version and loads once more (never the reverse: a stale Assistant kept)
        loaded = Loaded(version, assistant, time.time(), time.perf_counter() - started)
        self._loaded, self._failed = loaded, None
        self.loads += 1
        log.info("index version %s loaded in %.1fs", loaded.version, loaded.seconds)
        return loaded

    def stale(self, loaded: Loaded) -> bool | None:
        """Whether the corpus folders changed since ``loaded``'s build; None when this server cannot see
        them (an app server that only mounts the shared index)."""
        if not any(Path(d).is_dir() for d in self.settings.corpus_dirs):
            return None
        from policy_assistant.index.freshness import FreshnessChecker

        checker = self._checker
        if checker is None or checker[0] != loaded.version:
            manifest = getattr(loaded.assistant.retriever, "manifest", None) or {}
            checker = self._checker = (loaded.version, FreshnessChecker(manifest, self.settings.corpus_dirs))
        return checker[1].check().stale

    def preload(self) -> Loaded | None:
        """Load now and answer one question, so the first request does not pay the first-call costs.
        A missing or broken index is logged (requests then report it with its fix)."""
        try:
            loaded = self.get()
        except PolicyAssistantError as exc:
            log.warning("no index loaded yet: %s", exc)
            return None
        try:
            loaded.assistant.ask(WARM_UP_QUESTION)
        except PolicyAssistantError:
            pass
        return loaded


def check_question(text: str, limit: int, what: str = "question") -> str:
    """The question, or a QuestionError when it is empty or longer than ``limit`` characters."""
    text = text if isinstance(text, str) else ""
    if not text.strip():
        raise QuestionError(f"the {what} is empty", "send a question, e.g. {\"question\": \"PM2.5年均浓度目标是多少?\"}")
    if limit and len(text) > limit:
        raise QuestionError(f"the {what} is too long ({len(text)} characters; at most {limit})",
                            "ask a shorter question (the server's limit is api_max_question_chars)")
    return text


def history_answers(assistant, turns: Iterable[Mapping]) -> list:
    """Earlier turns (``{"question", "answer"?, "rewritten_question"?, …}`` or whole ``ask --json``
    objects) as the Answers ``Assistant.ask(history=…)`` takes.

    A turn without ``rewritten_question`` gets it the way the chat would have produced it (the follow-up
    rewrite against the turns before it), so a chain of follow-ups (…那臭氧呢? …那二氧化氮呢?) keeps its
    subject when a client sends only the questions.
    """
    from dataclasses import MISSING, fields

    from policy_assistant.answer.types import Answer, Citation

    required = {f.name for f in fields(Citation) if f.default is MISSING and f.default_factory is MISSING}
    out: list[Answer] = []
    for turn in turns:
        citations = [c for c in (turn.get("citations") or []) if isinstance(c, dict) and required <= c.keys()]
        data = {"question": str(turn.get("question") or ""), "status": turn.get("status") or "answered",
                "answer": str(turn.get("answer") or ""), "citations": citations,
                "rewritten_question": turn.get("rewritten_question"),
                "question_type": turn.get("question_type") or "open"}
        ans = Answer.from_dict(data)
        if not ans.rewritten_question and out and ans.question.strip():
            ans.rewritten_question = assistant.rewrite_followup(ans.question, out)
        out.append(ans)
    return out


def resolve_docs(retriever, docs: list[str] | None) -> list[str] | None:
    """Document ids for titles, ids or unique parts of titles (CorpusError names an unknown one)."""
    if not docs:
        return None
    return [retriever.resolve_doc(d) if hasattr(retriever, "resolve_doc") else d for d in docs]


def documents(retriever) -> list[dict]:
    """The indexed documents' public metadata."""
    return [{k: d.get(k) for k in DOCUMENT_FIELDS if k in d} for d in getattr(retriever, "documents", [])]
