"""Pure text helpers of the app (no Streamlit): highlighting, escaping, context, grouping, export.

Every user- or document-controlled string (query parameters, questions, answers, titles, breadcrumbs,
passages, file names, error messages, feedback) goes through one of the two escaping helpers before it
reaches the page: :func:`md_text` for Markdown (st.markdown/caption/warning/info/error/title/subheader,
widget labels and help) and :func:`html_text` for HTML inside ``unsafe_allow_html`` Markdown.

HTML is made in the front end only (escaping in ``app_pages/markup.py``, highlighting here): the library
below returns plain text and character spans.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence

from policy_assistant.answer.types import FLAG_LABELS_ZH, STATUS_LABELS_ZH
from policy_assistant.app_pages.markup import escape_html, escape_markdown
from policy_assistant.corpus.text import merge_spans
from policy_assistant.training.outline import find_spans

_SENTENCE_SPLIT = re.compile(r"(?<=[。；;！？!?：:\n])")
_SPACE = re.compile(r"\s+")


def _find_loose(text: str, part: str) -> tuple[int, int] | None:
    """Span of ``part`` in ``text`` ignoring whitespace differences (quotes are often re-joined)."""
    i = text.find(part)
    if i >= 0:
        return i, i + len(part)
    keep = [j for j, ch in enumerate(text) if not ch.isspace()]
    squeezed = "".join(text[j] for j in keep)
    needle = _SPACE.sub("", part)
    if not needle:
        return None
    k = squeezed.find(needle)
    if k < 0:
        return None
    return keep[k], keep[k + len(needle) - 1] + 1


def _quote_spans(text: str, quote: str) -> list[tuple[int, int]]:
    """Character spans of ``text`` covered by ``quote`` (whole, else sentence by sentence)."""
    quote = (quote or "").strip()
    if not quote or not text:
        return []
    whole = _find_loose(text, quote)
    if whole:
        return [whole]
    spans = []
    for part in _SENTENCE_SPLIT.split(quote):
        part = part.strip().rstrip("。；;！？!?：:").strip()
        if len(_SPACE.sub("", part)) < 4:
            continue
        found = _find_loose(text, part)
        if found:
            spans.append(found)
    return merge_spans(spans)


def html_text(text: str) -> str:
    """Escape for HTML inside st.markdown(unsafe_allow_html=True): no tag, link or Markdown survives."""
    return escape_html(str(text or ""))


def md_text(text: str, *, formatted: bool = False) -> str:
    """Escape for Markdown: nothing in ``text`` becomes a link, image, HTML, code, LaTeX or directive.

    ``formatted=True`` keeps the answerer's own layout (``**lead**``, ``> quote [n]``, list markers) in an
    answer that quotes document text (see policy_assistant.app_pages.markup.escape_markdown).
    """
    return escape_markdown(str(text or ""), formatted=formatted)


def mark_spans_html(text: str, spans: Iterable[tuple[int, int]], css_class: str = "") -> str:
    """``text`` as escaped HTML with each ``(start, end)`` span (sorted, not overlapping) in ``<mark>``."""
    attr = f' class="{css_class}"' if css_class else ""
    pieces, pos = [], 0
    for s, e in spans:
        pieces += [escape_html(text[pos:s]), f"<mark{attr}>{escape_html(text[s:e])}</mark>"]
        pos = e
    pieces.append(escape_html(text[pos:]))
    return "".join(pieces)


def highlight_html(text: str, quote: str) -> str:
    """The passage as escaped HTML with the quoted sentence(s) wrapped in ``<mark class="pa-quote">``."""
    return mark_spans_html(text, _quote_spans(text, quote), "pa-quote")


def highlight_query_html(text: str, query: str) -> str:
    """``text`` as escaped HTML with every match of the reader's search words in ``<mark class="pa-hit">``."""
    return mark_spans_html(text, find_spans(text, query), "pa-hit")


def section_context(chunks: Sequence, citation: dict, window: int = 3) -> list[tuple[object, bool]]:
    """The cited chunk with its neighbours under the same heading: ``[(chunk, is_cited), …]``.

    ``chunks`` is the index's chunk list. Neighbours share the cited chunk's parent path; at most
    ``window`` on each side, so a long chapter does not flood the page.
    """
    cid, doc_id = citation.get("chunk_id"), citation.get("doc_id")
    same_doc = sorted((c for c in chunks if c.doc_id == doc_id), key=lambda c: c.position)
    idx = next((i for i, c in enumerate(same_doc) if c.chunk_id == cid), None)
    if idx is None:
        return []
    parent = tuple(same_doc[idx].path[:-1])
    siblings = [c for c in same_doc if tuple(c.path[: len(parent)]) == parent]
    k = next(i for i, c in enumerate(siblings) if c.chunk_id == cid)
    lo, hi = max(0, k - window), min(len(siblings), k + window + 1)
    return [(c, c.chunk_id == cid) for c in siblings[lo:hi]]


