"""Answer text and citations: lead with the fact, then the quoted source sentence(s) with [n] markers."""

from __future__ import annotations

from dataclasses import dataclass, field

from policy_assistant.answer import thresholds as T
from policy_assistant.answer.sentences import strip_trailing_punct, truncate_around
from policy_assistant.answer.types import Citation
from policy_assistant.corpus.model import Chunk

SLOT_NAMES_ZH = {
    "figure": "具体数值或目标值", "who": "由哪个单位牵头或负责", "when": "具体时间",
    "penalty": "具体的处罚(罚款数额)", "definition": "定义", "list": "具体清单",
    "yesno": "对这一问题的明确规定", "open": "对这一问题的明确规定",
}


@dataclass
class Quote:
    chunk: Chunk
    sentence: str
    score: float = 0.0
    anchor: str = ""          # the slot text to keep visible when the sentence is long


@dataclass
class Citations:
    """Numbers passages in order of first use; one number per chunk."""

    scores: dict[str, float] = field(default_factory=dict)
    items: list[Citation] = field(default_factory=list)
    _n: dict[str, int] = field(default_factory=dict)

    def mark(self, chunk: Chunk, quote: str = "", near_miss: bool = False) -> int:
        if chunk.chunk_id in self._n:
            n = self._n[chunk.chunk_id]
            c = self.items[n - 1]
            if quote and quote not in c.quote:
                c.quote = f"{c.quote} {quote}".strip()
            return n
        n = len(self.items) + 1
        self._n[chunk.chunk_id] = n
        self.items.append(
            Citation(
                n=n, doc_title=chunk.doc_title, file=chunk.file, section=chunk.section, text=chunk.text,
                score=round(float(self.scores.get(chunk.chunk_id, 0.0)), 6), chunk_id=chunk.chunk_id,
                doc_id=chunk.doc_id, path=list(chunk.path), quote=quote, near_miss=near_miss,
            )
        )
        return n


def quote_line(q: Quote, cites: Citations) -> str:
    text = truncate_around(q.sentence.strip(), q.anchor, T.MAX_QUOTE_CHARS)
    n = cites.mark(q.chunk, q.sentence.strip())
    return f"> {text} [{n}]"


def source_label(chunk: Chunk) -> str:
    label = chunk.path[-1] if chunk.path else ""
    return f"《{chunk.doc_title}》{label}".strip()


def answered_text(lead: str, quotes: list[Quote], cites: Citations, preface: str = "") -> str:
    """``preface`` (optional, e.g. the document and year) + lead fact + quoted sentences."""
    first = cites.mark(quotes[0].chunk, quotes[0].sentence.strip()) if quotes else None
    lead = strip_trailing_punct(lead)
    marker = f" [{first}]" if first else ""
    lines = [f"{preface}**{lead}**{marker}", "", "原文:"]
    seen = set()
    for q in quotes[: T.MAX_QUOTES]:
        key = (q.chunk.chunk_id, q.sentence)
        if key in seen:
            continue
        seen.add(key)
        lines.append(quote_line(q, cites))
    return "\n".join(lines)


def list_text(header: str, items: list[tuple[Chunk, str]], cites: Citations, mention: Quote | None) -> str:
    lines = [header, ""]
    for i, (chunk, text) in enumerate(items, 1):
        n = cites.mark(chunk, text)
        body = strip_trailing_punct(text)
        lines.append(f"{i}. {body} [{n}]" if not body[:1].isdigit() else f"- {body} [{n}]")
    if mention is not None:
        lines += ["", f"正文{source_label(mention.chunk).split('》')[-1]}也提到:", quote_line(mention, cites)]
    return "\n".join(lines)


def not_specified_text(subject: str, qtype: str, quotes: list[Quote], cites: Citations) -> str:
    what = SLOT_NAMES_ZH.get(qtype, SLOT_NAMES_ZH["open"])
    subj = f"“{subject}”" if subject else "这一事项"
    lines = [f"文件提到了{subj},但没有写明{what}。", "", "相关内容:"]
    for q in quotes[: T.MAX_CITATIONS]:
        lines.append(quote_line(q, cites))
    return "\n".join(lines)


def not_found_text(question: str, scope_note: str, near: list[Quote], cites: Citations) -> str:
    lines = ["在这些文件中没有找到能回答这个问题的内容。"]
    if scope_note:
        lines.append(scope_note)
    if near:
        lines += ["", "以下条文只是相近内容,并不回答该问题(仅供参考):"]
        for q in near:
            n = cites.mark(q.chunk, q.sentence.strip(), near_miss=True)
            lines.append(f"> {truncate_around(q.sentence.strip(), q.anchor, T.MAX_QUOTE_CHARS)} [{n}]")
    return "\n".join(lines)
