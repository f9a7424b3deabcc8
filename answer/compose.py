"""Stage 5 — compose: the answer text and its numbered citations, from the decided parts.

An answered part leads with the best sentence (bold, with its [n]) and quotes the supporting sentences;
a list part quotes each item of the listed section; a not_specified part says which detail the
documents do not state and shows the related passages; a not_found part says so and shows at most
three near misses, marked as such. Several parts are answered one after the other ("第1问 …").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from policy_assistant.answer.types import Citation, Decision, PartEvidence, Unit

MAX_QUOTES = 4            # quoted sentences under an answered part (the lead included)
MAX_EXTRA_STATED = 2      # … plus this many more of the lead's passage stating the asked kind (STATED_ALL)
STATED_ALL = {"penalty", "number"}  # answer types whose every stating sentence of the lead passage is quoted
MAX_LIST_ITEMS = 12       # items quoted for a list question
MAX_RELATED = 3           # passages shown for not_specified / not_found (near-miss lists stay short)
RELATED_COVERAGE = 0.5   # a related / near-miss passage covers ≥ this share of the first one's key-term share
SUPPORT_RATIO = 0.6       # a sentence of another passage is quoted when it scores this share of the best
SAME_PASSAGE_RATIO = 0.3  # … a further sentence of the lead's own passage needs only this share
MAX_QUOTE_CHARS = 240     # a longer quote is cut around the part that states the answer
MAX_LIST_CHARS = 700      # a passage that holds the listed items is quoted whole up to this length
ENUMERATION = re.compile(r"[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]是|[；;].*[；;]|\n\d+[.、]")

DETAIL_ZH = {
    "number": "具体数值", "who": "由哪个单位或部门负责", "when": "具体时间", "penalty": "具体的处罚(罚款数额等)",
    "definition": "定义", "list": "具体清单", "yesno": "对这一问题的明确规定", "open": "对这一问题的明确规定",
}


@dataclass
class Citations:
    """Numbers passages in order of first use; one number per chunk."""

    items: list[Citation] = field(default_factory=list)
    _n: dict[str, int] = field(default_factory=dict)

    def mark(self, hit, quote: str = "", near_miss: bool = False) -> int:
        chunk = hit.chunk
        if chunk.chunk_id in self._n:
            n = self._n[chunk.chunk_id]
            c = self.items[n - 1]
            if quote and quote not in c.quote:
                c.quote = f"{c.quote} {quote}".strip()
            c.near_miss = c.near_miss and near_miss
            return n
        n = len(self.items) + 1
        self._n[chunk.chunk_id] = n
        self.items.append(Citation(
            n=n, doc_title=chunk.doc_title, file=chunk.file, section=chunk.section, text=chunk.text,
            score=round(float(hit.score), 6), chunk_id=chunk.chunk_id, doc_id=chunk.doc_id, path=list(chunk.path),
            quote=quote, near_miss=near_miss))
        return n


def clip(text: str, anchor: str = "", limit: int = MAX_QUOTE_CHARS) -> str:
    """``text`` cut to ``limit`` characters around ``anchor`` (when given) with … marks."""
    text = text.strip()
    if len(text) <= limit:
        return text
    i = text.find(anchor) if anchor else -1
    start = max(0, min(i - limit // 3, len(text) - limit)) if i >= 0 else 0
    out = text[start:start + limit]
    return ("…" if start else "") + out + ("…" if start + limit < len(text) else "")


def label(hit) -> str:
    c = hit.chunk
    return f"《{c.doc_title}》{c.path[-1] if c.path else ''}"


def _strip_end(text: str) -> str:
    return text.strip().rstrip("，,：:；;。.！!？? ")


def _lead(units: list[Unit]) -> tuple[Unit, Unit | None]:
    """The sentence to lead with, and the best sentence when it is not the lead.

    When the best sentence does not itself state the asked kind of detail (an enumerated act "(一)未取得排污
    许可证排放污染物；") but another sentence of the same passage does (its chapeau "…处20万元以上100万元以下
    的罚款"), the stating sentence leads and the best one follows."""
    best = units[0]
    if best.features.get("u_type") or not best.features.get("p_type"):
        return best, None
    same = [u for u in units if u.hit.chunk.chunk_id == best.hit.chunk.chunk_id and u.features.get("u_type")
            and u.index >= 0]
    return (same[0], best) if same else (best, None)


def _article(u: Unit) -> tuple:
    c = u.hit.chunk
    return (c.doc_id, tuple(c.path)) if c.path else (c.chunk_id,)


def _repeats(u: Unit, best: Unit, support: list[Unit]) -> bool:
    """``u`` is the lead, inside it, or overlaps a sentence already quoted (chunks overlap)."""
    return u is best or u.text in best.text or any(u.text in s.text or s.text in u.text for s in support)


def answered_text(ev: PartEvidence, cites: Citations, list_items=None) -> str:
    units = [u for u in ev.units if u.index >= 0] or ev.units
    best, also = _lead(units)
    n = cites.mark(best.hit, best.text)
    lines = [f"根据{label(best.hit)}：**{_strip_end(clip(best.text))}** [{n}]"]
    if ev.part.answer_type == "list":
        items = list_items(ev, best.hit) if list_items is not None else []
        if items:
            lines = ["各项内容："]
            for i, h in enumerate(items[:MAX_LIST_ITEMS], 1):
                first = re.split(r"(?<=[。；;])", h.chunk.text.strip())[0]
                lines.append(f"{i}. {_strip_end(clip(first, limit=120))} [{cites.mark(h, first)}]")
            return "\n".join(lines)
        if ENUMERATION.search(best.hit.chunk.text):  # the listed items are inside the passage itself
            whole = best.hit.chunk.text.strip()
            return f"根据{label(best.hit)}：\n> {clip(whole, best.text, MAX_LIST_CHARS)} [{cites.mark(best.hit, whole)}]"
    support: list[Unit] = [also] if also is not None else []
    top = units[0].score
    for u in units[1:]:
        if len(support) >= MAX_QUOTES - 1:
            break
        same = u.hit.chunk.chunk_id == best.hit.chunk.chunk_id
        if u.score < (SAME_PASSAGE_RATIO if same else SUPPORT_RATIO) * top:
            continue
        if _repeats(u, best, support):
            continue
        support.append(u)
    if ev.part.answer_type in STATED_ALL:
        # The lead passage's other sentences that state the asked kind of detail are its other cases
        # (个人 / 单位, 情节严重, 拒不改正 …); a partial quote would hide the one that applies.
        # (an article longer than a chunk continues in the next chunk: same document, same label path)
        for u in units:
            if len(support) >= MAX_QUOTES - 1 + MAX_EXTRA_STATED:
                break
            if (_article(u) == _article(best) and u.index >= 0 and u.features.get("u_type")
                    and not _repeats(u, best, support)):
                support.append(u)
        support.sort(key=lambda u: (_article(u) != _article(best), u.hit.chunk.chunk_id, u.index))
    if support:
        lines += ["", "相关原文："]
        for u in support:
            lines.append(f"> {clip(u.text)} [{cites.mark(u.hit, u.text)}]")
    return "\n".join(lines)


def related_units(ev: PartEvidence, k: int = MAX_RELATED) -> list[Unit]:
    """The best unit of each of the ``k`` best distinct passages that share the subject: a passage must
    cover at least ``RELATED_COVERAGE`` of the key-term share the first one covers (a passage that only
    shares the asking verb — 牵头 in 谁牵头… — is not related)."""
    out, seen = [], set()
    first_cov = ev.units[0].features.get("p_cov", 0.0) if ev.units else 0.0
    for u in ev.units:
        if u.hit.chunk.chunk_id in seen:
            continue
        seen.add(u.hit.chunk.chunk_id)
        if out and u.features.get("p_cov", 0.0) < RELATED_COVERAGE * first_cov:
            continue
        out.append(u)
        if len(out) >= k:
            break
    return out


def subject_of(ev: PartEvidence) -> str:
    """The part's most specific key terms (by IDF) the related passages contain."""
    terms = sorted((t for t in ev.part.terms if t.df > 0), key=lambda t: -t.idf)[:3]
    return "、".join(t.text for t in terms)


def not_specified_text(ev: PartEvidence, cites: Citations) -> str:
    subj = subject_of(ev)
    what = DETAIL_ZH.get(ev.part.answer_type, DETAIL_ZH["open"])
    lines = [f"文件提到了{'“' + subj + '”' if subj else '这一事项'}，但没有写明{what}。"]
    rel = related_units(ev)
    if rel:
        lines += ["", "相关内容："]
        for u in rel:
            lines.append(f"> {clip(u.text)} [{cites.mark(u.hit, u.text)}]")
    return "\n".join(lines)


def not_found_text(ev: PartEvidence, cites: Citations, note: str = "") -> str:
    lines = ["在这些文件中没有找到能回答这个问题的内容。"]
    if note:
        lines.append(note)
    near = [u for u in related_units(ev) if u.score >= 0.05]
    if near:
        lines += ["", "以下条文只是相近内容，并不回答该问题（仅供参考）："]
        for u in near:
            lines.append(f"> {clip(u.text)} [{cites.mark(u.hit, u.text, near_miss=True)}]")
    return "\n".join(lines)


def part_text(ev: PartEvidence, decision: Decision, cites: Citations, list_items=None, note: str = "") -> str:
    if decision.status == "answered":
        return answered_text(ev, cites, list_items)
    if decision.status == "not_specified":
        return not_specified_text(ev, cites)
    return not_found_text(ev, cites, note)


def overall_status(decisions: list[Decision]) -> str:
    """A message is answered when any part is; not_specified when some part's subject is discussed."""
    statuses = [d.status for d in decisions]
    for s in ("answered", "not_specified"):
        if s in statuses:
            return s
    return "not_found"


def compose(parts: list[tuple[PartEvidence, Decision]], list_items=None, note: str = "") -> tuple[str, list[Citation]]:
    """Answer text and citations for all parts (one part: no numbering)."""
    cites = Citations()
    if len(parts) == 1:
        ev, d = parts[0]
        return part_text(ev, d, cites, list_items, note), cites.items
    blocks = []
    for i, (ev, d) in enumerate(parts, 1):
        head = f"**第{i}问**（{_strip_end(ev.part.text)}）"
        body = part_text(ev, d, cites, list_items, note if d.status == "not_found" else "")
        if d.status != "answered":
            body = body.replace("在这些文件中没有找到能回答这个问题的内容。", "文件未写明这一点。", 1)
        blocks.append(f"{head}\n{body}")
    return "\n\n".join(blocks), cites.items