def group_citations(cits: Sequence[dict], max_item_chars: int = 240) -> list[list[dict]]:
    """Consecutive short citations from the same document and heading, grouped for one source card.

    A list answer ("七大示范工程有哪些?") cites seven one-line items under one heading: one card with
    seven highlighted lines reads far better than seven cards.
    """
    groups: list[tuple[tuple, list[dict]]] = []
    for c in cits:
        path = tuple(c.get("path") or ())
        key = (c.get("doc_id") or c.get("doc_title"), path[:-1], bool(c.get("near_miss")))
        if (groups and groups[-1][0] == key and path[:-1]
                and len(c.get("text", "")) <= max_item_chars
                and len(groups[-1][1][-1].get("text", "")) <= max_item_chars):
            groups[-1][1].append(c)
        else:
            groups.append((key, [c]))
    return [items for _, items in groups]


_ESCAPED_MARKER = re.compile(r"\\\[(\d{1,3})\\\]")  # [n] after md_text: \[n\]


def anchor_id(turn_id: str, n) -> str:
    """The HTML id of citation ``n``'s source card in one turn (target of the ``[n]`` links)."""
    return f"pa-src-{re.sub(r'[^0-9A-Za-z_-]', '', str(turn_id))}-{int(n)}"


def citation_links(escaped_answer: str, turn_id: str) -> str:
    """The escaped answer with each ``[n]`` marker a link to its source card (same page, no new tab)."""
    return _ESCAPED_MARKER.sub(lambda m: f"[\\[{m.group(1)}\\]](#{anchor_id(turn_id, m.group(1))})", escaped_answer)


def visible_citations(turn: dict) -> list[dict]:
    """The citations a turn shows: all of an answer that states something; for ``not_found`` /
    ``not_specified`` (related passages, none answers) at most the 来源数量 the user chose."""
    ans = turn.get("answer") or {}
    cits = list(ans.get("citations") or [])
    if ans.get("status") in ("not_found", "not_specified") and turn.get("max_sources"):
        cits = cits[: max(1, int(turn["max_sources"]))]
    return cits


def citation_numbers(items: Sequence[dict]) -> str:
    """``[1]–[7]`` for a consecutive run, else ``[1] [3]``."""
    ns = [int(c["n"]) for c in items]
    if len(ns) > 2 and ns == list(range(ns[0], ns[0] + len(ns))):
        return f"[{ns[0]}]–[{ns[-1]}]"
    return " ".join(f"[{n}]" for n in ns)


def conversation_markdown(turns: Sequence[dict], title: str = "政策助手") -> str:
    """The conversation as a Markdown document: questions, status, answers and numbered sources."""
    lines = [f"# {title} — 对话记录", "", f"导出时间：{time.strftime('%Y-%m-%d %H:%M')}", ""]
    for i, turn in enumerate(turns, 1):
        ans = turn.get("answer") or {}
        lines += [f"## {i}. {md_text(turn.get('question', ''))}", ""]
        if turn.get("rewritten"):
            lines += [f"> 结合上文理解为：{md_text(turn['rewritten'])}", ""]
        lines += [f"检索范围：{md_text(turn.get('scope') or '全部文件')}", ""]
        if turn.get("mode") == "passages":
            lines += ["*仅检索段落，未生成回答*", ""]
        else:
            label = STATUS_LABELS_ZH.get(ans.get("status", ""), ans.get("status", ""))
            lines += [f"**状态：{label}**", "", md_text(ans.get("answer", ""), formatted=True), ""]
        cits = visible_citations(turn)
        if cits:
            lines += ["**来源**", ""]
            for c in cits:
                tag = "（相关参考，未直接回答）" if c.get("near_miss") else ""
                tag += "".join(f"（{FLAG_LABELS_ZH.get(f, f)}）" for f in c.get("flags") or ())
                lines.append(f"[{c.get('n')}] {md_text(c.get('section') or c.get('doc_title', ''))}{tag}")
                body = (c.get("text") or "").replace("\n", " ")
                lines += [f"> {md_text(body)}", ""]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
