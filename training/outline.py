"""Helpers for the document reader: outline, section text, search with match spans, summary card.

Plain data only: nothing here imports Streamlit, renders HTML or knows the app's URLs. The reader page
(``app_pages/reader.py``) draws what these return; deep links are built in ``app_pages/links.py``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from policy_assistant.corpus.model import BREADCRUMB_SEP, Document, Section
from policy_assistant.corpus.text import fold, fold_with_map, merge_spans, normalize_query, short_title
from policy_assistant.training import extract as ex

_TEXT_KINDS_WITH_LABEL = ("item", "article", "target", "attachment_item", "attachment_list", "preamble")


# --------------------------------------------------------------------------- corpus (cached per process)

_CORPUS_LOCK = threading.Lock()
_CORPUS_CACHE: dict[tuple, object] = {}


def _stamp(dirs) -> tuple:
    files = []
    for d in dirs:
        p = Path(d)
        if p.is_dir():
            files += [(str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in sorted(p.rglob("*")) if f.is_file()]
    return tuple(files)


def load_corpus_cached(settings):
    """``load_corpus`` for these settings, reused until a corpus file changes (the reader and quiz need no index)."""
    from policy_assistant.corpus.ingest import corpus_from_settings
    from policy_assistant.corpus.uploads import source_dirs

    dirs = [str(d) for d in source_dirs(settings)]
    key = (tuple(dirs), settings.chunk_max_chars, settings.chunk_overlap_chars, _stamp(dirs))
    with _CORPUS_LOCK:
        if key not in _CORPUS_CACHE:
            _CORPUS_CACHE.clear()
            _CORPUS_CACHE[key] = corpus_from_settings(settings)
        return _CORPUS_CACHE[key]


def ordered_documents(corpus) -> list[Document]:
    """Work points first, then laws, regulations and interpretations, each by title."""
    order = {"工作要点": 0, "法律": 1, "行政法规": 2, "司法解释": 3}
    return sorted(corpus.documents, key=lambda d: (order.get(d.doc_type, 9), d.title))


# --------------------------------------------------------------------------- outline and sections


@dataclass
class OutlineEntry:
    key: str  # path joined with " › " ("" = the whole document)
    path: tuple[str, ...]
    depth: int  # 1 = top level
    heading: str  # as printed, e.g. "三、主要任务", "第十四条", "19."
    display: str  # heading plus a lead for untitled units: "19. 深入开展"八大攻坚行动""
    kind: str
    has_children: bool
    chunk_id: str = ""


def path_key(path) -> str:
    return BREADCRUMB_SEP.join(path)


def key_path(key: str) -> tuple[str, ...]:
    return tuple(p for p in (key or "").split(BREADCRUMB_SEP) if p) if key else ()


def _chunk_index(chunks, doc_id: str) -> dict[tuple[str, ...], str]:
    idx: dict[tuple[str, ...], str] = {}
    for c in chunks or []:
        if c.doc_id == doc_id:
            idx.setdefault(tuple(c.path), c.chunk_id)
    return idx


def first_chunk_id(doc: Document, path, chunks) -> str:
    """The chunk of ``path`` or, for a heading without text, of its first descendant with text."""
    idx = _chunk_index(chunks, doc.doc_id)
    path = tuple(path)
    for p in sorted((p for p in idx if p[: len(path)] == path), key=lambda p: _position(doc, p)):
        return idx[p]
    return ""


def _position(doc: Document, path) -> int:
    for i, (p, _s) in enumerate(doc.root.walk()):
        if p == tuple(path):
            return i
    return 1 << 30


def document_outline(doc: Document, chunks=None) -> list[OutlineEntry]:
    """The heading tree as a flat list in document order (what the reader's table of contents shows)."""
    idx = _chunk_index(chunks, doc.doc_id)
    out = []
    for path, sec in doc.root.walk():
        display = sec.heading
        if not sec.title and sec.kind in ("item", "article", "target", "attachment_item") and sec.text:
            lead = ex.item_lead(sec, 18)
            display = f"{sec.label} {lead}".strip() if lead and lead != sec.label else sec.label
        out.append(OutlineEntry(path_key(path), path, len(path), sec.heading, display or sec.kind, sec.kind,
                                bool(sec.children), idx.get(path, "")))
    return out


def section_at(doc: Document, path) -> Section | None:
    return doc.root if not path else ex.find_path(doc, tuple(path))


def section_blocks(doc: Document, path) -> list[dict]:
    """What to draw for a section: its heading and text, then each descendant's, in document order.

    Each block: ``{"path", "key", "depth" (relative, 0 = the section itself), "heading", "text", "kind"}``;
    ``heading`` is empty for units whose text already starts with their label (articles, items …).
    """
    sec = section_at(doc, path)
    if sec is None:
        return []
    base = tuple(path)
    blocks = []

    def block(p, s, depth):
        own_label = s.kind in _TEXT_KINDS_WITH_LABEL and s.text.strip().startswith(s.label[:2] or "\0")
        heading = "" if (own_label or not s.heading) else s.heading
        if heading or s.text.strip():
            blocks.append({"path": p, "key": path_key(p), "depth": depth, "heading": heading,
                           "text": s.text.strip(), "kind": s.kind})

    if base:
        block(base, sec, 0)
    for rel, child in sec.walk():
        block((*base, *rel), child, len(rel))
    return blocks


def section_text(doc: Document, path) -> str:
    """The full text of a section with its sub-sections (headings on their own lines)."""
    return "\n".join(x for b in section_blocks(doc, path) for x in (b["heading"], b["text"]) if x)


def neighbours(outline: list[OutlineEntry], key: str) -> tuple[OutlineEntry | None, OutlineEntry | None]:
    """The previous and next outline entries around ``key`` (for 上一节 / 下一节)."""
    keys = [e.key for e in outline]
    if key not in keys:
        return None, (outline[0] if outline else None)
    i = keys.index(key)
    return (outline[i - 1] if i > 0 else None), (outline[i + 1] if i + 1 < len(outline) else None)


def resolve_section(doc: Document, chunks, value: str | None) -> tuple[str, ...] | None:
    """A deep-link value → a section path: a chunk id, a breadcrumb (with or without the title), a heading."""
    value = (value or "").strip()
    if not value:
        return None
    for c in chunks or []:
        if c.chunk_id == value and c.doc_id == doc.doc_id:
            return tuple(c.path)
    paths = [p for p, _s in doc.root.walk()]
    crumbs = [p.strip() for p in re.split(r"\s*[›>/]\s*", value) if p.strip()]
    if crumbs and crumbs[0] == doc.title:
        crumbs = crumbs[1:]
    if tuple(crumbs) in paths:
        return tuple(crumbs)
    want = fold(value if len(crumbs) <= 1 else crumbs[-1])
    for p in paths:
        if want and (fold(p[-1]) == want or fold(re.split(r"\s", p[-1])[0]) == want):
            if len(crumbs) <= 1 or all(fold(c) in fold(path_key(p)) for c in crumbs[:-1]):
                return p
    return None


def doc_of_chunk_id(corpus, chunk_id: str) -> Document | None:
    doc_id = (chunk_id or "").rsplit("#", 1)[0]
    return next((d for d in corpus.documents if d.doc_id == doc_id), None)


# --------------------------------------------------------------------------- search


def query_terms(query: str) -> list[str]:
    """The search words: normalised (繁→简, full-width → half-width), split at spaces."""
    return [t for t in (fold(x) for x in normalize_query(query or "").split(" ")) if t]


def find_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Character spans of ``text`` matching any query word (merged, in order)."""
    terms = query_terms(query)
    if not terms or not text:
        return []
    norm, idx = fold_with_map(text)
    spans = []
    for t in terms:
        start = norm.find(t)
        while start >= 0:
            spans.append((idx[start], idx[start + len(t) - 1] + 1))
            start = norm.find(t, start + len(t))
    return merge_spans(spans)


@dataclass
class SearchMatch:
    doc_id: str
    doc_title: str
    path: tuple[str, ...]
    key: str
    breadcrumb: str
    count: int
    snippet: str  # plain text around the first match
    snippet_spans: list[tuple[int, int]]  # the query's matches in ``snippet``


def search_document(doc: Document, query: str, limit: int = 50, context: int = 40) -> list[SearchMatch]:
    """Sections whose heading or text contains every query word, in document order."""
    terms = query_terms(query)
    if not terms:
        return []
    out = []
    for path, sec in doc.root.walk():
        body = sec.text.strip() or sec.heading
        hay = fold(f"{sec.heading} {body}")
        if not all(t in hay for t in terms):
            continue
        spans = find_spans(body, query)
        s0 = spans[0][0] if spans else 0
        a, b = max(0, s0 - context), min(len(body), s0 + context * 2)
        snippet = ("…" if a else "") + body[a:b] + ("…" if b < len(body) else "")
        out.append(SearchMatch(doc.doc_id, doc.title, path, path_key(path), ex.breadcrumb(doc, path),
                               max(1, len(spans)), snippet, find_spans(snippet, query)))
        if len(out) >= limit:
            break
    return out


def ask_about(doc: Document, path) -> str:
    """A question for the chat about one section ("ask about this section")."""
    short = short_title(doc.title)
    sec = section_at(doc, path)
    if not path or sec is None:
        return f"《{short}》的主要内容是什么？"
    if sec.kind == "article":
        return f"《{short}》{sec.label}规定了什么？"
    title = (sec.title or "").strip('"“”')
    if sec.kind == "target" and title:
        return f"《{short}》中{title}的目标是什么？"
    if sec.kind in ("group", "attachment") and title:
        return f"{title}有哪些？"
    if title:
        return f"《{short}》“{title}”部分有哪些要求？"
    lead = ex.item_lead(sec, 30).rstrip("…")
    return f"《{short}》中“{lead}”有哪些要求？"


# --------------------------------------------------------------------------- work-points summary card


@dataclass
class CardEntry:
    text: str  # the title or item as printed
    path: tuple[str, ...]
    key: str
    chunk_id: str = ""
    clauses: list[tuple[str, list[str]]] = field(default_factory=list)  # (clause, figures in it) for targets
    detail: str = ""


@dataclass
class WorkPointsSummary:
    doc_id: str
    title: str
    targets: list[CardEntry]
    projects: list[CardEntry]
    actions: list[CardEntry]
    studios: list[CardEntry]
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)  # section path of each list


def _target_clauses(sec: Section) -> list[tuple[str, list[str]]]:
    from policy_assistant.training.figures import find_figures

    body = ex.strip_label(sec.text)
    if sec.title and body.startswith(sec.title):
        body = body[len(sec.title):].lstrip("。.:： ")
    out = []
    for clause in re.split(r"[，,；;。]", body):
        clause = clause.strip()
        if clause:
            out.append((clause, [f.text for f in find_figures(clause, chinese=False) if f.kind != "date"]))
    return out


def summary_card(doc: Document, chunks=None) -> WorkPointsSummary | None:
    """The work points at a glance: six target groups with figures, 七大示范工程, 八大攻坚行动, expert studios."""
    if not ex.is_work_points(doc):
        return None
    idx = _chunk_index(chunks, doc.doc_id)
    targets = [CardEntry(s.title or s.heading, p, path_key(p), idx.get(p, ""), _target_clauses(s))
               for p, s in ex.target_sections(doc)]
    card = WorkPointsSummary(doc.doc_id, doc.title, targets, [], [], [])
    for lst in ex.attachment_lists(doc):
        entries = []
        for item in lst.items:
            sec = ex.find_path(doc, item.path)
            detail = ""
            if sec is not None and sec.title and lst.kind == "attachment":
                rest = ex.strip_label(sec.text)[len(sec.title):].lstrip("。. ")
                detail = rest
            entries.append(CardEntry(item.text, item.path, path_key(item.path), idx.get(item.path, ""), detail=detail))
        if "示范工程" in lst.name:
            card.projects, card.lists["projects"] = entries, lst.path
        elif "攻坚行动" in lst.name:
            card.actions, card.lists["actions"] = entries, lst.path
        elif "专家工作室" in lst.name:
            card.studios, card.lists["studios"] = entries, lst.path
    if targets:
        card.lists["targets"] = targets[0].path[:-1]
    return card
